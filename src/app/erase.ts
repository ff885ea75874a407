/**
 * Erasing a patient (docs/security.md §Erasure and backups): record the erasure on the log, then
 * destroy the patient's vault key, salts and content. `radledger erase patient` records it as the
 * institution (the node's own statement, run by its operator); the API's erasure endpoint as the admin
 * who asked, with the key the node holds for them. Re-running after an interruption — or after the
 * erasure was recorded some other way, e.g. an entry the admin signed and submitted — completes it.
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
