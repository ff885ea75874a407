/**
 * Authorisation by relationship for anything about one patient: a patient actor sees only their own
 * record; staff see it when they hold one of the endpoint's roles. A refusal concerns patient data, so
 * it is recorded on the log as an access.recorded deny (the attempted part, the gatekeeper's reason
 * code) before the 403 is answered — the patient's access history shows failed attempts too.
 */
import { RadledgerError } from "../core/errors.js";
import type { AccessAction, Part, PurposeOfUse } from "../domain/consent/entries.js";
import { hasRole, type Api, type Caller } from "./route.js";

export const CLINICAL = ["radiologist", "clinician", "technologist"] as const;

/** The purpose recorded when a read does not name one: the patient's request, operations, treatment. */
export function defaultPurpose(caller: Caller): PurposeOfUse {
  if (caller.actor.kind === "patient") return "PATRQT";
  if (hasRole(caller, ["auditor", "admin"])) return "HOPERAT";
  return "TREAT";
}

export function isOwnPatient(caller: Caller, patient: string): boolean {
  return caller.actor.kind === "patient" && caller.actor.patient === patient;
}

/** Lets the caller read `part` of `patient`'s record, or records the denial and throws 403. */
export async function requirePatientScope(
  api: Api,
  caller: Caller,
  patient: string,
  staff: readonly string[],
  options: { part?: Part; action?: AccessAction; purpose?: PurposeOfUse } = {},
): Promise<void> {
  if (isOwnPatient(caller, patient)) return;
  const patientCaller = caller.actor.kind === "patient";
  if (!patientCaller && hasRole(caller, staff)) return;
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
