/**
 * access.reported (docs/audit.md): an access to a patient's record that happened in another system
 * of the hospital — the PACS, the RIS, the EMR — as that system reported it in a standard audit
 * message (IHE ATNA: a DICOM PS3.15 A.5 AuditMessage over syslog). It is signed by the reporting
 * system's own enrolled actor (kind system), not by the institution: the node did not decide or
 * see this access, it received a statement about it, and the log says whose statement it is.
 *
 * What goes on the log is what an auditor needs to read who, when, what and how it ended, and
 * nothing that identifies the patient: the patient and studies as the node's keyed pseudonyms, the
 * event's codes, outcome and time, the participants' user ids, roles and network access points,
 * the audit source, the transport it came by, and a salted commitment to the raw message (which
 * stays in the patient's vault, or is dropped, by configuration). User names, object names, queries
 * and details of the message are not copied; the raw message keeps them.
 */
import { z } from "zod";
import { defineEntryType } from "../ledger/entry-types.js";
import { isKnownPatient } from "../patients.js";
import { keyedId, pseudonym, sha256Hex, timestamp } from "../schemas.js";
import { getStudy } from "../imaging/state.js";
import type { StateReader } from "../../ports/storage.js";
import { fromUtf8 } from "../../core/bytes.js";

/** Printable text of a machine-written field (no control characters), bounded. */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine(
      (s) => !Array.from(s).some((c) => c.charCodeAt(0) < 0x20 || c === "\u007f"),
      "control characters are not allowed",
    );

/** A coded value of the audit message (csd-code, codeSystemName, originalText). */
export const auditCode = z.strictObject({
  code: text(64),
  system: text(64).optional(),
  display: text(200).optional(),
});

/** syslog (ATNA over RFC 5425 TLS, RFC 6587 TCP, RFC 5426 UDP) or FHIR (RESTful ATNA ITI-20). */
export const REPORT_TRANSPORTS = ["syslog-tls", "syslog-tcp", "syslog-udp", "fhir-iti20"] as const;
export type ReportTransport = (typeof REPORT_TRANSPORTS)[number];

export const accessReportedBody = z.strictObject({
  /** The patient's keyed pseudonym (docs/design.md §5.1), never the identifier the message carried. */
  patient: pseudonym,
  /** Keyed pseudonyms of the Study Instance UIDs the event names (registered here or not). */
  studies: z.array(keyedId("st_")).min(1).max(16).optional(),
  event: z.strictObject({
    /** EventID (DICOM CID 400: 110110 Patient Record, 110103 DICOM Instances Accessed, …). */
    id: auditCode,
    /** EventTypeCode: e.g. the IHE transaction (ITI-9, RAD-69). */
    types: z.array(auditCode).min(1).max(16).optional(),
    action: z.enum(["C", "R", "U", "D", "E"]).optional(),
    /** EventOutcomeIndicator: 0 success, 4 minor, 8 serious, 12 major failure. */
    outcome: z.union([z.literal(0), z.literal(4), z.literal(8), z.literal(12)]),
    /** EventDateTime, RFC 3339 UTC with milliseconds. */
    time: timestamp,
    purposes: z.array(auditCode).min(1).max(16).optional(),
  }),
  participants: z
    .array(
      z.strictObject({
        /** UserID as the reporting system knows the user (a patient's own id is pseudonymised). */
        userId: text(200),
        requestor: z.boolean(),
        roles: z.array(auditCode).min(1).max(16).optional(),
        networkAccessPoint: z.strictObject({ id: text(200), type: text(8).optional() }).optional(),
      }),
    )
    .min(1)
    .max(32),
  /** AuditSourceIdentification: the reporting system as it names itself. */
  source: z.strictObject({ id: text(200), site: text(200).optional() }),
  /** How the message reached the node (docs/audit.md: how authentic each transport is). */
  transport: z.enum(REPORT_TRANSPORTS),
  /** Salted commitment (SHA-256, docs/design.md §5.2) to the raw message. */
  message: sha256Hex,
});
export type AccessReportedBody = z.infer<typeof accessReportedBody>;

export interface ReportedAccessDoc {
  readonly id: string;
  readonly index: number;
  /** The entry's time: when the node recorded the report. */
  readonly time: string;
  /** The reporting system's actor. */
  readonly reportedBy: string;
  readonly body: AccessReportedBody;
}

export const accessReported = defineEntryType({
  type: "access.reported",
  summary:
    "An access to a patient's record that another hospital system (PACS, RIS, EMR) reported in an IHE ATNA audit message, signed by that system's actor; patient and studies pseudonymised, the raw message behind a commitment.",
  body: accessReportedBody,
  refs: {},
  signers: ["integration"],
  apply(ctx) {
    const b = ctx.body;
    if (ctx.actor.kind !== "system")
      ctx.reject("ROLE_NOT_PERMITTED", "an access is reported by a system actor (a PACS, a RIS, an EMR)");
    if (!isKnownPatient(ctx.state, b.patient))
      ctx.reject("AUDIT_MESSAGE_UNKNOWN_PATIENT", "the patient's pseudonym names nothing on this log", {
        at: "body.patient",
      });
    for (const [i, key] of (b.studies ?? []).entries()) {
      const id = ctx.state.lookup("study.key", key, { limit: 1 })[0]?.value;
      const study = id === undefined ? undefined : getStudy(ctx.state, id);
      if (study !== undefined && study.patient !== b.patient)
        ctx.reject("PATIENT_MISMATCH", "the reported study belongs to another patient", {
          at: `body.studies[${i}]`,
        });
    }
    // No document: it would only repeat the entry, which the index names (docs/log-format.md §Storage).
    ctx.state.addIndex("access.reported.patient", b.patient, ctx.index, ctx.leafHash);
    ctx.state.addIndex("access.reported.source", ctx.entry.actor, ctx.index, ctx.leafHash);
  },
});

/** The reported access whose entry is `id` (access.reported keeps no document: the entry is read). */
export function reportedAt(state: StateReader, id: string): ReportedAccessDoc | undefined {
  const stored = state.entryByLeafHash(id);
  if (stored === undefined || stored.type !== "access.reported") return undefined;
  const e = JSON.parse(fromUtf8(stored.bytes)) as { time: string; actor: string; body: AccessReportedBody };
  return { id, index: stored.index, time: e.time, reportedBy: e.actor, body: e.body };
}

/** The reported accesses of a patient, newest first. */
export function reportedAccesses(
  state: StateReader,
  patient: string,
  options: { limit?: number } = {},
): ReportedAccessDoc[] {
  return state
    .lookup("access.reported.patient", patient, { limit: options.limit ?? 100, reverse: true })
    .flatMap((row) => reportedAt(state, row.value) ?? []);
}
