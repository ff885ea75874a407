/**
 * Content commitments (docs/design.md §5.2): SHA-256(32-byte random salt || canonical JSON of the content).
 * The commitment goes on the ledger; salt and content stay off it, in the vault. Without the salt a
 * commitment reveals nothing even about guessable content (a short impression, a measurement).
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { bytesEqual, concatBytes, fromHex, toHex } from "../../core/bytes.js";
import { canonicalBytes, type JsonValue } from "../../core/canonical-json.js";
import { RadledgerError } from "../../core/errors.js";

export const SALT_BYTES = 32;

export function commitmentOf(crypto: CryptoSuite, salt: Uint8Array, content: JsonValue): string {
  if (salt.length !== SALT_BYTES)
    throw new RadledgerError("INPUT_INVALID", "commitment salt must be 32 bytes");
  return toHex(crypto.sha256(concatBytes(salt, canonicalBytes(content))));
}

export function checkCommitment(
  crypto: CryptoSuite,
  commitment: string,
  salt: Uint8Array,
  content: JsonValue,
): void {
  if (!bytesEqual(fromHex(commitmentOf(crypto, salt, content)), fromHex(commitment))) {
    throw new RadledgerError("COMMITMENT_MISMATCH", "content and salt do not match the commitment");
  }
}
