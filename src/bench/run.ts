/**
 * `npm run bench`: every benchmark in one run, so that ratios compare figures measured side by side
 * on the same machine state. Writes bench-results/<timestamp>.json and bench-results/latest.json.
 *
 *   node dist/bench/run.js [--only append,mixed,consent,recall,http,bundle,dicom,dicomweb,orthanc-authz,consortium,evm,mllp]
 *                          [--scale 0.1]
 *
 * --scale shrinks every size (for a quick look); the targets in docs/performance.md are stated at
 * scale 1 (1,000,000 entries, grants and reports). dicomweb starts a throwaway Orthanc (Debian
 * `orthanc`, or the one named by ORTHANC_URL) and consortium/evm a local Hardhat node, as the tests do.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { benchAppendInChild } from "./append.js";
import { benchAiRecall, benchConsentDecision } from "./queries.js";
import { benchHttp } from "./http.js";
import { benchBundle } from "./bundle.js";
import { runDicomRegistrationBench } from "./dicom.js";
import { runDicomwebBench } from "./dicomweb.js";
import { runOrthancAuthzBench } from "./orthanc-authz.js";
import { runConsortiumBench } from "./consortium.js";
import { runEvmBaseline } from "./evm-baseline.js";
import { runMllpBench } from "./mllp.js";
import { startEvmService } from "../adapters/evm/dev-node.js";

const BENCHMARKS = [
  "append",
  "mixed",
  "consent",
  "recall",
  "http",
  "bundle",
  "dicom",
  "dicomweb",
  "orthanc-authz",
  "consortium",
  "evm",
  "mllp",
] as const;
const USAGE = `Usage: node dist/bench/run.js [--only NAME,...] [--scale S] [--out DIR]

Runs the benchmarks of docs/performance.md in one process run and writes DIR/<time>.json and
DIR/latest.json (default DIR: bench-results).

  --only NAME,...  a subset of: ${BENCHMARKS.join(", ")}
  --scale S        shrink or grow every size, 0 < S <= 10 (default 1: the sizes the targets name)
  --out DIR        where the JSON results go
  -h, --help       this text
`;

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      only: { type: "string" },
      scale: { type: "string", default: "1" },
      out: { type: "string", default: "bench-results" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (e) {
  usageError((e as Error).message);
}
const { values } = parsed;
if (values.help === true) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const scale = Number(values.scale);
if (!(scale > 0 && scale <= 10)) usageError("--scale must be in (0, 10]");
const only = values.only === undefined ? undefined : new Set(values.only.split(","));
for (const name of only ?? [])
  if (!(BENCHMARKS as readonly string[]).includes(name)) usageError(`--only: no benchmark named "${name}"`);
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
  results.append = await benchAppendInChild({ entries: n(1_000_000), workload: "studies" });
  process.stderr.write(`append: ${JSON.stringify(results.append)}\n`);
}
if (wanted("mixed")) {
  const mixed = await benchAppendInChild({ entries: n(200_000), workload: "clinical" });
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

if (wanted("http")) {
  results.http = await benchHttp({ entries: n(100_000), progress: progress("http") });
  process.stderr.write(`http: ${JSON.stringify(results.http)}\n`);
}

if (wanted("bundle")) {
  results.bundle = await benchBundle({ entries: n(100_000), progress: progress("bundle") });
  process.stderr.write(`bundle: ${JSON.stringify(results.bundle)}\n`);
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);
if (wanted("dicom")) {
  results.dicom = await runDicomRegistrationBench({ mb: Math.max(64, Math.round(1024 * scale)), log });
  process.stderr.write(`dicom: ${JSON.stringify(results.dicom)}\n`);
}
if (wanted("dicomweb")) {
  results.dicomweb = await runDicomwebBench({ instances: Math.max(10, Math.round(40 * scale)), log });
  process.stderr.write(`dicomweb: ${JSON.stringify(results.dicomweb)}\n`);
}
if (wanted("orthanc-authz")) {
  // Orthanc asks the node: with the authorization plugin ÷ without it (docs/performance.md).
  results["orthanc-authz"] = await runOrthancAuthzBench({
    instances: Math.max(200, Math.round(200 * scale)),
    log,
  });
  process.stderr.write(`orthanc-authz: ${JSON.stringify(results["orthanc-authz"])}\n`);
}
if (wanted("consortium")) {
  results.consortium = await runConsortiumBench({
    rounds: Math.max(20, Math.round(200 * scale)),
    checkpoints: Math.max(100, Math.round(2000 * scale)),
    progress: (phase) => log(`consortium: ${phase}`),
  });
  process.stderr.write(`consortium: ${JSON.stringify(results.consortium)}\n`);
}
if (wanted("mllp")) {
  // ORU^R01 through MLLP ÷ in-process appends of the same entries (docs/performance.md, docs/intake.md).
  results.mllp = await runMllpBench({ messages: Math.max(1000, Math.round(10_000 * scale)), log });
  process.stderr.write(`mllp: ${JSON.stringify(results.mllp)}\n`);
}
if (wanted("evm")) {
  // The MedRec-style baseline (docs/performance.md): the same events as transactions on a local EVM chain.
  const service = await startEvmService();
  try {
    const evm = await runEvmBaseline(service.rpcUrl, {
      txs: Math.max(200, Math.round(2000 * scale)),
      accounts: 8,
      firstAccount: 10,
    });
    const pure = results.append as { entriesPerSecond: number } | undefined;
    results.evm = {
      ...evm,
      ...(pure
        ? { appendToEvmRatio: Math.round((pure.entriesPerSecond / evm.evmEventsPerSecond) * 10) / 10 }
        : {}),
    };
  } finally {
    await service.stop();
  }
  process.stderr.write(`evm: ${JSON.stringify(results.evm)}\n`);
}

results.finishedAt = new Date().toISOString();
mkdirSync(values.out, { recursive: true });
const text = JSON.stringify(results, null, 2) + "\n";
writeFileSync(join(values.out, `${results.startedAt as string}.json`.replace(/:/g, "-")), text);
writeFileSync(join(values.out, "latest.json"), text);
process.stdout.write(text);
