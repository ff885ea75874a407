/**
 * Erasing a patient (docs/security.md §Erasure and backups): record the erasure on the log, then
 * destroy the patient's vault key, salts and content. `radledger erase patient` records it as the
 * institution (the node's own statement, run by its operator); the API's erasure endpoint as the admin
 * who asked, with the key the node holds for them; an erasure entry an admin signed and submitted
 * themself shreds as soon as it is admitted (`shredIfErasure`), so no erasure is recorded but left
 * undone. Re-running after an interruption completes it.
 */
import { signAsInstitution } from "./institution.js";
import { signAs, type HeldKey } from "./keys.js";
import type { RadledgerNode } from "./node.js";

export interface ErasureResult {
  /** Whether this call appended `patient.data.erased` (false: it was already on the log). */
  readonly recorded: boolean;
  /** Vault items deleted by this call. */
  readonly items: number;
}

export async function erasePatient(
  node: RadledgerNode,
  patient: string,
  reason: string,
  signer?: HeldKey,
): Promise<ErasureResult> {
  let recorded = false;
  if (!node.store.getDoc("erasure", patient)) {
    const body = { patient, reason };
    await node.appender.append(
      signer
        ? signAs(node.crypto, signer, node.config.origin, "patient.data.erased", body, {
            time: node.clock.now(),
          })
        : signAsInstitution(node, "patient.data.erased", body),
    );
    recorded = true;
  }
  return { recorded, ...node.vault.erase(patient) };
}

/**
 * After an entry was admitted through a door other than erasePatient (the API's entry routes): when it
 * is a `patient.data.erased`, destroy the patient's vault data at once. The entry was validated on
 * append, so its body is the family's schema; undefined for any other type.
 */
export function shredIfErasure(node: RadledgerNode, entry: unknown): { items: number } | undefined {
  const e = entry as { type?: unknown; body?: { patient?: unknown } } | null;
  if (e?.type !== "patient.data.erased" || typeof e.body?.patient !== "string") return undefined;
  return node.vault.erase(e.body.patient);
}
