/**
 * Identity projection documents: actors and their keys (kinds "actor" and "key"), the node's bearer
 * tokens by their issuance entry ("token", with indexes `token.id` token id → issuance and
 * `token.actor` actor → issuances), who last set each actor's password ("password") and the client
 * certificate keys bound to system actors ("certbinding" by entry, "certpin" pin → current binding, "" once unbound).
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

/**
 * A client certificate's key bound to a system actor (cert.bound), by its entry's leaf hash; the
 * doc "certpin" maps a pin to its current binding (or "" once unbound).
 */
export interface CertBindingDoc {
  readonly id: string;
  readonly index: number;
  /** RFC 7469 pin-sha256: base64 SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
  readonly pin: string;
  readonly actor: string;
  readonly boundBy: string;
  readonly boundAt: string;
  readonly subject?: string;
  readonly notAfter?: string;
  readonly unbound?: { id: string; by: string; time: string };
}

/** The current (not unbound) binding of a certificate key pin, if any. */
export function certBindingOf(state: StateReader, pin: string): CertBindingDoc | undefined {
  const ptr = state.getDoc("certpin", pin) as { binding: string } | undefined;
  if (!ptr || ptr.binding === "") return undefined;
  return state.getDoc("certbinding", ptr.binding) as CertBindingDoc | undefined;
}

/**
 * Who holds an actor's signing key: "self" once the actor enrolled a key of their own through an
 * enrolment code (key.self-enrolled: a patient's browser key), which the node never sees; "node"
 * otherwise (the log does not say whether the node kept the key of an actor.enrolled, the node's
 * key files do).
 */
export function keyCustodyOf(actor: ActorDoc): "self" | undefined {
  return actor.keyCustody === "self" ? "self" : undefined;
}

/**
 * A one-time enrolment code as the log knows it (enrolment-code.issued), by its public id: whom it
 * is for, who issued it, until when, and — once redeemed — the key.self-enrolled entry. Never its
 * secret or a hash of it (those stay in the node's credentials store).
 */
export interface EnrolmentCodeDoc {
  readonly codeId: string;
  /** The leaf hash of its enrolment-code.issued entry. */
  readonly id: string;
  readonly index: number;
  readonly actor: string;
  readonly issuedBy: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  readonly used?: { id: string; index: number; key: string; time: string };
}

export function getEnrolmentCode(state: StateReader, codeId: string): EnrolmentCodeDoc | undefined {
  return state.getDoc("enrolcode", codeId) as EnrolmentCodeDoc | undefined;
}
