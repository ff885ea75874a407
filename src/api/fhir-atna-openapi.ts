/**
 * The OpenAPI description of the IHE RESTful ATNA routes (src/api/fhir-atna-routes.ts): they speak
 * FHIR's paths and media type rather than RouteSpecs, so their paths are written here and merged
 * into the generated document (src/api/openapi.ts).
 */
const fhir = (description: string) => ({
  description,
  content: { "application/fhir+json": { schema: { type: "object" } } },
});
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});
const feedErrors = {
  "400": problem("AUDIT_MESSAGE_MALFORMED, ENCODING_INVALID: not JSON, not an AuditEvent / Bundle"),
  "401": problem("AUTH_REQUIRED, AUDIT_SOURCE_UNKNOWN"),
  "403": problem("AUDIT_FEED_FORBIDDEN: the caller is no system actor with the integration role"),
  "413": problem(
    "BODY_TOO_LARGE (an event over 64 KiB, a Bundle over 1 MiB), AUDIT_MESSAGE_TOO_LARGE (over 100 events)",
  ),
  "422": problem("AUDIT_MESSAGE_NO_PATIENT, AUDIT_MESSAGE_UNKNOWN_PATIENT, SIGNING_KEY_NOT_HELD"),
};
const body = (what: string) => ({
  required: true,
  content: {
    "application/fhir+json": { schema: { type: "object", description: what } },
    "application/json": { schema: { type: "object", description: what } },
  },
});
const query = (name: string, description: string) => ({
  name,
  in: "query",
  required: false,
  schema: { type: "string" },
  description,
});

export const FHIR_ATNA_PATHS: Record<string, Record<string, unknown>> = {
  "/api/v1/fhir/AuditEvent": {
    post: {
      tags: ["fhir"],
      summary:
        "Record Audit Event [ITI-20] over FHIR: one R4 AuditEvent from an enrolled system actor (integration role) becomes its signed access.reported entry (docs/audit.md).",
      security: [{ bearer: [] }],
      requestBody: body("a FHIR R4 AuditEvent, at most 64 KiB"),
      responses: {
        "201": fhir("OperationOutcome naming the entries; Location: the (first) entry"),
        ...feedErrors,
      },
    },
    get: {
      tags: ["fhir"],
      summary:
        "Retrieve ATNA Audit Event [ITI-81]: a searchset Bundle of the node's access decisions and the reported accesses, newest first, paged. Auditors and admins; a patient with patient=<own pseudonym>. Recorded as 110101 Audit Log Used.",
      security: [{ bearer: [] }],
      parameters: [
        query("date", "[ge|gt|le|lt|eq]<date or instant>; repeatable (a range)"),
        query("patient", "pt_ pseudonym (or Patient/pt_…)"),
        query("agent", "actor id: the accessing actor, the reporting system or a reported participant"),
        query("entity-type", "audit-entity-type code (1 person, 2 system object)"),
        query("outcome", "0, 4, 8 or 12"),
        query("_count", "page size, default 50, at most 500"),
        query("_cursor", "the opaque cursor of a next link"),
      ],
      responses: {
        "200": fhir("Bundle (searchset) with self and next links"),
        "400": problem("INPUT_INVALID: an unknown or unsupported parameter, a malformed value"),
        "401": problem("AUTH_REQUIRED"),
        "403": problem("ACCESS_DENIED, FORBIDDEN_NOT_OWN_RECORD (a patient's refusal is recorded)"),
        "404": problem("PATIENT_UNKNOWN"),
      },
    },
  },
  "/api/v1/fhir": {
    post: {
      tags: ["fhir"],
      summary:
        "Record Audit Event [ITI-20] as a batch or transaction Bundle of at most 100 AuditEvents (1 MiB): a batch-response with one entry.response per event (201, or the refusal's status and an OperationOutcome); a transaction records all or none.",
      security: [{ bearer: [] }],
      requestBody: body("a FHIR R4 Bundle of type batch or transaction"),
      responses: { "200": fhir("Bundle (batch-response or transaction-response)"), ...feedErrors },
    },
  },
};
