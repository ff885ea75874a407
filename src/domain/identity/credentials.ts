/**
 * The node's credentials on the log (docs/security.md "Tokens and delegation", docs/families/identity.md):
 * every bearer token it issues or revokes and every password it sets is an entry the institution
 * signs, naming the actor it is for and the actor who asked — and the rule that a person's token goes
 * only to that person holds here as well as in the API. Client-certificate bindings (RFC 7469 pins)
 * likewise.
 */
import { z } from "zod";
import { defineEntryType, type ActorDoc } from "../ledger/entry-types.js";
import { actorId, label, timestamp } from "../schemas.js";
import {
  getActor,
  getTokenRecord,
  INSTITUTION_ACTOR,
  certBindingOf,
  tokenRecordOf,
  type CertBindingDoc,
  type TokenDoc,
} from "./state.js";
import { activeActor, isAdmin } from "./rules.js";

export const tokenId = z.string().regex(/^[0-9a-f]{16}$/, "expected a token id");

/**
 * Who may obtain a token for whom: a person (staff or patient) only for themself, after their own
 * sign-in; an admin for a system actor; the institution (the operator, from the command line) for a
 * system actor or an admin. Nobody else, so an admin never holds a person's token.
 */
export function tokenIssuable(target: ActorDoc, issuer: ActorDoc): boolean {
  if (issuer.id === target.id) return true;
  if (target.kind === "system") return issuer.roles.includes("admin");
  // The operator's bootstrap of an admin from the command line (`radledger token create`), which
  // acts as the institution: on the log as issued by the institution, so it cannot pass unseen.
  return issuer.id === INSTITUTION_ACTOR && target.roles.includes("admin");
}

export const tokenIssued = defineEntryType({
  type: "token.issued",
  summary:
    "The node issued a bearer token (an API token or a password sign-in's session) for an actor, at the request of an actor; names the token by its public id only.",
  body: z.strictObject({
    tokenId,
    /** The actor the token authenticates. */
    actorId,
    kind: z.enum(["api", "session"]),
    expiresAt: timestamp,
    /**
     * The authenticated actor who asked for it: the actor itself, an admin for a system actor, or the
     * institution (the operator's `radledger token create`) for a system actor or an admin.
     */
    issuedBy: actorId,
  }),
  refs: {},
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    const target = activeActor(ctx, b.actorId, "body.actorId");
    // The institution issues from the command line (the operator's bootstrap); it is no token holder.
    const issuer =
      b.issuedBy === INSTITUTION_ACTOR
        ? getActor(ctx.state, INSTITUTION_ACTOR)!
        : activeActor(ctx, b.issuedBy, "body.issuedBy");
    if (!tokenIssuable(target, issuer))
      ctx.reject(
        "TOKEN_NOT_ISSUABLE",
        `${b.issuedBy} may not obtain a token for ${b.actorId}: a person's token goes only to that person, an admin's only to system actors`,
        { at: "body.issuedBy" },
      );
    if (tokenRecordOf(ctx.state, b.tokenId) !== undefined)
      ctx.reject("TOKEN_RECORD_CONFLICT", `token ${b.tokenId} is already on the log`, { at: "body.tokenId" });
    const doc: TokenDoc = {
      id: ctx.leafHash,
      index: ctx.index,
      tokenId: b.tokenId,
      actor: b.actorId,
      kind: b.kind,
      issuedBy: b.issuedBy,
      issuedAt: ctx.entry.time,
      expiresAt: b.expiresAt,
    };
    ctx.state.putDoc("token", ctx.leafHash, doc);
    ctx.state.addIndex("token.id", b.tokenId, ctx.index, ctx.leafHash);
    ctx.state.addIndex("token.actor", b.actorId, ctx.index, ctx.leafHash);
  },
});

export const tokenRevoked = defineEntryType({
  type: "token.revoked",
  summary:
    "The node revoked a bearer token (logout, revocation by its owner or an admin, or a password change); references its issuance when that is on the log.",
  body: z.strictObject({
    tokenId,
    actorId,
    /** The authenticated actor who revoked it: the token's actor or an admin. */
    revokedBy: actorId,
    reason: z.enum(["logout", "revoked", "password-set"]),
  }),
  refs: { token: { types: ["token.issued"], optional: true } },
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    const by = getActor(ctx.state, b.revokedBy);
    if (!by || (by.id !== b.actorId && !by.roles.includes("admin")))
      ctx.reject("ROLE_NOT_PERMITTED", "a token is revoked by its actor or an admin", {
        at: "body.revokedBy",
      });
    const ref = ctx.refs("token")[0];
    const issued = tokenRecordOf(ctx.state, b.tokenId);
    if (!ref) {
      // Tokens issued before issuance was logged have no entry to reference; the others must.
      if (issued !== undefined)
        ctx.reject("TOKEN_RECORD_CONFLICT", `reference the issuance of token ${b.tokenId}`, {
          at: "refs.token",
        });
      return;
    }
    const doc = getTokenRecord(ctx.state, ref.leafHash)!;
    if (doc.tokenId !== b.tokenId || doc.actor !== b.actorId)
      return ctx.reject("TOKEN_RECORD_CONFLICT", "the referenced issuance is of another token", {
        at: "refs.token",
      });
    if (doc.revoked !== undefined)
      ctx.reject("TOKEN_RECORD_CONFLICT", `token ${b.tokenId} is already revoked`, { at: "refs.token" });
    ctx.state.putDoc("token", doc.id, {
      ...doc,
      revoked: { id: ctx.leafHash, by: b.revokedBy, time: ctx.entry.time, reason: b.reason },
    });
  },
});

export const passwordSet = defineEntryType({
  type: "password.set",
  summary:
    "The node set an actor's password, at the request of the actor (a change) or an admin (a reset, which the actor must replace at the next sign-in).",
  body: z.strictObject({ actorId, setBy: actorId }),
  refs: {},
  signers: ["institution"],
  apply(ctx) {
    const target = activeActor(ctx, ctx.body.actorId, "body.actorId");
    // The institution resets from the command line (`radledger actor passwd`, the operator), as it
    // issues tokens there: on the log as set by the institution, so the reset cannot pass unseen.
    const by =
      ctx.body.setBy === INSTITUTION_ACTOR
        ? getActor(ctx.state, INSTITUTION_ACTOR)!
        : activeActor(ctx, ctx.body.setBy, "body.setBy");
    if (by.id !== target.id && !by.roles.includes("admin"))
      ctx.reject("ROLE_NOT_PERMITTED", "a password is set by its actor or an admin", { at: "body.setBy" });
    ctx.state.putDoc("password", target.id, { actor: target.id, setBy: by.id, index: ctx.index });
  },
});

/**
 * A client certificate's key pin: base64 of the SHA-256 of its DER SubjectPublicKeyInfo, the
 * pin-sha256 of RFC 7469 §2.4. It names the key, not the certificate, so a renewed certificate for
 * the same key keeps its binding and a new key needs a new, attributable binding.
 */
export const certPin = z
  .string()
  .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, "expected a base64 SHA-256 SPKI pin (RFC 7469)");

/**
 * Who may hold a certificate binding: an active system actor (a PACS, a RIS, an AI platform). A
 * person authenticates as themself (password, then tokens), so a certificate that anyone holding
 * its key file could present never stands in for a person.
 */
export function certBindable(target: ActorDoc): boolean {
  return target.kind === "system" && target.status === "active" && target.id !== INSTITUTION_ACTOR;
}

export const certBound = defineEntryType({
  type: "cert.bound",
  summary:
    "The node bound a client certificate's key (mutual TLS, its RFC 7469 SPKI SHA-256 pin) to a system actor, at the request of an admin or the operator; requests over TLS with that certificate then authenticate as the actor.",
  body: z.strictObject({
    pin: certPin,
    /** The system actor the certificate authenticates. */
    actorId,
    /** The certificate's subject and expiry as the binder saw them (informative; the pin decides). */
    subject: label.optional(),
    notAfter: timestamp.optional(),
    /** The admin who asked, or the institution (the operator's `radledger token bind-cert`). */
    boundBy: actorId,
  }),
  refs: {},
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    const target = activeActor(ctx, b.actorId, "body.actorId");
    if (!certBindable(target))
      ctx.reject(
        "CERT_NOT_BINDABLE",
        `${b.actorId} is a ${target.kind} actor: client certificates are bound to system actors only`,
        { at: "body.actorId" },
      );
    const by =
      b.boundBy === INSTITUTION_ACTOR
        ? getActor(ctx.state, INSTITUTION_ACTOR)!
        : activeActor(ctx, b.boundBy, "body.boundBy");
    if (!isAdmin(by))
      ctx.reject("ROLE_NOT_PERMITTED", "a certificate is bound by an admin or the operator", {
        at: "body.boundBy",
      });
    const existing = certBindingOf(ctx.state, b.pin);
    if (existing !== undefined)
      ctx.reject("CERT_BINDING_CONFLICT", `this key is already bound to ${existing.actor}`, {
        at: "body.pin",
      });
    const doc: CertBindingDoc = {
      id: ctx.leafHash,
      index: ctx.index,
      pin: b.pin,
      actor: b.actorId,
      boundBy: b.boundBy,
      boundAt: ctx.entry.time,
      ...(b.subject === undefined ? {} : { subject: b.subject }),
      ...(b.notAfter === undefined ? {} : { notAfter: b.notAfter }),
    };
    ctx.state.putDoc("certbinding", ctx.leafHash, doc);
    ctx.state.putDoc("certpin", b.pin, { binding: ctx.leafHash });
    ctx.state.addIndex("certbinding.actor", b.actorId, ctx.index, ctx.leafHash);
  },
});

export const certUnbound = defineEntryType({
  type: "cert.unbound",
  summary:
    "The node removed a client certificate binding (the key is lost, retired or the system decommissioned); references the binding.",
  body: z.strictObject({ pin: certPin, actorId, unboundBy: actorId }),
  refs: { binding: { types: ["cert.bound"] } },
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    const by = getActor(ctx.state, b.unboundBy);
    if (!by || (by.id !== INSTITUTION_ACTOR && (by.status !== "active" || !isAdmin(by))))
      ctx.reject("ROLE_NOT_PERMITTED", "a certificate is unbound by an admin or the operator", {
        at: "body.unboundBy",
      });
    const current = certBindingOf(ctx.state, b.pin);
    const ref = ctx.refs("binding")[0]!;
    if (current === undefined || current.id !== ref.leafHash || current.actor !== b.actorId)
      return ctx.reject("CERT_BINDING_CONFLICT", "the referenced binding is not the key's current one", {
        at: "refs.binding",
      });
    ctx.state.putDoc("certbinding", current.id, {
      ...current,
      unbound: { id: ctx.leafHash, by: b.unboundBy, time: ctx.entry.time },
    });
    ctx.state.putDoc("certpin", b.pin, { binding: "" });
  },
});

export const credentialEntryTypes = [tokenIssued, tokenRevoked, passwordSet, certBound, certUnbound];
