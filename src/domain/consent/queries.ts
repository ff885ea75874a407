/**
 * Consent queries: a patient's grants (with their status at a time) and care relationships, one grant,
 * and the decision function (decide.ts).
 */
import { RadledgerError } from "../../core/errors.js";
import type { StateReader } from "../../ports/storage.js";
import {
  careDocsOfPair,
  getCare,
  getGrant,
  grantDocsOfPatient,
  inPeriod,
  type CareDoc,
  type GrantDoc,
} from "./state.js";

export { decide, accessQuery, type AccessQuery, type Decision, type Basis } from "./decide.js";

export type GrantStatus = "pending" | "active" | "expired" | "revoked";

export interface GrantView extends GrantDoc {
  /** Status at the time asked about: revoked wins; otherwise where the time lies in the period. */
  readonly status: GrantStatus;
}

export function grantStatus(grant: GrantDoc, at: string): GrantStatus {
  if (grant.revoked) return "revoked";
  const when = inPeriod(grant.period, at);
  return when === "before" ? "pending" : when === "after" ? "expired" : "active";
}

export function requireGrant(state: StateReader, id: string): GrantDoc {
  const grant = getGrant(state, id);
  if (!grant) throw new RadledgerError("RECORD_NOT_FOUND", `no grant ${id}`);
  return grant;
}

/** Every grant of a patient in log order, revoked ones included, with its status at `at` (default now). */
export function grantsOfPatient(
  state: StateReader,
  patient: string,
  options: { at?: string } = {},
): GrantView[] {
  const at = options.at ?? new Date().toISOString();
  return grantDocsOfPatient(state, patient).map((g) => ({ ...g, status: grantStatus(g, at) }));
}

/** Grants to one grantee (`actor:<id>`, `institution:<origin>`, `trial:<id>`, `dataset:<id>`), in log order. */
export function grantsToGrantee(state: StateReader, kind: string, id: string): GrantDoc[] {
  return state.lookup("consent.grantee", `${kind}:${id}`).map((r) => getGrant(state, r.value)!);
}

/** Care relationships recorded for a patient, in log order (ended ones included). */
export function careOfPatient(state: StateReader, patient: string): CareDoc[] {
  return state.lookup("care.patient", patient).map((r) => getCare(state, r.value)!);
}

/** Care relationships of one actor with one patient. */
export function careOfPair(state: StateReader, patient: string, actor: string): CareDoc[] {
  return careDocsOfPair(state, patient, actor);
}
