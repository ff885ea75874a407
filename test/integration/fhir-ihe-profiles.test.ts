/**
 * IHE profiles of the FHIR export: every AuditEvent and Consent checked against the elements its IHE
 * profile requires — the lists below are taken from the IGs' FSH sources — and against base R4
 * (test/helpers/fhir-validate.ts, as test/integration/fhir.test.ts does).
 *
 *   BALP 1.1.x  github.com/IHE/ITI.BasicAudit input/fsh/PatientRead.fsh (Read, PatientRead),
 *               input/fsh/PatientQuery.fsh (Query, PatientQuery), input/fsh/AuthZ.fsh (AuthZconsent)
 *   PCF 1.1.x   github.com/IHE/ITI.PCF input/fsh/consent.fsh (RuleSet FoundationConsent,
 *               Profile IntermediateConsent)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Bundle, Consent } from "fhir/r4.js";
import { formatTime } from "../../src/core/entry.js";
import { accessRecordFor } from "../../src/domain/access/entries.js";
import type { AccessAction } from "../../src/domain/consent/entries.js";
import { decide } from "../../src/domain/consent/decide.js";
import { fhirExport } from "../../src/domain/fhir/export.js";
import { BALP, PCF } from "../../src/domain/fhir/resources.js";
import { fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { validateBundle } from "../helpers/fhir-validate.js";
import { makeNode, type TestNode } from "../helpers/node.js";

let t: TestNode;
let patient = "";
let study = "";
let grant = "";
let studyGrant = "";
let bundle: Bundle;
const started = formatTime(Date.now() - 1000);

const DCM = "http://dicom.nema.org/resources/ontology/DCM";
const PT = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";

async function ok(bytes: Uint8Array): Promise<string> {
  return (await t.node.appender.append(bytes)).leafHash;
}

async function access(
  actor: string,
  part: { kind: "study"; id: string } | { kind: "record" },
  action: AccessAction = "read",
): Promise<void> {
  const q = { actor, patient, part, purpose: "TREAT" as const, time: formatTime(Date.now()) };
  const { body, refs } = accessRecordFor(q, action, decide(t.node.store, q));
  await ok(t.sign(t.institution, "access.recorded", body, refs));
}

beforeAll(async () => {
  t = await makeNode();
  await t.enrol("rad-1", ["radiologist"], { displayName: "Dr Synthetic" });
  await t.enrol("rad-2", ["radiologist"], { displayName: "Dr Outside" });
  patient = fakePseudonym();
  study = await ok(t.sign(t.institution, "study.registered", studyBody(patient)));
  const onBehalf = { documentCommitment: "a".repeat(64), reason: "paper-form" };
  grant = await ok(
    t.sign(t.admin, "consent.granted", {
      patient,
      grantee: { kind: "actor", id: "rad-1" },
      scope: { kind: "all-imaging" },
      purposes: ["TREAT"],
      period: { start: started },
      onBehalf,
    }),
  );
  studyGrant = await ok(
    t.sign(
      t.admin,
      "consent.granted",
      {
        patient,
        grantee: { kind: "institution", id: "other.example" },
        scope: { kind: "study" },
        purposes: ["TREAT", "HRESCH"],
        period: { start: started, end: formatTime(Date.now() + 86_400_000) },
        onBehalf,
      },
      { study },
    ),
  );
  await access("rad-1", { kind: "study", id: study }); // permit on the grant: PatientRead
  await access("rad-1", { kind: "record" }); // the record as a whole: PatientQuery
  await access("rad-2", { kind: "study", id: study }); // deny, grants on file: AuthZconsent deny
  bundle = fhirExport(
    t.node.store,
    t.node.crypto,
    t.node.config.origin,
    { patient },
    {
      now: formatTime(Date.now()),
    },
  );
});

afterAll(async () => t.close());

const resources = <T>(type: string): T[] =>
  (bundle.entry ?? []).map((e) => e.resource).filter((r) => r?.resourceType === type) as T[];
const audits = (profile: string): AuditEvent[] =>
  resources<AuditEvent>("AuditEvent").filter((a) => a.meta?.profile?.includes(profile) === true);
const agentOfType = (a: AuditEvent, system: string, code: string): AuditEventAgent[] =>
  a.agent.filter((g) => g.type?.coding?.some((c) => c.system === system && c.code === code) === true);
const entityOfType = (a: AuditEvent, code: string): AuditEventEntity[] =>
  (a.entity ?? []).filter((e) => e.type?.code === code);

/** Read/Query agent slices (PatientRead.fsh / PatientQuery.fsh): client, server 1..1, network 1..1. */
function restAgents(a: AuditEvent, clientCode: string, serverCode: string): void {
  expect(a.agent.length).toBeGreaterThanOrEqual(2); // agent 2..
  const [client] = agentOfType(a, DCM, clientCode);
  const [server] = agentOfType(a, DCM, serverCode);
  for (const g of [client, server]) {
    expect(g?.who).toBeDefined(); // who 1..1
    expect(g?.network).toBeDefined(); // network 1..1
    expect(g?.media).toBeUndefined(); // media 0..0
  }
  const users = agentOfType(a, PT, "IRCP");
  expect(users).toHaveLength(1); // user 0..1
  expect(users[0]!.who).toBeDefined();
  expect(users[0]!.requestor).toBe(true); // requestor = true
  expect(users[0]!.network).toBeUndefined(); // network 0..0
  expect(users[0]!.purposeOfUse?.[0]?.coding?.[0]?.code).toBe("TREAT");
}

function patientSlice(a: AuditEvent): void {
  const [p] = entityOfType(a, "1");
  expect(p?.role?.code).toBe("1"); // object-role#1 Patient
  expect(p?.what?.identifier?.value).toBe(patient); // what 1..1
}

describe("IHE profiles in the FHIR export", () => {
  it("the whole Bundle is valid base R4", () => {
    expect(validateBundle(bundle)).toBeGreaterThan(5);
  });

  it("IHE.BasicAudit.PatientRead: a permitted read of a part, every element PatientRead.fsh requires", () => {
    const [a] = audits(BALP.patientRead);
    expect(a).toBeDefined();
    expect(a!.type.system).toBe("http://terminology.hl7.org/CodeSystem/audit-event-type");
    expect(a!.type.code).toBe("rest");
    expect(a!.subtype?.[0]?.code).toBe("read"); // subtype[anyRead] from AllReadVS
    expect(a!.action).toBe("R");
    expect(a!.recorded).toBeDefined();
    expect(a!.outcome).toBe("0");
    restAgents(a!, "110152", "110153"); // Read: client Destination, server Source
    expect(a!.source.observer).toBeDefined();
    expect(a!.entity!.length).toBeGreaterThanOrEqual(2); // entity 2..
    patientSlice(a!);
    const [data] = entityOfType(a!, "2");
    expect(["4", "3", "20"]).toContain(data?.role?.code); // RestObjectRoles
    expect(data?.what?.identifier?.value).toBe(study);
  });

  it("IHE.BasicAudit.PatientQuery: the record as a whole, every element PatientQuery.fsh requires", () => {
    const [a] = audits(BALP.patientQuery);
    expect(a).toBeDefined();
    expect(a!.type.code).toBe("rest");
    expect(["search", "search-type", "search-system"]).toContain(a!.subtype?.[0]?.code); // AllSearchVS
    expect(a!.action).toBe("E");
    expect(a!.outcome).toBe("0");
    restAgents(a!, "110153", "110152"); // Query: client Source, server Destination
    patientSlice(a!);
    const [q] = entityOfType(a!, "2");
    expect(q?.role?.code).toBe("24"); // object-role#24 Query
    expect(q?.what).toBeUndefined(); // what 0..0
    expect(Buffer.from(q!.query!, "base64").toString()).toContain(patient); // query 1..1
  });

  it("a denied access claims neither Read profile (both fix outcome 0) and records outcome 4", () => {
    const denied = resources<AuditEvent>("AuditEvent").filter(
      (a) => a.type.code === "rest" && a.outcome === "4",
    );
    expect(denied).toHaveLength(1);
    expect(denied[0]!.meta?.profile).toBeUndefined();
  });

  it("IHE.BasicAudit.AuthZconsent for the consent decisions, permit and deny, every element AuthZ.fsh requires", () => {
    const events = audits(BALP.authZconsent);
    // Two permits on the grant (the part and the record) and one deny with grants on file.
    expect(events.map((a) => a.outcome).sort()).toEqual(["0", "0", "4"]);
    for (const a of events) {
      expect(a.type.system).toBe(DCM);
      expect(a.type.code).toBe("110113"); // Security Alert
      expect(a.subtype?.[0]?.code).toBe("AuthZ-Consent"); // from AuthZsubTypeVS
      expect(a.action).toBe("E");
      expect(a.recorded).toBeDefined();
      const [client] = agentOfType(a, DCM, "110150");
      expect(client?.who).toBeDefined();
      expect(client?.network).toBeDefined(); // network 1..1
      const [user] = agentOfType(a, PT, "IRCP");
      expect(user?.requestor).toBe(true);
      const [org] = agentOfType(a, "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "PROV");
      expect(org?.who).toBeDefined();
      expect(org?.requestor).toBe(false);
      const [authz] = agentOfType(
        a,
        "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
        "authserver",
      );
      expect(authz?.who).toEqual(a.source.observer); // val-audit-source
      expect(authz?.requestor).toBe(false);
      // entity 2..*, closed slicing: patient 1..1 and consent 1..*
      expect(a.entity!.length).toBeGreaterThanOrEqual(2);
      patientSlice(a);
      const consents = (a.entity ?? []).filter((e) => e.type?.code === "Consent");
      expect(consents.length).toBeGreaterThanOrEqual(1);
      expect(consents.length + 1).toBe(a.entity!.length);
    }
    const permit = events.find((a) => a.outcome === "0")!;
    expect(permit.entity!.filter((e) => e.type?.code === "Consent").map((e) => e.what?.reference)).toEqual([
      `Consent/${grant}`,
    ]);
    const deny = events.find((a) => a.outcome === "4")!;
    expect(deny.outcomeDesc).toMatch(/^deny: /);
    expect(
      deny
        .entity!.filter((e) => e.type?.code === "Consent")
        .map((e) => e.what?.reference)
        .sort(),
    ).toEqual([`Consent/${grant}`, `Consent/${studyGrant}`].sort());
  });

  it("IHE.PCF.consentIntermediate: every element the FoundationConsent RuleSet and IntermediateConsent require", () => {
    const consents = resources<Consent>("Consent");
    expect(consents.map((c) => c.id).sort()).toEqual([grant, studyGrant].sort());
    for (const c of consents) {
      expect(c.meta?.profile).toEqual([PCF.intermediate]);
      expect(c.status).toBe("active");
      expect(c.scope.coding?.[0]).toMatchObject({
        system: "http://terminology.hl7.org/CodeSystem/consentscope",
        code: "patient-privacy",
      });
      expect(c.category[0]?.coding?.[0]).toMatchObject({ system: "http://loinc.org", code: "59284-0" });
      expect(c.patient?.identifier?.value).toBe(patient);
      expect(c.dateTime).toBeDefined();
      expect(c.performer?.length).toBeGreaterThanOrEqual(1);
      expect(c.organization?.length).toBeGreaterThanOrEqual(1);
      expect(c.sourceReference ?? c.sourceAttachment).toBeDefined(); // source[x] 1..1
      expect(c.policy?.[0]?.uri).toBeDefined(); // policy.uri 1..1
      expect(c.verification).toBeUndefined(); // 0..0
      const p = c.provision!;
      expect(p.type).toBe("permit");
      expect(p.actor?.[0]?.role.coding?.[0]).toMatchObject({ system: PT, code: "IRCP" });
      expect(p.action).toBeUndefined(); // 0..0
      expect(p.class).toBeUndefined(); // 0..0
      expect(p.code).toBeUndefined(); // 0..0
      expect(p.securityLabel).toBeUndefined(); // Intermediate: 0..0
      expect(p.provision?.some((n) => n.provision !== undefined) ?? false).toBe(false); // 0..0
      for (const d of p.data ?? []) expect(["instance", "related", "authoredby"]).toContain(d.meaning);
    }
    const s = consents.find((c) => c.id === studyGrant)!;
    expect(s.provision!.data).toEqual([
      { meaning: "instance", reference: { identifier: { system: "urn:radledger:study", value: study } } },
    ]);
    expect(s.provision!.purpose?.map((p) => p.code)).toEqual(["TREAT", "HRESCH"]);
    expect(s.provision!.period?.end).toBeDefined();
  });
});
