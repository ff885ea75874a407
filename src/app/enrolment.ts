/**
 * A patient's own key (docs/security.md "Key custody"): the registrar (an admin, or the operator from
 * the command line) issues a one-time enrolment code for a patient actor; the patient, signed in,
 * redeems it with a new Ed25519 public key made in their browser and a proof that the key holds its
 * private half. The node then records key.self-enrolled (src/domain/identity/entries.ts): the new key
 * becomes the actor's only active key, the key the node held is retired on the log and its file
 * removed, and from then on the node can sign nothing as the patient — not a grant, not a
 * revocation, not on their behalf.
 *
 * Both steps are entries the institution signs (enrolment-code.issued, key.self-enrolled), like the
 * node's other credentials (credentials.ts): the code store is the node's own operation; the log
 * names who issued a code for whom, and which code enrolled which key — never a code's secret.
 */
import { fromBase64 } from "../core/bytes.js";
import { enrolmentChallenge, parseEnrolmentCode } from "../core/enrolment.js";
import { RadledgerError } from "../core/errors.js";
import { getActor, getEnrolmentCode, INSTITUTION_ACTOR } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import type { AuthStore, EnrolmentCodeRecord } from "../ports/auth.js";
import { signAsInstitution } from "./institution.js";
import type { RadledgerNode } from "./node.js";

/** The active patient actor an enrolment code or browser key is for (ENROLMENT_NOT_PERMITTED otherwise). */
export function selfEnrollable(node: RadledgerNode, id: string): ActorDoc {
  const actor = getActor(node.store, id);
  if (!actor || actor.status !== "active" || actor.id === INSTITUTION_ACTOR)
    throw new RadledgerError("ACTOR_UNKNOWN", `no active enrolled actor ${id}`, { at: "actor" });
  if (actor.kind !== "patient")
    throw new RadledgerError(
      "ENROLMENT_NOT_PERMITTED",
      `${id} is a ${actor.kind} actor: enrolment codes and browser keys are for patients`,
      { at: "actor" },
    );
  return actor;
}

/**
 * Issues a code for `target` at the request of `issuer` (an admin, or the institution for the
 * operator) and records it on the log; the code is stored pending (unusable) until its entry is on
 * the log, as tokens are (credentials.ts).
 */
export async function issueEnrolmentCode(
  node: RadledgerNode,
  auth: AuthStore,
  request: { readonly target: ActorDoc; readonly issuer: ActorDoc; readonly ttlSeconds: number },
): Promise<{ code: string; record: EnrolmentCodeRecord }> {
  const { target, issuer } = request;
  if (!issuer.roles.includes("admin"))
    throw new RadledgerError("FORBIDDEN_ROLE", "an enrolment code is issued by an admin (the registrar)");
  selfEnrollable(node, target.id);
  const now = node.clock.now();
  const issued = await auth.issueEnrolmentCode({
    actor: target.id,
    createdBy: issuer.id,
    ttlMs: request.ttlSeconds * 1000,
    now,
  });
  await node.appender.append(
    signAsInstitution(
      node,
      "enrolment-code.issued",
      {
        codeId: issued.record.id,
        actorId: target.id,
        expiresAt: new Date(issued.record.expiresAt).toISOString(),
        issuedBy: issuer.id,
      },
      undefined,
      now,
    ),
  );
  // If the log refused the entry the code stays pending: never usable.
  return { code: issued.code, record: auth.activateEnrolmentCode(issued.record.id)! };
}

export interface BrowserKeyEnrolment {
  readonly index: number;
  readonly leafHash: string;
  /** The new key's id (docs/log-format.md §Entries). */
  readonly keyId: string;
  /** The key ids the enrolment retired (the one the node held, and any other). */
  readonly retired: string[];
  /** Whether the node removed a key file it held for the actor. */
  readonly heldKeyRemoved: boolean;
}

/**
 * Enrols the patient's own key: the caller is the patient (the API checks their session). Order of
 * checks: the code (wrong tries count), then the proof, then the log's own rules (which check the
 * code's single use, expiry and the proof again, so a replay of the log needs no trust in this API).
 */
export async function enrolBrowserKey(
  node: RadledgerNode,
  auth: AuthStore,
  request: {
    readonly actor: string;
    readonly code: string;
    readonly publicKey: string;
    readonly proof: string;
  },
): Promise<BrowserKeyEnrolment> {
  const target = selfEnrollable(node, request.actor);
  const now = node.clock.now();
  const record = await auth.checkEnrolmentCode(target.id, request.code, now);
  const codeId = parseEnrolmentCode(request.code)!.id;
  const challenge = enrolmentChallenge({
    origin: node.config.origin,
    actor: target.id,
    codeId,
    publicKey: request.publicKey,
  });
  let proved: boolean;
  try {
    proved = node.crypto.ed25519Verify(fromBase64(request.publicKey), challenge, fromBase64(request.proof));
  } catch {
    proved = false; // not a point on the curve, or not base64: no proof either way
  }
  if (!proved)
    throw new RadledgerError(
      "ENROLMENT_PROOF_INVALID",
      "proof must be the new key's Ed25519 signature over the enrolment challenge (src/core/enrolment.ts)",
      { at: "proof" },
    );
  const issued = getEnrolmentCode(node.store, record.id);
  if (!issued)
    throw new RadledgerError("ENROLMENT_CODE_INVALID", `enrolment code ${record.id} is not on the log`, {
      at: "code",
    });
  const before = ((getActor(node.store, target.id)?.keys as string[] | undefined) ?? []).filter(
    (id) => (node.store.getDoc("key", id) as { status?: string } | undefined)?.status === "active",
  );
  const { index, leafHash } = await node.appender.append(
    signAsInstitution(
      node,
      "key.self-enrolled",
      { actorId: target.id, codeId, publicKey: request.publicKey, proof: request.proof },
      { code: issued.id },
      now,
    ),
  );
  // The log now says the code is used and the held key retired; the store and the key file follow.
  // Should either write fail, the log still decides: the code's reuse and the old key are refused.
  auth.useEnrolmentCode(record.id, now);
  const heldKeyRemoved = node.heldKeys.remove(target.id);
  const keyId = getEnrolmentCode(node.store, record.id)!.used!.key;
  return { index, leafHash, keyId, retired: before, heldKeyRemoved };
}
