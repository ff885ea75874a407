/**
 * FHIR R4 export: a small record (AI model, inference, multi-contributor report with AI sections,
 * sign-off and amendment, a consent granted then revoked, access decisions including a denial and a
 * break-glass) exported per patient, per report and since a time, through the library, the CLI and
 * the HTTP API; every resource validated against the R4 specification (StructureDefinitions with
 * @medplum/core, the official JSON schema with ajv, HL7 v3 code systems).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Bundle, AuditEvent, Consent, DiagnosticReport, Device, Provenance } from "fhir/r4.js";
import { buildServer } from "../../src/api/server.js";
import { formatTime } from "../../src/core/entry.js";
import { accessRecordFor } from "../../src/domain/access/entries.js";
import { decide } from "../../src/domain/consent/decide.js";
import { fhirExport } from "../../src/domain/fhir/export.js";
import { fakeHash, fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { isValidFhir, validateBundle } from "../helpers/fhir-validate.js";
import { runCli } from "../helpers/cli.js";
import { recordInference, registerModel } from "../helpers/report-scene.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { openAuthStore } from "../../src/wiring/auth.js";
import type { BreakGlassReason } from "../../src/domain/access/break-glass.js";

let t: TestNode;
let patient = "";
let report = "";
let model = "";
let grant = "";
const started = formatTime(Date.now() - 1000);

async function ok(bytes: Uint8Array): Promise<string> {
  return (await t.node.appender.append(bytes)).leafHash;
}

beforeAll(async () => {
  t = await makeNode();
  const rad = await t.enrol("rad-1", ["radiologist"], {
    displayName: "Dr Synthetic",
    specialty: "neuroradiology",
  });
  const ai = await t.enrol("ai-engine", ["ai-system"], { kind: "system" });
  await t.enrol("auditor-1", ["auditor"]);
  patient = fakePseudonym();
  const study = await ok(t.sign(t.institution, "study.registered", studyBody(patient)));
  model = await registerModel(t);
  const inference = await recordInference(t, ai, model, study);
  report = await ok(t.sign(rad, "report.opened", { reportKind: "diagnostic" }, { study }));
  const c = (section: string, role: string, origin = "human") => ({
    section,
    role,
    contentCommitment: fakeHash(),
    origin,
  });
  const c1 = await ok(t.sign(rad, "report.contribution", c("findings", "radiologist"), { report }));
  const c2 = await ok(
    t.sign(ai, "report.contribution", c("measurement", "ai-system", "ai"), { report, inference }),
  );
  const c3 = await ok(
    t.sign(rad, "report.contribution", c("impression", "radiologist", "ai-modified"), { report, inference }),
  );
  await ok(t.sign(rad, "report.signed", { attestation: "final" }, { report, contributions: [c1, c2, c3] }));
  await ok(
    t.sign(
      rad,
      "report.amended",
      { ...c("impression", "radiologist"), kind: "amendment", reason: "transcription-error" },
      { report, amends: c3 },
    ),
  );
  const onBehalf = { documentCommitment: fakeHash(), reason: "paper-form" };
  grant = await ok(
    t.sign(t.admin, "consent.granted", {
      patient,
      grantee: { kind: "actor", id: "rad-1" },
      scope: { kind: "all-imaging" },
      purposes: ["TREAT", "HRESCH"],
      period: { start: started },
      onBehalf,
    }),
  );
  const access = async (actor: string, purpose: "TREAT" | "ETREAT", breakGlass?: BreakGlassReason) => {
    const q = {
      actor,
      patient,
      part: { kind: "report" as const, id: report, study },
      purpose,
      time: formatTime(Date.now()),
      ...(breakGlass === undefined ? {} : { breakGlass: { reason: breakGlass } }),
    };
    const { body, refs } = accessRecordFor(
      q,
      "read",
      decide(t.node.store, q),
      breakGlass === undefined ? {} : { reasonCommitment: fakeHash() },
    );
    await ok(t.sign(t.institution, "access.recorded", body, refs));
  };
  await access("rad-1", "TREAT"); // permit: consent
  await ok(t.sign(t.admin, "consent.revoked", { reason: "patient-request", onBehalf }, { grant }));
  await access("rad-1", "TREAT"); // deny: revoked
  await access("rad-1", "ETREAT", "patient-unable-to-consent"); // permit: break-glass
});

afterAll(async () => t.close());

const ofType = <T>(b: Bundle, type: string): T[] =>
  (b.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type) as T[];

describe("FHIR R4 export", () => {
  it("the validators are real: they refuse a resource with a bad code or a missing required element", () => {
    expect(
      isValidFhir({
        resourceType: "AuditEvent",
        type: { code: "rest" },
        recorded: "2024-01-01T00:00:00Z",
        agent: [],
        source: { observer: {} },
        action: "Z",
      }),
    ).toBe(false);
    expect(isValidFhir({ resourceType: "Consent", status: "active", scope: {}, category: [] })).toBe(false);
  });

  it("per patient: every resource valid; Provenance, AuditEvent, Consent, Device, DiagnosticReport as mapped", () => {
    const b = fhirExport(
      t.node.store,
      t.node.crypto,
      t.node.config.origin,
      { patient },
      { now: formatTime(Date.now()) },
    );
    expect(validateBundle(b)).toBeGreaterThan(8);

    const [dr] = ofType<DiagnosticReport>(b, "DiagnosticReport");
    expect(dr!.status).toBe("amended");
    expect(dr!.meta?.security?.[0]?.code).toBe("AIAST");
    expect(dr!.extension).toHaveLength(4); // three sections + the amendment, each attributed
    const origins = dr!.extension!.map((e) => e.extension!.find((x) => x.url === "origin")!.valueCode);
    expect(origins).toEqual(["human", "ai", "ai-modified", "human"]);

    const prov = ofType<Provenance>(b, "Provenance");
    const aiSection = prov.find(
      (p) =>
        p.agent[0]?.who.reference === `Device/${model}` &&
        p.target[0]?.reference?.startsWith("DiagnosticReport/"),
    );
    expect(aiSection?.meta?.security?.[0]?.code).toBe("AIAST");
    expect(prov.some((p) => p.activity?.text === "ai-inference")).toBe(true);
    expect(prov.some((p) => p.agent[0]?.type?.coding?.[0]?.code === "attester")).toBe(true);

    const [device] = ofType<Device>(b, "Device");
    expect(device!.version?.[0]?.type?.coding?.[0]?.code).toBe("111003");
    expect(device!.property?.[0]?.type.coding?.[0]?.code).toBe("111001");

    const [consent] = ofType<Consent>(b, "Consent");
    expect(consent!.status).toBe("inactive");
    expect(consent!.provision?.period?.end).toBeDefined();
    expect(consent!.provision?.purpose?.map((p) => p.code)).toEqual(["TREAT", "HRESCH"]);

    // The accesses themselves (BALP PatientRead); their consent decisions are AuthZconsent events
    // (test/integration/fhir-ihe-profiles.test.ts).
    const audits = ofType<AuditEvent>(b, "AuditEvent").filter((a) => a.type.code === "rest");
    expect(
      audits.map((a) => [a.outcome, a.purposeOfEvent?.[0]?.coding?.map((c) => c.code).join("+")]),
    ).toEqual([
      ["0", "TREAT"],
      ["4", "TREAT"],
      ["0", "ETREAT+BTG"],
    ]);
    expect(audits[0]!.meta?.profile?.[0]).toContain("IHE.BasicAudit.PatientRead");
    // No PHI: the patient appears as its pseudonym only.
    expect(JSON.stringify(b)).toContain(patient);
  });

  it("per report and since a time (library and CLI) validate too", async () => {
    const r = fhirExport(
      t.node.store,
      t.node.crypto,
      t.node.config.origin,
      { report },
      { now: formatTime(Date.now()) },
    );
    validateBundle(r);
    const rest = ofType<AuditEvent>(r, "AuditEvent").filter((a) => a.type.code === "rest");
    expect(rest).toHaveLength(3);
    // Only the Consents the accesses' AuthZconsent events reference (the Bundle is self-contained).
    const referenced = new Set(
      ofType<AuditEvent>(r, "AuditEvent").flatMap((a) =>
        (a.entity ?? []).flatMap((e) =>
          e.what?.reference?.startsWith("Consent/") ? [e.what.reference.slice(8)] : [],
        ),
      ),
    );
    expect(
      ofType<Consent>(r, "Consent")
        .map((c) => c.id)
        .sort(),
    ).toEqual([...referenced].sort());
    await t.node.close();
    try {
      const cli = await runCli(["export", "fhir", "--data", t.dir, "--since", started]);
      expect(cli.code, cli.stderr).toBe(0);
      const since = JSON.parse(cli.stdout) as Bundle;
      expect(validateBundle(since)).toBe(
        ofType(since, "DiagnosticReport").length +
          ofType(since, "Provenance").length +
          ofType(since, "Device").length +
          ofType(since, "Consent").length +
          ofType(since, "AuditEvent").length,
      );
      expect(ofType(since, "Consent")).toHaveLength(1);
      const bad = await runCli(["export", "fhir", "--data", t.dir, "--since", "yesterday"]);
      expect(bad.stderr).toContain("INPUT_INVALID");
      expect(bad.code).toBe(2);
    } finally {
      await t.reopen();
    }
  });

  it("GET /api/v1/fhir answers application/fhir+json to auditors only", async () => {
    const app = buildServer(t.node, { auth: openAuthStore(t.dir) });
    try {
      const tokens = new Map<string, string>();
      for (const actor of ["auditor-1", "rad-1"])
        tokens.set(
          actor,
          (await app.radledger.auth.issueToken({ actor, kind: "api", ttlMs: 3600_000, createdBy: "test" }))
            .token,
        );
      const get = (url: string, actor?: string) =>
        app.inject({
          method: "GET",
          url,
          headers: actor === undefined ? {} : { authorization: `Bearer ${tokens.get(actor)!}` },
        });
      const res = await get(`/api/v1/fhir?patient=${patient}`, "auditor-1");
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/fhir\+json/);
      validateBundle(res.json());
      expect((await get(`/api/v1/fhir?patient=${patient}`)).statusCode).toBe(401);
      expect((await get(`/api/v1/fhir?patient=${patient}`, "rad-1")).statusCode).toBe(403);
      expect((await get(`/api/v1/fhir?patient=nope`, "auditor-1")).statusCode).toBe(400);
      const one = await get(`/api/v1/fhir/Consent/${grant}`, "auditor-1");
      expect(one.statusCode).toBe(200);
      validateBundle({
        resourceType: "Bundle",
        type: "collection",
        entry: [{ fullUrl: "urn:x:1", resource: one.json() }],
      });
      expect((await get(`/api/v1/fhir/Device/${model}`, "auditor-1")).json()).toMatchObject({
        resourceType: "Device",
        manufacturer: "Acme AI",
      });
      expect((await get(`/api/v1/fhir/Device/${fakeHash()}`, "auditor-1")).statusCode).toBe(404);
    } finally {
      await app.close();
    }
  });
});
