/**
 * FHIR `POST /api/v1/fhir/DiagnosticReport` (docs/intake.md "FHIR"): a reporting system that speaks
 * FHIR records a report as the RIS's HL7 v2 results are — the clinician the report names as author,
 * the system as enterer — with the same refusals and the same idempotency. Synthetic data only.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toBase64 } from "../../src/core/bytes.js";
import { reportView } from "../../src/domain/reports/queries.js";
import { accessionKey } from "../../src/app/register-study.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { studyBody } from "../helpers/fixtures.js";
import { admitted, seedReportScene } from "../helpers/report-scene.js";

let api: TestApi;
let token = "";
let study = "";

beforeAll(async () => {
  api = await startApi();
  const t = api.t;
  const { patient } = await seedReportScene(t);
  const studyKey = t.node.pseudonym("study", "1.2.826.0.1.3680043.8.498.7002");
  study = await admitted(t, t.sign(t.institution, "study.registered", studyBody(patient, { studyKey })));
  t.node.manifests.noteAccession(accessionKey(t.node, "ACC-FHIR-1"), studyKey);
  const held = t.node.heldKeys.put("reporting-app", crypto.randomBytes(32));
  await t.node.appender.append(
    t.sign(t.admin, "actor.enrolled", {
      actorId: "reporting-app",
      kind: "system",
      roles: ["integration"],
      publicKey: toBase64(held.publicKey),
      displayName: "Reporting app",
    }),
  );
  token = await api.token("reporting-app");
}, 60_000);
afterAll(async () => api.close());

function diagnosticReport(id: string, status: string, accession = "ACC-FHIR-1"): Record<string, unknown> {
  return {
    resourceType: "DiagnosticReport",
    id,
    status,
    identifier: [
      {
        type: { coding: [{ system: "http://terminology.hl7.org/CodeSystem/v2-0203", code: "ACSN" }] },
        value: accession,
      },
    ],
    code: { coding: [{ system: "http://loinc.org", code: "24725-4", display: "CT Head" }] },
    resultsInterpreter: [{ reference: "Practitioner/rad-neuro" }],
    contained: [
      {
        resourceType: "Observation",
        id: "f1",
        status: "final",
        code: { coding: [{ system: "http://loinc.org", code: "18782-3", display: "Findings" }] },
        valueString: "Synthetic: no acute abnormality.",
      },
    ],
    result: [{ reference: "#f1" }],
    conclusion: "Synthetic: normal study.",
  };
}

const post = (body: unknown, contentType = "application/fhir+json") =>
  api.call("POST", "/api/v1/fhir/DiagnosticReport", {
    token,
    raw: JSON.stringify(body),
    contentType,
  });

test("a preliminary then a final DiagnosticReport: sections by the interpreter, entered by the system, signed off on their behalf", async () => {
  const first = await post(diagnosticReport("dr-1", "preliminary"));
  expect(first.status, first.text).toBe(201);
  expect(first.body).toMatchObject({ resourceType: "OperationOutcome" });
  const final = await post(diagnosticReport("dr-2", "final"));
  expect(final.status, final.text).toBe(201);
  const row = api.t.node.store.lookup("report.study", study, { limit: 1 })[0]!;
  const r = reportView(api.t.node.store, row.value);
  expect(r.sections.map((s) => [s.section, s.author, s.enteredBy])).toEqual([
    ["findings", "rad-neuro", "reporting-app"],
    ["impression", "rad-neuro", "reporting-app"],
    ["findings", "rad-neuro", "reporting-app"],
    ["impression", "rad-neuro", "reporting-app"],
  ]);
  expect(r.signOff).toMatchObject({ by: "rad-neuro", enteredBy: "reporting-app" });
  // The same report again: 200, the same answer, nothing recorded.
  const size = api.t.node.ledger.size;
  const again = await post(diagnosticReport("dr-2", "final"));
  expect([again.status, again.text]).toEqual([200, final.text]);
  expect(api.t.node.ledger.size).toBe(size);
});

test("refusals name their code and record nothing", async () => {
  const size = api.t.node.ledger.size;
  const cases: [unknown, number, string][] = [
    [diagnosticReport("dr-x1", "preliminary", "ACC-UNKNOWN"), 422, "HL7_STUDY_UNKNOWN"],
    [
      {
        ...diagnosticReport("dr-x2", "preliminary"),
        resultsInterpreter: [{ reference: "Practitioner/nobody" }],
      },
      422,
      "HL7_CLINICIAN_UNKNOWN",
    ],
    [diagnosticReport("dr-x3", "cancelled"), 400, "HL7_MESSAGE_MALFORMED"],
    [{ resourceType: "Patient", id: "p" }, 400, "HL7_MESSAGE_UNSUPPORTED"],
    [
      {
        ...diagnosticReport("dr-x4", "preliminary"),
        result: [{ reference: "#missing" }],
        conclusion: undefined,
      },
      400,
      "HL7_MESSAGE_MALFORMED",
    ],
  ];
  for (const [body, status, code] of cases) {
    const r = await post(body);
    expect([r.status, r.body.code]).toEqual([status, code]);
  }
  const notJson = await api.call("POST", "/api/v1/fhir/DiagnosticReport", {
    token,
    raw: "{not json",
    contentType: "application/fhir+json",
  });
  expect(notJson.body.code).toBe("HL7_MESSAGE_MALFORMED");
  // A clinician (not an integration system) may not post on someone's behalf.
  const clinician = await api.call("POST", "/api/v1/fhir/DiagnosticReport", {
    token: await api.token("rad-neuro"),
    raw: JSON.stringify(diagnosticReport("dr-x5", "preliminary")),
    contentType: "application/fhir+json",
  });
  expect(clinician.body.code).toBe("HL7_SOURCE_UNKNOWN");
  const anonymous = await api.call("POST", "/api/v1/fhir/DiagnosticReport", {
    raw: JSON.stringify(diagnosticReport("dr-x6", "preliminary")),
    contentType: "application/fhir+json",
  });
  expect(anonymous.status).toBe(401);
  expect(api.t.node.ledger.size).toBe(size);
});
