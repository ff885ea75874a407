/**
 * AES-256-GCM on node:crypto: the vault's sealing of items under a patient's data key, and the file
 * backend of the vault master key (`KeyWrap`, src/ports/vault.ts; docs/security.md §Keys). Wire format:
 * 12-byte random IV || ciphertext || 16-byte tag, with `aad` (UTF-8) as associated data — the format
 * of every data directory so far, so existing vaults open unchanged.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { RadledgerError } from "../../core/errors.js";
import type { KeyWrap } from "../../ports/vault.js";

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealAesGcm(key: Uint8Array, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** STORE_CORRUPT when `sealed` fails authentication under `key` and `aad`. */
export function openAesGcm(key: Uint8Array, sealed: Uint8Array, aad: string, what: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES)
    throw new RadledgerError("STORE_CORRUPT", `${what} is too short to be sealed`);
  const s = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv("aes-256-gcm", key, s.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(s.subarray(s.length - TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(s.subarray(IV_BYTES, s.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new RadledgerError("STORE_CORRUPT", `${what} failed authentication`);
  }
}

/**
 * The vault master key as a 32-byte key held in this process (read by the wiring from
 * DIR/keys/vault.master). An HSM backend implements the same port without the bytes ever leaving it.
 */
export function fileKeyWrap(masterKey: Uint8Array): KeyWrap {
  if (masterKey.length !== 32)
    throw new RadledgerError("STORE_CORRUPT", "the vault master key must be 32 bytes");
  const key = Uint8Array.from(masterKey);
  return {
    wrap: (dataKey, aad) => new Uint8Array(sealAesGcm(key, dataKey, aad)),
    unwrap: (wrapped, aad) => new Uint8Array(openAesGcm(key, wrapped, aad, "a wrapped patient key")),
  };
}
