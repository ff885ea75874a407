/**
 * Identity family (docs/families/identity.md): the institution's genesis, actor enrolment with roles and an Ed25519
 * key, role changes, key rotation and revocation. Who may sign what is the core of the permission
 * model: the append path admits an entry only if its key is enrolled to its actor, not retired or
 * revoked, and the actor holds a role the entry type lists (entry order in the log decides; a
 * revoked key signs nothing admitted after its revocation entry).
 *
 * The node's credentials are on the log too (docs/security.md "Tokens and delegation"): every bearer
 * token it issues or revokes and every password it sets is an entry the institution signs, naming
 * the actor it is for and the actor who asked — and the rule that a person's token goes only to that
 * person holds here as well as in the API.
 */
import { z } from "zod";
import { fromBase64, toBase64 } from "../../core/bytes.js";
import { parseVerifierKey, SIG_TYPE_ED25519 } from "../../core/note.js";
import { actorKeyId } from "../../core/entry.js";
import { ENROLMENT_CODE_ID_PATTERN, enrolmentChallenge } from "../../core/enrolment.js";
import { defineEntryType, type ActorDoc, type ApplyContext } from "../ledger/entry-types.js";
import { actorId, code, keyId, label, publicKey, pseudonym, timestamp } from "../schemas.js";
import { GRANTABLE_ROLES, type Role } from "./roles.js";
import {
  getActor,
  getKey,
  getTokenRecord,
  INSTITUTION_ACTOR,
  certBindingOf,
  getEnrolmentCode,
  keyCustodyOf,
  tokenRecordOf,
  type CertBindingDoc,
  type EnrolmentCodeDoc,
  type KeyDoc,
  type TokenDoc,
} from "./state.js";

const role = z.enum(GRANTABLE_ROLES as [Role, ...Role[]]);

function isAdmin(actor: ActorDoc): boolean {
  return actor.roles.includes("admin") || actor.roles.includes("institution");
}

function enrolKey(ctx: ApplyContext<unknown>, actor: string, publicKeyB64: string): string {
  const id = actorKeyId(ctx.crypto, fromBase64(publicKeyB64));
  if (getKey(ctx.state, id)) ctx.reject("KEY_ALREADY_ENROLLED", `key ${id} is already enrolled`);
  const doc: KeyDoc = { id, actor, publicKey: publicKeyB64, status: "active", enrolledAt: ctx.index };
  ctx.state.putDoc("key", id, doc);
  return id;
}

export const institutionGenesis = defineEntryType({
  type: "institution.genesis",
  summary:
    "First entry of a log: the institution, its log origin and the log key that signs checkpoints and institution records.",
  body: z.strictObject({
    name: label,
    /** The log's checkpoint verifier key string (C2SP signed-note form). */
    logVerifierKey: z.string().min(10).max(400),
    publicKey,
  }),
  refs: {},
  signers: ["institution"],
  apply(ctx) {
    if (ctx.index !== 0) ctx.reject("GENESIS_ALREADY_PRESENT", "the log already has its genesis entry");
    if (ctx.entry.actor !== INSTITUTION_ACTOR)
      ctx.reject("ROLE_NOT_PERMITTED", "genesis must be signed by the institution actor");
    const key = enrolKey(ctx, INSTITUTION_ACTOR, ctx.body.publicKey);
    if (key !== ctx.entry.key) ctx.reject("KEY_UNKNOWN", "genesis must be signed by the key it enrols");
    ctx.state.putDoc("actor", INSTITUTION_ACTOR, {
      id: INSTITUTION_ACTOR,
      kind: "institution",
      roles: ["institution", "admin"],
      status: "active",
      displayName: ctx.body.name,
      enrolledAt: ctx.index,
      keys: [key],
    });
    ctx.state.putDoc("institution", "self", {
      name: ctx.body.name,
      origin: ctx.origin,
      logVerifierKey: ctx.body.logVerifierKey,
      genesis: ctx.leafHash,
    });
  },
});

export const actorEnrolled = defineEntryType({
  type: "actor.enrolled",
  summary: "Enrols a person, patient or system with roles and an Ed25519 public key.",
  body: z
    .strictObject({
      actorId,
      kind: z.enum(["staff", "patient", "system"]),
      roles: z.array(role).min(1).max(8),
      publicKey,
      /** Staff and systems only: how colleagues recognise them in attributions. */
      displayName: label.optional(),
      /** e.g. neuroradiology, cardiology (staff only). */
      specialty: code.optional(),
      /** Patients only: the keyed pseudonym this patient actor speaks for. */
      patient: pseudonym.optional(),
      /**
       * Staff and systems of another organisation, spelt as its records name it: a sponsor's monitor
       * names the sponsor exactly as trial.registered does, and sees that sponsor's trials only
       * (docs/families/trials.md "Who reads a trial"). An organisation, never a person.
       */
      organisation: label.optional(),
    })
    .refine((b) => new Set(b.roles).size === b.roles.length, "roles must be unique")
    .refine(
      (b) => !b.roles.includes("sponsor") || b.organisation !== undefined,
      "a sponsor's actor names its organisation (the sponsor of its trials)",
    )
    .refine(
      (b) => (b.kind === "patient") === (b.patient !== undefined),
      "patient actors, and only they, carry a pseudonym",
    )
    .refine(
      (b) =>
        b.kind !== "patient" ||
        (b.roles.length === 1 &&
          b.roles[0] === "patient" &&
          b.displayName === undefined &&
          b.specialty === undefined &&
          b.organisation === undefined),
      "patient actors hold only the patient role and no name",
    )
    .refine(
      (b) => b.kind === "patient" || !b.roles.includes("patient"),
      "only patient actors hold the patient role",
    ),
  refs: {},
  signers: ["institution", "admin"],
  apply(ctx) {
    const b = ctx.body;
    if (b.actorId === INSTITUTION_ACTOR || getActor(ctx.state, b.actorId))
      ctx.reject("ACTOR_ALREADY_ENROLLED", `actor ${b.actorId} is already enrolled`);
    if (b.patient !== undefined && ctx.state.lookup("actor.patient", b.patient, { limit: 1 }).length > 0) {
      ctx.reject("ACTOR_ALREADY_ENROLLED", "this patient already has an actor");
    }
    const key = enrolKey(ctx, b.actorId, b.publicKey);
    ctx.state.putDoc("actor", b.actorId, {
      id: b.actorId,
      kind: b.kind,
      roles: b.roles,
      status: "active",
      enrolledAt: ctx.index,
      enrolledBy: ctx.entry.actor,
      keys: [key],
      ...(b.displayName === undefined ? {} : { displayName: b.displayName }),
      ...(b.specialty === undefined ? {} : { specialty: b.specialty }),
      ...(b.patient === undefined ? {} : { patient: b.patient }),
      ...(b.organisation === undefined ? {} : { organisation: b.organisation }),
    });
    ctx.state.addIndex("actor.all", "", ctx.index, b.actorId);
    if (b.patient !== undefined) ctx.state.addIndex("actor.patient", b.patient, ctx.index, b.actorId);
  },
});

function changeRoles(ctx: ApplyContext<{ actorId: string; role: Role }>, grant: boolean): void {
  const actor = getActor(ctx.state, ctx.body.actorId);
  if (!actor || actor.kind === "institution")
    return ctx.reject("ACTOR_UNKNOWN", `no enrolled actor ${ctx.body.actorId}`);
  if (actor.kind === "patient" || ctx.body.role === "patient")
    ctx.reject("ROLE_NOT_PERMITTED", "patient roles are fixed at enrolment");
  // A sponsor's reach is its organisation's trials: without one it would be every sponsor's or none.
  if (grant && ctx.body.role === "sponsor" && typeof actor.organisation !== "string")
    ctx.reject("ROLE_NOT_PERMITTED", `actor ${actor.id} names no organisation, which a sponsor needs`);
  const has = actor.roles.includes(ctx.body.role);
  if (grant === has)
    ctx.reject(
      "ROLE_NOT_PERMITTED",
      `actor ${actor.id} ${has ? "already holds" : "does not hold"} role ${ctx.body.role}`,
    );
  const roles = grant ? [...actor.roles, ctx.body.role] : actor.roles.filter((r) => r !== ctx.body.role);
  if (roles.length === 0) ctx.reject("ROLE_NOT_PERMITTED", "an actor keeps at least one role");
  ctx.state.putDoc("actor", actor.id, { ...actor, roles });
}

export const roleGranted = defineEntryType({
  type: "role.granted",
  summary: "Grants a role to an enrolled actor.",
  body: z.strictObject({ actorId, role }),
  refs: {},
  signers: ["institution", "admin"],
  apply: (ctx) => changeRoles(ctx, true),
});

export const roleRevoked = defineEntryType({
  type: "role.revoked",
  summary: "Takes a role away from an enrolled actor.",
  body: z.strictObject({ actorId, role }),
  refs: {},
  signers: ["institution", "admin"],
  apply: (ctx) => changeRoles(ctx, false),
});

/** The actor itself (signing with one of its keys) or an admin may manage an actor's keys. */
function keyManager(ctx: ApplyContext<{ actorId: string }>): ActorDoc {
  const target = getActor(ctx.state, ctx.body.actorId);
  if (!target) return ctx.reject("ACTOR_UNKNOWN", `no enrolled actor ${ctx.body.actorId}`);
  if (ctx.entry.actor !== target.id && !isAdmin(ctx.actor))
    ctx.reject("ROLE_NOT_PERMITTED", "only the actor or an admin manages its keys");
  return target;
}

export const keyRotated = defineEntryType({
  type: "key.rotated",
  summary:
    "Replaces an actor's key with a new one; the old key is retired and signs nothing afterwards. For the institution this rotates the log key: checkpoints are signed by the new key from then on (docs/log-format.md §Log key rotation).",
  body: z.strictObject({
    actorId,
    oldKey: keyId,
    newPublicKey: publicKey,
    /** Institution only: the new checkpoint verifier key (the log's origin and newPublicKey). */
    logVerifierKey: z.string().min(10).max(400).optional(),
  }),
  refs: {},
  signers: [],
  apply(ctx) {
    const target = keyManager(ctx);
    const old = getKey(ctx.state, ctx.body.oldKey);
    if (!old || old.actor !== target.id)
      return ctx.reject("KEY_UNKNOWN", `key ${ctx.body.oldKey} is not enrolled for ${target.id}`);
    if (old.status !== "active") ctx.reject("KEY_REVOKED", `key ${old.id} is already ${old.status}`);
    // A key the actor holds themself (key.self-enrolled) is replaced only by the actor: an admin's
    // rotation would put a key of the node's choosing in its place. An admin may still revoke it
    // (key.revoked); the patient then enrols a new one with a new code, on the log as well.
    if (keyCustodyOf(target) === "self" && ctx.entry.actor !== target.id)
      ctx.reject("ROLE_NOT_PERMITTED", `${target.id} holds their own key: only they rotate it`);
    if (target.id === INSTITUTION_ACTOR) checkLogKeyRotation(ctx);
    else if (ctx.body.logVerifierKey !== undefined)
      ctx.reject("INPUT_INVALID", "logVerifierKey is only for the institution's (the log's) key");
    const newKey = enrolKey(ctx, target.id, ctx.body.newPublicKey);
    ctx.state.putDoc("key", old.id, { ...old, status: "retired", endedAt: ctx.index });
    const keys = (target.keys as string[] | undefined) ?? [];
    ctx.state.putDoc("actor", target.id, { ...target, keys: [...keys, newKey] });
  },
});

/**
 * A log key rotation (docs/log-format.md §Log key rotation) is what verifiers follow from a key they
 * trust to its successor, so only the old log key itself may sign it — not an admin — and it must
 * name the new checkpoint verifier key: this log's origin and the new public key.
 */
function checkLogKeyRotation(
  ctx: ApplyContext<{ oldKey: string; newPublicKey: string; logVerifierKey?: string | undefined }>,
): void {
  if (ctx.entry.actor !== INSTITUTION_ACTOR || ctx.entry.key !== ctx.body.oldKey)
    ctx.reject("ROLE_NOT_PERMITTED", "the log key is rotated only by an entry signed with that key");
  const text = ctx.body.logVerifierKey;
  if (text === undefined)
    return ctx.reject("INPUT_INVALID", "a log key rotation names the new logVerifierKey");
  let parsed;
  try {
    parsed = parseVerifierKey(ctx.crypto, text);
  } catch {
    return ctx.reject("INPUT_INVALID", "logVerifierKey is not a verifier key string");
  }
  if (
    parsed.type !== SIG_TYPE_ED25519 ||
    parsed.name !== ctx.origin ||
    toBase64(parsed.publicKey) !== ctx.body.newPublicKey
  )
    ctx.reject("INPUT_INVALID", "logVerifierKey must be this log's origin with newPublicKey");
  const institution = ctx.state.getDoc("institution", "self");
  if (institution) ctx.state.putDoc("institution", "self", { ...institution, logVerifierKey: text });
}

export const keyRevoked = defineEntryType({
  type: "key.revoked",
  summary: "Revokes a key (e.g. compromised or its holder left); nothing it signs is admitted afterwards.",
  body: z.strictObject({ actorId, keyId, reason: z.enum(["compromised", "left", "superseded", "other"]) }),
  refs: {},
  signers: [],
  apply(ctx) {
    const target = keyManager(ctx);
    if (target.id === INSTITUTION_ACTOR)
      ctx.reject("ROLE_NOT_PERMITTED", "the log key is replaced by a new log, not revoked in it");
    const key = getKey(ctx.state, ctx.body.keyId);
    if (!key || key.actor !== target.id)
      return ctx.reject("KEY_UNKNOWN", `key ${ctx.body.keyId} is not enrolled for ${target.id}`);
    if (key.status === "revoked") ctx.reject("KEY_REVOKED", `key ${key.id} is already revoked`);
    ctx.state.putDoc("key", key.id, {
      ...key,
      status: "revoked",
      endedAt: ctx.index,
      reason: ctx.body.reason,
    });
  },
});

/** A bearer token's public id (16 hex digits, the part after `rl_`); never its secret or hash. */
export const tokenId = z.string().regex(/^[0-9a-f]{16}$/, "expected a token id");

/** An active enrolled actor other than the institution itself, or ACTOR_UNKNOWN. */
function activeActor(ctx: ApplyContext<unknown>, id: string, at: string): ActorDoc {
  const actor = getActor(ctx.state, id);
  if (!actor || actor.status !== "active" || actor.id === INSTITUTION_ACTOR)
    return ctx.reject("ACTOR_UNKNOWN", `no active enrolled actor ${id}`, { at });
  return actor;
}

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

/** An enrolment code's public id (the first 8 of its 24 Crockford base32 digits, src/core/enrolment.ts). */
export const enrolmentCodeId = z
  .string()
  .regex(ENROLMENT_CODE_ID_PATTERN, "expected an enrolment code id (8 Crockford base32 digits)");

/** A base64 Ed25519 signature (64 bytes). */
const signature = z.string().regex(/^[A-Za-z0-9+/]{85}[AQgw]==$/, "expected a base64 Ed25519 signature");

/** The longest an enrolment code lives: the registrar hands it over in person or by letter. */
export const MAX_ENROLMENT_CODE_TTL_MS = 30 * 86_400_000;

/**
 * Browser keys are for patients: a patient acts on their own record (consent) from their own device,
 * and no one else's signature may stand in for theirs. Staff and systems keep node-held keys or
 * enrol with a publicKey of their own.
 */
function requireSelfEnrollable(ctx: ApplyContext<unknown>, id: string): ActorDoc {
  const target = activeActor(ctx, id, "body.actorId");
  if (target.kind !== "patient")
    ctx.reject(
      "ENROLMENT_NOT_PERMITTED",
      `${id} is a ${target.kind} actor: enrolment codes are for patients`,
      {
        at: "body.actorId",
      },
    );
  return target;
}

export const enrolmentCodeIssued = defineEntryType({
  type: "enrolment-code.issued",
  summary:
    "The node issued a one-time enrolment code with which a patient enrols a key of their own (created in their browser), at the request of an admin (the registrar) or the operator; names the code by its public id only.",
  body: z.strictObject({
    codeId: enrolmentCodeId,
    /** The patient actor the code enrols a key for. */
    actorId,
    expiresAt: timestamp,
    /** The admin who asked, or the institution (the operator's `radledger actor enrolment-code`). */
    issuedBy: actorId,
  }),
  refs: {},
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    requireSelfEnrollable(ctx, b.actorId);
    const by =
      b.issuedBy === INSTITUTION_ACTOR
        ? getActor(ctx.state, INSTITUTION_ACTOR)!
        : activeActor(ctx, b.issuedBy, "body.issuedBy");
    if (!isAdmin(by))
      ctx.reject("ROLE_NOT_PERMITTED", "an enrolment code is issued by an admin or the operator", {
        at: "body.issuedBy",
      });
    const ttl = Date.parse(b.expiresAt) - Date.parse(ctx.entry.time);
    if (ttl <= 0 || ttl > MAX_ENROLMENT_CODE_TTL_MS)
      ctx.reject("INPUT_INVALID", "an enrolment code expires after its issuance, within 30 days", {
        at: "body.expiresAt",
      });
    if (getEnrolmentCode(ctx.state, b.codeId) !== undefined)
      ctx.reject("ENROLMENT_CODE_USED", `enrolment code ${b.codeId} is already on the log`, {
        at: "body.codeId",
      });
    const doc: EnrolmentCodeDoc = {
      codeId: b.codeId,
      id: ctx.leafHash,
      index: ctx.index,
      actor: b.actorId,
      issuedBy: b.issuedBy,
      issuedAt: ctx.entry.time,
      expiresAt: b.expiresAt,
    };
    ctx.state.putDoc("enrolcode", b.codeId, doc);
    ctx.state.addIndex("enrolcode.actor", b.actorId, ctx.index, b.codeId);
  },
});

export const keySelfEnrolled = defineEntryType({
  type: "key.self-enrolled",
  summary:
    "A patient enrolled a key of their own with a one-time enrolment code: the key (made in the patient's browser, which never hands out its private half) becomes the actor's only active key, every earlier key (the one the node held) is retired, and from then on only the patient's signature grants or revokes consent for them. The proof is the new key's signature over the enrolment challenge (src/core/enrolment.ts).",
  body: z.strictObject({
    actorId,
    codeId: enrolmentCodeId,
    publicKey,
    /** The new key's Ed25519 signature over enrolmentChallenge({ origin, actor, codeId, publicKey }). */
    proof: signature,
  }),
  refs: { code: { types: ["enrolment-code.issued"] } },
  signers: ["institution"],
  apply(ctx) {
    const b = ctx.body;
    const target = requireSelfEnrollable(ctx, b.actorId);
    const code = getEnrolmentCode(ctx.state, b.codeId);
    if (!code || code.id !== ctx.ref("code").leafHash || code.actor !== target.id)
      return ctx.reject(
        "ENROLMENT_CODE_INVALID",
        `enrolment code ${b.codeId} was not issued for ${target.id}`,
        {
          at: "refs.code",
        },
      );
    if (code.used !== undefined)
      ctx.reject("ENROLMENT_CODE_USED", `enrolment code ${b.codeId} was used at index ${code.used.index}`, {
        at: "body.codeId",
        index: code.used.index,
      });
    if (ctx.entry.time >= code.expiresAt)
      ctx.reject("ENROLMENT_CODE_EXPIRED", `enrolment code ${b.codeId} expired at ${code.expiresAt}`, {
        at: "body.codeId",
      });
    // The proof makes the log itself show that whoever enrolled the key held its private half: a
    // replay (the whole-log audit, a mirror) checks it again, whatever the node's API did.
    const challenge = enrolmentChallenge({
      origin: ctx.origin,
      actor: target.id,
      codeId: b.codeId,
      publicKey: b.publicKey,
    });
    if (!ctx.crypto.ed25519Verify(fromBase64(b.publicKey), challenge, fromBase64(b.proof)))
      ctx.reject(
        "ENROLMENT_PROOF_INVALID",
        "the proof is not the new key's signature over the enrolment challenge",
        {
          at: "body.proof",
        },
      );
    const keys = (target.keys as string[] | undefined) ?? [];
    for (const id of keys) {
      const key = getKey(ctx.state, id);
      if (key?.status === "active")
        ctx.state.putDoc("key", id, { ...key, status: "retired", endedAt: ctx.index });
    }
    const newKey = enrolKey(ctx, target.id, b.publicKey);
    ctx.state.putDoc("actor", target.id, { ...target, keys: [...keys, newKey], keyCustody: "self" });
    ctx.state.putDoc("enrolcode", code.codeId, {
      ...code,
      used: { id: ctx.leafHash, index: ctx.index, key: newKey, time: ctx.entry.time },
    });
  },
});

export const identityEntryTypes = [
  institutionGenesis,
  actorEnrolled,
  roleGranted,
  roleRevoked,
  keyRotated,
  keyRevoked,
  tokenIssued,
  tokenRevoked,
  passwordSet,
  certBound,
  certUnbound,
  enrolmentCodeIssued,
  keySelfEnrolled,
];
