/**
 * Authorisation by relationship for anything about one patient: a patient actor sees only their own
 * record; staff see it when they hold one of the endpoint's roles. A refusal concerns patient data, so
 * it is recorded on the log as an access.recorded deny (the attempted part, the gatekeeper's reason
 * code) before the 403 is answered — the patient's access history shows failed attempts too.
 *
 * A read that passes is recorded too, before anything is read (issue 21 §3; docs/audit.md "What is
 * recorded when"): the gatekeeper decides (own record, consent, care) and, for staff without such a
 * basis, records the route's role as the basis of a metadata read (`{ kind: "role" }`). Reads of
 * the audit trail itself (access histories) are recorded as one audit.recorded event instead
 * (`record: "audit"`, the caller records it), so reading the history does not grow it row by row.
 */
import { RadledgerError } from "../core/errors.js";
import { ROLE_BASIS_ROLES } from "../domain/access/entries.js";
import type { AccessAction, Part, PurposeOfUse } from "../domain/consent/entries.js";
import { hasRole, purposeOf, recordRequestAudit, type Api, type Caller } from "./route.js";

export const CLINICAL = ["radiologist", "clinician", "technologist"] as const;

/** The purpose recorded when a read does not name one: the patient's request, operations, treatment. */
export const defaultPurpose = purposeOf;

export function isOwnPatient(caller: Caller, patient: string): boolean {
  return caller.actor.kind === "patient" && caller.actor.patient === patient;
}

type RoleBasis = (typeof ROLE_BASIS_ROLES)[number];

/** The role of the caller's that a route's staff rule admits and a `role` basis may name. */
export function roleBasisOf(caller: Caller, staff: readonly string[]): RoleBasis | undefined {
  return (ROLE_BASIS_ROLES as readonly string[]).find(
    (r) => staff.includes(r) && caller.actor.roles.includes(r),
  ) as RoleBasis | undefined;
}

export interface ScopeOptions {
  part?: Part;
  action?: AccessAction;
  purpose?: PurposeOfUse;
  /** Throws when the record does not exist (404), after the scope check and before the record. */
  exists?: () => void;
  /**
   * "access" (default): record the permitted read as an access.recorded entry before returning;
   * "audit": the route records one audit.recorded event itself (reads of the audit trail).
   */
  record?: "access" | "audit";
}

/**
 * Lets the caller read `part` of `patient`'s record after recording the access (permit, with its
 * basis), or records the denial and throws 403.
 */
export async function requirePatientScope(
  api: Api,
  caller: Caller,
  patient: string,
  staff: readonly string[],
  options: ScopeOptions = {},
): Promise<void> {
  const patientCaller = caller.actor.kind === "patient";
  const own = isOwnPatient(caller, patient);
  if (own || (!patientCaller && hasRole(caller, staff))) {
    options.exists?.();
    if (options.record === "audit") return;
    const role = own ? undefined : roleBasisOf(caller, staff);
    const outcome = await api.gatekeeper.authorize({
      actor: caller.actor.id,
      patient,
      part: options.part ?? { kind: "record" },
      action: options.action ?? "read",
      purpose: options.purpose ?? defaultPurpose(caller),
      ...(role === undefined ? {} : { role }),
    });
    if (outcome.decision.decision === "deny")
      throw new RadledgerError("ACCESS_DENIED", `access denied: ${outcome.decision.reason}`, {
        reason: outcome.decision.reason,
        access: outcome.access.id,
      });
    return;
  }
  const reason = patientCaller ? "not-own-record" : "role-not-permitted";
  const denial = await api.gatekeeper.recordDenial({
    actor: caller.actor.id,
    patient,
    part: options.part ?? { kind: "record" },
    action: options.action ?? "read",
    purpose: options.purpose ?? defaultPurpose(caller),
    reason,
  });
  throw patientCaller
    ? new RadledgerError("FORBIDDEN_NOT_OWN_RECORD", "a patient reads only their own record", {
        reason,
        access: denial.id,
      })
    : new RadledgerError("FORBIDDEN_ROLE", `reading this needs one of the roles ${staff.join(", ")}`, {
        reason,
        access: denial.id,
      });
}

/**
 * Records one use of the audit trail (DICOM 110101 Audit Log Used) for a request that reads access
 * records: who, why, under which role, which route, about which patient (when one). One event per
 * request, whatever the page holds.
 */
export async function recordAuditTrailRead(
  api: Api,
  caller: Caller,
  url: string,
  staff: readonly string[],
  patient?: string,
): Promise<void> {
  await recordRequestAudit(
    api,
    caller,
    "audit-log-used",
    { method: "GET", url },
    {
      roles: staff,
      ...(patient === undefined ? {} : { patient }),
    },
  );
}
