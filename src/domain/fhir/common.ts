/**
 * Shared FHIR R4 vocabulary for the resources of this folder: code systems, identifier systems,
 * profile URLs, reference helpers (docs/fhir.md).
 */
import type { Coding, Meta, Reference } from "fhir/r4.js";

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
  auditEventOutcome: "http://terminology.hl7.org/CodeSystem/audit-event-outcome",
  networkType: "http://hl7.org/fhir/network-type",
  roleClass: "http://terminology.hl7.org/CodeSystem/v3-RoleClass",
  extraSecurityRole: "http://terminology.hl7.org/CodeSystem/extra-security-role-type",
  dataAbsentReason: "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
} as const;

/** Extension carrying one report section's attribution (a radledger definition). */
export const SECTION_EXTENSION = "https://radledger.dev/fhir/StructureDefinition/section-attribution";
/** IHE BALP profiles (https://profiles.ihe.net/ITI/BALP). */
export const BALP = {
  read: "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.Read",
  patientRead: "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientRead",
  patientQuery: "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.PatientQuery",
  authZconsent: "https://profiles.ihe.net/ITI/BALP/StructureDefinition/IHE.BasicAudit.AuthZconsent",
  /** BALP terms.fsh CodeSystem BasicAuditEntityType (#XrequestId). */
  entityType: "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType",
  /** BALP AuthZ.fsh CodeSystem AuthZsubType (#AuthZ-Consent). */
  authZsubType: "https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType",
} as const;
/** IHE PCF profiles (https://profiles.ihe.net/ITI/PCF, input/fsh/consent.fsh). */
export const PCF = {
  intermediate: "https://profiles.ihe.net/ITI/PCF/StructureDefinition/IHE.PCF.consentIntermediate",
} as const;

/** HL7 AI Transparency on FHIR: "artificial intelligence asserted". */
export const AIAST: Coding = {
  system: SYSTEMS.observationValue,
  code: "AIAST",
  display: "Artificial Intelligence asserted",
};

export const byIdentifier = (system: string, value: string, display?: string): Reference => ({
  identifier: { system, value },
  ...(display === undefined ? {} : { display }),
});
export const actorRef = (actor: string, display?: string): Reference =>
  byIdentifier(SYSTEMS.actor, actor, display);
export const patientRef = (patient: string): Reference => byIdentifier(SYSTEMS.patient, patient);

/** FHIR instant from the ledger's canonical time (RFC 3339 UTC with milliseconds). */
export const instant = (t: string): string => t;

export function aiMeta(ai: boolean, profile?: string): Meta | undefined {
  if (!ai && profile === undefined) return undefined;
  return {
    ...(profile === undefined ? {} : { profile: [profile] }),
    ...(ai ? { security: [AIAST] } : {}),
  };
}
