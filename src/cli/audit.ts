/**
 * The command line's reads and exports are recorded like the API's (docs/audit.md "What is recorded
 * when"; issue 21 §3): before `radledger export` or `radledger query` prints or writes anything
 * about a patient, the node's audit event (and, for disclosed report text, the access) is on the
 * log — appended in this process when the data directory is free, by the serving node over its
 * local socket otherwise (src/cli/operations.ts). The operator at the data directory acts as the
 * institution; what is recorded is the verb, never its arguments but the patient and record id.
 */
import type { AuditRecordedBody } from "../domain/access/audit.js";
import type { AccessAction, Part, PurposeOfUse } from "../domain/consent/entries.js";
import { INSTITUTION_ACTOR } from "../domain/identity/state.js";
import { runWritingOperation } from "./operations.js";

export interface CliRead {
  readonly event: "export" | "audit-log-used" | "query";
  /** The verb as typed, without arguments: "export bundle", "query patient-access". */
  readonly verb: string;
  readonly purpose?: PurposeOfUse;
  readonly patient?: string;
  readonly object?: { readonly kind: string; readonly id?: string };
  /** A second event for the same request, e.g. an export of access records also uses the audit trail. */
  readonly alsoAuditLog?: boolean;
  readonly accesses?: readonly {
    readonly patient: string;
    readonly part: Part;
    readonly action: AccessAction;
  }[];
}

export async function recordCliRead(dir: string, r: CliRead): Promise<void> {
  const purpose = r.purpose ?? "HOPERAT";
  const common = {
    outcome: "success" as const,
    actor: INSTITUTION_ACTOR,
    purpose,
    role: "institution",
    query: `cli ${r.verb}`,
    ...(r.patient === undefined ? {} : { patient: r.patient }),
  };
  const events: AuditRecordedBody[] = [
    { event: r.event, ...common, ...(r.object === undefined ? {} : { object: { ...r.object } }) },
  ];
  if (r.alsoAuditLog === true && r.event !== "audit-log-used")
    events.push({ event: "audit-log-used", ...common });
  await runWritingOperation(dir, "audit-record", {
    events,
    accesses: (r.accesses ?? []).map((a) => ({ ...a, purpose })),
  });
}
