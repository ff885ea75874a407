/**
 * The node audits itself (docs/audit.md "What is recorded when"; issue 21 §3): `audit.recorded` is
 * one audit event of the node, after DICOM PS3.15 A.5 (the audit message the IHE ATNA profile
 * carries), signed by the institution's log key. The event is a DICOM EventID:
 *
 * | event                  | EventID                            | when                                                          |
 * | ---------------------- | ---------------------------------- | ------------------------------------------------------------- |
 * | `application-activity` | 110100 Application Activity        | the node starts (110120) or stops (110121) serving            |
 * | `audit-log-used`       | 110101 Audit Log Used              | access histories, access search and records, AuditEvent export |
 * | `export`               | 110106 Export                      | a bundle or a FHIR export leaves the node                      |
 * | `query`                | 110112 Query                       | a list across patients (worklist, studies, patients, recall)   |
 *
 * One request is one event, whatever its answer holds: an auditor paging through 10,000 access
 * records leaves one `audit-log-used` entry per page asked for, not one per row — and the reads of
 * the audit trail are not themselves access records, so reading the history does not grow it.
 * No PHI: the acting actor's id, a purpose of use, the role acted under, the route template or CLI
 * verb (never its parameters), and at most one patient pseudonym and one record id. An action on
 * someone's behalf names both: the institution signs, `actor` names who asked.
 */
import { z } from "zod";
import { defineEntryType } from "../ledger/entry-types.js";
import { actorId, code, entryId, pseudonym } from "../schemas.js";
import { purposeOfUse } from "../consent/entries.js";
import { MAX_REPEAT } from "./entries.js";

/** The node's audit events and their DICOM EventIDs (PS3.16 CID 400 "Audit Event ID"). */
export const AUDIT_EVENTS = {
  "application-activity": "110100",
  "audit-log-used": "110101",
  export: "110106",
  query: "110112",
} as const;
export type AuditEvent = keyof typeof AUDIT_EVENTS;

/** Application Activity's EventTypeCode (PS3.16 CID 401): 110120 Application Start, 110121 Stop. */
export const APPLICATION_ACTIVITY = { start: "110120", stop: "110121" } as const;

/** What was used: a route template ("GET /api/v1/patients/{patient}/access") or a CLI verb. */
export const auditQuery = z
  .string()
  .regex(/^(GET|POST|cli) [A-Za-z0-9 /{}._-]{1,160}$/, "expected a route template or CLI verb");

export const auditRecordedBody = z.strictObject({
  event: z.enum(Object.keys(AUDIT_EVENTS) as [AuditEvent, ...AuditEvent[]]),
  /** application-activity only. */
  activity: z.enum(["start", "stop"]).optional(),
  /** DICOM EventOutcomeIndicator: success (0) or denied (4, minor failure: refused by a rule). */
  outcome: z.enum(["success", "denied"]),
  /** Who used the audit trail, exported or queried (absent for the node's own activity). */
  actor: actorId.optional(),
  /** Why (HL7 v3 PurposeOfUse), with the actor. */
  purpose: purposeOfUse.optional(),
  /** The role the actor acted under (the API's role rule), with the actor. */
  role: code.optional(),
  /** The route template or CLI verb: parameters are never recorded. */
  query: auditQuery.optional(),
  /** The one patient the request was about, if any (e.g. whose access history). */
  patient: pseudonym.optional(),
  /** What was exported: a bundle kind or a FHIR resource type, and the record's id where one is named. */
  object: z.strictObject({ kind: code, id: entryId.optional() }).optional(),
  /** Same meaning as in access.recorded: another identical event in the same millisecond. */
  repeat: z.number().int().min(1).max(MAX_REPEAT).optional(),
});
export type AuditRecordedBody = z.infer<typeof auditRecordedBody>;

/** Index of audit events by event (key: the event name). */
export const AUDIT_INDEX = "audit.event";

export const auditRecorded = defineEntryType({
  type: "audit.recorded",
  summary:
    "An audit event of the node itself (DICOM 110100 Application Activity, 110101 Audit Log Used, 110106 Export, 110112 Query).",
  body: auditRecordedBody,
  refs: {},
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    const own = b.event === "application-activity";
    if (own !== (b.activity !== undefined))
      ctx.reject(
        "ENTRY_SCHEMA_INVALID",
        "activity (start, stop) is for application-activity, and required there",
        {
          at: "body.activity",
        },
      );
    if (
      own ? b.actor !== undefined : b.actor === undefined || b.purpose === undefined || b.query === undefined
    )
      ctx.reject(
        "ENTRY_SCHEMA_INVALID",
        own
          ? "the node's own activity names no actor"
          : "an audit event of a request names the actor, the purpose and the query",
        { at: "body.actor" },
      );
    ctx.state.addIndex(AUDIT_INDEX, b.event, ctx.index, ctx.leafHash);
  },
});
