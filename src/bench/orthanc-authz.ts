/**
 * Orthanc asks the node, measured (issue 21 §1, docs/performance.md): a study of ≥ 200 synthetic
 * instances retrieved by a DICOMweb client (WADO-RS, transfer-syntax=*) from an Orthanc WITH the
 * authorization plugin (plugins/orthanc/radledger_authz.py asking this node, decisions cached 60 s)
 * and from the same Orthanc build WITHOUT it (a second process holding the same instances), in
 * alternating rounds with the same requests and concurrency: MB/s each and the ratio (target ≥ 0.9),
 * instance level and study level. Then the first-instance latency the decision adds: one instance
 * fetched in turn from the plain Orthanc and from a third one whose plugin caches nothing (every
 * request is a decision and an access entry on the log), paired; the p50 and p99 of the differences
 * (target p99 < 20 ms). The client runs in a worker thread (as in dicomweb.ts). Needs Orthanc,
 * orthanc-dicomweb and orthanc-python (the dev service starts them).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { OrthancClient } from "../adapters/orthanc/client.js";
import { startOrthancService, type OrthancService } from "../adapters/orthanc/dev-service.js";
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

export interface OrthancAuthzBenchOptions {
  readonly instances?: number;
  readonly rounds?: number;
  readonly concurrency?: number;
  /** Paired first-instance fetches for the latency figures. */
  readonly latencySamples?: number;
  readonly log?: (line: string) => void;
}

export interface OrthancAuthzBenchResult {
  readonly instances: number;
  readonly rounds: number;
  readonly concurrency: number;
  readonly bytesPerRound: number;
  readonly instanceLevel: { plainMBps: number; pluginMBps: number; ratio: number };
  readonly studyLevel: { requests: number; plainMBps: number; pluginMBps: number; ratio: number };
  /** Access entries the instance- and study-level rounds left (one per caller, study, action). */
  readonly accessEntries: number;
  /** One instance, a fresh decision each time, minus the same fetch from the plain Orthanc. */
  readonly firstInstance: {
    samples: number;
    plainP50Ms: number;
    decidedP50Ms: number;
    addedP50Ms: number;
    addedP99Ms: number;
  };
}

/** A GET client in a worker thread: every URL with `concurrency` keep-alive connections. */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const http = require("node:http");
const { urls, headers, concurrency } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
const get = (url, h) => new Promise((resolve, reject) => {
  http.get(url, { agent, headers: h }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      reject(new Error("HTTP " + res.statusCode + " from " + url));
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
  const times = [];
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < urls.length) {
      const [u, h] = urls[next++];
      const s = performance.now();
      const n = await get(u, headers[h]); // not "bytes += await …": that would read bytes before the wait
      bytes += n;
      times.push(performance.now() - s);
    }
  }));
  parentPort.postMessage({ ms: performance.now() - t, bytes, times });
  agent.destroy();
})().catch((e) => parentPort.postMessage({ error: String(e) }));
`;

interface Pass {
  ms: number;
  bytes: number;
  times: number[];
}

/** urls: [url, index into headers]. */
function clientPass(
  urls: [string, number][],
  headers: Record<string, string>[],
  concurrency: number,
): Promise<Pass> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT, { eval: true, workerData: { urls, headers, concurrency } });
    w.once("message", (m: Pass | { error: string }) => {
      void w.terminate();
      if ("error" in m) reject(new Error(m.error));
      else resolve(m);
    });
    w.once("error", reject);
  });
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

export async function runOrthancAuthzBench(
  o: OrthancAuthzBenchOptions = {},
): Promise<OrthancAuthzBenchResult> {
  const log = o.log ?? ((): void => undefined);
  const count = o.instances ?? 200;
  const rounds = o.rounds ?? 7;
  const concurrency = o.concurrency ?? 4;
  const samples = o.latencySamples ?? 200;
  const tmp = mkdtempSync(join(tmpdir(), "radledger-bench-orthanc-authz-"));
  const services: OrthancService[] = [];
  const data = join(tmp, "node");
  await initDataDir(data, { origin: ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
  const node = openNode(data);
  try {
    const studyNo = 800_000 + Math.floor(Math.random() * 99_999);
    const folder = join(tmp, "study");
    mkdirSync(folder);
    const files: Buffer[] = [];
    const paths: { sop: string; series: string }[] = [];
    for (let i = 0; i < count; i++) {
      const b = syntheticInstance({ study: studyNo, series: 0, instance: i, rows: 512, columns: 512 });
      writeFileSync(join(folder, `${i}.dcm`), b);
      files.push(b);
      paths.push({ sop: uid(`i/${studyNo}/0/${i}`), series: uid(`se/${studyNo}/0`) });
    }
    await ingestPaths(node, [folder], { workers: 1 });
    const admin = readActorKey(node.crypto, data, "admin")!;
    const sign = (type: string, body: Parameters<typeof signAs>[4]) =>
      signAs(node.crypto, admin, ORIGIN, type, body);
    for (const [actorId, kind, roles] of [
      ["rad-bench", "staff", ["radiologist"]],
      ["orthanc-plugin", "system", ["integration"]],
    ] as const)
      await node.appender.append(
        sign("actor.enrolled", {
          actorId,
          kind,
          roles: [...roles],
          publicKey: toBase64(node.crypto.ed25519PublicKey(randomBytes(32))),
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
      orthancAuthz: new LedgerDicomwebAuthorizer(node),
      // The per-actor rate limit would measure itself, not the decision.
      limits: { actor: { perSecond: 1e9, burst: 1e9 } },
    });
    try {
      const base = await app.listen({ host: "127.0.0.1", port: 0 });
      const issue = async (actor: string): Promise<string> =>
        (await app.radledger.auth.issueToken({ actor, kind: "api", ttlMs: 3600_000, createdBy: "bench" }))
          .token;
      const tokenFile = join(tmp, "plugin-token");
      writeFileSync(tokenFile, await issue("orthanc-plugin"), { mode: 0o600 });
      const viewer = `Bearer ${await issue("rad-bench")}`;
      log("orthanc-authz: starting Orthanc without the plugin, with it, and with it caching nothing");
      const plain = await startOrthancService({ authz: undefined, private: true });
      services.push(plain);
      const plugin = await startOrthancService({ authz: { nodeUrl: base, tokenFile, cacheSeconds: 60 } });
      services.push(plugin);
      const fresh = await startOrthancService({ authz: { nodeUrl: base, tokenFile, cacheSeconds: 0 } });
      services.push(fresh);
      log(`orthanc-authz: uploading ${count} instances to each`);
      for (const s of [plain, plugin])
        for (const b of files)
          await new OrthancClient({
            baseUrl: s.url,
            username: s.username,
            password: s.password,
          }).uploadInstance(b);
      await new OrthancClient({
        baseUrl: fresh.url,
        username: fresh.username,
        password: fresh.password,
      }).uploadInstance(files[0]!);
      const studyUid = uid(`st/${studyNo}`);
      const accept = 'multipart/related; type="application/dicom"; transfer-syntax=*';
      const basic = (s: OrthancService): string =>
        `Basic ${Buffer.from(`${s.username}:${s.password}`).toString("base64")}`;
      const headers = [
        { accept, authorization: basic(plain) },
        { accept, authorization: viewer },
      ];
      const instanceUrls = (s: OrthancService, h: number): [string, number][] =>
        paths.map((p) => [`${s.url}/dicom-web/studies/${studyUid}/series/${p.series}/instances/${p.sop}`, h]);
      const before = node.ledger.size;
      await clientPass(instanceUrls(plain, 0), headers, concurrency); // warm-up (and the one decision)
      await clientPass(instanceUrls(plugin, 1), headers, concurrency);
      // Alternating rounds, best of each side: on a shared machine the slowest rounds measure the
      // neighbours' load, not the code.
      let plainMs = Infinity;
      let pluginMs = Infinity;
      let bytes = 0;
      // ABBA order: neither side always runs first, after the other's page-cache and CPU state.
      const both = async <T>(r: number, x: () => Promise<T>, y: () => Promise<T>): Promise<[T, T]> => {
        if (r % 2 === 0) {
          const a = await x();
          return [a, await y()];
        }
        const b = await y();
        return [await x(), b];
      };
      for (let r = 0; r < rounds; r++) {
        const [a, b] = await both(
          r,
          () => clientPass(instanceUrls(plain, 0), headers, concurrency),
          () => clientPass(instanceUrls(plugin, 1), headers, concurrency),
        );
        if (a.bytes !== b.bytes) throw new Error(`with the plugin ${b.bytes} bytes, without ${a.bytes}`);
        plainMs = Math.min(plainMs, a.ms);
        pluginMs = Math.min(pluginMs, b.ms);
        bytes = a.bytes;
      }
      log("orthanc-authz: study level");
      const studyRequests = 2;
      const studyUrls = (s: OrthancService, h: number): [string, number][] =>
        Array.from({ length: studyRequests }, () => [`${s.url}/dicom-web/studies/${studyUid}`, h]);
      let sPlainMs = Infinity;
      let sPluginMs = Infinity;
      let studyBytes = 0;
      for (let r = 0; r < rounds; r++) {
        const [a, b] = await both(
          r,
          () => clientPass(studyUrls(plain, 0), headers, studyRequests),
          () => clientPass(studyUrls(plugin, 1), headers, studyRequests),
        );
        sPlainMs = Math.min(sPlainMs, a.ms);
        sPluginMs = Math.min(sPluginMs, b.ms);
        studyBytes = a.bytes;
      }
      const accessEntries = node.ledger.size - before;
      log("orthanc-authz: first-instance latency");
      const first = paths[0]!;
      const one = (s: OrthancService, h: number): [string, number][] => [
        [`${s.url}/dicom-web/studies/${studyUid}/series/${first.series}/instances/${first.sop}`, h],
      ];
      // One client for the whole series, its keep-alive connections warm to both Orthancs (a viewer
      // fetching a study's first instance has just searched it on the same connection), and the
      // pairs interleaved: a client worker started and terminated per sample ran in this process
      // beside the node, so its start-up and teardown landed in the decided request's time only
      // (the plain Orthanc's path does not involve the node). The first WARM pairs are not counted:
      // they are the just-started Orthanc's (and its plugin threads') first requests, which a
      // running archive has behind it.
      const WARM = 10;
      const series: [string, number][] = [];
      for (let i = 0; i < WARM + samples; i++) series.push(...one(plain, 0), ...one(fresh, 1));
      const { times } = await clientPass(series, headers, 1);
      const plainTimes: number[] = [];
      const decidedTimes: number[] = [];
      const added: number[] = [];
      for (let i = WARM; i < WARM + samples; i++) {
        const a = times[2 * i]!;
        const b = times[2 * i + 1]!;
        plainTimes.push(a);
        decidedTimes.push(b);
        added.push(b - a);
      }
      const mbps = (b: number, ms: number): number => Math.round(b / 1e6 / (ms / 1000));
      const ms1 = (x: number): number => Math.round(x * 10) / 10;
      return {
        instances: count,
        rounds,
        concurrency,
        bytesPerRound: bytes,
        instanceLevel: {
          plainMBps: mbps(bytes, plainMs),
          pluginMBps: mbps(bytes, pluginMs),
          ratio: round2(plainMs / pluginMs),
        },
        studyLevel: {
          requests: studyRequests,
          plainMBps: mbps(studyBytes, sPlainMs),
          pluginMBps: mbps(studyBytes, sPluginMs),
          ratio: round2(sPlainMs / sPluginMs),
        },
        accessEntries,
        firstInstance: {
          samples,
          plainP50Ms: ms1(quantile(plainTimes, 0.5)),
          decidedP50Ms: ms1(quantile(decidedTimes, 0.5)),
          addedP50Ms: ms1(quantile(added, 0.5)),
          addedP99Ms: ms1(quantile(added, 0.99)),
        },
      };
    } finally {
      await app.close();
    }
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
    await node.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
