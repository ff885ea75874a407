/**
 * Identity family (docs/families/identity.md): the institution's genesis, actor enrolment with roles and an Ed25519
 * key, role changes, key rotation and revocation. Who may sign what is the core of the permission
 * model: the append path admits an entry only if its key is enrolled to its actor, not retired or
 * revoked, and the actor holds a role the entry type lists (entry order in the log decides; a
 * revoked key signs nothing admitted after its revocation entry).
 *
 * The node's credentials (tokens, passwords, certificate bindings) are in ./credentials.ts; the
 * patient's enrolment codes and browser keys in ./enrolment-codes.ts.
 */
import { z } from "zod";
import { toBase64 } from "../../core/bytes.js";
import { parseVerifierKey, SIG_TYPE_ED25519 } from "../../core/note.js";
import { defineEntryType, type ActorDoc, type ApplyContext } from "../ledger/entry-types.js";
import { actorId, code, keyId, label, publicKey, pseudonym } from "../schemas.js";
import { GRANTABLE_ROLES, type Role } from "./roles.js";
import { getActor, getKey, INSTITUTION_ACTOR, keyCustodyOf } from "./state.js";
import { enrolKey, isAdmin } from "./rules.js";
import { credentialEntryTypes } from "./credentials.js";
import { enrolmentEntryTypes } from "./enrolment-codes.js";

const role = z.enum(GRANTABLE_ROLES as [Role, ...Role[]]);

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

export const identityEntryTypes = [
  institutionGenesis,
  actorEnrolled,
  roleGranted,
  roleRevoked,
  keyRotated,
  keyRevoked,
  ...credentialEntryTypes,
  ...enrolmentEntryTypes,
];
