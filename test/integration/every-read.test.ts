/**
 * Issue 21 §3: every API route that returns anything about a patient records it on the log before it
 * answers — an access.recorded entry with purpose and basis, or one audit.recorded event of the
 * node (docs/audit.md "What is recorded when"). The test enumerates every route the server mounts
 * (the OpenAPI document and the standard edges: FHIR, bundles, tiles) and every CLI verb
 * (src/cli/main.ts VERBS); each is classified below as patient data (with a probe that must leave a
 * record) or not (with the reason). A route or verb in neither list fails the test: coverage 100 %.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PERSONAS, startWebNode, type Persona, type WebNode } from "../helpers/web.js";
import { fromUtf8 } from "../../src/core/bytes.js";

interface Entry {
  readonly type: string;
  readonly actor: string;
  readonly body: Record<string, unknown>;
}

interface Ids {
  patient: string;
  report: string;
  study: string;
  grant: string;
  access: string;
  section: string;
}

/** How a patient-data route is probed: who calls, which path, what must be on the log after. */
interface Probe {
  readonly as: Persona;
  readonly path: (ids: Ids) => string;
  readonly body?: (ids: Ids) => unknown;
  /** access: an access.recorded permit by the caller; or the audit.recorded event expected. */
  readonly records: "access" | "query" | "audit-log-used" | "export";
}

const X = "0".repeat(64);

/** Routes that return something about a patient, each with a probe. */
const PATIENT_DATA: Record<string, Probe> = {
  "GET /api/v1/reports": { as: "radiologist", path: () => "/api/v1/reports", records: "query" },
  "GET /api/v1/reports/{id}": {
    as: "clinician",
    path: (i) => `/api/v1/reports/${i.report}`,
    records: "access",
  },
  "GET /api/v1/reports/{id}/models": {
    as: "clinician",
    path: (i) => `/api/v1/reports/${i.report}/models`,
    records: "access",
  },
  "GET /api/v1/reports/{id}/content": {
    as: "patient",
    path: (i) => `/api/v1/reports/${i.report}/content`,
    records: "access",
  },
  "POST /api/v1/reports/{id}/content": {
    as: "patient",
    path: (i) => `/api/v1/reports/${i.report}/content`,
    body: () => ({}),
    records: "access",
  },
  "GET /api/v1/reports/{id}/sections/{section}/content": {
    as: "patient",
    path: (i) => `/api/v1/reports/${i.report}/sections/${i.section}/content`,
    records: "access",
  },
  "POST /api/v1/reports/{id}/sections/{section}/content": {
    as: "patient",
    path: (i) => `/api/v1/reports/${i.report}/sections/${i.section}/content`,
    body: () => ({}),
    records: "access",
  },
  "GET /api/v1/studies": { as: "clinician", path: () => "/api/v1/studies", records: "query" },
  "GET /api/v1/consultations/mine": {
    as: "radiologist",
    path: () => "/api/v1/consultations/mine",
    records: "query",
  },
  "GET /api/v1/studies/{id}": {
    as: "clinician",
    path: (i) => `/api/v1/studies/${i.study}`,
    records: "access",
  },
  "GET /api/v1/patients": { as: "auditor", path: () => "/api/v1/patients", records: "query" },
  "GET /api/v1/patients/{patient}/studies": {
    as: "clinician",
    path: (i) => `/api/v1/patients/${i.patient}/studies`,
    records: "access",
  },
  "GET /api/v1/patients/{patient}/reports": {
    as: "clinician",
    path: (i) => `/api/v1/patients/${i.patient}/reports`,
    records: "access",
  },
  "GET /api/v1/patients/{patient}/access": {
    as: "auditor",
    path: (i) => `/api/v1/patients/${i.patient}/access`,
    records: "audit-log-used",
  },
  "GET /api/v1/patients/{patient}/grants": {
    as: "patient",
    path: (i) => `/api/v1/patients/${i.patient}/grants`,
    records: "access",
  },
  "GET /api/v1/patients/{patient}/care": {
    as: "radiologist",
    path: (i) => `/api/v1/patients/${i.patient}/care`,
    records: "access",
  },
  "GET /api/v1/grants/{id}": { as: "auditor", path: (i) => `/api/v1/grants/${i.grant}`, records: "access" },
  "GET /api/v1/grantees/{kind}/{id}/grants": {
    as: "auditor",
    path: () => "/api/v1/grantees/actor/rad-neuro-1/grants",
    records: "query",
  },
  "POST /api/v1/consent/decide": {
    as: "patient",
    path: () => "/api/v1/consent/decide",
    body: (i) => ({ patient: i.patient, part: { kind: "record" }, purpose: "PATRQT" }),
    records: "query",
  },
  "GET /api/v1/access/break-glass": {
    as: "auditor",
    path: () => "/api/v1/access/break-glass",
    records: "audit-log-used",
  },
  "GET /api/v1/access/{id}": {
    as: "auditor",
    path: (i) => `/api/v1/access/${i.access}`,
    records: "audit-log-used",
  },
  "GET /api/v1/actors/{id}/access": {
    as: "auditor",
    path: () => "/api/v1/actors/rad-neuro-1/access",
    records: "audit-log-used",
  },
  "GET /api/v1/access": { as: "auditor", path: () => "/api/v1/access", records: "audit-log-used" },
  "GET /api/v1/ai/models/{id}/recall": {
    as: "auditor",
    path: () => `/api/v1/ai/models/${X}/recall`,
    records: "query",
  },
  "GET /api/v1/ai/recall": {
    as: "auditor",
    path: () => "/api/v1/ai/recall?vendor=x&name=y&version=1",
    records: "query",
  },
  "GET /api/v1/trials": { as: "coordinator", path: () => "/api/v1/trials", records: "query" },
  "GET /api/v1/trials/{id}": { as: "coordinator", path: () => `/api/v1/trials/${X}`, records: "query" },
  "GET /api/v1/trials/{id}/subjects": {
    as: "coordinator",
    path: () => `/api/v1/trials/${X}/subjects`,
    records: "query",
  },
  "GET /api/v1/trials/{id}/subjects/by-pseudonym/{subject}": {
    as: "coordinator",
    path: () => `/api/v1/trials/${X}/subjects/by-pseudonym/ts_${"A".repeat(43)}`,
    records: "query",
  },
  "GET /api/v1/trial-subjects/{id}/timeline": {
    as: "coordinator",
    path: () => `/api/v1/trial-subjects/${X}/timeline`,
    records: "query",
  },
  "GET /api/v1/trial-timepoints/{id}/reads": {
    as: "coordinator",
    path: () => `/api/v1/trial-timepoints/${X}/reads`,
    records: "query",
  },
  "GET /api/v1/log/entries/{ref}": {
    as: "auditor",
    path: () => "/api/v1/log/entries/1",
    records: "audit-log-used",
  },
  "GET /api/v1/fhir": { as: "patient", path: (i) => `/api/v1/fhir?patient=${i.patient}`, records: "export" },
  "GET /api/v1/fhir/{type}/{id}": {
    as: "auditor",
    path: (i) => `/api/v1/fhir/AuditEvent/${i.access}`,
    records: "export",
  },
  "GET /api/v1/fhir/AuditEvent": {
    as: "auditor",
    path: (i) => `/api/v1/fhir/AuditEvent?patient=${i.patient}`,
    records: "audit-log-used",
  },
  "GET /api/v1/bundles/{kind}/{id}": {
    as: "patient",
    path: (i) => `/api/v1/bundles/access/${i.patient}`,
    records: "export",
  },
};

/** Routes that return nothing about a patient, each with the reason. */
const NOT_PATIENT_DATA: Record<string, string> = {
  "GET /api/v1/log/checkpoints": "public: signed checkpoints (sizes, roots), no entries",
  "GET /api/v1/log/recent": "public: entry types, indexes and hashes, no bodies (docs/privacy.md)",
  "GET /api/v1/log/entries/{ref}/proof": "public: an inclusion proof (hashes only)",
  "GET /api/v1/log/proofs/inclusion": "public: hashes only",
  "GET /api/v1/log/proofs/consistency": "public: hashes only",
  "GET /api/v1/log": "public: the log's size and checkpoint",
  "GET /api/v1/openapi.json": "the API's description",
  "GET /api/v1/docs": "the API's description",
  "POST /api/v1/auth/login": "sign-in: the caller's own session",
  "POST /api/v1/auth/logout": "sign-out",
  "GET /api/v1/auth/me": "the caller's own actor",
  "POST /api/v1/auth/tokens": "the caller's own credentials",
  "GET /api/v1/auth/tokens": "the caller's own credentials",
  "DELETE /api/v1/auth/tokens/{id}": "the caller's own credentials",
  "PUT /api/v1/actors/{id}/password": "credentials; on the log as credential entries",
  "GET /api/v1/actors": "the actor directory (enrolment, roles), not the imaging record",
  "POST /api/v1/actors": "enrolment, a write on the log",
  "GET /api/v1/actors/{id}": "the actor directory: an actor's own enrolment, or an admin's",
  "POST /api/v1/actors/{id}/enrolment-codes": "enrolment credentials",
  "GET /api/v1/actors/{id}/enrolment-codes": "enrolment credentials",
  "POST /api/v1/actors/{id}/browser-key": "enrolment of a patient's own key, a write on the log",
  "GET /api/v1/entries/types": "the entry schemas",
  "POST /api/v1/entries": "a write: the signed entry is itself on the log",
  "POST /api/v1/entries/{type}": "a write: the signed entry is itself on the log",
  "GET /api/v1/alarms":
    "the admin's alarms: codes and model names, never a study or patient (src/ports/alarms.ts)",
  "POST /api/v1/alarms/{id}/acknowledgement": "an admin acknowledges an alarm: node-local, no patient",
  "POST /api/v1/fhir/Consent":
    "the patient's own write: the grant is itself on the log; answers the Consent just submitted (refusals recorded)",
  "POST /api/v1/fhir/Consent/$to-grant":
    "a conversion of the caller's own Consent; reads nothing of the record",
  "POST /api/v1/fhir/DiagnosticReport":
    "a write by the RIS: the report entries are themselves on the log; answers only their ids",
  "GET /api/v1/ai/models": "the AI model registry (vendors' products), no patient",
  "GET /api/v1/datasets": "datasets: de-identified (PS3.15 Annex E) items, no patient pseudonym",
  "GET /api/v1/datasets/{id}": "datasets: de-identified",
  "GET /api/v1/datasets/{id}/items": "datasets: de-identified items",
  "GET /api/v1/datasets/{id}/annotations": "datasets: de-identified",
  "GET /api/v1/datasets/{id}/vendor-contributions": "datasets: de-identified",
  "GET /api/v1/datasets/{id}/shares": "datasets: data-use agreements",
  "GET /api/v1/datasets/{id}/validations": "datasets: model validations",
  "GET /api/v1/dataset-items/{id}/annotations": "datasets: de-identified",
  "GET /api/v1/datasets/{id}/versions/{version}": "datasets: sealed manifests",
  "GET /api/v1/datasets/{id}/credits": "datasets: contributors' credit",
  "GET /api/v1/datasets/{id}/seal-proposal": "datasets: a manifest to seal",
  "POST /api/v1/fhir/AuditEvent":
    "a write (ITI-20): the system's audit event becomes its signed access.reported entry, answered with its location only",
  "POST /api/v1/fhir": "a write (ITI-20 Bundle): access.reported entries, answered with their locations only",
  "POST /api/v1/vault": "a write: content into the vault, answered with its commitment",
  "POST /api/v1/patients/{patient}/erasure":
    "a write: the erasure is itself on the log (patient.data.erased)",
  "GET /assets/{name}": "the web app's static files",
  "GET /verifier.html": "the standalone bundle verifier (static)",
  "GET /healthz": "liveness",
  "GET /readyz": "readiness",
  "GET /metrics": "Prometheus counters, no patient",
  "GET /checkpoint": "public: the signed checkpoint",
  "GET /tile/entries/*":
    "entry bundles go to consortium peers and mirrors, whose reads are replication (recording each fetch would grow the log with every fetch of its own growth), and to admins and auditors (docs/audit.md: not yet recorded)",
  "GET /tile/*":
    "hash tiles are public; entry bundles go to consortium peers and mirrors, whose reads are replication (recording each fetch would grow the log with every fetch of its own growth), and to admins and auditors (docs/audit.md, not yet recorded)",
};

/** Mounted only with a consortium or a DICOMweb archive: classified, and covered where they are mounted. */
const MOUNTED_ELSEWHERE: Record<string, string> = {
  "GET /api/v1/consortium/patients/{patient}/access":
    "patient data: one audit-log-used event (src/api/consortium-routes.ts)",
  "GET /dicom-web/*":
    "patient data: the DICOMweb gatekeeper records per study (test/integration/dicomweb.test.ts)",
  "POST /api/v1/orthanc/authorize":
    "answers permit or deny only; the decision is the access record (test/integration/orthanc-authz.test.ts)",
};

/** CLI verbs (src/cli/main.ts VERBS): those that print or write something about a patient record it. */
const CLI_PATIENT_DATA: Record<string, string> = {
  export: "export bundle and export fhir record the export (110106; access histories and FHIR also 110101)",
  query: "every query records one query or audit-log-used event before it prints",
};
const CLI_NOT_PATIENT_DATA: Record<string, string> = {
  init: "creates a data directory",
  serve: "serves the API (whose routes are above); records its start and stop (110100)",
  key: "key management",
  verify: "verifies a bundle or the log's integrity; prints findings, not records",
  demo: "seeds a demo directory",
  token: "credentials",
  alarms: "the admin's alarms: codes and model names, never a study or patient",
  actor: "enrolment (writes on the log)",
  consent: "grants and revocations (writes on the log)",
  access: "break-glass review (a write on the log)",
  ingest: "registers studies (writes on the log)",
  orthanc: "archive connection checks",
  deidentify: "writes a de-identified copy for a trial (recorded as trial entries)",
  erase: "erasure (a write on the log)",
  backup: "the operator's copy of the data directory",
  restore: "the operator's restore of a backup",
  bench: "benchmarks on scratch directories",
  consortium: "consortium membership and witnessing",
  anchor: "checkpoint anchoring",
};

let web: WebNode;
let ids: Ids;
const tokens = {} as Record<Persona, string>;

function entriesSince(from: number): Entry[] {
  const t = web.api.t;
  const out: Entry[] = [];
  for (let i = from; i < t.node.ledger.size; i++)
    out.push(JSON.parse(fromUtf8(t.node.store.readEntry(i)!.bytes)) as Entry);
  return out;
}

beforeAll(async () => {
  web = await startWebNode();
  for (const p of Object.keys(PERSONAS) as Persona[]) tokens[p] = await web.api.token(PERSONAS[p]);
  const patient = web.api.t.node.pseudonym("patient", "DEMO-MRN-0001");
  const reports = await web.api.call<{ items: { id: string; study: string; patient: string }[] }>(
    "GET",
    `/api/v1/patients/${patient}/reports`,
    { token: tokens.patient },
  );
  const r = reports.body.items[0]!;
  const grants = await web.api.call<{ items: { id: string }[] }>(
    "GET",
    `/api/v1/patients/${patient}/grants`,
    {
      token: tokens.patient,
    },
  );
  const access = await web.api.call<{ items: { id: string }[] }>(
    "GET",
    `/api/v1/patients/${patient}/access`,
    {
      token: tokens.patient,
    },
  );
  // A section of the report: the first its view lists.
  const view = await web.api.call<{ sections: { id: string }[] }>("GET", `/api/v1/reports/${r.id}`, {
    token: tokens.patient,
  });
  ids = {
    section: view.body.sections[0]!.id,
    patient,
    report: r.id,
    study: r.study,
    grant: grants.body.items[0]!.id,
    access: access.body.items[0]!.id,
  };
}, 120_000);
afterAll(async () => {
  await web.close();
});

/** "GET /api/v1/x/{id}" for every route the server mounts; POST /api/v1/entries/<type> as one. */
function mountedRoutes(): string[] {
  const served = web.api.app.radledger.served ?? [];
  const names = served.map((r) => {
    const url =
      r.url.startsWith("/api/v1/entries/") && r.url !== "/api/v1/entries/types"
        ? "/api/v1/entries/{type}"
        : r.url;
    return `${r.method} ${url.replace(/:([A-Za-z]+)/g, "{$1}")}`;
  });
  return [...new Set(names)];
}

describe("coverage: every route and every CLI verb is classified", () => {
  test("the OpenAPI document's routes and the standard edges are each patient data or not (none unclassified)", async () => {
    const doc = (
      await web.api.call<{ paths: Record<string, Record<string, unknown>> }>("GET", "/api/v1/openapi.json")
    ).body;
    const fromDoc = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => {
        const p =
          path.startsWith("/api/v1/entries/") && path !== "/api/v1/entries/types"
            ? "/api/v1/entries/{type}"
            : path;
        return `${m.toUpperCase()} ${p}`;
      }),
    );
    const all = [...new Set([...fromDoc, ...mountedRoutes()])];
    expect(all.length).toBeGreaterThan(70);
    const unclassified = all.filter((r) => !(r in PATIENT_DATA) && !(r in NOT_PATIENT_DATA));
    expect(unclassified, "routes in neither list: classify them in this test").toEqual([]);
    const both = Object.keys(PATIENT_DATA).filter((r) => r in NOT_PATIENT_DATA);
    expect(both).toEqual([]);
    // Nothing classified that does not exist (a renamed route leaves no stale line behind).
    const stale = [...Object.keys(PATIENT_DATA), ...Object.keys(NOT_PATIENT_DATA)].filter(
      (r) => !all.includes(r),
    );
    expect(stale).toEqual([]);
    expect(Object.keys(MOUNTED_ELSEWHERE).every((r) => !all.includes(r))).toBe(true);
  });

  test("every CLI verb of src/cli/main.ts is patient data or not", () => {
    const main = readFileSync(join(import.meta.dirname, "../../src/cli/main.ts"), "utf8");
    const verbs = [...main.matchAll(/^\s*\[\s*"([a-z-]+)",/gm)].map((m) => m[1]!);
    expect(verbs.length).toBeGreaterThan(15);
    const unclassified = verbs.filter((v) => !(v in CLI_PATIENT_DATA) && !(v in CLI_NOT_PATIENT_DATA));
    expect(unclassified, "CLI verbs in neither list").toEqual([]);
  });
});

describe("every patient-data route leaves a record before it answers", () => {
  for (const [route, probe] of Object.entries(PATIENT_DATA)) {
    test(`${route} (as ${probe.as}) → ${probe.records}`, async () => {
      const method = route.split(" ")[0]!;
      const before = web.api.t.node.ledger.size;
      const res = await web.api.call(method, probe.path(ids), {
        token: tokens[probe.as],
        ...(probe.body ? { body: probe.body(ids) } : {}),
      });
      expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      const actor = PERSONAS[probe.as];
      const added = entriesSince(before).filter((e) => e.body.actor === actor);
      if (probe.records === "access") expect(added.some((e) => e.type === "access.recorded")).toBe(true);
      else
        expect(added.some((e) => e.type === "audit.recorded" && e.body.event === probe.records)).toBe(true);
    });
  }
});

describe("the reads of issue 21 §3", () => {
  test("a clinician with no basis reads report metadata, the study list, the report list and a study record: four access records, basis role", async () => {
    // clin-er-1's grant from patient B was revoked in the demo; no care relationship with patient A.
    const before = web.api.t.node.ledger.size;
    for (const path of [
      `/api/v1/reports/${ids.report}`,
      `/api/v1/patients/${ids.patient}/studies`,
      `/api/v1/patients/${ids.patient}/reports`,
      `/api/v1/studies/${ids.study}`,
    ])
      expect((await web.api.call("GET", path, { token: tokens.clinician })).status).toBe(200);
    const recorded = entriesSince(before).filter((e) => e.type === "access.recorded");
    expect(recorded.length).toBe(4);
    for (const e of recorded)
      expect(e.body).toMatchObject({
        actor: "clin-er-1",
        patient: ids.patient,
        decision: "permit",
        purpose: "TREAT",
        basis: { kind: "role", role: "clinician" },
      });
  });

  test("an auditor reading a patient's access history leaves one 110101 event per request, not one per row", async () => {
    const before = web.api.t.node.ledger.size;
    const res = await web.api.call<{ items: unknown[] }>(
      "GET",
      `/api/v1/patients/${ids.patient}/access?limit=50`,
      {
        token: tokens.auditor,
      },
    );
    expect(res.body.items.length).toBeGreaterThan(3);
    const added = entriesSince(before);
    expect(added.length).toBe(1);
    expect(added[0]).toMatchObject({
      type: "audit.recorded",
      actor: "institution",
      body: {
        event: "audit-log-used",
        actor: "auditor-1",
        purpose: "HOPERAT",
        role: "auditor",
        patient: ids.patient,
      },
    });
    expect(added[0]!.body.query).toBe("GET /api/v1/patients/{patient}/access");
  });

  test("a refused attempt at an audited route is recorded as denied", async () => {
    const before = web.api.t.node.ledger.size;
    const res = await web.api.call("GET", "/api/v1/access", { token: tokens.clinician });
    expect(res.status).toBe(403);
    expect(entriesSince(before)).toMatchObject([
      { type: "audit.recorded", body: { event: "audit-log-used", outcome: "denied", actor: "clin-er-1" } },
    ]);
  });

  test("a patient reading another patient's studies is a recorded deny, as before", async () => {
    const other = web.api.t.node.pseudonym("patient", "DEMO-MRN-0002");
    const before = web.api.t.node.ledger.size;
    const res = await web.api.call("GET", `/api/v1/patients/${other}/studies`, { token: tokens.patient });
    expect(res.status).toBe(403);
    expect(entriesSince(before)).toMatchObject([
      { type: "access.recorded", body: { decision: "deny", reason: "not-own-record", patient: other } },
    ]);
  });
});
