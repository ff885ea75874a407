/** Identity projection documents: actors and their keys (kinds "actor" and "key"). */
import type { StateReader } from "../../ports/storage.js";
import { INSTITUTION_ACTOR, type ActorDoc, type EnrolmentReader } from "../ledger/entry-types.js";

export interface KeyDoc {
  readonly id: string;
  readonly actor: string;
  /** Base64 Ed25519 public key. */
  readonly publicKey: string;
  readonly status: "active" | "retired" | "revoked";
  readonly enrolledAt: number;
  readonly endedAt?: number;
  readonly [key: string]: unknown;
}

export function getActor(state: StateReader, id: string): ActorDoc | undefined {
  return state.getDoc("actor", id) as ActorDoc | undefined;
}

export function getKey(state: StateReader, id: string): KeyDoc | undefined {
  return state.getDoc("key", id) as KeyDoc | undefined;
}

/** The patient actor bound to a pseudonym, if the patient holds a key of their own. */
export function patientActorFor(state: StateReader, pseudonym: string): string | undefined {
  return state.lookup("actor.patient", pseudonym, { limit: 1 })[0]?.value;
}

export { INSTITUTION_ACTOR };

/** The identity projection as the append path reads it (LedgerOptions.enrolment). */
export const identityEnrolment: EnrolmentReader = { key: getKey, actor: getActor };
