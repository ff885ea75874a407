/**
 * Importing an IHE PCF Consent (docs/fhir.md "Importing a Consent"): a patient whose key the node
 * holds submits a Consent, the grant is on the log signed by the patient and answered as the PCF
 * Consent; exporting it and submitting the export again gives the same grant (round trip); hostile
 * or unsupported Consents are refused with codes naming the element; another patient's Consent
 * and staff submissions are refused and recorded; $to-grant answers the entry a self-custody
 * patient signs.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import type { Consent } from "fhir/r4.js";
import { fromUtf8 } from "../../src/core/bytes.js";
import { seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

let api: TestApi;
let own: string;
let other: string;
let patientToken: string;

const entries = (type: string): { actor: string; body: Record<string, unknown>; refs?: unknown }[] => {
  const out = [];
  for (let i = 0; i < api.t.node.ledger.size; i++) {
    const e = JSON.parse(fromUtf8(api.t.node.store.readEntry(i)!.bytes)) as {
      type: string;
      actor: string;
      body: Record<string, unknown>;
    };
    if (e.type === type) out.push(e);
  }
  return out;
};

const pcf = (patient: string, provision: Record<string, unknown> = {}): Record<string, unknown> => ({
  resourceType: "Consent",
  status: "active",
  scope: {
    coding: [{ system: "http://terminology.hl7.org/CodeSystem/consentscope", code: "patient-privacy" }],
  },
  category: [{ coding: [{ system: "http://loinc.org", code: "59284-0" }] }],
  patient: { identifier: { system: "urn:radledger:patient", value: patient } },
  dateTime: "2026-01-01T00:00:00.000Z",
  policy: [{ uri: "https://portal.example/privacy/v3" }],
  provision: {
    type: "permit",
    period: { start: "2026-01-01T00:00:00.000Z", end: "2036-01-01T00:00:00.000Z" },
    actor: [
      {
        role: {
          coding: [{ system: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", code: "IRCP" }],
        },
        reference: { identifier: { system: "urn:radledger:actor", value: "rad-chest-1" } },
      },
    ],
    purpose: [{ system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "TREAT" }],
    ...provision,
  },
});

const post = (body: unknown, token = patientToken, path = "/api/v1/fhir/Consent") =>
  api.call("POST", path, {
    token,
    raw: JSON.stringify(body),
    contentType: "application/fhir+json",
  });

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

test("a node-custody patient submits a PCF Consent: the grant is on the log signed by them, answered as a Consent; export → import gives the same grant", async () => {
  const before = entries("consent.granted").length;
  const res = await post(pcf(own));
  expect(res.status).toBe(201);
  const consent = res.body as unknown as Consent;
  expect(consent.resourceType).toBe("Consent");
  expect(res.headers.get("location")).toBe(`/api/v1/fhir/Consent/${consent.id}`);
  const granted = entries("consent.granted");
  expect(granted).toHaveLength(before + 1);
  expect(granted.at(-1)!.actor).toBe("patient-0001"); // signed with the patient's own (held) key
  expect(granted.at(-1)!.body).toEqual({
    patient: own,
    grantee: { kind: "actor", id: "rad-chest-1" },
    scope: { kind: "all-imaging" },
    purposes: ["TREAT"],
    period: { start: "2026-01-01T00:00:00.000Z", end: "2036-01-01T00:00:00.000Z" },
  });
  // Round trip: the exported Consent, submitted again, is the same grant.
  const again = await post(consent, patientToken, "/api/v1/fhir/Consent/$to-grant");
  expect(again.status).toBe(200);
  expect(again.body).toEqual({ type: "consent.granted", body: granted.at(-1)!.body });
});

test("unsupported or hostile Consents are refused with a code naming the element, nothing appended", async () => {
  const before = api.t.node.ledger.size;
  const cases: [unknown, string][] = [
    [{ ...pcf(own), status: "draft" }, "status"],
    [pcf(own, { type: "deny" }), "provision.type"],
    [pcf(own, { provision: [{ type: "deny" }] }), "provision.provision"],
    [pcf(own, { securityLabel: [{ code: "R" }] }), "provision.securityLabel"],
    [
      pcf(own, { purpose: [{ system: "http://terminology.hl7.org/CodeSystem/v3-ActReason", code: "NOPE" }] }),
      "provision.purpose[0]",
    ],
    [{ ...pcf(own), verification: [] }, "verification"],
    [{ ...pcf(own), modifierExtension: [{ url: "x" }] }, "modifierExtension"],
    [
      pcf(own, { extension: [{ url: "https://evil.example/x", valueCode: "all" }] }),
      "provision.extension[0].url",
    ],
    [
      pcf(own, {
        data: [
          {
            meaning: "related",
            reference: { identifier: { system: "urn:radledger:study", value: "0".repeat(64) } },
          },
        ],
      }),
      "provision.data[0].meaning",
    ],
    [{ resourceType: "Patient" }, "resourceType"],
  ];
  for (const [body, at] of cases) {
    const res = await post(body);
    expect(res.status, at).toBe(422);
    expect(res.body, at).toMatchObject({ code: "FHIR_CONSENT_UNSUPPORTED", at });
  }
  // Broken JSON is a 400 before any handler.
  const broken = await api.call("POST", "/api/v1/fhir/Consent", {
    token: patientToken,
    raw: "{",
    contentType: "application/fhir+json",
  });
  expect(broken.status).toBe(400);
  expect(api.t.node.ledger.size).toBe(before);
});

test("another patient's Consent, or staff submitting one, is refused and the refusal recorded about that patient", async () => {
  const res = await post(pcf(other));
  expect(res.status).toBe(403);
  expect(res.body).toMatchObject({ code: "FORBIDDEN_NOT_OWN_RECORD", reason: "not-own-record" });
  expect(entries("access.recorded").at(-1)!.body).toMatchObject({
    actor: "patient-0001",
    patient: other,
    decision: "deny",
    reason: "not-own-record",
  });
  const staff = await post(pcf(own), await api.token("rad-chest-1"));
  expect(staff.status).toBe(403);
  expect(staff.body).toMatchObject({ code: "FORBIDDEN_NOT_OWN_RECORD", reason: "role-not-permitted" });
  expect(entries("access.recorded").at(-1)!.body).toMatchObject({
    actor: "rad-chest-1",
    patient: own,
    decision: "deny",
    reason: "role-not-permitted",
  });
  const anonymous = await api.call("POST", "/api/v1/fhir/Consent", {
    raw: JSON.stringify(pcf(own)),
    contentType: "application/fhir+json",
  });
  expect(anonymous.status).toBe(401);
});
