/**
 * FHIR R4 (4.0.1) resources from the ledger's projections (re-exported from common.ts,
 * device-provenance.ts, audit-event.ts, consent.ts, report.ts) (docs/fhir.md): pure functions, one per
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
export { AIAST, BALP, SECTION_EXTENSION, SYSTEMS, actorRef, patientRef } from "./common.js";
export {
  contributionProvenance,
  deviceOf,
  inferenceProvenance,
  signOffProvenance,
  type InferenceView,
} from "./device-provenance.js";
export { auditEventOf, authzConsentEventOf, authzEventId, type AuditRequest } from "./audit-event.js";
export { POLICY_URI, SCOPE_EXTENSION, consentOf, granteeRef } from "./consent.js";
export { PCF } from "./common.js";
export { diagnosticReportOf } from "./report.js";
