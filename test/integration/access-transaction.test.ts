/**
 * Every access decision carries the transaction it was decided in (docs/audit.md "The transaction"),
 * as IHE BALP asks of an AuditEvent: the request id (entity[transaction]) and the client's network
 * address (agent[client].network) — the address for staff and systems only, never a patient's (it
 * would put the patient's own personal data on a log that cannot erase it).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { AuditEvent, Bundle } from "fhir/r4.js";
import { PERSONAS, logEntries, startWebNode, type WebNode } from "../helpers/web.js";

let web: WebNode;
let patient = "";
let report = "";

beforeAll(async () => {
  web = await startWebNode();
  patient = web.api.t.node.pseudonym("patient", "DEMO-MRN-0001");
  const token = await web.api.token(PERSONAS.patient);
  const reports = await web.api.call<{ items: { id: string }[] }>(
    "GET",
    `/api/v1/patients/${patient}/reports`,
    {
      token,
    },
  );
  report = reports.body.items[0]!.id;
}, 120_000);
afterAll(async () => {
  await web.close();
});

const newest = (actor: string) =>
  logEntries(web, "access.recorded")
    .filter((e) => e.body.actor === actor)
    .at(-1)!;

test("a clinician's read records the request id it was answered under and the client's address", async () => {
  const token = await web.api.token(PERSONAS.clinician);
  const res = await web.api.call("GET", `/api/v1/reports/${report}`, {
    token,
    headers: { "x-request-id": "viewer-req-42" },
  });
  expect(res.status).toBeLessThan(500);
  expect(res.headers.get("x-request-id")).toBe("viewer-req-42");
  const body = newest(PERSONAS.clinician).body as { transaction?: { request: string; address?: string } };
  expect(body.transaction).toEqual({ request: "viewer-req-42", address: "127.0.0.1" });
});

test("a patient's own read records the request id but not the patient's address", async () => {
  const token = await web.api.token(PERSONAS.patient);
  const res = await web.api.call("GET", `/api/v1/reports/${report}`, { token });
  expect(res.status).toBe(200);
  const body = newest(PERSONAS.patient).body as { transaction?: { request: string; address?: string } };
  expect(body.transaction?.request).toBe(res.headers.get("x-request-id"));
  expect(body.transaction).not.toHaveProperty("address");
});

test("the log refuses a patient's access record that carries an address (INPUT_INVALID)", async () => {
  const t = web.api.t;
  const q = {
    actor: PERSONAS.patient,
    patient,
    part: { kind: "record" },
    action: "read",
    purpose: "PATRQT",
    decision: "permit",
    basis: { kind: "patient" },
    transaction: { request: "r1", address: "192.0.2.7" },
  };
  await expect(t.node.appender.append(t.sign(t.institution, "access.recorded", q))).rejects.toMatchObject({
    code: "INPUT_INVALID",
  });
});

test("the FHIR export's BALP AuditEvent names the client's address and the request", async () => {
  const token = await web.api.token(PERSONAS.clinician);
  await web.api.call("GET", `/api/v1/reports/${report}`, {
    token,
    headers: { "x-request-id": "viewer-req-43" },
  });
  const auditor = await web.api.token(PERSONAS.auditor);
  const res = await web.api.call<Bundle>("GET", `/api/v1/fhir?patient=${patient}`, { token: auditor });
  expect(res.status).toBe(200);
  const events = (res.body.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is AuditEvent => r?.resourceType === "AuditEvent");
  const mine = events.find((e) =>
    (e.entity ?? []).some((x) => x.what?.identifier?.value === "viewer-req-43"),
  );
  expect(mine, "an AuditEvent with the request's transaction entity").toBeDefined();
  const client = mine!.agent.find((a) => a.network?.address === "127.0.0.1");
  expect(client?.network).toEqual({ address: "127.0.0.1", type: "2" });
});
