/**
 * `radledger bench append`: appends N pre-signed, realistic entries through the real append path
 * (Ledger.append: worker-thread verification, admission rules, batched durable commits, a signed
 * checkpoint per batch) and reports throughput against the machine's own ceilings measured in the
 * same run: Ed25519 verifications per second on the same threads, and plain SQLite inserts of the
 * same bytes with the same batching. Then it measures proof latency at the final size.
 */
import Database from "better-sqlite3";
import { closeSync, existsSync, openSync, readSync, statSync, writeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { initDataDir } from "../app/init.js";
import { readActorKey, readLogKeySeed } from "../app/keys.js";
import { openNode, type RadledgerNode, nodeFactory } from "../wiring/node.js";
import { paths } from "../app/data-dir.js";
import { startModuleWorker } from "../adapters/threads/worker-start.js";
import { NODE_FLAGS } from "../app/node-flags.js";
import { RadledgerError } from "../core/errors.js";
import { toBase64 } from "../core/bytes.js";
import { measureVerifyCeiling } from "./ceiling.js";
import { runNode } from "./child.js";
import { makeScratch, onTermination } from "./scratch.js";
import { setupEntries, type WorkloadName, type WorkloadSetup } from "./workloads.js";

export interface AppendBenchOptions {
  readonly entries: number;
  readonly workload?: WorkloadName;
  /** An existing or new data directory; a temporary one (removed afterwards) by default. */
  readonly dataDir?: string;
  readonly threads?: number;
  readonly proofSamples?: number;
  readonly progress?: (phase: string, done: number, total: number) => void;
  /** Called just before and after the timed append (e.g. to attach a profiler). */
  readonly onTimed?: (edge: "start" | "end") => Promise<void>;
}

export interface AppendBenchResult {
  readonly workload: WorkloadName;
  readonly entries: number;
  readonly threads: number;
  readonly seconds: number;
  readonly entriesPerSecond: number;
  readonly verifyCeilingPerSecond: number;
  readonly ratioToCeiling: number;
  readonly sqliteInsertPerSecond: number;
  readonly ratioToSqliteInsert: number;
  readonly peakRssBytes: number;
  readonly commits: number;
  readonly meanBatch: number;
  readonly refused: number;
  /** Refused entries by error code (e.g. STORE_FULL when the disk filled up); empty when none was. */
  readonly refusedByCode: Readonly<Record<string, number>>;
  readonly bytesPerEntry: number;
  readonly storageBytesPerEntry: number;
  readonly finalSize: number;
  readonly inclusionProofP50Micros: number;
  readonly inclusionProofP99Micros: number;
  readonly consistencyProofP50Micros: number;
  readonly consistencyProofP99Micros: number;
}

const ORIGIN = "radledger.bench.example/log";

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Pre-signs the workload into a file of uint16 length-prefixed entries, on `threads` workers. */
export async function presign(
  file: string,
  workload: WorkloadName,
  setup: WorkloadSetup,
  count: number,
  threads: number,
  progress?: AppendBenchOptions["progress"],
): Promise<number> {
  const fd = openSync(file, "w");
  const per = Math.ceil(count / threads);
  const pending = new Map<number, Uint8Array>(); // chunks that arrived ahead of the write position
  let next = 0;
  let done = 0;
  let bytes = 0;
  const write = (): void => {
    for (let chunk = pending.get(next); chunk; chunk = pending.get(next)) {
      writeSync(fd, chunk);
      pending.delete(next);
      bytes += chunk.length;
      next = nextStart.get(next)!;
    }
  };
  const nextStart = new Map<number, number>();
  await Promise.all(
    Array.from({ length: threads }, (_, w) => {
      const start = w * per;
      const n = Math.max(0, Math.min(per, count - start));
      if (n === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const worker = startModuleWorker("presign-worker", import.meta.url, {
          workload,
          setup,
          start,
          count: n,
        });
        worker.on("message", (m: { start: number; count: number; data: Uint8Array } | { done: true }) => {
          if ("done" in m) {
            void worker.terminate();
            resolve();
            return;
          }
          pending.set(m.start, m.data);
          nextStart.set(m.start, m.start + m.count);
          done += m.count;
          write();
          progress?.("presign", done, count);
        });
        worker.once("error", reject);
      });
    }),
  );
  write();
  closeSync(fd);
  if (next !== count) throw new RadledgerError("INTERNAL", `pre-signing wrote ${next} of ${count} entries`);
  return bytes;
}

/** presign()'s arguments as one value, for the pre-signing process (presign-main.ts). */
export interface PresignJob {
  readonly file: string;
  readonly workload: WorkloadName;
  readonly setup: WorkloadSetup;
  readonly count: number;
  readonly threads: number;
}

/**
 * presign() in a child process (presign-main.ts), so that the pre-signer's memory is not counted in
 * the node's peak RSS measured afterwards in this process.
 *
 * Its stdin stays open while it works: its end tells the pre-signer that this process is gone
 * (killed, even with SIGKILL: the kernel closes the pipe), and it stops. A termination signal of
 * this process stops it at once (scratch.ts).
 */
export function presignInChild(job: PresignJob, progress?: AppendBenchOptions["progress"]): Promise<number> {
  const script = fileURLToPath(new URL("./presign-main.js", import.meta.url));
  return new Promise((resolve, reject) => {
    // The job goes through stdin, not argv: it holds the institution's key seed (workloads that
    // sign as the institution), which a command line would show to every local user.
    const child = spawn(process.execPath, [script], { stdio: ["pipe", "pipe", "inherit"] });
    const forget = onTermination(() => child.kill("SIGKILL"));
    // EPIPE if the child is already gone: its exit status says why.
    child.stdin.on("error", () => undefined);
    child.stdin.write(`${JSON.stringify(job)}\n`);
    let bytes: number | undefined;
    // Lines are read before the child's "close": its stdout has ended by then.
    createInterface({ input: child.stdout }).on("line", (line) => {
      const [what, a, b] = line.split(" ");
      if (what === "progress") progress?.("presign", Number(a), Number(b));
      else if (what === "done") bytes = Number(a);
    });
    child.on("error", (e) => {
      forget();
      reject(e);
    });
    child.on("close", (code) => {
      forget();
      child.stdin.destroy();
      if (code === 0 && bytes !== undefined) resolve(bytes);
      else reject(new RadledgerError("INTERNAL", `the pre-signing process exited with ${code}`));
    });
  });
}

/**
 * `radledger bench append --json` as its own process, started as the `radledger` command starts
 * (NODE_FLAGS, src/app/node-flags.ts): the peak RSS is then that of the process an operator runs,
 * with nothing of the benchmark runner in it. Progress goes to this process's stderr.
 */
export async function benchAppendInChild(o: {
  readonly entries: number;
  readonly workload: WorkloadName;
}): Promise<AppendBenchResult> {
  const scratch = makeScratch("bench-append");
  try {
    const cli = fileURLToPath(new URL("../cli/main.js", import.meta.url));
    const args = [...NODE_FLAGS, cli, "bench", "append", "--data", join(scratch.path, "data")];
    args.push("--entries", String(o.entries), "--workload", o.workload, "--json");
    const run = await runNode(args);
    if (run.code !== 0)
      throw new RadledgerError("INTERNAL", `radledger bench append exited with ${run.code}`);
    return JSON.parse(run.stdout) as AppendBenchResult;
  } finally {
    scratch.remove();
  }
}

/** Reads the pre-signed file back in arrays of `batch` entries. */
export function* readEntries(file: string, batch: number): Generator<Uint8Array[]> {
  const fd = openSync(file, "r");
  const buf = Buffer.alloc(4 << 20);
  let have = 0;
  let out: Uint8Array[] = [];
  try {
    for (;;) {
      const n = readSync(fd, buf, have, buf.length - have, null);
      have += n;
      let o = 0;
      while (o + 2 <= have) {
        const len = buf.readUInt16BE(o);
        if (o + 2 + len > have) break;
        out.push(new Uint8Array(buf.subarray(o + 2, o + 2 + len)));
        o += 2 + len;
        if (out.length === batch) {
          yield out;
          out = [];
        }
      }
      buf.copy(buf, 0, o, have);
      have -= o;
      if (n === 0) break;
    }
    if (out.length > 0) yield out;
  } finally {
    closeSync(fd);
  }
}

function sqliteBaseline(file: string, dir: string, batch: number): number {
  const db = new Database(join(dir, "baseline.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("cache_size = -32768");
  db.exec("CREATE TABLE entries (idx INTEGER PRIMARY KEY, type TEXT NOT NULL, data BLOB NOT NULL)");
  const insert = db.prepare("INSERT INTO entries (idx, type, data) VALUES (?, 'bench', ?)");
  const tx = db.transaction((entries: Uint8Array[], first: number) => {
    for (let i = 0; i < entries.length; i++) insert.run(first + i, entries[i]);
  });
  let n = 0;
  const started = process.hrtime.bigint();
  for (const entries of readEntries(file, batch)) {
    tx(entries, n);
    n += entries.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return Math.round(n / seconds);
}

function proofLatencies(
  node: RadledgerNode,
  samples: number,
): { inclusion: number[]; consistency: number[] } {
  const size = node.ledger.size;
  node.ledger.tree.clear();
  const inclusion: number[] = [];
  const consistency: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    node.ledger.tree.inclusionProof(randomInt(0, size), size);
    const t1 = process.hrtime.bigint();
    node.ledger.tree.consistencyProof(randomInt(1, size), size);
    const t2 = process.hrtime.bigint();
    inclusion.push(Number(t1 - t0) / 1000);
    consistency.push(Number(t2 - t1) / 1000);
  }
  return { inclusion: inclusion.sort((a, b) => a - b), consistency: consistency.sort((a, b) => a - b) };
}

export async function benchAppend(o: AppendBenchOptions): Promise<AppendBenchResult> {
  const workload = o.workload ?? "studies";
  const threads = o.threads ?? availableParallelism();
  // The pre-signed entries (≈ 1 KB each) and the SQLite baseline: removed on every way out but
  // SIGKILL, whose leftovers the next run removes (scratch.ts).
  const scratch = makeScratch("bench");
  const dataDir = o.dataDir ?? join(scratch.path, "data");
  try {
    if (!existsSync(paths(dataDir).config))
      await initDataDir(dataDir, { origin: ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
    let commits = 0;
    let batched = 0;
    const node = openNode(dataDir, {
      verifyThreads: threads,
      onCommit: (c) => ((commits += 1), (batched += c.admitted)),
    });
    let result: AppendBenchResult;
    let storageFile = "";
    try {
      const time = Date.now();
      const admin = readActorKey(node.crypto, dataDir, "admin");
      if (!admin)
        throw new RadledgerError("STORE_NOT_FOUND", "the bench needs the data directory's admin key");
      const setupResults = await node.appender.appendAll(
        setupEntries(node.crypto, admin, node.config.origin, time),
      );
      const model = node.store.lookup("ai.model.key", "Bench AI\nChestNet\n1.0.0", { limit: 1 })[0]?.value;
      if (!model) {
        // A refusal (a full disk: STORE_FULL) is reported as itself, not as an internal error.
        for (const r of setupResults)
          if (!r.ok) throw new RadledgerError(r.error.code, `bench setup failed: ${r.error.message}`);
        throw new RadledgerError("INTERNAL", "bench setup failed: the model was not registered");
      }
      const setup: WorkloadSetup = {
        origin: node.config.origin,
        time,
        model,
        institutionSeed: toBase64(readLogKeySeed(node.dir)),
      };
      const file = join(scratch.path, "entries.bin");
      const fileBytes = await presignInChild(
        { file, workload, setup, count: o.entries, threads },
        o.progress,
      );

      const verifyCeilingPerSecond = await measureVerifyCeiling(threads);

      // The timed part: every entry through Ledger.append, durably committed, checkpointed.
      commits = 0;
      batched = 0;
      let peakRss = process.memoryUsage.rss();
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
      await o.onTimed?.("start");
      let refused = 0;
      const refusedByCode: Record<string, number> = {};
      let submitted = 0;
      const started = process.hrtime.bigint();
      const inFlight = new Set<Promise<void>>();
      for (const chunk of readEntries(file, 1024)) {
        const p = node.appender.appendAll(chunk).then((results) => {
          for (const r of results)
            if (!r.ok) {
              refused++;
              refusedByCode[r.error.code] = (refusedByCode[r.error.code] ?? 0) + 1;
            }
          submitted += results.length;
          o.progress?.("append", submitted, o.entries);
        });
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        // Enough waiting to keep the ledger's pending window (8,192 entries) full; more would only
        // be the load generator's memory counted in the node's RSS.
        if (inFlight.size >= 12) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      await o.onTimed?.("end");
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      // Acknowledged entries: a batch committed whose high-water mark could not be written (a full
      // disk) is in the log (finalSize) but refused to its submitters, and counts as refused.
      const appended = submitted - refused;
      const entriesPerSecond = Math.round(appended / seconds);
      const meanBatch = commits > 0 ? Math.round(batched / commits) : 0;

      const proofs = proofLatencies(node, o.proofSamples ?? 10_000);
      const sqliteInsertPerSecond = sqliteBaseline(file, scratch.path, Math.max(1, meanBatch));
      // Storage is measured on the closed database (closing checkpoints the WAL into it).
      const db = paths(dataDir).database;
      storageFile = db;
      result = {
        workload,
        entries: appended,
        threads,
        seconds: Math.round(seconds * 100) / 100,
        entriesPerSecond,
        verifyCeilingPerSecond,
        ratioToCeiling: Math.round((entriesPerSecond / verifyCeilingPerSecond) * 1000) / 1000,
        sqliteInsertPerSecond,
        ratioToSqliteInsert: Math.round((entriesPerSecond / sqliteInsertPerSecond) * 1000) / 1000,
        peakRssBytes: peakRss,
        commits,
        meanBatch,
        refused,
        refusedByCode,
        bytesPerEntry: Math.round(fileBytes / o.entries - 2),
        storageBytesPerEntry: 0,
        finalSize: node.ledger.size,
        inclusionProofP50Micros: Math.round(percentile(proofs.inclusion, 50) * 10) / 10,
        inclusionProofP99Micros: Math.round(percentile(proofs.inclusion, 99) * 10) / 10,
        consistencyProofP50Micros: Math.round(percentile(proofs.consistency, 50) * 10) / 10,
        consistencyProofP99Micros: Math.round(percentile(proofs.consistency, 99) * 10) / 10,
      };
    } finally {
      await node.close();
    }
    const walBytes = existsSync(`${storageFile}-wal`) ? statSync(`${storageFile}-wal`).size : 0;
    return {
      ...result,
      storageBytesPerEntry: Math.round((statSync(storageFile).size + walBytes) / result.finalSize),
    };
  } finally {
    scratch.remove();
  }
}
