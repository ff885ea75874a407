/**
 * `radledger key rotate`: replaces the log key (docs/log-format.md §Log key rotation). The backend
 * makes a new key (a file seed, or a key pair generated inside the HSM); the old key signs a
 * `key.rotated` entry for the institution that names the new checkpoint verifier key; the checkpoint
 * that first covers that entry is signed by both keys; from then on only the new key signs, and the
 * backend forgets the old one (the file is replaced, the HSM key pair destroyed).
 */
import { toBase64 } from "../core/bytes.js";
import { actorKeyId } from "../core/entry.js";
import { formatVerifierKey } from "../core/note.js";
import { INSTITUTION_ACTOR } from "../domain/identity/state.js";
import { signAsInstitution } from "./institution.js";
import type { RadledgerNode } from "./node.js";

export interface RotationResult {
  readonly oldVerifierKey: string;
  readonly newVerifierKey: string;
  /** Log index of the key.rotated entry. */
  readonly index: number;
  /** The first checkpoint covering the rotation, signed by both keys. */
  readonly checkpoint: string;
}

export async function rotateLogKey(node: RadledgerNode): Promise<RotationResult> {
  const old = node.logKey;
  const oldVerifierKey = formatVerifierKey(old);
  const candidate = node.keys.createLogKey();
  const next = candidate.key;
  const newVerifierKey = formatVerifierKey(next);
  const entry = signAsInstitution(node, "key.rotated", {
    actorId: INSTITUTION_ACTOR,
    oldKey: actorKeyId(node.crypto, old.publicKey),
    newPublicKey: toBase64(next.publicKey),
    logVerifierKey: newVerifierKey,
  });
  // Both keys sign the checkpoint of the batch that commits the rotation (the transition checkpoint).
  node.useLogSigners([old, next]);
  let index: number;
  try {
    ({ index } = await node.appender.append(entry));
  } catch (e) {
    node.useLogSigners([old]);
    candidate.discard();
    throw e;
  }
  const checkpoint = node.ledger.latestCheckpoint!;
  node.useLogSigners([next]);
  candidate.activate();
  return { oldVerifierKey, newVerifierKey, index, checkpoint };
}
