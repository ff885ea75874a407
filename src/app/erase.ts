/**
 * `radledger erase patient`: record the erasure on the log (signed by the institution), then destroy
 * the patient's vault key, salts and content. Re-running after an interruption completes the erasure.
 */
import { signAsInstitution } from "./institution.js";
import type { RadledgerNode } from "./node.js";

export async function erasePatient(
  node: RadledgerNode,
  patient: string,
  reason: string,
): Promise<{ recorded: boolean; items: number }> {
  let recorded = false;
  if (!node.store.getDoc("erasure", patient)) {
    await node.appender.append(signAsInstitution(node, "patient.data.erased", { patient, reason }));
    recorded = true;
  }
  return { recorded, ...node.vault.erase(patient) };
}
