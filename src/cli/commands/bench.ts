import type { Command } from "commander";
import { benchAppend } from "../../bench/append.js";
import { RadledgerError } from "../../core/errors.js";
import { AlreadyReported, printJson, Progress } from "../output.js";
import type { AppendBenchResult } from "../../bench/append.js";
import type { ErrorCode } from "../../core/errors.js";

/**
 * A benchmark that loses entries fails: the count of refused entries and their codes, as an error
 * with the most frequent refusal's code (STORE_FULL, exit 5, when the disk filled up). Its numbers
 * would otherwise read as a throughput of entries that are not on the log.
 */
export function refusedError(result: AppendBenchResult, requested: number): RadledgerError | undefined {
  if (result.refused === 0) return undefined;
  const codes = Object.entries(result.refusedByCode).sort((a, b) => b[1] - a[1]);
  const [code] = codes[0] ?? ["INTERNAL"];
  return new RadledgerError(
    code as ErrorCode,
    `bench append: ${result.refused} of ${requested} entries refused (${codes.map(([c, n]) => `${c} ${n}`).join(", ")}); a benchmark that loses entries fails`,
    { refused: result.refused, refusedByCode: result.refusedByCode },
  );
}

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
        const refused = refusedError(result, entries);
        if (o.json) {
          printJson(result);
          if (refused) throw new AlreadyReported(refused);
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
        if (refused) throw refused;
      },
    );
  registerBenchSeed(bench);
}

/**
 * `radledger bench seed`: a data directory for the web application's benchmark (src/bench/seed.ts),
 * and with --measure the API latency of the pages' requests over it (src/bench/web-queries.ts).
 */
function registerBenchSeed(bench: Command): void {
  bench
    .command("seed")
    .description(
      "build a benchmark data directory: N entries (a year of clinical cases) and one patient with M accesses; users and passwords in DIR/bench-users.json",
    )
    .requiredOption("--data <dir>", "the data directory to create (must not exist yet)")
    .option("--entries <n>", "entries in the log", "1000000")
    .option("--patient-accesses <n>", "accesses to the seeded patient's record", "10000")
    .option("--threads <n>", "signing and verification threads (default: one per core)")
    .option("--measure", "then measure the API requests of the web pages over the directory (p50/p95)")
    .option("--samples <n>", "timed requests per measured query", "100")
    .option("--json", "print the result as JSON")
    .action(
      async (o: {
        data: string;
        entries: string;
        patientAccesses: string;
        threads?: string;
        measure?: boolean;
        samples: string;
        json?: boolean;
      }) => {
        const int = (v: string, flag: string, min: number): number => {
          if (!/^[0-9]{1,16}$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < min)
            throw new RadledgerError("CLI_USAGE", `${flag} must be an integer of at least ${min}`);
          return Number(v);
        };
        const entries = int(o.entries, "--entries", 1);
        const patientAccesses = int(o.patientAccesses, "--patient-accesses", 0);
        const samples = int(o.samples, "--samples", 1);
        const threads = o.threads === undefined ? undefined : int(o.threads, "--threads", 1);
        const { seedDataDir } = await import("../../bench/seed.js");
        const bars = new Map<string, Progress>();
        const seeded = await seedDataDir({
          dataDir: o.data,
          entries,
          patientAccesses,
          ...(threads === undefined ? {} : { threads }),
          progress: (phase, done, total) => {
            let bar = bars.get(phase);
            if (!bar) bars.set(phase, (bar = new Progress(phase, phase === "sign" ? "cases" : "entries")));
            bar.update(done, total);
            if (done === total) bar.done();
          },
        });
        const measured = o.measure
          ? await (await import("../../bench/web-queries.js")).measureWebQueries(o.data, samples)
          : undefined;
        if (o.json) {
          printJson({ ...seeded, ...(measured ? { measured } : {}) });
          return;
        }
        const lines = [
          `${seeded.dataDir}: ${seeded.size} entries, patient ${seeded.patient} (actor ${seeded.patientActor}) with ${seeded.patientAccesses} accesses`,
          `setup ${seeded.setupSeconds} s, signing ${seeded.signSeconds} s, append ${seeded.appendSeconds} s (${seeded.appendPerSecond} entries/s, ${seeded.threads} threads), total ${seeded.totalSeconds} s`,
          `sign-ins (persona, actor, password): ${seeded.usersFile}`,
        ];
        if (measured) {
          lines.push(`first explorer request (counts by type): ${measured.coldMillis} ms`);
          for (const q of measured.queries)
            lines.push(
              `${q.name}: p50 ${q.p50Millis} ms, p95 ${q.p95Millis} ms, max ${q.maxMillis} ms (${q.items} items)`,
            );
        }
        process.stdout.write(lines.join("\n") + "\n");
      },
    );
}
