/**
 * FHIR R4 (4.0.1) resources from the ledger's projections (docs/fhir.md): pure functions, one per
 * resource kind, from projection documents to FHIR JSON. Identifiers are the ledger's own: entry ids
 * (64 hex digits, valid FHIR ids), actor ids, and pseudonyms for patients — never PHI.
 *
 *   Device             an AI model version (ai.model.registered): manufacturer, name, version coded
 *                      with DICOM TID 4019 algorithm identification (DCM 111001 Algorithm Name,
 *                      111003 Algorithm Version), regulatory id
 *   Provenance         a report contribution, amendment or sign-off (agents with their roles), and an
 *                      AI inference (the model's Device as author, input manifest root as entity);
 *                      AI content carries the HL7 AI Transparency security label AIAST
 *   AuditEvent         an access record, following IHE Basic Audit Log Patterns (BALP) Read /
 *                      PatientRead: purpose of use (HL7 v3 ActReason), break-glass as the BTG reason,
 *                      outcome 0 for a permit and 4 for a deny, the patient and the part as entities
 *   Consent            a patient's grant, and its revocation (status inactive, provision.period ending
 *                      at the revocation)
 *   DiagnosticReport   a report with per-section attribution (one extension per section: section,
 *                      author, role, origin, content commitment, its Provenance)
 */
import type {
  AuditEvent,
  Coding,
  Consent,
  Device,
  DiagnosticReport,
  Extension,
  Meta,
  Provenance,
  ProvenanceAgent,
  Reference,
} from "fhir/r4.js";
import type { AccessDoc } from "../access/state.js";
import type { ModelDoc } from "../ai/state.js";
import type { GrantDoc } from "../consent/state.js";
import type { ContributionView, ReportDoc } from "../reports/state.js";

export const SYSTEMS = {
  entry: "urn:radledger:entry",
  actor: "urn:radledger:actor",
  patient: "urn:radledger:patient",
  study: "urn:radledger:study",
  series: "urn:radledger:series",
  instance: "urn:radledger:instance",
  report: "urn:radledger:report",
  dataset: "urn:radledger:dataset",
  trial: "urn:radledger:trial",
  institution: "urn:radledger:institution",
  manifestRoot: "urn:radledger:manifest-root",
  commitment: "urn:radledger:content-commitment",
  regulatory: "urn:radledger:regulatory-id",
  dcm: "http://dicom.nema.org/resources/ontology/DCM",
  actReason: "http://terminology.hl7.org/CodeSystem/v3-ActReason",
  actCode: "http://terminology.hl7.org/CodeSystem/v3-ActCode",
  participationType: "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
  observationValue: "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
  provenanceParticipant: "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
  dataOperation: "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
  auditEventType: "http://terminology.hl7.org/CodeSystem/audit-event-type",
  restfulInteraction: "http://hl7.org/fhir/restful-interaction",
  auditEntityType: "http://terminology.hl7.org/CodeSystem/audit-entity-type",
  objectRole: "http://terminology.hl7.org/CodeSystem/object-role",
  securitySourceType: "http://terminology.hl7.org/CodeSystem/security-source-type",
  consentScope: "http://terminology.hl7.org/CodeSystem/consentscope",
  loinc: "http://loinc.org",
  v20074: "http://terminology.hl7.org/CodeSystem/v2-0074",
  resourceTypes: "http://hl7.org/fhir/resource-types",
} as const;

/** Extension carrying one report section's attribution (a radledger definition). */
export const SECTION_EXTENSION = "https://radledger.dev/fhir/StructureDefinition/section-attribution";
/** IHE BALP profiles (https://profiles.ihe.net/ITI/BALP). */
export const BALP = {
  read: "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Read",
  patientRead: "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead",
} as const;

/** HL7 AI Transparency on FHIR: "artificial intelligence asserted". */
export const AIAST: Coding = {
  system: SYSTEMS.observationValue,
  code: "AIAST",
  display: "Artificial Intelligence asserted",
};

const byIdentifier = (system: string, value: string, display?: string): Reference => ({
  identifier: { system, value },
  ...(display === undefined ? {} : { display }),
});
export const actorRef = (actor: string, display?: string): Reference =>
  byIdentifier(SYSTEMS.actor, actor, display);
export const patientRef = (patient: string): Reference => byIdentifier(SYSTEMS.patient, patient);

/** FHIR instant from the ledger's canonical time (RFC 3339 UTC with milliseconds). */
const instant = (t: string): string => t;

function aiMeta(ai: boolean, profile?: string): Meta | undefined {
  if (!ai && profile === undefined) return undefined;
  return {
    ...(profile === undefined ? {} : { profile: [profile] }),
    ...(ai ? { security: [AIAST] } : {}),
  };
}

export function deviceOf(m: ModelDoc): Device {
  const regulatoryId = typeof m.regulatoryId === "string" ? m.regulatoryId : undefined;
  return {
    resourceType: "Device",
    id: m.id,
    identifier: [
      { system: SYSTEMS.entry, value: m.id },
      ...(regulatoryId === undefined ? [] : [{ system: SYSTEMS.regulatory, value: regulatoryId }]),
    ],
    status: m.status === "active" ? "active" : "inactive",
    manufacturer: m.vendor,
    deviceName: [{ name: m.name, type: "model-name" }],
    // DICOM TID 4019 Algorithm Identification.
    version: [
      {
        type: { coding: [{ system: SYSTEMS.dcm, code: "111003", display: "Algorithm Version" }] },
        value: m.version,
      },
    ],
    property: [
      {
        type: { coding: [{ system: SYSTEMS.dcm, code: "111001", display: "Algorithm Name" }] },
        valueCode: [{ text: m.name }],
      },
    ],
    ...(typeof m.intendedUse === "string" ? { note: [{ text: `Intended use: ${m.intendedUse}` }] } : {}),
  };
}

const participant = (code: string, display: string): { coding: Coding[] } => ({
  coding: [{ system: SYSTEMS.provenanceParticipant, code, display }],
});

/**
 * Provenance of one report contribution, consultation answer or amendment. Content an integration
 * entered on a clinician's behalf names both: the clinician as author, and the system as enterer
 * with `onBehalfOf` the clinician (FHIR R4 Provenance.agent.onBehalfOf).
 */
export function contributionProvenance(
  report: ReportDoc,
  c: ContributionView,
  authorName?: string,
  enteredByName?: string,
): Provenance {
  const ai = c.origin !== "human";
  const human: ProvenanceAgent = {
    type: participant(c.origin === "ai" ? "enterer" : "author", c.origin === "ai" ? "Enterer" : "Author"),
    role: [
      {
        coding: [{ system: SYSTEMS.participationType, code: "AUT", display: "author (originator)" }],
        text: c.role,
      },
    ],
    who: actorRef(c.author, authorName),
  };
  const enterer: ProvenanceAgent[] =
    c.enteredBy === undefined
      ? []
      : [
          {
            type: participant("enterer", "Enterer"),
            who: actorRef(c.enteredBy, enteredByName),
            onBehalfOf: actorRef(c.author, authorName),
          },
        ];
  const agents: ProvenanceAgent[] = [
    ...(c.model === undefined
      ? [human]
      : c.origin === "ai"
        ? [{ type: participant("author", "Author"), who: { reference: `Device/${c.model}` } }, human]
        : [human, { type: participant("assembler", "Assembler"), who: { reference: `Device/${c.model}` } }]),
    ...enterer,
  ];
  return {
    resourceType: "Provenance",
    id: c.id,
    ...(aiMeta(ai) === undefined ? {} : { meta: aiMeta(ai)! }),
    target: [{ reference: `DiagnosticReport/${report.id}`, display: `section ${c.section}` }],
    recorded: instant(c.time),
    activity: {
      coding: [
        c.kind === "amendment" || c.kind === "addendum"
          ? { system: SYSTEMS.dataOperation, code: "UPDATE", display: "revise" }
          : { system: SYSTEMS.dataOperation, code: "CREATE", display: "create" },
      ],
      text: c.kind,
    },
    agent: agents,
    entity: [
      {
        role: "source",
        what: byIdentifier(SYSTEMS.commitment, c.contentCommitment, "content commitment (SHA-256)"),
      },
      ...(c.inference === undefined
        ? []
        : [
            {
              role: "derivation" as const,
              what: { reference: `Provenance/${c.inference}`, display: "AI inference" },
            },
          ]),
      ...(c.amends === undefined
        ? []
        : [{ role: "revision" as const, what: { reference: `Provenance/${c.amends}` } }]),
    ],
  };
}

/** Provenance of a report's sign-off (the attester). */
export function signOffProvenance(report: ReportDoc, signerName?: string): Provenance | undefined {
  const s = report.signOff;
  if (s === undefined) return undefined;
  return {
    resourceType: "Provenance",
    id: s.id,
    target: [{ reference: `DiagnosticReport/${report.id}` }],
    recorded: instant(s.time),
    activity: {
      coding: [{ system: SYSTEMS.dataOperation, code: "UPDATE", display: "revise" }],
      text: `sign-off (${s.attestation})`,
    },
    agent: [
      { type: participant("attester", "Attester"), who: actorRef(s.by, signerName) },
      // A sign-off a system entered on the radiologist's behalf (a RIS's final result, docs/intake.md).
      ...(s.enteredBy === undefined
        ? []
        : [
            {
              type: participant("enterer", "Enterer"),
              who: actorRef(s.enteredBy),
              onBehalfOf: actorRef(s.by, signerName),
            },
          ]),
    ],
  };
}

export interface InferenceView {
  readonly id: string;
  readonly model: string;
  readonly study?: string;
  readonly patient?: string;
  readonly inputManifestRoot: string;
  readonly outputCommitment: string;
  readonly node: string;
  readonly by: string;
  readonly time: string;
}

/** Provenance of one AI inference: the model's Device is the author of its output. */
export function inferenceProvenance(i: InferenceView): Provenance {
  return {
    resourceType: "Provenance",
    id: i.id,
    meta: { security: [AIAST] },
    target: [
      i.study === undefined
        ? byIdentifier(SYSTEMS.commitment, i.outputCommitment, "inference output")
        : byIdentifier(SYSTEMS.study, i.study, "imaging study"),
    ],
    recorded: instant(i.time),
    activity: {
      coding: [{ system: SYSTEMS.dataOperation, code: "CREATE", display: "create" }],
      text: "ai-inference",
    },
    agent: [
      { type: participant("author", "Author"), who: { reference: `Device/${i.model}` } },
      { type: participant("performer", "Performer"), who: actorRef(i.by), onBehalfOf: { display: i.node } },
    ],
    entity: [
      {
        role: "source",
        what: byIdentifier(SYSTEMS.manifestRoot, i.inputManifestRoot, "input images (manifest root)"),
      },
    ],
  };
}

/** The accessed part; the whole record ("record") is the Patient entity itself, so it has none. */
function partEntity(
  p: Exclude<AccessDoc["part"], { kind: "record" }>,
): NonNullable<AuditEvent["entity"]>[number] {
  const system =
    p.kind === "study"
      ? SYSTEMS.study
      : p.kind === "series"
        ? SYSTEMS.series
        : p.kind === "instance"
          ? SYSTEMS.instance
          : p.kind === "dataset"
            ? SYSTEMS.dataset
            : SYSTEMS.report;
  return {
    what: byIdentifier(system, p.id),
    type: { system: SYSTEMS.auditEntityType, code: "2", display: "System Object" },
    role: { system: SYSTEMS.objectRole, code: "4", display: "Domain Resource" },
    description: p.kind,
  };
}

/** IHE BALP PatientRead (Read with the patient entity) for one gatekeeper decision. */
export function auditEventOf(a: AccessDoc, origin: string, actorName?: string): AuditEvent {
  const purposes: Coding[] = [{ system: SYSTEMS.actReason, code: a.purpose }];
  if (a.basis?.kind === "break-glass")
    purposes.push({ system: SYSTEMS.actReason, code: "BTG", display: "break the glass" });
  return {
    resourceType: "AuditEvent",
    id: a.id,
    meta: { profile: [BALP.patientRead] },
    type: { system: SYSTEMS.auditEventType, code: "rest", display: "RESTful Operation" },
    subtype: [{ system: SYSTEMS.restfulInteraction, code: "read", display: "read" }],
    action: "R",
    recorded: instant(a.time),
    outcome: a.decision === "permit" ? "0" : "4",
    outcomeDesc:
      a.decision === "permit"
        ? `permit: ${a.basis?.kind ?? "?"}${a.basis?.kind === "break-glass" ? ` (${a.basis.reason ?? ""}; review ${a.review?.open === false ? (a.review.outcome ?? "closed") : "open"})` : ""}`
        : `deny: ${a.reason ?? "?"}`,
    purposeOfEvent: [{ coding: purposes }],
    agent: [
      {
        type: {
          coding: [{ system: SYSTEMS.participationType, code: "IRCP", display: "information recipient" }],
        },
        who: actorRef(a.actor, actorName),
        requestor: true,
        purposeOfUse: [{ coding: purposes }],
      },
      {
        type: { coding: [{ system: SYSTEMS.dcm, code: "110153", display: "Source Role ID" }] },
        who: byIdentifier(SYSTEMS.institution, origin),
        requestor: false,
      },
    ],
    source: {
      observer: byIdentifier(SYSTEMS.institution, origin, "radledger gatekeeper"),
      type: [{ system: SYSTEMS.securitySourceType, code: "4", display: "Application Server" }],
    },
    entity: [
      {
        what: patientRef(a.patient),
        type: { system: SYSTEMS.auditEntityType, code: "1", display: "Person" },
        role: { system: SYSTEMS.objectRole, code: "1", display: "Patient" },
      },
      ...(a.part.kind === "record" ? [] : [partEntity(a.part)]),
    ],
  };
}

function granteeRef(g: GrantDoc["grantee"]): Reference {
  switch (g.kind) {
    case "actor":
      return actorRef(g.id);
    case "institution":
      return byIdentifier(SYSTEMS.institution, g.id);
    case "trial":
      return byIdentifier(SYSTEMS.trial, g.id);
    case "dataset":
      return byIdentifier(SYSTEMS.dataset, g.id);
  }
}

/** A grant as a Consent; a revoked grant is inactive and its provision period ends at the revocation. */
export function consentOf(g: GrantDoc): Consent {
  const end =
    g.revoked !== undefined && (g.period.end === undefined || g.revoked.at < g.period.end)
      ? g.revoked.at
      : g.period.end;
  const classes =
    g.scope === "reports-only" || g.scope === "study-reports"
      ? ["DiagnosticReport"]
      : ["ImagingStudy", "DiagnosticReport"];
  return {
    resourceType: "Consent",
    id: g.id,
    status: g.revoked === undefined ? "active" : "inactive",
    scope: {
      coding: [{ system: SYSTEMS.consentScope, code: "patient-privacy", display: "Privacy Consent" }],
    },
    category: [{ coding: [{ system: SYSTEMS.loinc, code: "59284-0", display: "Patient Consent" }] }],
    patient: patientRef(g.patient),
    dateTime: g.grantedAt,
    performer: [g.onBehalf === undefined ? patientRef(g.patient) : actorRef(g.grantedBy)],
    policyRule: { coding: [{ system: SYSTEMS.actCode, code: "OPTIN", display: "opt-in" }] },
    provision: {
      type: "permit",
      period: { start: g.period.start, ...(end === undefined ? {} : { end }) },
      actor: [
        {
          role: {
            coding: [{ system: SYSTEMS.participationType, code: "IRCP", display: "information recipient" }],
          },
          reference: granteeRef(g.grantee),
        },
      ],
      purpose: g.purposes.map((p) => ({ system: SYSTEMS.actReason, code: p })),
      class: classes.map((c) => ({ system: SYSTEMS.resourceTypes, code: c })),
      ...(g.study === undefined
        ? {}
        : { data: [{ meaning: "related" as const, reference: byIdentifier(SYSTEMS.study, g.study) }] }),
    },
  };
}

function sectionExtension(c: ContributionView, authorName?: string, enteredByName?: string): Extension {
  return {
    url: SECTION_EXTENSION,
    extension: [
      { url: "section", valueCode: c.section },
      { url: "author", valueReference: actorRef(c.author, authorName) },
      ...(c.enteredBy === undefined
        ? []
        : [{ url: "enteredBy", valueReference: actorRef(c.enteredBy, enteredByName) }]),
      { url: "role", valueCode: c.role },
      ...(c.specialty === undefined ? [] : [{ url: "specialty", valueCode: c.specialty }]),
      { url: "origin", valueCode: c.origin },
      ...(c.model === undefined
        ? []
        : [{ url: "device", valueReference: { reference: `Device/${c.model}` } }]),
      { url: "contentCommitment", valueString: c.contentCommitment },
      { url: "provenance", valueReference: { reference: `Provenance/${c.id}` } },
      { url: "recorded", valueDateTime: c.time },
    ],
  };
}

/** A report with one attribution extension per section (contributions, then amendments). */
export function diagnosticReportOf(
  r: ReportDoc,
  names: (actor: string) => string | undefined = () => undefined,
): DiagnosticReport {
  const all = [...r.contributions, ...r.amendments];
  const ai = all.some((c) => c.origin !== "human");
  const status: DiagnosticReport["status"] =
    r.status === "signed" ? (r.amendments.length > 0 ? "amended" : "final") : "preliminary";
  const authors = [...new Set(all.map((c) => c.author))];
  return {
    resourceType: "DiagnosticReport",
    id: r.id,
    ...(ai ? { meta: { security: [AIAST] } } : {}),
    extension: all.map((c) =>
      sectionExtension(c, names(c.author), c.enteredBy === undefined ? undefined : names(c.enteredBy)),
    ),
    identifier: [{ system: SYSTEMS.report, value: r.id }],
    status,
    category: [{ coding: [{ system: SYSTEMS.v20074, code: "RAD", display: "Radiology" }] }],
    code: { coding: [{ system: SYSTEMS.loinc, code: "18748-4", display: "Diagnostic imaging study" }] },
    subject: patientRef(r.patient),
    ...(r.signOff === undefined ? {} : { issued: r.signOff.time }),
    performer: authors.map((a) => actorRef(a, names(a))),
    ...(r.signOff === undefined ? {} : { resultsInterpreter: [actorRef(r.signOff.by, names(r.signOff.by))] }),
    imagingStudy: [byIdentifier(SYSTEMS.study, r.study)],
  };
}
