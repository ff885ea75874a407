/**
 * DICOMweb benchmark (issue 5, docs/performance.md): WADO-RS retrieval of whole instances (transfer-syntax=*,
 * as stored) through the node's gatekeeper (decide + access.recorded + proxy) and directly from
 * Orthanc's DICOMweb plugin, same requests and concurrency, in alternating rounds: MB/s each and the
 * ratio (target ≥ 0.8), and the same with one request per study. A third side, in the same rounds,
 * is the node's proxy alone (the same route code on a bare server, every request permitted, nothing
 * decided or recorded): how much of the gap any proxy in between costs on this machine, where the
 * archive, the proxy and the client share the cores. Needs Orthanc + orthanc-dicomweb
 * (RADLEDGER_TEST_ORTHANC_* or started by the dev service). Command line: dicom.ts.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import Fastify from "fastify";
import { OrthancClient } from "../adapters/orthanc/client.js";
import { startOrthancService } from "../adapters/orthanc/dev-service.js";
import { registerDicomwebRoutes } from "../api/dicomweb.js";
import { buildServer } from "../api/server.js";
import { LedgerDicomwebAuthorizer } from "../app/dicomweb-access.js";
import { ingestPaths } from "../app/ingest.js";
import { initDataDir } from "../app/init.js";
import { readActorKey, signAs } from "../app/keys.js";
import { openNode, nodeFactory } from "../wiring/node.js";
import { toBase64 } from "../core/bytes.js";
import { formatTime } from "../core/entry.js";
import { ORIGIN, round2, syntheticInstance, uid } from "./dicom-fixtures.js";
import { openAuthStore } from "../wiring/auth.js";

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
  /** The proxy alone (no decision, no record) ÷ direct: the floor any proxy sets here. */
  readonly bareProxyMBps: number;
  readonly bareProxyRatio: number;
  readonly accessEntries: number;
  /** The same through study-level retrievals (one request per study). */
  readonly studyLevel: {
    requests: number;
    directMBps: number;
    gatekeeperMBps: number;
    ratio: number;
    bareProxyMBps: number;
    bareProxyRatio: number;
  };
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
    if (res.statusCode !== 200) {
      // The problem+json body names the code: a failed benchmark says why.
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => { if (body.length < 2000) body += c; });
      res.on("end", () => reject(new Error("HTTP " + res.statusCode + " from " + url + ": " + body)));
      return;
    }
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
    await initDataDir(data, { origin: ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
    const node = openNode(data);
    const studyUid = uid(`st/${studyNo}`);
    try {
      await ingestPaths(node, [folder], { workers: 1 });
      const admin = readActorKey(node.crypto, data, "admin")!;
      const seed = randomBytes(32);
      const sign = (type: string, body: Parameters<typeof signAs>[4]) =>
        signAs(node.crypto, admin, ORIGIN, type, body);
      await node.appender.append(
        sign("actor.enrolled", {
          actorId: "rad-bench",
          kind: "staff",
          roles: ["radiologist"],
          publicKey: toBase64(node.crypto.ed25519PublicKey(seed)),
        }),
      );
      const patient = node.pseudonym("patient", `BENCH${String(studyNo).padStart(6, "0")}`);
      await node.appender.append(
        sign("care.assigned", {
          patient,
          actor: "rad-bench",
          period: { start: formatTime(Date.now() - 60_000) },
        }),
      );
      const app = buildServer(node, {
        auth: openAuthStore(node.dir),
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
      // The proxy alone: the node's DICOMweb route on a bare server, everything permitted, nothing
      // decided or recorded.
      const bare = Fastify();
      registerDicomwebRoutes(bare, {
        upstream: `${service.url}/dicom-web`,
        username: service.username,
        password: service.password,
        authorizer: { authorize: () => Promise.resolve({ decision: "permit" }) },
        authenticate: () => Promise.resolve({ actor: "bench" }),
      });
      const bareBase = await bare.listen({ host: "127.0.0.1", port: 0 });
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
      const proxied = urls(`${bareBase}/dicom-web`);
      const before = node.ledger.size;
      try {
        await pass(direct, { accept, authorization: auth }); // warm-up both paths
        await pass(gated, { accept, authorization: bearer });
        // Alternating rounds, best of each side: on a shared 2-core machine the slowest rounds
        // measure the neighbours' load, not the code.
        let directMs = Infinity;
        let gatedMs = Infinity;
        let bareMs = Infinity;
        let bytes = 0;
        await pass(proxied, { accept });
        for (let r = 0; r < rounds; r++) {
          const d = await pass(direct, { accept, authorization: auth });
          const g = await pass(gated, { accept, authorization: bearer });
          const b = await pass(proxied, { accept });
          if (d.bytes !== g.bytes || d.bytes !== b.bytes)
            throw new Error(
              `the gatekeeper served ${g.bytes} bytes, the bare proxy ${b.bytes}, Orthanc ${d.bytes}`,
            );
          directMs = Math.min(directMs, d.ms);
          gatedMs = Math.min(gatedMs, g.ms);
          bareMs = Math.min(bareMs, b.ms);
          bytes = d.bytes;
        }
        const mb = bytes / 1e6;
        // Study-level WADO-RS (one request for the whole study): the per-request cost amortised.
        const studyUrl = (root: string): string[] =>
          Array.from({ length: 2 * concurrency }, () => `${root}/studies/${studyUid}`);
        let sdMs = Infinity;
        let sgMs = Infinity;
        let sbMs = Infinity;
        let studyBytes = 0;
        for (let r = 0; r < rounds; r++) {
          const sd = await pass(studyUrl(`${service.url}/dicom-web`), { accept, authorization: auth });
          const sg = await pass(studyUrl(`${base}/dicom-web`), { accept, authorization: bearer });
          const sb = await pass(studyUrl(`${bareBase}/dicom-web`), { accept });
          sdMs = Math.min(sdMs, sd.ms);
          sgMs = Math.min(sgMs, sg.ms);
          sbMs = Math.min(sbMs, sb.ms);
          studyBytes = sd.bytes;
        }
        const mbps = (b: number, ms: number): number => Math.round(b / 1e6 / (ms / 1000));
        return {
          studyLevel: {
            requests: 2 * concurrency,
            directMBps: mbps(studyBytes, sdMs),
            gatekeeperMBps: mbps(studyBytes, sgMs),
            ratio: round2(sdMs / sgMs),
            bareProxyMBps: mbps(studyBytes, sbMs),
            bareProxyRatio: round2(sdMs / sbMs),
          },
          instances: count,
          requests: count * rounds,
          bytesPerRound: bytes,
          directMBps: Math.round(mb / (directMs / 1000)),
          gatekeeperMBps: Math.round(mb / (gatedMs / 1000)),
          ratio: round2(directMs / gatedMs),
          bareProxyMBps: Math.round(mb / (bareMs / 1000)),
          bareProxyRatio: round2(directMs / bareMs),
          accessEntries: node.ledger.size - before,
        };
      } finally {
        await bare.close();
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
