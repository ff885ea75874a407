/**
 * The HTTP benchmark (docs/performance.md, issue 4): authenticated appends over the API against the in-process
 * append rate, measured side by side in one run, and tile requests per second.
 *
 * 1. N "studies" entries are pre-signed by their authors' keys (worker threads, before any clock).
 * 2. In-process: a fresh node appends them through Ledger.append, as `bench append` does.
 * 3. Over HTTP: another fresh node serves the API on 127.0.0.1; a second process (http-load.ts, a
 *    minimal keep-alive client) POSTs every entry once as its exact canonical bytes with the bearer token of the
 *    entry's actor, over 64 keep-alive connections. Each request is authenticated, checked (the
 *    token's actor must be the entry's actor and may sign the type), verified, admitted and answered
 *    only once durable. Appends/s = acknowledged entries / elapsed; p99 is per request.
 * 4. Tiles: the same second process GETs full level-0 and level-1 tiles and entry bundles (the latter
 *    with an admin's bearer token: entries are not public) of the
 *    filled log for a few seconds.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Fastify from "fastify";
import { ENTRY_MEDIA_TYPE } from "../api/entries.js";
import { initDataDir } from "../app/init.js";
import { readActorKey } from "../app/keys.js";
import { openNode, nodeFactory } from "../wiring/node.js";
import { buildServer } from "../api/server.js";
import { RadledgerError } from "../core/errors.js";
import { tilePath, TILE_WIDTH } from "../core/tiles.js";
import { presign, readEntries } from "./append.js";
import { runNode } from "./child.js";
import { BENCH_TECHNOLOGISTS, setupEntries, type WorkloadSetup } from "./workloads.js";
import { openAuthStore } from "../wiring/auth.js";

export interface HttpBenchOptions {
  /** Entries appended in each of the two runs. */
  readonly entries?: number;
  /** Concurrent HTTP clients (connections). */
  readonly concurrency?: number;
  readonly tileSeconds?: number;
  readonly threads?: number;
  readonly progress?: (phase: string, done: number, total: number) => void;
}

export interface HttpBenchResult {
  readonly entries: number;
  readonly concurrency: number;
  readonly threads: number;
  readonly inProcessAppendsPerSecond: number;
  readonly appendsPerSecond: number;
  readonly ratioToInProcess: number;
  readonly appendP50Millis: number;
  readonly appendP99Millis: number;
  readonly appendFailures: number;
  /** CPU time (all threads of the process) per appended entry: where the HTTP path's cost goes. */
  readonly inProcessCpuMicrosPerEntry: number;
  readonly httpServerCpuMicrosPerEntry: number;
  readonly httpClientCpuMicrosPerEntry: number;
  /** Entries per committed batch and time per commit (admission, tiles, checkpoint, fsync). */
  readonly inProcessMeanBatch: number;
  readonly inProcessMeanCommitMillis: number;
  readonly httpMeanBatch: number;
  readonly httpMeanCommitMillis: number;
  readonly tileRequestsPerSecond: number;
  readonly tileP99Millis: number;
  readonly tileFailures: number;
  readonly entryBundleRequestsPerSecond: number;
  readonly entryBundleFailures: number;
  /**
   * The same requests, client and connections against a bare server whose POST /api/v1/entries
   * reads the body and answers 201 at once: what HTTP alone costs on this machine (server CPU per
   * request, client CPU per request), the part of an HTTP append no node code can remove.
   */
  readonly bareHttp: {
    readonly requestsPerSecond: number;
    readonly serverCpuMicrosPerRequest: number;
    readonly clientCpuMicrosPerRequest: number;
  };
}

const ORIGIN = "radledger.bench.example/log";

interface LoadResult {
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Millis: number;
  latencyP99Millis: number;
  cpuMicros: number;
}

function cpuPerEntry(usage: NodeJS.CpuUsage, entries: number): number {
  return Math.round((usage.user + usage.system) / Math.max(1, entries));
}

async function runLoad(job: Record<string, unknown>): Promise<LoadResult> {
  const script = fileURLToPath(new URL("./http-load.js", import.meta.url));
  const run = await runNode([script, JSON.stringify(job)]);
  if (run.code !== 0) throw new RadledgerError("INTERNAL", `the load generator exited with ${run.code}`);
  return JSON.parse(run.stdout.trim().split("\n").at(-1)!) as LoadResult;
}

/** Commits seen by a node: how many, entries admitted, and time spent committing. */
interface CommitStats {
  commits: number;
  admitted: number;
  millis: number;
}

const commitFigures = (c: CommitStats) => ({
  meanBatch: Math.round(c.admitted / Math.max(1, c.commits)),
  meanCommitMillis: Math.round((c.millis / Math.max(1, c.commits)) * 10) / 10,
});

async function freshNode(dir: string, threads: number, time: number, stats: CommitStats) {
  await initDataDir(dir, { origin: ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
  const node = openNode(dir, {
    verifyThreads: threads,
    onCommit: (info) => {
      stats.commits += 1;
      stats.admitted += info.admitted;
      stats.millis += info.commitMillis;
    },
  });
  const admin = readActorKey(node.crypto, dir, "admin")!;
  const results = await node.appender.appendAll(setupEntries(node.crypto, admin, ORIGIN, time));
  const refused = results.filter((r) => !r.ok);
  if (refused.length > 0) throw new RadledgerError("INTERNAL", "bench setup entries were refused");
  return node;
}

export async function benchHttp(o: HttpBenchOptions = {}): Promise<HttpBenchResult> {
  const entries = o.entries ?? 50_000;
  const concurrency = o.concurrency ?? 64;
  const threads = o.threads ?? availableParallelism();
  const scratch = mkdtempSync(join(tmpdir(), "radledger-bench-http-"));
  try {
    const time = Date.now();
    const setup: WorkloadSetup = { origin: ORIGIN, time };
    const file = join(scratch, "entries.bin");
    const total = entries;
    await presign(file, "studies", setup, total, threads, o.progress);

    // In process.
    const inProcessCommits: CommitStats = { commits: 0, admitted: 0, millis: 0 };
    const inProcess = await freshNode(join(scratch, "in-process"), threads, time, inProcessCommits);
    let inProcessAppendsPerSecond: number;
    let inProcessCpu: number;
    let inProcessBatches: ReturnType<typeof commitFigures>;
    try {
      Object.assign(inProcessCommits, { commits: 0, admitted: 0, millis: 0 });
      const sizeBefore = inProcess.ledger.size;
      const cpuBefore = process.cpuUsage();
      const started = process.hrtime.bigint();
      const inFlight = new Set<Promise<unknown>>();
      for (const chunk of readEntries(file, 1024)) {
        const p = inProcess.appender.appendAll(chunk);
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= 32) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      inProcessAppendsPerSecond = Math.round((inProcess.ledger.size - sizeBefore) / seconds);
      inProcessBatches = commitFigures(inProcessCommits);
      inProcessCpu = cpuPerEntry(process.cpuUsage(cpuBefore), inProcess.ledger.size - sizeBefore);
      o.progress?.("in-process", total, total);
    } finally {
      await inProcess.close();
    }

    // Over HTTP, from a second process.
    const httpCommits: CommitStats = { commits: 0, admitted: 0, millis: 0 };
    const node = await freshNode(join(scratch, "http"), threads, time, httpCommits);
    const unlimited = { perSecond: 1e9, burst: 1e9 };
    const app = buildServer(node, {
      auth: openAuthStore(node.dir),
      limits: { anonymous: unlimited, actor: unlimited, authFailures: unlimited, login: unlimited },
    });
    try {
      const url = await app.listen({ host: "127.0.0.1", port: 0 });
      const tokens: Record<string, string> = {};
      for (let i = 0; i < BENCH_TECHNOLOGISTS; i++) {
        const actor = `bench-tech-${i}`;
        tokens[actor] = (
          await app.radledger.auth.issueToken({ actor, kind: "api", ttlMs: 3600_000, createdBy: "bench" })
        ).token;
      }
      Object.assign(httpCommits, { commits: 0, admitted: 0, millis: 0 });
      const before = node.ledger.size;
      const cpuBefore = process.cpuUsage();
      const append = await runLoad({
        url,
        mode: "append",
        connections: concurrency,
        entriesFile: file,
        tokens,
      });
      const appended = node.ledger.size - before;
      const serverCpu = cpuPerEntry(process.cpuUsage(cpuBefore), appended);
      const httpBatches = commitFigures(httpCommits);
      const appendsPerSecond = Math.round(appended / append.seconds);
      o.progress?.("http append", appended, entries);

      const size = node.ledger.size;
      // Merkle tiles (8 KiB each: what proof-checking clients fetch) and, separately, entry bundles
      // (256 whole entries each, ~250 KiB here: bound by bytes rather than requests).
      const tilePaths: string[] = [];
      const bundlePaths: string[] = [];
      for (let n = 0; n < Math.floor(size / TILE_WIDTH); n++) {
        tilePaths.push("/" + tilePath({ kind: "hash", level: 0, index: n }));
        bundlePaths.push("/" + tilePath({ kind: "entries", level: 0, index: n }));
      }
      for (let n = 0; n < Math.floor(size / TILE_WIDTH ** 2); n++)
        tilePaths.push("/" + tilePath({ kind: "hash", level: 1, index: n }));
      const seconds = o.tileSeconds ?? 5;
      const tiles = await runLoad({ url, mode: "tiles", connections: concurrency, tilePaths, seconds });
      // Entry bundles are served to consortium peers, admins and auditors only (docs/privacy.md):
      // the load generator reads them as the admin, with a bearer token.
      const reader = await app.radledger.auth.issueToken({
        actor: "admin",
        kind: "api",
        ttlMs: 3600_000,
        createdBy: "bench",
      });
      const bundles = await runLoad({
        url,
        mode: "tiles",
        connections: concurrency,
        tilePaths: bundlePaths,
        seconds,
        bearer: reader.token,
      });
      o.progress?.("http tiles", 1, 1);
      const bareHttp = await bareHttpFloor(file, tokens, concurrency);
      return {
        entries: appended,
        concurrency,
        threads,
        inProcessAppendsPerSecond,
        appendsPerSecond,
        ratioToInProcess: Math.round((appendsPerSecond / inProcessAppendsPerSecond) * 1000) / 1000,
        appendP50Millis: append.latencyP50Millis,
        appendP99Millis: append.latencyP99Millis,
        appendFailures: append.non2xx + append.errors + append.timeouts,
        inProcessCpuMicrosPerEntry: inProcessCpu,
        httpServerCpuMicrosPerEntry: serverCpu,
        httpClientCpuMicrosPerEntry: Math.round(append.cpuMicros / Math.max(1, appended)),
        inProcessMeanBatch: inProcessBatches.meanBatch,
        inProcessMeanCommitMillis: inProcessBatches.meanCommitMillis,
        httpMeanBatch: httpBatches.meanBatch,
        httpMeanCommitMillis: httpBatches.meanCommitMillis,
        tileRequestsPerSecond: Math.round(tiles.ok / tiles.seconds),
        tileP99Millis: tiles.latencyP99Millis,
        tileFailures: tiles.non2xx + tiles.errors + tiles.timeouts,
        entryBundleRequestsPerSecond: Math.round(bundles.ok / bundles.seconds),
        entryBundleFailures: bundles.non2xx + bundles.errors + bundles.timeouts,
        bareHttp,
      };
    } finally {
      await app.close();
      await node.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** HttpBenchResult.bareHttp: the append requests against a server that does nothing with them. */
async function bareHttpFloor(
  entriesFile: string,
  tokens: Record<string, string>,
  connections: number,
): Promise<HttpBenchResult["bareHttp"]> {
  const bare = Fastify({ bodyLimit: 64 * 1024 });
  bare.addContentTypeParser(ENTRY_MEDIA_TYPE, { parseAs: "buffer" }, (_req, body, done) => done(null, body));
  // An answer of the size the node gives (index, leaf hash, size, the entry, the checkpoint).
  const answer = JSON.stringify({ index: 1, leafHash: "0".repeat(64), size: 2, checkpoint: "x".repeat(200) });
  bare.post("/api/v1/entries", async (req, reply) => {
    const entry = (req.body as Buffer).toString("utf8");
    return reply
      .code(201)
      .type("application/json; charset=utf-8")
      .send(answer.slice(0, -1) + `,"entry":${entry}}`);
  });
  try {
    const url = await bare.listen({ host: "127.0.0.1", port: 0 });
    const cpuBefore = process.cpuUsage();
    const load = await runLoad({ url, mode: "append", connections, entriesFile, tokens });
    return {
      requestsPerSecond: Math.round(load.ok / load.seconds),
      serverCpuMicrosPerRequest: cpuPerEntry(process.cpuUsage(cpuBefore), load.ok),
      clientCpuMicrosPerRequest: Math.round(load.cpuMicros / Math.max(1, load.ok)),
    };
  } finally {
    await bare.close();
  }
}
