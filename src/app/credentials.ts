/**
 * Credentials on the log (docs/security.md "Tokens and delegation"): issuing a bearer token, revoking
 * one and setting a password are entries (token.issued, token.revoked, password.set) signed by the
 * institution and naming both the actor concerned and the actor who asked. The API and the command
 * line (through the node's local operations) both go through these functions, so no credential
 * changes hands off the log, whoever holds the data directory.
 *
 * Binding a client certificate's key to a system actor (mutual TLS, docs/operations.md) is an
 * entry of the same kind (cert.bound, cert.unbound): the certificate is a credential like a token.
 *
 * The institution key signs because it is the one key the node always holds; the asking admin's or
 * person's key may be their own, out of the node's reach. The append rule (tokenIssuable,
 * src/domain/identity/entries.ts) decides who may obtain a token for whom, again, at append time.
 */
import type { JsonObject } from "../core/canonical-json.js";
import type { EntryRefs } from "../core/entry.js";
import { RadledgerError } from "../core/errors.js";
import { certBindable, tokenIssuable } from "../domain/identity/credentials.js";
import { certBindingOf, tokenRecordOf, type CertBindingDoc } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import type { AuthStore, TokenKind, TokenRecord } from "../ports/auth.js";
import { signAsInstitution } from "./institution.js";
import type { RadledgerNode } from "./node.js";

export type RevocationReason = "logout" | "revoked" | "password-set";

async function recordOnLog(
  node: RadledgerNode,
  type: string,
  body: JsonObject,
  refs?: EntryRefs,
): Promise<void> {
  await node.appender.append(signAsInstitution(node, type, body, refs, node.clock.now()));
}

/**
 * Issues a token for `target` at the request of `issuer` (TOKEN_NOT_ISSUABLE unless the rule allows
 * it) and records it on the log; a token is stored pending (unusable) until its entry is on the log.
 */
export async function issueToken(
  node: RadledgerNode,
  auth: AuthStore,
  request: {
    readonly target: ActorDoc;
    readonly issuer: ActorDoc;
    readonly kind: TokenKind;
    readonly ttlSeconds: number;
    readonly label?: string | undefined;
  },
): Promise<{ token: string; record: TokenRecord }> {
  const { target, issuer, kind } = request;
  if (!tokenIssuable(target, issuer))
    throw new RadledgerError(
      "TOKEN_NOT_ISSUABLE",
      `a token for ${target.id} goes only to ${target.id} after their own sign-in; an admin obtains tokens for system actors only`,
      { at: "actor" },
    );
  const now = node.clock.now();
  const issued = await auth.issueToken({
    actor: target.id,
    kind,
    ttlMs: request.ttlSeconds * 1000,
    createdBy: issuer.id,
    ...(request.label === undefined ? {} : { label: request.label }),
    now,
    // Unusable until its issuance is on the log: a token never works without its record, even
    // when the log refuses the entry and the store then refuses the clean-up (a full disk).
    pending: true,
  });
  try {
    await recordOnLog(node, "token.issued", {
      tokenId: issued.record.id,
      actorId: target.id,
      kind,
      expiresAt: new Date(issued.record.expiresAt).toISOString(),
      issuedBy: issuer.id,
    });
  } catch (e) {
    try {
      auth.revokeToken(issued.record.id, issuer.id, now);
    } catch {
      // Still pending, so still unusable; the log's refusal is what the caller needs to see.
    }
    throw e;
  }
  // If this write fails the token stays pending: on the log as issued, but never usable.
  return { token: issued.token, record: auth.activateToken(issued.record.id)! };
}

/** Revokes a token at once and records the revocation on the log (once: a revoked token stays so). */
export async function revokeToken(
  node: RadledgerNode,
  auth: AuthStore,
  record: TokenRecord,
  by: string,
  reason: RevocationReason,
): Promise<TokenRecord> {
  const revoked = auth.revokeToken(record.id, by, node.clock.now())!;
  if (record.revokedAt !== undefined) return revoked;
  const issued = tokenRecordOf(node.store, record.id);
  if (issued?.revoked !== undefined) return revoked;
  await recordOnLog(
    node,
    "token.revoked",
    { tokenId: record.id, actorId: record.actor, revokedBy: by, reason },
    issued ? { token: issued.id } : undefined,
  );
  return revoked;
}

/**
 * Records who sets a password on the log, then sets it: no password changes hands without its entry
 * (the length is checked by the caller's schema and by the store's own bounds).
 */
export async function setPassword(
  node: RadledgerNode,
  auth: AuthStore,
  actor: string,
  password: string,
  by: string,
): Promise<void> {
  await recordOnLog(node, "password.set", { actorId: actor, setBy: by });
  await auth.setPassword(actor, password, by, node.clock.now());
}

/**
 * Binds a client certificate's key (its RFC 7469 SPKI SHA-256 pin) to a system actor at the request
 * of `issuer` (an admin, or the institution for the operator's command line): once on the log, a
 * request over mutual TLS with a certificate of that key authenticates as the actor. A person's
 * actor is refused (CERT_NOT_BINDABLE), a key bound already too (CERT_BINDING_CONFLICT); the
 * append rule (src/domain/identity/entries.ts cert.bound) decides again at append time.
 */
export async function bindCertificate(
  node: RadledgerNode,
  request: {
    readonly target: ActorDoc;
    readonly issuer: ActorDoc;
    readonly pin: string;
    readonly subject?: string | undefined;
    readonly notAfter?: string | undefined;
  },
): Promise<CertBindingDoc> {
  const { target, issuer, pin } = request;
  if (!certBindable(target))
    throw new RadledgerError(
      "CERT_NOT_BINDABLE",
      `${target.id} is a ${target.kind} actor: client certificates are bound to system actors only`,
      { at: "actor" },
    );
  const existing = certBindingOf(node.store, pin);
  if (existing)
    throw new RadledgerError("CERT_BINDING_CONFLICT", `this key is already bound to ${existing.actor}`, {
      at: "cert",
    });
  await recordOnLog(node, "cert.bound", {
    pin,
    actorId: target.id,
    ...(request.subject === undefined ? {} : { subject: request.subject }),
    ...(request.notAfter === undefined ? {} : { notAfter: request.notAfter }),
    boundBy: issuer.id,
  });
  return certBindingOf(node.store, pin)!;
}

/** Removes the current binding of a key pin (CERT_BINDING_CONFLICT when there is none). */
export async function unbindCertificate(
  node: RadledgerNode,
  pin: string,
  by: string,
): Promise<CertBindingDoc> {
  const current = certBindingOf(node.store, pin);
  if (!current)
    throw new RadledgerError("CERT_BINDING_CONFLICT", "this key is bound to no actor", { at: "cert" });
  await recordOnLog(
    node,
    "cert.unbound",
    { pin, actorId: current.actor, unboundBy: by },
    { binding: current.id },
  );
  return node.store.getDoc("certbinding", current.id) as unknown as CertBindingDoc;
}
