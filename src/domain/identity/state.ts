/**
 * Identity projection documents: actors and their keys (kinds "actor" and "key"), the node's bearer
 * tokens by their issuance entry ("token", with indexes `token.id` token id → issuance and
 * `token.actor` actor → issuances) and who last set each actor's password ("password").
 */
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

/** A bearer token as the log knows it: its public id, whose it is, who asked for it; never a secret. */
export interface TokenDoc {
  /** The leaf hash of its token.issued entry. */
  readonly id: string;
  readonly index: number;
  readonly tokenId: string;
  readonly actor: string;
  readonly kind: "api" | "session";
  readonly issuedBy: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly revoked?: { id: string; by: string; time: string; reason: string };
}

export function getTokenRecord(state: StateReader, id: string): TokenDoc | undefined {
  return state.getDoc("token", id) as TokenDoc | undefined;
}

/** The issuance of a token by its public id (the part after `rl_`), if it is on the log. */
export function tokenRecordOf(state: StateReader, tokenId: string): TokenDoc | undefined {
  const row = state.lookup("token.id", tokenId, { limit: 1 })[0];
  return row && getTokenRecord(state, row.value);
}
