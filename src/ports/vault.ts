/**
 * The vault port: off-ledger content behind commitments (report text, questions, measurements),
 * encrypted per patient. Erasing a patient destroys their data key and salts, after which their
 * content is unreadable while the log — which holds only commitments — still verifies.
 */
import type { JsonValue } from "../core/canonical-json.js";

export interface VaultRecord {
  readonly commitment: string;
  readonly patient: string;
  readonly salt: Uint8Array;
  readonly content: JsonValue;
}

export interface Vault {
  /** Stores content for a patient under a fresh salt; returns the commitment to put on the ledger. */
  put(patient: string, content: JsonValue): { commitment: string };
  /** The content behind a commitment, checked against it; undefined if unknown or erased. */
  get(commitment: string): VaultRecord | undefined;
  /** Deletes the patient's data key and every salt and ciphertext; returns how many items went. */
  erase(patient: string): { items: number };
  isErased(patient: string): boolean;
  close(): void;
}
