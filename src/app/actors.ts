/**
 * Managing actors and acting on records, for the API and the command line alike: enrolling an actor
 * (the node creating and holding its key unless it brings its own), setting a password with the
 * token revocations that go with it, revoking an actor (its keys on the log, its tokens at once),
 * granting and revoking consent, and closing a break-glass review. The family rules are the append
 * path's (src/domain/*): these functions add only what happens around an entry — key files, vault
 * content behind a commitment, the credentials store — so the API (src/api/auth.ts) and the local
 * operations of the command line (src/app/operations.ts) cannot drift apart.
 *
 * Who signs is the caller's choice and is what the log shows: the API signs with the key the node
 * holds for the authenticated caller; the command line's operator acts as the institution (the
 * actor that holds the data directory), and for a person's own statement — an auditor's review —
 * with that person's key after authenticating them with their own token.
 */
import { toBase64 } from "../core/bytes.js";
import type { JsonObject } from "../core/canonical-json.js";
import type { EntryRefs } from "../core/entry.js";
import { RadledgerError } from "../core/errors.js";
import { getActor, getKey, INSTITUTION_ACTOR } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import type { AuthStore, TokenRecord } from "../ports/auth.js";
import type { ActorSigningKey, HeldKey } from "../ports/keys.js";
import { revokeToken, setPassword } from "./credentials.js";
import { signAs } from "./keys.js";
import type { RadledgerNode } from "./node.js";

export type Signer = HeldKey | ActorSigningKey;

/** Signs an entry with `signer` for this log and appends it; resolves once durable. */
export async function appendAs(
  node: RadledgerNode,
  signer: Signer,
  type: string,
  body: JsonObject,
  refs: EntryRefs = {},
): Promise<{ index: number; leafHash: string }> {
  const bytes = signAs(node.crypto, signer, node.config.origin, type, body, {
    refs,
    time: node.clock.now(),
  });
  return node.appender.append(bytes);
}

export interface EnrolRequest {
  readonly actorId: string;
  readonly kind: "staff" | "patient" | "system";
  readonly roles: readonly string[];
  readonly displayName?: string | undefined;
  readonly specialty?: string | undefined;
  /** Another organisation's staff (a sponsor's monitor): its name, as its trials name it. */
  readonly organisation?: string | undefined;
  readonly patient?: string | undefined;
  /** The actor's own public key (base64); without it the node creates and holds one. */
  readonly publicKey?: string | undefined;
}

/**
 * Enrols an actor (actor.enrolled signed by `signer`, an admin or the institution). Without a
 * public key the node creates the actor's key and keeps it (DIR/keys/actors) only once the
 * enrolment is durable, never overwriting a key file.
 */
export async function enrolActor(
  node: RadledgerNode,
  signer: Signer,
  request: EnrolRequest,
): Promise<{ index: number; leafHash: string; actor: ActorDoc; keyHeld: boolean }> {
  if (getActor(node.store, request.actorId))
    throw new RadledgerError("ACTOR_ALREADY_ENROLLED", `actor ${request.actorId} is already enrolled`);
  if (request.publicKey === undefined && node.heldKeys.has(request.actorId))
    throw new RadledgerError(
      "ACTOR_ALREADY_ENROLLED",
      `the node already holds a key file for ${request.actorId}; enrol with a publicKey or remove the stale file`,
    );
  let seed: Uint8Array | undefined;
  let pub = request.publicKey;
  if (pub === undefined) {
    seed = node.crypto.randomBytes(32);
    pub = toBase64(node.crypto.ed25519PublicKey(seed));
  }
  const enrolment = {
    actorId: request.actorId,
    kind: request.kind,
    roles: [...request.roles],
    publicKey: pub,
    ...(request.displayName === undefined ? {} : { displayName: request.displayName }),
    ...(request.specialty === undefined ? {} : { specialty: request.specialty }),
    ...(request.organisation === undefined ? {} : { organisation: request.organisation }),
    ...(request.patient === undefined ? {} : { patient: request.patient }),
  };
  const check = node.registry.get("actor.enrolled")!.body.safeParse(enrolment);
  if (!check.success)
    throw new RadledgerError("ENTRY_SCHEMA_INVALID", `body: ${check.error.issues[0]!.message}`, {
      at: "body",
    });
  const result = await appendAs(node, signer, "actor.enrolled", enrolment);
  if (seed) node.heldKeys.put(request.actorId, seed);
  return { ...result, actor: getActor(node.store, request.actorId)!, keyHeld: seed !== undefined };
}

/** An active enrolled actor other than the institution, or ACTOR_UNKNOWN. */
export function requireActiveActor(node: RadledgerNode, id: string): ActorDoc {
  const actor = getActor(node.store, id);
  if (!actor || actor.status !== "active" || id === INSTITUTION_ACTOR)
    throw new RadledgerError("ACTOR_UNKNOWN", `no active enrolled actor ${id}`, { at: "actor" });
  return actor;
}

/**
 * Sets an actor's password (password.set naming who set it) and revokes what the change must end:
 * after an actor's own change their other sessions; after a reset by someone else (an admin, or
 * the institution from the command line) every token of the actor, and the actor must choose a new
 * password at the next sign-in (the login route checks who set it). `keep` is the token the
 * request came with, which stays valid.
 */
export async function changePassword(
  node: RadledgerNode,
  auth: AuthStore,
  request: {
    readonly actor: string;
    readonly password: string;
    readonly by: string;
    readonly keep?: string | undefined;
  },
): Promise<{ revoked: number }> {
  const self = request.by === request.actor;
  await setPassword(node, auth, request.actor, request.password, request.by);
  const now = node.clock.now();
  let revoked = 0;
  for (const t of auth.listTokens(request.actor))
    if (
      t.revokedAt === undefined &&
      t.expiresAt > now &&
      t.id !== request.keep &&
      (!self || t.kind === "session")
    ) {
      await revokeToken(node, auth, t, request.by, "password-set");
      revoked++;
    }
  return { revoked };
}

export const KEY_REVOCATION_REASONS = ["compromised", "left", "superseded", "other"] as const;
export type KeyRevocationReason = (typeof KEY_REVOCATION_REASONS)[number];

/**
 * Revokes an actor: every active key of theirs (key.revoked, signed by `signer`, so nothing they
 * sign is admitted afterwards) and every unexpired token (token.revoked), so they can neither sign
 * nor read from then on.
 */
export async function revokeActor(
  node: RadledgerNode,
  auth: AuthStore,
  signer: Signer,
  actorId: string,
  reason: KeyRevocationReason,
): Promise<{ keys: string[]; tokens: TokenRecord[] }> {
  const actor = requireActiveActor(node, actorId);
  const keys: string[] = [];
  for (const keyId of (actor.keys as string[] | undefined) ?? []) {
    if (getKey(node.store, keyId)?.status !== "active") continue;
    await appendAs(node, signer, "key.revoked", { actorId, keyId, reason });
    keys.push(keyId);
  }
  const now = node.clock.now();
  const tokens: TokenRecord[] = [];
  for (const t of auth.listTokens(actorId))
    if (t.revokedAt === undefined && t.expiresAt > now)
      tokens.push(await revokeToken(node, auth, t, signer.actor, "revoked"));
  if (keys.length === 0 && tokens.length === 0)
    throw new RadledgerError("KEY_REVOKED", `${actorId} has no active key or token left to revoke`, {
      at: "actor",
    });
  return { keys, tokens };
}

/** Free text for the vault (a consent document, a reviewer's note): its commitment for the log. */
export function commitText(node: RadledgerNode, patient: string, field: string, text: string): string {
  return node.vault.put(patient, { [field]: text }).commitment;
}
