/**
 * C2SP tlog-cosignature, Ed25519 type (c2sp.org/tlog-cosignature, "cosignature/v1"): a witness's
 * note signature on a checkpoint, stating that as of `timestamp` this is the largest consistent tree
 * the witness has seen for the origin.
 *
 * - key ID = SHA-256(<name> || "\n" || 0x04 || 32-byte Ed25519 public key)[:4] (§Format);
 * - signature = timestamped_signature: uint64 big-endian POSIX seconds || 64-byte Ed25519 signature;
 * - signed message = "cosignature/v1\n" || "time <decimal>\n" || the whole checkpoint note body
 *   (with its final newline, without signature lines) (§Ed25519 signed message).
 *
 * Witness keys are published as vkeys with type 0x04; the secret half is kept as
 * `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>` (the Go note signer-key form with the
 * cosignature type byte). Signature lines come from witnesses over the network: verification never
 * throws on hostile bytes, it returns false.
 */
import type { CryptoSuite } from "./crypto.js";
import {
  bytesEqual,
  concatBytes,
  fromBase64,
  readUint64BE,
  toBase64,
  toHex,
  uint64BE,
  utf8,
} from "./bytes.js";
import { RadledgerError } from "./errors.js";
import {
  ed25519Verifier,
  isValidKeyName,
  noteKeyId,
  parseVerifierKey,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  type Ed25519NoteKey,
  type NoteSignature,
  type NoteVerifier,
  type SignedNote,
} from "./note.js";

export const COSIGNATURE_V1_HEADER = "cosignature/v1\n";
/** 8-byte timestamp + 64-byte Ed25519 signature. */
export const COSIGNATURE_V1_LENGTH = 72;
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER; // the spec allows up to 2^63-1; JS numbers stop at 2^53

/** The message a cosignature/v1 signs (tlog-cosignature §Ed25519 signed message). */
export function cosignatureMessage(noteText: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0)
    throw new RadledgerError("INPUT_INVALID", "cosignature timestamp out of range");
  if (!noteText.endsWith("\n"))
    throw new RadledgerError("NOTE_MALFORMED", "cosigned note text must end with a newline");
  return utf8(`${COSIGNATURE_V1_HEADER}time ${timestamp}\n${noteText}`);
}

export interface CosignatureKey extends Ed25519NoteKey {
  /** Always SIG_TYPE_COSIGNATURE_V1. */
  readonly type: typeof SIG_TYPE_COSIGNATURE_V1;
}

export interface CosignatureVerifier extends NoteVerifier, CosignatureKey {
  /** The timestamp a well-formed cosignature carries (undefined if malformed); does not verify it. */
  timestampOf(signature: Uint8Array): number | undefined;
}

export interface Cosigner extends CosignatureKey {
  /** A cosignature/v1 note signature on the note text, made at `timestamp` (POSIX seconds). */
  cosign(noteText: string, timestamp: number): NoteSignature;
}

function checkKey(name: string, publicKey: Uint8Array): void {
  if (!isValidKeyName(name)) throw new RadledgerError("KEY_STRING_MALFORMED", "invalid witness key name");
  if (publicKey.length !== 32)
    throw new RadledgerError("KEY_STRING_MALFORMED", "Ed25519 public key must be 32 bytes");
}

export function cosignatureVerifier(
  crypto: CryptoSuite,
  name: string,
  publicKey: Uint8Array,
): CosignatureVerifier {
  checkKey(name, publicKey);
  const keyId = noteKeyId(crypto, name, SIG_TYPE_COSIGNATURE_V1, publicKey);
  const timestampOf = (signature: Uint8Array): number | undefined => {
    if (signature.length !== COSIGNATURE_V1_LENGTH) return undefined;
    // Timestamps beyond 2^53 cannot be represented here; such a signature is treated as malformed.
    if (readHigh(signature) > 0x1fffff) return undefined;
    const t = readUint64BE(signature, 0);
    return t <= MAX_TIMESTAMP ? t : undefined;
  };
  return {
    name,
    publicKey,
    keyId,
    type: SIG_TYPE_COSIGNATURE_V1,
    timestampOf,
    verify(text, signature) {
      const timestamp = timestampOf(signature);
      if (timestamp === undefined) return false;
      const message = concatBytes(utf8(`${COSIGNATURE_V1_HEADER}time ${timestamp}\n`), text);
      return crypto.ed25519Verify(publicKey, message, signature.subarray(8));
    },
  };
}

function readHigh(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0);
}

export function cosigner(crypto: CryptoSuite, name: string, seed: Uint8Array): Cosigner {
  if (seed.length !== 32) throw new RadledgerError("KEY_STRING_MALFORMED", "Ed25519 seed must be 32 bytes");
  return signingCosigner(crypto, name, crypto.ed25519PublicKey(seed), (m) => crypto.ed25519Sign(seed, m));
}

/** A cosigner whose key signs elsewhere (an HSM): `sign` makes an Ed25519 signature over bytes. */
export function signingCosigner(
  crypto: CryptoSuite,
  name: string,
  publicKey: Uint8Array,
  sign: (message: Uint8Array) => Uint8Array,
): Cosigner {
  checkKey(name, publicKey);
  const keyId = noteKeyId(crypto, name, SIG_TYPE_COSIGNATURE_V1, publicKey);
  return {
    name,
    publicKey,
    keyId,
    type: SIG_TYPE_COSIGNATURE_V1,
    cosign(noteText, timestamp) {
      const sig = sign(cosignatureMessage(noteText, timestamp));
      return { name, keyId, signature: concatBytes(uint64BE(timestamp), sig) };
    },
  };
}

/** `<name>+<hex key ID>+<base64(0x04 || public key)>`: the witness's published verifier key. */
export function formatCosignatureVerifierKey(key: CosignatureKey): string {
  return `${key.name}+${toHex(key.keyId)}+${toBase64(concatBytes(new Uint8Array([SIG_TYPE_COSIGNATURE_V1]), key.publicKey))}`;
}

/** Parses a witness vkey: it must be of type 0x04 (cosignature/v1). */
export function parseCosignatureVerifierKey(crypto: CryptoSuite, text: string): CosignatureVerifier {
  const parsed = parseVerifierKey(crypto, text);
  if (parsed.type !== SIG_TYPE_COSIGNATURE_V1)
    throw new RadledgerError(
      "KEY_STRING_MALFORMED",
      "a witness key must be a cosignature/v1 verifier key (type 0x04)",
    );
  return cosignatureVerifier(crypto, parsed.name, parsed.publicKey);
}

/** Parses a log vkey: it must be of type 0x01 (Ed25519 checkpoint signatures). */
export function parseLogVerifierKey(crypto: CryptoSuite, text: string): NoteVerifier & Ed25519NoteKey {
  const parsed = parseVerifierKey(crypto, text);
  if (parsed.type !== SIG_TYPE_ED25519)
    throw new RadledgerError("KEY_STRING_MALFORMED", "a log key must be an Ed25519 verifier key (type 0x01)");
  return ed25519Verifier(crypto, parsed.name, parsed.publicKey);
}

/** `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x04 || seed)>` — secret; stored with mode 0600. */
export function formatCosignerKey(crypto: CryptoSuite, name: string, seed: Uint8Array): string {
  const c = cosigner(crypto, name, seed);
  return `PRIVATE+KEY+${name}+${toHex(c.keyId)}+${toBase64(concatBytes(new Uint8Array([SIG_TYPE_COSIGNATURE_V1]), seed))}`;
}

export function parseCosignerKey(crypto: CryptoSuite, text: string): Cosigner & { seed: Uint8Array } {
  const bad = (): never => {
    throw new RadledgerError(
      "KEY_STRING_MALFORMED",
      "witness signer key: expected PRIVATE+KEY+<name>+<hex id>+<base64(0x04 || seed)>",
    );
  };
  const fields = text.trim().split("+");
  if (fields.length < 5 || fields[0] !== "PRIVATE" || fields[1] !== "KEY") return bad();
  let raw: Uint8Array;
  try {
    raw = fromBase64(fields.slice(4).join("+"));
  } catch {
    return bad();
  }
  if (raw.length !== 33 || raw[0] !== SIG_TYPE_COSIGNATURE_V1) return bad();
  const seed = raw.slice(1);
  const c = cosigner(crypto, fields[2]!, seed);
  if (toHex(c.keyId) !== fields[3]) bad();
  return { ...c, seed };
}

export interface VerifiedCosignature {
  readonly witness: CosignatureVerifier;
  readonly timestamp: number;
  readonly line: NoteSignature;
}

export interface CosignatureCheck {
  /** Cosignatures by known witnesses that verify, one per witness (the newest if several). */
  readonly valid: readonly VerifiedCosignature[];
  /** Witness names whose signature lines matched a known key but did not verify. */
  readonly invalid: readonly string[];
}

/**
 * Checks the cosignatures on a note against known witness keys (tlog-witness: "the client MUST
 * ignore any cosignatures from unknown keys"). Unlike verifyNote, a bad cosignature by a known
 * witness does not void the others: it is reported so the caller can count what holds.
 */
export function checkCosignatures(
  note: SignedNote,
  witnesses: readonly CosignatureVerifier[],
): CosignatureCheck {
  const text = utf8(note.text);
  const valid = new Map<CosignatureVerifier, VerifiedCosignature>();
  const invalid = new Set<string>();
  for (const line of note.signatures) {
    const w = witnesses.find((v) => v.name === line.name && bytesEqual(v.keyId, line.keyId));
    if (!w) continue;
    if (!w.verify(text, line.signature)) {
      invalid.add(w.name);
      continue;
    }
    const timestamp = w.timestampOf(line.signature)!;
    const seen = valid.get(w);
    if (!seen || seen.timestamp < timestamp) valid.set(w, { witness: w, timestamp, line });
  }
  return { valid: [...valid.values()], invalid: [...invalid] };
}
