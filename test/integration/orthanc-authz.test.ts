/**
 * Orthanc asks the node (issue 21 §1): a REAL Orthanc with the authorization plugin
 * (plugins/orthanc/radledger_authz.py, Debian orthanc-python) asks this node for every request that
 * reaches patient data. A permitted caller gets the bytes straight from Orthanc, with one access entry
 * per (caller, study, purpose, action) for a whole study's retrieval; an unpermitted caller gets
 * Orthanc's 403 and a recorded deny; Orthanc's own REST (/studies, /series, /instances/…/file,
 * archive, /tools/find), DICOMweb and WADO-URI are all covered; requests without credentials and
 * requests the filter cannot attribute to a study are refused; the node down → Orthanc refuses.
 */
import { createHash, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrthancClient } from "../../src/adapters/orthanc/client.js";
import { buildServer } from "../../src/api/server.js";
import { LedgerDicomwebAuthorizer } from "../../src/app/dicomweb-access.js";
import { ingestPaths } from "../../src/app/ingest.js";
import { formatTime } from "../../src/core/entry.js";
import { accessHistory } from "../../src/domain/access/queries.js";
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
let tokenFile = "";
let care = "";
let study: SyntheticStudy;
let patient = "";
let oStudy = "";
let oSeries = "";
let oPatient = "";
const oInstances: { id: string; sop: string; series: string; sha: string }[] = [];
const dir = tempDir("radledger-orthanc-authz-");
const tokens = new Map<string, string>();

beforeAll(async () => {
  ensureDicomTools();
  t = await makeNode({ verifyThreads: 0 });
  study = await writeStudy(join(dir.path, "study"), {
    seed: `authz-${randomUUID()}`,
    series: 2,
    instancesPerSeries: 3,
    multiFrameFrames: 0,
  });
  await ingestPaths(t.node, [join(dir.path, "study")], { workers: 1 });
  patient = t.node.pseudonym("patient", study.patient.id);
  await t.enrol("rad-care", ["radiologist"]);
  await t.enrol("rad-other", ["radiologist"]);
  await t.enrol("orthanc-plugin", ["integration"]);
  ({ leafHash: care } = await t.node.appender.append(
    t.sign(t.admin, "care.assigned", {
      patient,
      actor: "rad-care",
      period: { start: formatTime(Date.now() - 60_000) },
    }),
  ));
  app = buildServer(t.node, {
    auth: openAuthStore(t.dir),
    orthancAuthz: new LedgerDicomwebAuthorizer(t.node),
  });
  base = await app.listen({ host: "127.0.0.1", port: 0 });
  for (const actor of ["rad-care", "rad-other", "orthanc-plugin"]) {
    const issued = await app.radledger.auth.issueToken({
      actor,
      kind: "api",
      ttlMs: 3600_000,
      createdBy: "test",
    });
    tokens.set(actor, issued.token);
  }
  // A second credential of the same actor: decisions are cached per credential, so this one is asked afresh.
  const second = await app.radledger.auth.issueToken({
    actor: "rad-care",
    kind: "api",
    ttlMs: 3600_000,
    createdBy: "test",
  });
  tokens.set("rad-care#2", second.token);
  tokenFile = join(dir.path, "plugin-token");
  writeFileSync(tokenFile, tokens.get("orthanc-plugin")!, { mode: 0o600 });
  service = await orthancForTests({ authz: { nodeUrl: base, tokenFile, timeoutSeconds: 2 } });
  // The service account (the plugin's ServiceUsers) uploads without asking the node.
  orthanc = new OrthancClient({
    baseUrl: service.url,
    username: service.username,
    password: service.password,
  });
  for (const i of study.instances) {
    const up = await orthanc.uploadInstance(i.bytes);
    oStudy = up.ParentStudy;
    oSeries = up.ParentSeries;
    oPatient = up.ParentPatient;
    oInstances.push({ id: up.ID, sop: i.sopInstanceUid, series: i.seriesInstanceUid, sha: sha(i.bytes) });
  }
}, 240_000);

afterAll(async () => {
  await app.close();
  await service.stop();
  await t.close();
  dir.remove();
});

const as = (actor: string, extra: Record<string, string> = {}): Record<string, string> => ({
  authorization: `Bearer ${tokens.get(actor)!}`,
  ...extra,
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${service.url}${path}`, { headers });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
};

const history = () =>
  accessHistory(t.node.store, patient, { limit: 1000, oldestFirst: true }).items.map((a) => [
    a.who.actor,
    a.decision,
    a.part.kind,
    a.action,
    a.purpose,
    a.basis?.kind ?? a.reason,
  ]);

/** Every kind of request for the study's data, by Orthanc REST, DICOMweb and WADO-URI. */
const routes = (): string[] => {
  const i = oInstances[0]!;
  return [
    `/instances/${i.id}/file`,
    `/instances/${i.id}`,
    `/instances/${i.id}/tags?simplify`,
    `/studies/${oStudy}`,
    `/studies/${oStudy}/archive`,
    `/series/${oSeries}`,
    `/patients/${oPatient}/studies`,
    `/dicom-web/studies/${study.studyInstanceUid}/metadata`,
    `/dicom-web/studies/${study.studyInstanceUid}/series/${i.series}/instances/${i.sop}`,
    `/dicom-web/studies?StudyInstanceUID=${study.studyInstanceUid}`,
    `/wado?requestType=WADO&studyUID=${study.studyInstanceUid}&seriesUID=${i.series}&objectUID=${i.sop}&contentType=application/dicom`,
  ];
};

describe("Orthanc asks the node (authorization plugin)", () => {
  it("a permitted caller gets every instance's bytes straight from Orthanc, with ONE access entry for the study's retrieval", async () => {
    const before = history().length;
    // In parallel, as a viewer loads a study: concurrent requests wait for the first decision.
    const got = await Promise.all(oInstances.map((i) => get(`/instances/${i.id}/file`, as("rad-care"))));
    expect(got.map((g) => g.status)).toEqual(oInstances.map(() => 200));
    expect(got.map((g) => sha(g.body))).toEqual(oInstances.map((i) => i.sha));
    expect(history().slice(before)).toEqual([["rad-care", "permit", "study", "download", "TREAT", "care"]]);
    // Again, and by DICOMweb: the cached permit; nothing more is recorded.
    for (const i of oInstances) {
      const r = await get(
        `/dicom-web/studies/${study.studyInstanceUid}/series/${i.series}/instances/${i.sop}`,
        {
          ...as("rad-care"),
          accept: 'multipart/related; type="application/dicom"; transfer-syntax=*',
        },
      );
      expect(r.status).toBe(200);
      expect(r.body.includes(Buffer.from(i.sop))).toBe(true);
    }
    expect(history().length).toBe(before + 1);
  });

  it("covers Orthanc's REST (instances, files, tags, studies, archive, series, patients), DICOMweb and WADO-URI for a permitted caller", async () => {
    const before = history().length;
    const statuses = [];
    for (const p of routes()) statuses.push([p, (await get(p, as("rad-care#2"))).status]);
    expect(statuses).toEqual(routes().map((p) => [p, 200]));
    // A new credential is a new decision: one download and one read of the study, each recorded once.
    expect(history().slice(before)).toEqual([
      ["rad-care", "permit", "study", "download", "TREAT", "care"],
      ["rad-care", "permit", "study", "read", "TREAT", "care"],
    ]);
  });

  it("an unpermitted caller gets 403 from Orthanc on every route, and the deny is recorded", async () => {
    const before = history().length;
    for (const p of routes()) {
      const r = await get(p, as("rad-other"));
      expect([p, r.status]).toEqual([p, 403]);
      expect(r.body.includes(Buffer.from(study.patient.id))).toBe(false);
    }
    const denies = history().slice(before);
    expect(denies).toEqual([
      ["rad-other", "deny", "study", "download", "TREAT", "no-grant"],
      ["rad-other", "deny", "study", "read", "TREAT", "no-grant"],
    ]);
    // Break-glass is the same decision as the node's own routes: permitted, and recorded as such.
    const bg = await get(`/instances/${oInstances[0]!.id}/file`, {
      ...as("rad-other"),
      "x-radledger-purpose-of-use": "ETREAT",
      "x-radledger-break-glass": "immediate-threat-to-life",
      "x-radledger-break-glass-justification": encodeURIComponent(
        "unconscious patient in the ER, CT needed now",
      ),
    });
    expect(bg.status).toBe(200);
    expect(history().at(-1)).toEqual(["rad-other", "permit", "study", "download", "ETREAT", "break-glass"]);
  });

  it("refuses requests without credentials, with a bad token, and those it cannot attribute to a study, recording nothing", async () => {
    const before = history().length;
    for (const p of routes()) expect([p, (await get(p)).status]).toEqual([p, 403]);
    for (const p of routes())
      expect([p, (await get(p, { authorization: "Bearer rl_0000000000000000_nope" })).status]).toEqual([
        p,
        403,
      ]);
    // Lists, unscoped searches and /tools/find (whose body the filter does not see) name no study.
    for (const p of [
      "/studies",
      "/patients",
      "/instances",
      "/dicom-web/studies",
      "/dicom-web/instances",
      "/jobs",
    ])
      expect([p, (await get(p, as("rad-care"))).status]).toEqual([p, 403]);
    const find = await fetch(`${service.url}/tools/find`, {
      method: "POST",
      headers: as("rad-care"),
      body: JSON.stringify({ Level: "Study", Query: {} }),
    });
    expect(find.status).toBe(403);
    // Changes to the archive are for its service account only.
    const del = await fetch(`${service.url}/instances/${oInstances[0]!.id}`, {
      method: "DELETE",
      headers: as("rad-care"),
    });
    expect(del.status).toBe(403);
    expect(history().length).toBe(before);
    // A forwarded session cookie authenticates like a bearer token.
    const cookie = { cookie: `radledger_session=${tokens.get("rad-care")!}` };
    expect((await get(`/instances/${oInstances[1]!.id}/file`, cookie)).status).toBe(200);
  });

  it("the node's route: only an integration actor may ask, and a malformed question is a coded 400", async () => {
    const ask = (who: string, body: unknown) =>
      fetch(`${base}/api/v1/orthanc/authorize`, {
        method: "POST",
        headers: { ...as(who), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const q = {
      credential: { authorization: `Bearer ${tokens.get("rad-care")!}` },
      ip: "127.0.0.1",
      study: study.studyInstanceUid,
      action: "read",
    };
    const byViewer = await ask("rad-care", q);
    expect([byViewer.status, ((await byViewer.json()) as { code: string }).code]).toEqual([
      403,
      "FORBIDDEN_ROLE",
    ]);
    for (const bad of [
      { ...q, study: "01.2" },
      { ...q, headers: { "x-radledger-purpose-of-use": "SHOPPING" } },
      { ...q, extra: 1 },
    ]) {
      const r = await ask("orthanc-plugin", bad);
      expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([400, "INPUT_INVALID"]);
    }
    const ok = await ask("orthanc-plugin", q);
    expect(await ok.json()).toEqual({ decision: "permit" });
  });

  it("revocation: with CacheSeconds 0 the next request is decided again, so a care relationship ended is a 403 at once", async () => {
    const uncached = await orthancForTests({ authz: { nodeUrl: base, tokenFile, cacheSeconds: 0 } });
    try {
      const client = new OrthancClient({
        baseUrl: uncached.url,
        username: uncached.username,
        password: uncached.password,
      });
      const id = (await client.uploadInstance(study.instances[0]!.bytes)).ID;
      const before = history().length;
      const url = `${uncached.url}/instances/${id}/file`;
      expect((await fetch(url, { headers: as("rad-care") })).status).toBe(200);
      expect((await fetch(url, { headers: as("rad-care") })).status).toBe(200);
      await t.node.appender.append(t.sign(t.admin, "care.ended", { reason: "discharged" }, { care }));
      expect((await fetch(url, { headers: as("rad-care") })).status).toBe(403);
      expect(
        history()
          .slice(before)
          .map((h) => [h[1], h[5]]),
      ).toEqual([
        ["permit", "care"],
        ["permit", "care"],
        ["deny", "care-ended"],
      ]);
    } finally {
      await uncached.stop();
    }
  });

  it("the node down: Orthanc refuses what it has no cached permit for (fail closed)", async () => {
    await app.close();
    const r = await get(
      `/instances/${oInstances[0]!.id}/file`,
      as("rad-care", { "x-radledger-purpose-of-use": "CAREMGT" }),
    );
    expect(r.status).toBe(403);
    expect(r.body.length).toBeLessThan(1000);
  });
});
