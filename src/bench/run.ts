/**
 * `npm run bench`: every benchmark in one run, so that ratios compare figures measured side by side
 * on the same machine state. Writes bench-results/<timestamp>.json and bench-results/latest.json.
 *
 *   node dist/bench/run.js [--only append,mixed,consent,recall] [--scale 0.1]
 *
 * --scale shrinks every size (for a quick look); the targets in docs/performance.md are stated at
 * scale 1 (1,000,000 entries, grants and reports).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { benchAppend } from "./append.js";
import { benchAiRecall, benchConsentDecision } from "./queries.js";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    scale: { type: "string", default: "1" },
    out: { type: "string", default: "bench-results" },
  },
});
const scale = Number(values.scale);
if (!(scale > 0 && scale <= 10)) throw new Error("--scale must be in (0, 10]");
const only = values.only === undefined ? undefined : new Set(values.only.split(","));
const wanted = (name: string): boolean => only === undefined || only.has(name);
const n = (full: number): number => Math.max(1000, Math.round(full * scale));

function progress(label: string): (phase: string, done: number, total: number) => void {
  let last = 0;
  return (phase, done, total) => {
    const now = Date.now();
    if (done === total || now - last > 5000) {
      last = now;
      process.stderr.write(`${label} ${phase}: ${done}/${total}\n`);
    }
  };
}

const results: Record<string, unknown> = {
  startedAt: new Date().toISOString(),
  scale,
  node: process.version,
  cpus: (await import("node:os")).availableParallelism(),
};

if (wanted("append")) {
  results.append = await benchAppend({
    entries: n(1_000_000),
    workload: "studies",
    progress: progress("append"),
  });
  process.stderr.write(`append: ${JSON.stringify(results.append)}\n`);
}
if (wanted("mixed")) {
  const mixed = await benchAppend({ entries: n(200_000), workload: "clinical", progress: progress("mixed") });
  const pure = results.append as { entriesPerSecond: number } | undefined;
  results.mixed = {
    ...mixed,
    ...(pure
      ? { ratioToPureAppend: Math.round((mixed.entriesPerSecond / pure.entriesPerSecond) * 1000) / 1000 }
      : {}),
  };
  process.stderr.write(`mixed: ${JSON.stringify(results.mixed)}\n`);
}
if (wanted("consent")) {
  const p = progress("consent");
  results.consent = benchConsentDecision({ grants: n(1_000_000), progress: (d, t) => p("fill", d, t) });
  process.stderr.write(`consent: ${JSON.stringify(results.consent)}\n`);
}
if (wanted("recall")) {
  const p = progress("recall");
  results.recall = benchAiRecall({ reports: n(1_000_000), progress: (d, t) => p("fill", d, t) });
  process.stderr.write(`recall: ${JSON.stringify(results.recall)}\n`);
}

results.finishedAt = new Date().toISOString();
mkdirSync(values.out, { recursive: true });
const text = JSON.stringify(results, null, 2) + "\n";
writeFileSync(join(values.out, `${results.startedAt as string}.json`.replace(/:/g, "-")), text);
writeFileSync(join(values.out, "latest.json"), text);
process.stdout.write(text);
