/**
 * A patient exports their own record as FHIR (issue 20, docs/fhir.md): `GET /api/v1/fhir?patient=`
 * with their own pseudonym answers the Bundle; another patient's pseudonym is 403
 * FORBIDDEN_NOT_OWN_RECORD and the refusal is on the log as an access.recorded deny about that
 * patient (docs/api.md "Authorisation"); report= and since= exports and single resources stay with
 * auditors and admins. The access history now names the accessing actor's roles.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Bundle } from "fhir/r4.js";
import { fromUtf8 } from "../../src/core/bytes.js";
import { seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

let api: TestApi;
let own: string;
let other: string;
let patientToken: string;

function accessRecords(): { body: Record<string, unknown> }[] {
  const out: { body: Record<string, unknown> }[] = [];
  for (let i = 0; i < api.t.node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(api.t.node.store.readEntry(i)!.bytes)) as {
      type: string;
      body: Record<string, unknown>;
    };
    if (e.type === "access.recorded") out.push(e);
  }
  return out;
}

beforeAll(async () => {
  api = await startApi();
  await seedDemo(api.t.node, nodeFactory);
  own = api.t.node.pseudonym("patient", "DEMO-MRN-0001");
  other = api.t.node.pseudonym("patient", "DEMO-MRN-0002");
  patientToken = await api.token("patient-0001");
}, 60_000);
afterAll(async () => {
  await api.close();
});

test("a patient exports their own record as a FHIR Bundle", async () => {
  const res = await api.call<Bundle>("GET", `/api/v1/fhir?patient=${own}`, { token: patientToken });
  expect(res.status).toBe(200);
  expect(res.type).toContain("application/fhir+json");
  expect(res.body.resourceType).toBe("Bundle");
  const types = new Set(res.body.entry!.map((e) => e.resource!.resourceType));
  expect(types).toContain("Consent");
  expect(types).toContain("AuditEvent");
});

test("another patient's record is refused and the refusal recorded on the log about that patient", async () => {
  const before = accessRecords().length;
  const res = await api.call("GET", `/api/v1/fhir?patient=${other}`, { token: patientToken });
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({ code: "FORBIDDEN_NOT_OWN_RECORD", reason: "not-own-record" });
  const records = accessRecords();
  expect(records).toHaveLength(before + 1);
  expect(records.at(-1)!.body).toMatchObject({
    actor: "patient-0001",
    patient: other,
    part: { kind: "record" },
    action: "export",
    purpose: "PATRQT",
    decision: "deny",
    reason: "not-own-record",
  });
  // …and it is in that patient's access history.
  const history = await api.call<{ items: { id: string; who: { actor: string } }[] }>(
    "GET",
    `/api/v1/patients/${other}/access`,
    { token: await api.token("patient-0002") },
  );
  expect(history.body.items[0]).toMatchObject({ id: res.body.access, who: { actor: "patient-0001" } });
});

test("a patient's report= or since= export and single resources are refused; staff stay refused", async () => {
  const before = accessRecords().length;
  const since = await api.call("GET", "/api/v1/fhir?since=2020-01-01T00:00:00.000Z", { token: patientToken });
  expect(since.status).toBe(403);
  expect(since.body).toMatchObject({ code: "FORBIDDEN_NOT_OWN_RECORD" });
  const report = await api.call("GET", `/api/v1/fhir?report=${"a".repeat(64)}`, { token: patientToken });
  expect(report.status).toBe(403);
  const one = await api.call("GET", `/api/v1/fhir/Consent/${"a".repeat(64)}`, { token: patientToken });
  expect(one.status).toBe(403);
  expect(one.body).toMatchObject({ code: "ACCESS_DENIED" });
  const rad = await api.call("GET", `/api/v1/fhir?patient=${own}`, { token: await api.token("rad-neuro-1") });
  expect(rad.status).toBe(403);
  expect(rad.body).toMatchObject({ code: "ACCESS_DENIED" });
  // A malformed pseudonym is the input's fault, for a patient as for an auditor.
  const bad = await api.call("GET", "/api/v1/fhir?patient=nope", { token: patientToken });
  expect(bad.status).toBe(400);
  expect(bad.body).toMatchObject({ code: "INPUT_INVALID" });
  // None of these read a patient's record: nothing more on the log.
  expect(accessRecords()).toHaveLength(before);
});

test("the access history names the accessing actor's roles", async () => {
  // Decided accesses only: a reported one (the demo's PACS) names participants, not an actor.
  const res = await api.call<{ items: { who: { actor: string; roles?: string[] } }[] }>(
    "GET",
    `/api/v1/patients/${own}/access?origin=decided`,
    { token: patientToken },
  );
  expect(res.status).toBe(200);
  expect(res.body.items.find((a) => a.who.actor === "rad-neuro-1")?.who.roles).toEqual(["radiologist"]);
});
