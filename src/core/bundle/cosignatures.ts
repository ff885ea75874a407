/**
 * Checking witness cosignatures on a bundle's checkpoint: C2SP tlog-cosignature, Ed25519 type
 * (signature type 0x04, "cosignature/v1"). A cosignature is a signed-note signature line whose
 * signature is a timestamped_signature — uint64 big-endian POSIX seconds || 64-byte Ed25519 — over
 *
 *   "cosignature/v1\n" || "time <decimal seconds>\n" || the checkpoint note body (final newline kept)
 *
 * and whose key ID is SHA-256(<name> || "\n" || 0x04 || public key)[:4] (§Format, §Ed25519 signed
 * message). Witness keys are the verifier's own choice (`--witness-key`, vkeys of type 0x04); lines by
 * keys it did not name are reported, never trusted (tlog-witness: clients ignore unknown cosigners).
 *
 * Only verification lives here, so that the browser verifier stays small; the witness side (making
 * cosignatures) belongs to the consortium work.
 */
import type { CryptoSuite } from "../crypto.js";
import { bytesEqual, concatBytes, utf8 } from "../bytes.js";
import { RadledgerError } from "../errors.js";
import {
  isValidKeyName,
  noteKeyId,
  parseVerifierKey,
  SIG_TYPE_COSIGNATURE_V1,
  type NoteSignature,
} from "../note.js";

export const COSIGNATURE_V1_HEADER = "cosignature/v1\n";
export const COSIGNATURE_V1_LENGTH = 8 + 64;

export interface WitnessKey {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The vkey text it was parsed from. */
  readonly vkey: string;
}

/** Parses a witness vkey (`<name>+<hex id>+<base64(0x04 || key)>`); it must be of type 0x04. */
export function parseWitnessKey(crypto: CryptoSuite, text: string): WitnessKey {
  const parsed = parseVerifierKey(crypto, text);
  if (parsed.type !== SIG_TYPE_COSIGNATURE_V1)
    throw new RadledgerError(
      "KEY_STRING_MALFORMED",
      "a witness key must be a cosignature/v1 verifier key (type 0x04)",
    );
  return { name: parsed.name, keyId: parsed.keyId, publicKey: parsed.publicKey, vkey: text.trim() };
}

export function witnessKey(
  crypto: CryptoSuite,
  name: string,
  publicKey: Uint8Array,
): Omit<WitnessKey, "vkey"> {
  if (!isValidKeyName(name)) throw new RadledgerError("KEY_STRING_MALFORMED", "invalid witness name");
  return { name, publicKey, keyId: noteKeyId(crypto, name, SIG_TYPE_COSIGNATURE_V1, publicKey) };
}

/** The message a cosignature/v1 signs at `timestamp` over the note body `noteText`. */
export function cosignatureMessage(noteText: string, timestamp: number): Uint8Array {
  return concatBytes(utf8(`${COSIGNATURE_V1_HEADER}time ${timestamp}\n`), utf8(noteText));
}

/** The timestamp of a well-formed timestamped_signature, or undefined (beyond 2^53 counts as malformed here). */
export function cosignatureTimestamp(signature: Uint8Array): number | undefined {
  if (signature.length !== COSIGNATURE_V1_LENGTH) return undefined;
  const view = new DataView(signature.buffer, signature.byteOffset, 8);
  const high = view.getUint32(0);
  if (high > 0x1fffff) return undefined;
  return high * 2 ** 32 + view.getUint32(4);
}

export interface CosignatureResult {
  readonly witness: string;
  readonly vkey: string;
  readonly timestamp: number;
  readonly valid: boolean;
}

/** The signature lines that match a named witness key, with what each needs for verification. */
export function matchCosignatures(
  lines: readonly NoteSignature[],
  witnesses: readonly WitnessKey[],
): { line: NoteSignature; witness: WitnessKey }[] {
  const out: { line: NoteSignature; witness: WitnessKey }[] = [];
  for (const line of lines) {
    const witness = witnesses.find((w) => w.name === line.name && bytesEqual(w.keyId, line.keyId));
    if (witness) out.push({ line, witness });
  }
  return out;
}
