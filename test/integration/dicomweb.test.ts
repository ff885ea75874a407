/**
 * DICOMweb through the gatekeeper against a real Orthanc with the DICOMweb plugin: QIDO-RS and
 * WADO-RS with a permitted actor (care relationship) and a denied one, the access entries written,
 * denied requests never reaching the archive (a counting relay sits between node and Orthanc), and
 * a standard client (the `dicomweb-client` npm package over an XMLHttpRequest polyfill) working
 * against the node unchanged.
 */
import { createHash, randomUUID } from "node:crypto";
import http from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrthancClient } from "../../src/adapters/orthanc/client.js";
import { parseDicomwebPath } from "../../src/api/dicomweb.js";
import { buildServer } from "../../src/api/server.js";
import { LedgerDicomwebAuthorizer } from "../../src/app/dicomweb-access.js";
import { ingestPaths } from "../../src/app/ingest.js";
import { formatTime } from "../../src/core/entry.js";
import { accessHistory } from "../../src/domain/access/queries.js";
import { TS } from "../fixtures/dicom/dicom-writer.js";
import { writeStudy, type SyntheticStudy } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { orthancForTests, type OrthancService } from "./orthanc-service.js";
import { openAuthStore } from "../../src/wiring/auth.js";

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

let service: OrthancService;
let orthanc: OrthancClient;
let t: TestNode;
let app: FastifyInstance;
let base = "";
let relay: http.Server;
const relayed: string[] = []; // paths that reached the archive
let study: SyntheticStudy;
let studyId = "";
let patient = "";
let orthancStudy = "";
const dir = tempDir("radledger-dicomweb-");
const tokens = new Map<string, string>();
/** When set, the node's clock stands still (several requests "in the same millisecond"). */
let frozenAt: number | undefined;

beforeAll(async () => {
  ensureDicomTools();
  service = await orthancForTests();
  orthanc = new OrthancClient({
    baseUrl: service.url,
    username: service.username,
    password: service.password,
  });
  t = await makeNode({ verifyThreads: 0, clock: { now: () => frozenAt ?? Date.now() } });
  study = await writeStudy(join(dir.path, "study"), {
    seed: `dw-${randomUUID()}`,
    series: 2,
    instancesPerSeries: 2,
  });
  for (const i of study.instances) orthancStudy = (await orthanc.uploadInstance(i.bytes)).ParentStudy;
  const s = await ingestPaths(t.node, [join(dir.path, "study")], { workers: 1 });
  studyId = s.studies[0]!.studyId!;
  patient = t.node.pseudonym("patient", study.patient.id);

  await t.enrol("rad-care", ["radiologist"]);
  await t.enrol("rad-other", ["radiologist"]);
  await t.enrol("researcher-1", ["researcher"]);
  await t.node.appender.append(
    t.sign(t.admin, "care.assigned", {
      patient,
      actor: "rad-care",
      period: { start: formatTime(Date.now() - 60_000) },
    }),
  );

  // A relay that counts what reaches Orthanc: the proof that a denied request never does.
  const up = new URL(service.url);
  relay = http.createServer((req, res) => {
    relayed.push(req.url ?? "");
    const p = http.request(
      { host: up.hostname, port: up.port, path: req.url, method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(p);
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
  const relayUrl = `http://127.0.0.1:${(relay.address() as AddressInfo).port}`;
  app = buildServer(t.node, {
    auth: openAuthStore(t.dir),
    dicomweb: {
      upstream: `${relayUrl}/dicom-web`,
      username: service.username,
      password: service.password,
      authorizer: new LedgerDicomwebAuthorizer(t.node),
    },
  });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  // DICOMweb callers authenticate with the API's bearer tokens.
  for (const actor of ["rad-care", "rad-other", "researcher-1"]) {
    const issued = await app.radledger.auth.issueToken({
      actor,
      kind: "api",
      ttlMs: 3600_000,
      createdBy: "test",
    });
    tokens.set(actor, issued.token);
  }
});

afterAll(async () => {
  await app.close();
  await new Promise((r) => relay.close(r));
  await orthanc.deleteStudy(orthancStudy).catch(() => undefined);
  await t.close();
  await service.stop();
  dir.remove();
});

const as = (actor: string, extra: Record<string, string> = {}): Record<string, string> => ({
  authorization: `Bearer ${tokens.get(actor)!}`,
  ...extra,
});

function multipartSingle(body: Buffer, contentType: string): Buffer {
  const boundary = `--${/boundary=("?)([^";]+)\1/.exec(contentType)![2]!}`;
  const start = body.indexOf(boundary);
  const headersEnd = body.indexOf("\r\n\r\n", start);
  return body.subarray(headersEnd + 4, body.indexOf(`\r\n${boundary}`, headersEnd));
}

describe("DICOMweb through the gatekeeper", () => {
  it("maps PS3.18 paths to parts and actions", () => {
    expect(parseDicomwebPath("/studies")).toEqual({ kind: "search", level: "studies" });
    expect(parseDicomwebPath("/studies/1.2/series/3.4/instances/5.6/frames/1,2")).toMatchObject({
      target: { studyUid: "1.2", seriesUid: "3.4", instanceUid: "5.6" },
      action: "read",
    });
    expect(parseDicomwebPath("/studies/1.2")).toMatchObject({
      target: { studyUid: "1.2" },
      action: "download",
    });
    expect(parseDicomwebPath("/studies/1.2/series")).toMatchObject({
      target: { studyUid: "1.2" },
      action: "read",
    });
    expect(() => parseDicomwebPath("/studies/1.2/../x")).toThrow(/UID|resource/);
    expect(() => parseDicomwebPath("/studies/01.2")).toThrow(/UID/);
  });

  it("QIDO-RS: the permitted actor sees the study (URLs point at the node); the other sees nothing", async () => {
    const url = `${base}/dicom-web/studies?StudyInstanceUID=${study.studyInstanceUid}`;
    const ok = await fetch(url, { headers: as("rad-care", { accept: "application/dicom+json" }) });
    expect(ok.status).toBe(200);
    const found = (await ok.json()) as Record<string, { Value?: string[] }>[];
    expect(found).toHaveLength(1);
    expect(found[0]!["00081190"]?.Value?.[0]).toBe(`${base}/dicom-web/studies/${study.studyInstanceUid}`);
    const no = await fetch(url, { headers: as("rad-other", { accept: "application/dicom+json" }) });
    expect(no.status).toBe(200);
    expect(await no.json()).toEqual([]);
  });

  it("WADO-RS: the permitted actor retrieves the instance as stored; the denied one gets 403 and Orthanc is never asked", async () => {
    const inst = study.instances.find((i) => i.transferSyntaxUid === TS.ImplicitLE)!;
    const path = `/dicom-web/studies/${study.studyInstanceUid}/series/${inst.seriesInstanceUid}/instances/${inst.sopInstanceUid}`;
    const accept = 'multipart/related; type="application/dicom"; transfer-syntax=*';
    const res = await fetch(base + path, { headers: as("rad-care", { accept }) });
    expect(res.status).toBe(200);
    const file = multipartSingle(Buffer.from(await res.arrayBuffer()), res.headers.get("content-type")!);
    expect(sha(file)).toBe(sha(inst.bytes));

    const before = relayed.length;
    const denied = await fetch(base + path, { headers: as("rad-other", { accept }) });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe("ACCESS_DENIED");
    const metadata = await fetch(`${base}/dicom-web/studies/${study.studyInstanceUid}/metadata`, {
      headers: as("rad-other"),
    });
    expect(metadata.status).toBe(403);
    expect(relayed.length).toBe(before);

    // Metadata for the permitted actor: BulkDataURIs come back through the node.
    const md = await fetch(`${base}/dicom-web/studies/${study.studyInstanceUid}/metadata`, {
      headers: as("rad-care"),
    });
    expect(md.status).toBe(200);
    const text = await md.text();
    expect(text).toContain(`${base}/dicom-web/studies/`);
    expect(text).not.toContain(service.url);
  });

  it("records every decision as an access entry with the part requested", () => {
    const h = accessHistory(t.node.store, patient, { limit: 100, oldestFirst: true }).items;
    const summary = h.map((a) => [a.who.actor, a.decision, a.part.kind, a.action, a.basis?.kind ?? a.reason]);
    expect(summary).toEqual([
      ["rad-care", "permit", "study", "read", "care"],
      ["rad-other", "deny", "study", "read", "no-grant"],
      ["rad-care", "permit", "instance", "download", "care"],
      ["rad-other", "deny", "instance", "download", "no-grant"],
      ["rad-other", "deny", "study", "read", "no-grant"],
      ["rad-care", "permit", "study", "read", "care"],
    ]);
    expect(h[2]!.part).toEqual({
      kind: "instance",
      id: t.node.pseudonym(
        "instance",
        study.instances.find((i) => i.transferSyntaxUid === TS.ImplicitLE)!.sopInstanceUid,
      ),
      study: studyId,
    });
  });

  it("a viewer fetching the same study several times at once: every retrieval served and recorded", async () => {
    // Requests in the same millisecond decide identically; each is still its own access entry
    // (`repeat`, docs/families/access.md), not a 409 for the second.
    const accept = 'multipart/related; type="application/dicom"; transfer-syntax=*';
    const before = accessHistory(t.node.store, patient, { limit: 1000 }).items.length;
    const url = `${base}/dicom-web/studies/${study.studyInstanceUid}`;
    frozenAt = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await fetch(url, { headers: as("rad-care", { accept }) });
        await res.arrayBuffer();
        return res.status;
      }),
    ).finally(() => (frozenAt = undefined));
    expect(statuses).toEqual(Array(8).fill(200));
    expect(accessHistory(t.node.store, patient, { limit: 1000 }).items.length).toBe(before + 8);
  });

  it("refuses unauthenticated, malformed, unknown and break-glass-without-clinical-role requests clearly", async () => {
    const st = `${base}/dicom-web/studies/${study.studyInstanceUid}/series`;
    expect((await fetch(st)).status).toBe(401);
    expect((await fetch(st, { headers: { authorization: "Bearer rl_0000000000000000_nope" } })).status).toBe(
      401,
    );
    expect((await fetch(`${base}/dicom-web/studies/not-a-uid`, { headers: as("rad-care") })).status).toBe(
      400,
    );
    expect((await fetch(`${base}/dicom-web/studies/1.2.3.999`, { headers: as("rad-care") })).status).toBe(
      404,
    );
    expect(
      (await fetch(st, { headers: as("rad-care", { "x-radledger-purpose-of-use": "NOPE" }) })).status,
    ).toBe(400);
    const bg = await fetch(st, {
      headers: as("researcher-1", {
        "x-radledger-purpose-of-use": "ETREAT",
        "x-radledger-break-glass": "immediate-threat-to-life",
        "x-radledger-break-glass-justification": encodeURIComponent(
          "Trauma bay: haemorrhage, needs prior CT now.",
        ),
      }),
    });
    expect(bg.status).toBe(403);
    const last = accessHistory(t.node.store, patient, { limit: 1 }).items[0]!;
    expect([last.who.actor, last.decision, last.reason]).toEqual([
      "researcher-1",
      "deny",
      "break-glass-not-permitted",
    ]);
  });

  it("a standard DICOMweb client (dicomweb-client + XMLHttpRequest polyfill) works against the node", async () => {
    // Untyped on purpose: xhr2 ships no types, and dicomweb-client's typings mark optional
    // options as required; the calls below are the package's documented API.
    const xhr2: string = "xhr2";
    const dwc: string = "dicomweb-client";
    (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest = (
      (await import(xhr2)) as { default: unknown }
    ).default;
    interface DwClient {
      searchForStudies(o: object): Promise<unknown>;
      searchForSeries(o: object): Promise<unknown>;
      retrieveInstanceMetadata(o: object): Promise<unknown>;
      retrieveInstanceFrames(o: object): Promise<unknown>;
      retrieveStudyMetadata(o: object): Promise<unknown>;
    }
    const { api } = (await import(dwc)) as { api: { DICOMwebClient: new (o: object) => DwClient } };
    const client = new api.DICOMwebClient({ url: `${base}/dicom-web`, headers: as("rad-care") });
    const p = <T>(v: Promise<unknown>): Promise<T> => v as Promise<T>;
    const studies = await p<unknown[]>(
      client.searchForStudies({ queryParams: { StudyInstanceUID: study.studyInstanceUid } }),
    );
    expect(studies).toHaveLength(1);
    const series = await p<unknown[]>(client.searchForSeries({ studyInstanceUID: study.studyInstanceUid }));
    expect(series).toHaveLength(new Set(study.instances.map((i) => i.seriesInstanceUid)).size);
    const inst = study.instances[0]!;
    const metadata = await p<Record<string, { Value?: string[] }>[]>(
      client.retrieveInstanceMetadata({
        studyInstanceUID: study.studyInstanceUid,
        seriesInstanceUID: inst.seriesInstanceUid,
        sopInstanceUID: inst.sopInstanceUid,
      }),
    );
    expect(metadata[0]!["00080018"]?.Value?.[0]).toBe(inst.sopInstanceUid);
    const frames = await p<ArrayBuffer[]>(
      client.retrieveInstanceFrames({
        studyInstanceUID: study.studyInstanceUid,
        seriesInstanceUID: inst.seriesInstanceUid,
        sopInstanceUID: inst.sopInstanceUid,
        frameNumbers: [1],
      }),
    );
    expect(sha(new Uint8Array(frames[0]!))).toBe(inst.expectedFrameSha256[0]);
    const denied = new api.DICOMwebClient({ url: `${base}/dicom-web`, headers: as("rad-other") });
    await expect(
      denied.retrieveStudyMetadata({ studyInstanceUID: study.studyInstanceUid }),
    ).rejects.toBeDefined();
  });
});
