/**
 * Consent projection documents: grants (`consent/<id>`) and care relationships (`care/<id>`), and the
 * indexes decide() reads — a patient's grants (`consent.patient`) and the care relationships of one
 * (patient, actor) pair (`care.pair`). decide() reads only the asking patient's rows, so its cost does
 * not grow with the number of grants in the log. Queries also read `consent.grantee` (`<kind>:<id>` →
 * grants) and `care.patient`.
 */
import type { StateReader } from "../../ports/storage.js";
import { getActor } from "../identity/state.js";
import type { ActorDoc } from "../ledger/entry-types.js";
import type { Grantee, Period, PurposeOfUse, ScopeKind } from "./entries.js";

export interface OnBehalf {
  readonly documentCommitment: string;
  readonly reason: string;
}

/** Who ended a grant or care relationship, when, and through which entry. */
export interface Ending {
  readonly id: string;
  readonly index: number;
  readonly at: string;
  readonly by: string;
  readonly reason?: string;
  readonly onBehalf?: OnBehalf;
}

export interface GrantDoc {
  readonly id: string;
  readonly index: number;
  readonly patient: string;
  readonly grantee: Grantee;
  readonly scope: ScopeKind;
  /** The study of a `study` or `study-reports` scope. */
  readonly study?: string;
  readonly purposes: PurposeOfUse[];
  readonly period: Period;
  readonly grantedBy: string;
  readonly grantedAt: string;
  readonly onBehalf?: OnBehalf;
  readonly revoked?: Ending;
}

export interface CareDoc {
  readonly id: string;
  readonly index: number;
  readonly patient: string;
  /** The treating actor. */
  readonly actor: string;
  readonly relationship?: string;
  readonly period: Period;
  readonly assignedBy: string;
  readonly assignedAt: string;
  readonly ended?: Ending;
}

export const carePairKey = (patient: string, actor: string): string => `${patient}/${actor}`;
export const granteeKey = (g: Grantee): string => `${g.kind}:${g.id}`;

export function getGrant(state: StateReader, id: string): GrantDoc | undefined {
  return state.getDoc("consent", id) as GrantDoc | undefined;
}

export function getCare(state: StateReader, id: string): CareDoc | undefined {
  return state.getDoc("care", id) as CareDoc | undefined;
}

/** The active actor with this id, if any. */
export function activeActor(state: StateReader, id: string): ActorDoc | undefined {
  const actor = getActor(state, id);
  return actor?.status === "active" ? actor : undefined;
}

/** Every grant of a patient, revoked ones included, in log order. */
export function grantDocsOfPatient(state: StateReader, patient: string): GrantDoc[] {
  return state.lookup("consent.patient", patient).map((r) => getGrant(state, r.value)!);
}

/** Care relationships recorded for one actor with one patient, in log order. */
export function careDocsOfPair(state: StateReader, patient: string, actor: string): CareDoc[] {
  return state.lookup("care.pair", carePairKey(patient, actor)).map((r) => getCare(state, r.value)!);
}

/** True when `time` lies in [start, end): canonical RFC 3339 strings compare in time order. */
export function inPeriod(p: Period, time: string): "before" | "within" | "after" {
  if (time < p.start) return "before";
  if (p.end !== undefined && time >= p.end) return "after";
  return "within";
}
