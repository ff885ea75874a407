/**
 * Enrolment codes and the patient's own browser key (docs/security.md "The patient's browser key"):
 * the registrar (an admin) issues a one-time code for a patient; the patient's browser proves a new
 * key with it and the institution appends key.self-enrolled, after which only that key signs for the
 * patient.
 */
import { z } from "zod";
import { fromBase64 } from "../../core/bytes.js";
import { ENROLMENT_CODE_ID_PATTERN, enrolmentChallenge } from "../../core/enrolment.js";
import { defineEntryType, type ActorDoc, type ApplyContext } from "../ledger/entry-types.js";
import { actorId, publicKey, timestamp } from "../schemas.js";
import { getActor, getKey, INSTITUTION_ACTOR, getEnrolmentCode, type EnrolmentCodeDoc } from "./state.js";
import { activeActor, enrolKey, isAdmin } from "./rules.js";

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

export const enrolmentEntryTypes = [enrolmentCodeIssued, keySelfEnrolled];
