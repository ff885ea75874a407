/**
 * Rules the identity family's entry types share (docs/families/identity.md "Rules"): who counts as an
 * admin, enrolling a key once, and naming an active actor.
 */
import { fromBase64 } from "../../core/bytes.js";
import { actorKeyId } from "../../core/entry.js";
import type { ActorDoc, ApplyContext } from "../ledger/entry-types.js";
import { getActor, getKey, INSTITUTION_ACTOR, type KeyDoc } from "./state.js";

export function isAdmin(actor: ActorDoc): boolean {
  return actor.roles.includes("admin") || actor.roles.includes("institution");
}

export function enrolKey(ctx: ApplyContext<unknown>, actor: string, publicKeyB64: string): string {
  const id = actorKeyId(ctx.crypto, fromBase64(publicKeyB64));
  if (getKey(ctx.state, id)) ctx.reject("KEY_ALREADY_ENROLLED", `key ${id} is already enrolled`);
  const doc: KeyDoc = { id, actor, publicKey: publicKeyB64, status: "active", enrolledAt: ctx.index };
  ctx.state.putDoc("key", id, doc);
  return id;
}

/** An active enrolled actor other than the institution itself, or ACTOR_UNKNOWN. */
export function activeActor(ctx: ApplyContext<unknown>, id: string, at: string): ActorDoc {
  const actor = getActor(ctx.state, id);
  if (!actor || actor.status !== "active" || actor.id === INSTITUTION_ACTOR)
    return ctx.reject("ACTOR_UNKNOWN", `no active enrolled actor ${id}`, { at });
  return actor;
}
