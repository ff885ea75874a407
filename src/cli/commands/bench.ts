import type { Command } from "commander";
import { benchAppend } from "../../bench/append.js";
import { RadledgerError } from "../../core/errors.js";
import { printJson, Progress } from "../output.js";

export function registerBench(program: Command): void {
  const bench = program
    .command("bench")
    .description("benchmarks (see docs/performance.md; `npm run bench` runs them all)");
  bench
    .command("append")
    .description(
      "append N pre-signed realistic entries through the real append path and report throughput, ceilings and proof latency",
    )
    .requiredOption(
      "--data <dir>",
      "data directory (created if it does not exist; existing logs are appended to)",
    )
    .requiredOption("--entries <n>", "number of entries")
    .option(
      "--workload <name>",
      "studies (study registrations) or clinical (a realistic mix of the families)",
      "studies",
    )
    .option("--threads <n>", "verification threads (default: one per core)")
    .option("--json", "print the result as JSON")
    .action(
      async (o: { data: string; entries: string; workload: string; threads?: string; json?: boolean }) => {
        const entries = Number(o.entries);
        if (!Number.isSafeInteger(entries) || entries < 1)
          throw new RadledgerError("CLI_USAGE", "--entries must be a positive integer");
        if (o.workload !== "studies" && o.workload !== "clinical")
          throw new RadledgerError("CLI_USAGE", "--workload must be studies or clinical");
        const threads = o.threads === undefined ? undefined : Number(o.threads);
        if (threads !== undefined && (!Number.isInteger(threads) || threads < 1))
          throw new RadledgerError("CLI_USAGE", "--threads must be a positive integer");
        const bars = new Map<string, Progress>();
        const result = await benchAppend({
          entries,
          workload: o.workload,
          dataDir: o.data,
          ...(threads === undefined ? {} : { threads }),
          progress: (phase, done, total) => {
            let bar = bars.get(phase);
            // On stderr, with --json too: stdout carries only the result.
            if (!bar) bars.set(phase, (bar = new Progress(phase, "entries")));
            bar.update(done, total);
            if (done === total) bar.done();
          },
        });
        if (o.json) {
          printJson(result);
          return;
        }
        process.stdout.write(
          [
            `${result.entries} ${result.workload} entries in ${result.seconds} s: ${result.entriesPerSecond} entries/s (${result.threads} verification threads, mean batch ${result.meanBatch})`,
            `Ed25519 verification ceiling: ${result.verifyCeilingPerSecond}/s → ratio ${result.ratioToCeiling}`,
            `plain SQLite inserts of the same bytes: ${result.sqliteInsertPerSecond}/s → ratio ${result.ratioToSqliteInsert}`,
            `peak RSS ${Math.round(result.peakRssBytes / 1048576)} MiB; ${result.storageBytesPerEntry} bytes of storage per entry (entries average ${result.bytesPerEntry} bytes)`,
            `proofs at size ${result.finalSize}: inclusion p99 ${result.inclusionProofP99Micros} µs, consistency p99 ${result.consistencyProofP99Micros} µs`,
          ].join("\n") + "\n",
        );
      },
    );
}
