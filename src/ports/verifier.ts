/**
 * Entry verification off the main thread: decoding, canonical form, envelope and body schema checks,
 * the Ed25519 signature, and the leaf hash. The append path hands batches to an EntryVerifier so
 * that signature checks use every core (docs/performance.md); an inline implementation serves tests and small tools.
 */
import type { ErrorCode } from "../core/errors.js";

export interface VerifyRequest {
  readonly bytes: Uint8Array;
  /** The enrolled public key for the entry's key id, when the node already knows it. */
  readonly publicKey?: Uint8Array;
}

export type VerifyOutcome =
  | { readonly ok: true; readonly leafHash: Uint8Array; readonly signatureChecked: boolean }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string; readonly at?: string };

export interface EntryVerifier {
  verify(requests: readonly VerifyRequest[]): Promise<VerifyOutcome[]>;
  close(): Promise<void>;
}
