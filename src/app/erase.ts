/**
 * `radledger erase patient`: record the erasure on the log (signed by the institution), then destroy
 * the patient's vault key, salts and content. Re-running after an interruption completes the erasure.
 */
import { actorKeyId } from "../core/entry.js";
import { INSTITUTION_ACTOR } from "../domain/identity/state.js";
import { signAs, type HeldKey } from "./keys.js";
import type { RadledgerNode } from "./node.js";

export async function erasePatient(
  node: RadledgerNode,
  patient: string,
  reason: string,
): Promise<{ recorded: boolean; items: number }> {
  let recorded = false;
  if (!node.store.getDoc("erasure", patient)) {
    const institution: HeldKey = {
      actor: INSTITUTION_ACTOR,
      seed: node.logKey.seed,
      publicKey: node.logKey.publicKey,
      keyId: actorKeyId(node.crypto, node.logKey.publicKey),
    };
    await node.ledger.appendOne(
      signAs(node.crypto, institution, node.config.origin, "patient.data.erased", { patient, reason }),
    );
    recorded = true;
  }
  return { recorded, ...node.vault.erase(patient) };
}
