/**
 * DICOM benchmarks (issue 5, DESIGN §8), measured side by side in one run:
 *
 *  registration  `radledger ingest` of a folder of synthetic studies (≥ 1 GB by default) into a
 *                fresh node — hashing (file + pixel data, worker threads), pseudonymising, staging,
 *                one study.registered per study — as MB/s and as a ratio to `sha256sum` over the
 *                same files (one process, as a user runs it; target ≥ 0.8). The hasher alone
 *                (DicomHashPool over the folder) and `sha256sum` on every core (xargs -P) are
 *                reported beside it. Every file hash the node stored is checked against sha256sum.
 *  dicomweb      WADO-RS retrieval of whole instances (transfer-syntax=*, as stored) through the
 *                node's gatekeeper (decide + access.recorded + proxy) and directly from Orthanc's
 *                DICOMweb plugin, same requests and concurrency: MB/s each and the ratio (target
 *                ≥ 0.8). Needs Orthanc + orthanc-dicomweb (RADLEDGER_TEST_ORTHANC_* or started
 *                with scripts/services/orthanc.sh).
 *
 * Library: runDicomRegistrationBench(opts), runDicomwebBench(opts). Command line (built):
 *   node dist/bench/dicom.js registration [--dir DIR] [--mb 1024] [--workers N]
 *   node dist/bench/dicom.js dicomweb [--instances 40] [--rounds 5] [--concurrency 4]
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes, randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { DicomHashPool } from "../adapters/dicom/hash-pool.js";
import { hashDicomFolder, listFiles } from "../adapters/dicom/hasher.js";
import { OrthancClient } from "../adapters/orthanc/client.js";
import { startOrthancService } from "../adapters/orthanc/dev-service.js";
import { buildServer } from "../api/server.js";
import { LedgerDicomwebAuthorizer } from "../app/dicomweb-access.js";
import { ingestPaths, openManifestStore } from "../app/ingest.js";
import { initDataDir } from "../app/init.js";
import { readActorKey, signAs } from "../app/keys.js";
import { openNode } from "../app/node.js";
import { toBase64 } from "../core/bytes.js";
import { formatTime } from "../core/entry.js";

const run = promisify(execFile);
const ORIGIN = "radledger.bench.example/log";

// --- synthetic data ---------------------------------------------------------------------------

function el(group: number, element: number, vr: string, value: Buffer): Buffer {
  const long = ["OB", "OW", "SQ", "UN", "UT"].includes(vr);
  const h = Buffer.alloc(long ? 12 : 8);
  h.writeUInt16LE(group, 0);
  h.writeUInt16LE(element, 2);
  h.write(vr, 4, "latin1");
  if (long) h.writeUInt32LE(value.length, 8);
  else h.writeUInt16LE(value.length, 6);
  return Buffer.concat([h, value]);
}
const str = (s: string, pad = " "): Buffer => Buffer.from(s.length % 2 === 0 ? s : s + pad, "latin1");
const us = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const uid = (label: string): string =>
  `2.25.${BigInt("0x" + createHash("sha256").update(`radledger-bench\0${label}`).digest("hex").slice(0, 30)).toString()}`;

/** One Explicit VR LE CT instance (PS3.10), synthetic patient tags, random 16-bit pixels. */
export function syntheticInstance(o: {
  study: number;
  series: number;
  instance: number;
  rows: number;
  columns: number;
}): Buffer {
  const sop = uid(`i/${o.study}/${o.series}/${o.instance}`);
  const meta = Buffer.concat([
    el(0x0002, 0x0001, "OB", Buffer.from([0, 1])),
    el(0x0002, 0x0002, "UI", str("1.2.840.10008.5.1.4.1.1.2", "\0")),
    el(0x0002, 0x0003, "UI", str(sop, "\0")),
    el(0x0002, 0x0010, "UI", str("1.2.840.10008.1.2.1", "\0")),
  ]);
  const pixels = Buffer.allocUnsafe(o.rows * o.columns * 2);
  randomFillSync(pixels);
  const ds = Buffer.concat([
    el(0x0008, 0x0016, "UI", str("1.2.840.10008.5.1.4.1.1.2", "\0")),
    el(0x0008, 0x0018, "UI", str(sop, "\0")),
    el(0x0008, 0x0050, "SH", str(`ACC${o.study}`)),
    el(0x0008, 0x0060, "CS", str("CT")),
    el(0x0010, 0x0010, "PN", str(`SYNTHETIC^BENCH^${o.study}`)),
    el(0x0010, 0x0020, "LO", str(`BENCH${String(o.study).padStart(6, "0")}`)),
    el(0x0010, 0x0030, "DA", str("19700101")),
    el(0x0018, 0x0015, "CS", str("CHEST")),
    el(0x0020, 0x000d, "UI", str(uid(`st/${o.study}`), "\0")),
    el(0x0020, 0x000e, "UI", str(uid(`se/${o.study}/${o.series}`), "\0")),
    el(0x0020, 0x0013, "IS", str(String(o.instance))),
    el(0x0028, 0x0002, "US", us(1)),
    el(0x0028, 0x0004, "CS", str("MONOCHROME2")),
    el(0x0028, 0x0010, "US", us(o.rows)),
    el(0x0028, 0x0011, "US", us(o.columns)),
    el(0x0028, 0x0100, "US", us(16)),
    el(0x0028, 0x0101, "US", us(12)),
    el(0x0028, 0x0102, "US", us(11)),
    el(0x0028, 0x0103, "US", us(0)),
    el(0x7fe0, 0x0010, "OW", pixels),
  ]);
  const gl = Buffer.alloc(4);
  gl.writeUInt32LE(meta.length);
  return Buffer.concat([Buffer.alloc(128), Buffer.from("DICM"), el(0x0002, 0x0000, "UL", gl), meta, ds]);
}

/**
 * Writes studies of `seriesPerStudy` × `perSeries` 512×512 instances (≈ 513 KiB each) until
 * `targetBytes`; one file at a time, so memory stays flat.
 */
export function writeSyntheticFolder(
  dir: string,
  targetBytes: number,
  seriesPerStudy = 4,
  perSeries = 100,
): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (let n = 0; bytes < targetBytes; n++) {
    const study = Math.floor(n / (seriesPerStudy * perSeries));
    const series = Math.floor(n / perSeries) % seriesPerStudy;
    const instance = n % perSeries;
    const sub = join(dir, `study-${study}`, `series-${series}`);
    if (instance === 0) mkdirSync(sub, { recursive: true });
    const b = syntheticInstance({ study, series, instance, rows: 512, columns: 512 });
    writeFileSync(join(sub, `${instance}.dcm`), b);
    files++;
    bytes += b.length;
  }
  return { files, bytes };
}

async function sha256sum(files: string[], parallel: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const parse = (stdout: string): void => {
    for (const line of stdout.split("\n")) if (line.length > 66) out.set(line.slice(66), line.slice(0, 64));
  };
  if (parallel <= 1) {
    // One process per 1000 files keeps argv short; start-up is negligible next to ~500 MB each.
    for (let i = 0; i < files.length; i += 1000)
      parse((await run("sha256sum", files.slice(i, i + 1000), { maxBuffer: 64 * 1024 * 1024 })).stdout);
    return out;
  }
  const chunk = Math.ceil(files.length / parallel);
  const parts = await Promise.all(
    Array.from({ length: parallel }, (_, k) => files.slice(k * chunk, (k + 1) * chunk)).map(async (fs) => {
      let s = "";
      for (let i = 0; i < fs.length; i += 1000)
        s += (await run("sha256sum", fs.slice(i, i + 1000), { maxBuffer: 64 * 1024 * 1024 })).stdout;
      return s;
    }),
  );
  parts.forEach(parse);
  return out;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

// --- registration -------------------------------------------------------------------------------

export interface RegistrationBenchOptions {
  /** Folder of DICOM files; generated (≥ mb MiB) when absent or empty. Default: a temporary one. */
  readonly dir?: string;
  readonly mb?: number;
  readonly workers?: number;
  readonly log?: (line: string) => void;
}

export interface RegistrationBenchResult {
  readonly files: number;
  readonly bytes: number;
  readonly studies: number;
  readonly workers: number;
  readonly sha256sumMBps: number;
  readonly sha256sumParallelMBps: number;
  readonly hasherMBps: number;
  readonly registrationMBps: number;
  /** registration ÷ sha256sum (one process): the DESIGN §8 target ≥ 0.8. */
  readonly ratioToSha256sum: number;
  readonly ratioToSha256sumParallel: number;
  readonly peakRssMB: number;
}

export async function runDicomRegistrationBench(
  o: RegistrationBenchOptions = {},
): Promise<RegistrationBenchResult> {
  const log = o.log ?? ((): void => undefined);
  const tmp = mkdtempSync(join(tmpdir(), "radledger-bench-dicom-"));
  const dir = o.dir ?? join(tmp, "dicom");
  const workers = o.workers ?? availableParallelism();
  try {
    if (!existsSync(dir) || readdirSync(dir).length === 0) {
      mkdirSync(dir, { recursive: true });
      log(`generating ${o.mb ?? 1024} MiB of synthetic DICOM in ${dir}`);
      writeSyntheticFolder(dir, (o.mb ?? 1024) * 1024 * 1024);
    }
    const files = await listFiles(dir);
    const { stdout: du } = await run("du", ["-sb", dir]);
    const bytes = Number(du.split("\t")[0]);
    const mb = bytes / 1e6;
    log(`${files.length} files, ${Math.round(mb)} MB; warming the page cache`);
    const reference = await sha256sum(files, 1); // warm-up, and the reference hashes

    let t = performance.now();
    await sha256sum(files, 1);
    const sumMs = performance.now() - t;
    t = performance.now();
    await sha256sum(files, workers);
    const sumParMs = performance.now() - t;

    const pool = new DicomHashPool(workers);
    t = performance.now();
    try {
      await hashDicomFolder(dir, { pool });
    } finally {
      await pool.close();
    }
    const hashMs = performance.now() - t;

    const data = join(tmp, "node");
    await initDataDir(data, { origin: ORIGIN, institutionName: "Bench Hospital" });
    const node = openNode(data);
    let studies = 0;
    let regMs = 0;
    try {
      t = performance.now();
      const s = await ingestPaths(node, [dir], { workers });
      regMs = performance.now() - t;
      studies = s.studies.filter((x) => x.status === "registered").length;
      if (s.skipped.length > 0) throw new Error(`${s.skipped.length} files skipped: ${s.skipped[0]!.code}`);
      // Every stored file hash is sha256sum's.
      const store = openManifestStore(node);
      try {
        const want = new Set(reference.values());
        for (const st of s.studies)
          for (const r of store.instances(st.studyKey))
            if (!want.has(r.fileSha256)) throw new Error("a stored file hash differs from sha256sum's");
      } finally {
        store.close();
      }
    } finally {
      await node.close();
    }
    const mbps = (ms: number): number => Math.round(mb / (ms / 1000));
    return {
      files: files.length,
      bytes,
      studies,
      workers,
      sha256sumMBps: mbps(sumMs),
      sha256sumParallelMBps: mbps(sumParMs),
      hasherMBps: mbps(hashMs),
      registrationMBps: mbps(regMs),
      ratioToSha256sum: round2(sumMs / regMs),
      ratioToSha256sumParallel: round2(sumParMs / regMs),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// --- DICOMweb through the gatekeeper ------------------------------------------------------------

export interface DicomwebBenchOptions {
  readonly instances?: number;
  readonly rounds?: number;
  readonly concurrency?: number;
  readonly log?: (line: string) => void;
}

export interface DicomwebBenchResult {
  readonly instances: number;
  readonly requests: number;
  readonly bytesPerRound: number;
  readonly directMBps: number;
  readonly gatekeeperMBps: number;
  /** gatekeeper ÷ direct, instance by instance: target ≥ 0.8. */
  readonly ratio: number;
  readonly accessEntries: number;
  /** The same through study-level retrievals (one request per study). */
  readonly studyLevel: { requests: number; directMBps: number; gatekeeperMBps: number; ratio: number };
}

/**
 * The HTTP client of the benchmark, in a worker thread: a viewer is another process, and a client
 * on the node's own event loop would bill the node for the client's work. It GETs every URL with
 * `concurrency` keep-alive connections and posts back { ms, bytes }.
 */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const { urls, headers, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const get = (url) => new Promise((resolve, reject) => {
  http.get(url, { agent, headers }, (res) => {
    if (res.statusCode !== 200) { res.resume(); reject(new Error("HTTP " + res.statusCode)); return; }
    let n = 0;
    res.on("data", (c) => { n += c.length; });
    res.on("end", () => resolve(n));
    res.on("error", reject);
  }).on("error", reject);
});
(async () => {
  let next = 0, bytes = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < urls.length) { const n = await get(urls[next++]); bytes += n; }
  }));
  parentPort.postMessage({ ms: performance.now() - t, bytes });
  agent.destroy();
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

function clientPass(
  urls: string[],
  headers: Record<string, string>,
  concurrency: number,
): Promise<{ ms: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT, { eval: true, workerData: { urls, headers, concurrency } });
    w.once("message", (m: { ms: number; bytes: number } | { error: string }) => {
      void w.terminate();
      if ("error" in m) reject(new Error(m.error));
      else resolve(m);
    });
    w.once("error", reject);
  });
}

export async function runDicomwebBench(o: DicomwebBenchOptions = {}): Promise<DicomwebBenchResult> {
  const log = o.log ?? ((): void => undefined);
  const count = o.instances ?? 40;
  const rounds = o.rounds ?? 5;
  const concurrency = o.concurrency ?? 4;
  log("starting Orthanc (unless RADLEDGER_TEST_ORTHANC_URL names one)");
  const service = await startOrthancService();
  const tmp = mkdtempSync(join(tmpdir(), "radledger-bench-dicomweb-"));
  const orthanc = new OrthancClient({
    baseUrl: service.url,
    username: service.username,
    password: service.password,
  });
  const studyNo = 900_000 + Math.floor(Math.random() * 99_999);
  let orthancStudy = "";
  try {
    const folder = join(tmp, "study");
    mkdirSync(folder);
    const paths: { sop: string; series: string }[] = [];
    for (let i = 0; i < count; i++) {
      const b = syntheticInstance({ study: studyNo, series: 0, instance: i, rows: 512, columns: 512 });
      writeFileSync(join(folder, `${i}.dcm`), b);
      orthancStudy = (await orthanc.uploadInstance(b)).ParentStudy;
      paths.push({ sop: uid(`i/${studyNo}/0/${i}`), series: uid(`se/${studyNo}/0`) });
    }
    const data = join(tmp, "node");
    await initDataDir(data, { origin: ORIGIN, institutionName: "Bench Hospital" });
    const node = openNode(data);
    const studyUid = uid(`st/${studyNo}`);
    try {
      await ingestPaths(node, [folder], { workers: 1 });
      const admin = readActorKey(node.crypto, data, "admin")!;
      const seed = randomBytes(32);
      const sign = (type: string, body: Parameters<typeof signAs>[4]) =>
        signAs(node.crypto, admin, ORIGIN, type, body);
      await node.ledger.appendOne(
        sign("actor.enrolled", {
          actorId: "rad-bench",
          kind: "staff",
          roles: ["radiologist"],
          publicKey: toBase64(node.crypto.ed25519PublicKey(seed)),
        }),
      );
      const patient = node.pseudonym("patient", `BENCH${String(studyNo).padStart(6, "0")}`);
      await node.ledger.appendOne(
        sign("care.assigned", {
          patient,
          actor: "rad-bench",
          period: { start: formatTime(Date.now() - 60_000) },
        }),
      );
      const app = buildServer(node, {
        dicomweb: {
          upstream: `${service.url}/dicom-web`,
          username: service.username,
          password: service.password,
          authorizer: new LedgerDicomwebAuthorizer(node),
        },
        // The per-actor rate limit would measure itself, not the gatekeeper.
        limits: { actor: { perSecond: 1e9, burst: 1e9 } },
      });
      const base = await app.listen({ host: "127.0.0.1", port: 0 });
      // The gated side authenticates like any client: a bearer token (scrypt once, then cached).
      const { token } = await app.radledger.auth.issueToken({
        actor: "rad-bench",
        kind: "api",
        ttlMs: 3600_000,
        createdBy: "bench",
      });
      const bearer = `Bearer ${token}`;
      const accept = 'multipart/related; type="application/dicom"; transfer-syntax=*';
      const auth = `Basic ${Buffer.from(`${service.username}:${service.password}`).toString("base64")}`;
      const urls = (root: string): string[] =>
        paths.map((p) => `${root}/studies/${studyUid}/series/${p.series}/instances/${p.sop}`);
      const pass = (
        list: string[],
        headers: Record<string, string>,
      ): Promise<{ ms: number; bytes: number }> => clientPass(list, headers, concurrency);
      const direct = urls(`${service.url}/dicom-web`);
      const gated = urls(`${base}/dicom-web`);
      const before = node.ledger.size;
      try {
        await pass(direct, { accept, authorization: auth }); // warm-up both paths
        await pass(gated, { accept, authorization: bearer });
        // Alternating rounds, best of each side: on a shared 2-core machine the slowest rounds
        // measure the neighbours' load, not the code.
        let directMs = Infinity;
        let gatedMs = Infinity;
        let bytes = 0;
        for (let r = 0; r < rounds; r++) {
          const d = await pass(direct, { accept, authorization: auth });
          const g = await pass(gated, { accept, authorization: bearer });
          if (d.bytes !== g.bytes)
            throw new Error(`the gatekeeper served ${g.bytes} bytes, Orthanc ${d.bytes}`);
          directMs = Math.min(directMs, d.ms);
          gatedMs = Math.min(gatedMs, g.ms);
          bytes = d.bytes;
        }
        const mb = bytes / 1e6;
        // Study-level WADO-RS (one request for the whole study): the per-request cost amortised.
        const studyUrl = (root: string): string[] =>
          Array.from({ length: 2 * concurrency }, () => `${root}/studies/${studyUid}`);
        let sdMs = Infinity;
        let sgMs = Infinity;
        let studyBytes = 0;
        for (let r = 0; r < rounds; r++) {
          const sd = await pass(studyUrl(`${service.url}/dicom-web`), { accept, authorization: auth });
          const sg = await pass(studyUrl(`${base}/dicom-web`), { accept, authorization: bearer });
          sdMs = Math.min(sdMs, sd.ms);
          sgMs = Math.min(sgMs, sg.ms);
          studyBytes = sd.bytes;
        }
        return {
          studyLevel: {
            requests: 2 * concurrency,
            directMBps: Math.round(studyBytes / 1e6 / (sdMs / 1000)),
            gatekeeperMBps: Math.round(studyBytes / 1e6 / (sgMs / 1000)),
            ratio: round2(sdMs / sgMs),
          },
          instances: count,
          requests: count * rounds,
          bytesPerRound: bytes,
          directMBps: Math.round(mb / (directMs / 1000)),
          gatekeeperMBps: Math.round(mb / (gatedMs / 1000)),
          ratio: round2(directMs / gatedMs),
          accessEntries: node.ledger.size - before,
        };
      } finally {
        await app.close();
      }
    } finally {
      await node.close();
    }
  } finally {
    if (orthancStudy !== "") await orthanc.deleteStudy(orthancStudy).catch(() => undefined);
    await service.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      dir: { type: "string" },
      mb: { type: "string", default: "1024" },
      workers: { type: "string" },
      instances: { type: "string", default: "40" },
      rounds: { type: "string", default: "5" },
      concurrency: { type: "string", default: "4" },
    },
  });
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  let result: unknown;
  if (what === "registration")
    result = await runDicomRegistrationBench({
      mb: Number(values.mb),
      log,
      ...(values.dir === undefined ? {} : { dir: values.dir }),
      ...(values.workers === undefined ? {} : { workers: Number(values.workers) }),
    });
  else if (what === "dicomweb")
    result = await runDicomwebBench({
      instances: Number(values.instances),
      rounds: Number(values.rounds),
      concurrency: Number(values.concurrency),
      log,
    });
  else {
    process.stderr.write(
      "usage: dicom.js registration [--dir D] [--mb 1024] [--workers N] | dicomweb [--instances 40] [--rounds 5] [--concurrency 4]\n",
    );
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
