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

/**
 * The vault master key, which wraps each patient's data key (docs/security.md §Keys). Wrapping happens
 * where the key lives: a file key in the embedded default, an HSM key (PKCS#11) otherwise, whose bytes
 * never leave the HSM. `aad` binds a wrapped key to its patient, so it cannot be moved to another.
 */
export interface KeyWrap {
  wrap(key: Uint8Array, aad: string): Uint8Array;
  /** STORE_CORRUPT when `wrapped` fails authentication under this key and `aad`. */
  unwrap(wrapped: Uint8Array, aad: string): Uint8Array;
}

export interface Vault {
  /** Stores content for a patient under a fresh salt; returns the commitment to put on the ledger. */
  put(patient: string, content: JsonValue): { commitment: string };
  /** The content behind a commitment, checked against it; undefined if unknown or erased. */
  get(commitment: string): VaultRecord | undefined;
  /**
   * The content behind many commitments at once, keyed by commitment; unknown or erased ones are
   * absent. Each patient's data key is unwrapped once per call rather than once per item (with an
   * HSM master key every unwrap is a round trip to the HSM): for lists such as the break-glass queue.
   */
  getMany(commitments: readonly string[]): Map<string, VaultRecord>;
  /** Deletes the patient's data key and every salt and ciphertext; returns how many items went. */
  erase(patient: string): { items: number };
  isErased(patient: string): boolean;
  close(): void;
}
