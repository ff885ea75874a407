/**
 * C2SP signed-note (c2sp.org/signed-note): text ending in a newline, a blank line, then one or more
 * signature lines `— <key name> base64(uint32 key ID || signature)`. Ed25519 signatures (type 0x01)
 * are made over the note text; key ID = SHA-256(name || 0x0A || type || public key)[:4].
 * Verifier keys travel as `<name>+<hex key ID>+<base64(type || public key)>` and signer keys as
 * `PRIVATE+KEY+<name>+<hex key ID>+<base64(type || seed)>` (the Go golang.org/x/mod/sumdb/note forms).
 *
 * Notes arrive from the network and from files: parsing follows the spec's MUSTs (UTF-8, no control
 * characters but newline, key names without spaces or '+') and bounds the number of signatures.
 */
import type { CryptoSuite } from "./crypto.js";
import { bytesEqual, concatBytes, fromBase64, fromHex, fromUtf8, toBase64, toHex, utf8 } from "./bytes.js";
import { RadledgerError } from "./errors.js";

export const SIG_TYPE_ED25519 = 0x01;
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;
/** The spec requires accepting at least 16 signatures; more than this is refused as abuse. */
export const MAX_NOTE_SIGNATURES = 64;
export const MAX_NOTE_SIZE = 64 * 1024;

export interface NoteSignature {
  readonly name: string;
  /** 4-byte key ID. */
  readonly keyId: Uint8Array;
  /** The signature bytes after the key ID. */
  readonly signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A key that can check signatures in notes. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: Uint8Array;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

export interface NoteSigner {
  readonly name: string;
  readonly keyId: Uint8Array;
  sign(text: Uint8Array): Uint8Array;
}

const UNICODE_SPACE = /[\s\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !UNICODE_SPACE.test(name) && !name.includes("+");
}

export function noteKeyId(
  crypto: CryptoSuite,
  name: string,
  type: number,
  publicKey: Uint8Array,
): Uint8Array {
  return crypto.sha256(concatBytes(utf8(name), new Uint8Array([0x0a, type]), publicKey)).slice(0, 4);
}

function malformed(message: string): never {
  throw new RadledgerError("NOTE_MALFORMED", message);
}

export function parseSignedNote(input: string | Uint8Array): SignedNote {
  if (input.length > MAX_NOTE_SIZE) malformed("note is larger than 64 KiB");
  const text = typeof input === "string" ? input : fromUtf8(input);
  // eslint-disable-next-line no-control-regex -- the spec forbids exactly these characters
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) malformed("note contains control characters");
  const split = text.lastIndexOf("\n\n");
  if (split < 0) malformed("note has no blank line before its signatures");
  const body = text.slice(0, split + 1);
  const sigBlock = text.slice(split + 2);
  if (!sigBlock.endsWith("\n")) malformed("signature block does not end with a newline");
  const lines = sigBlock.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith("\u2014 ")) malformed("signature line does not start with an em dash and a space");
    const rest = line.slice(2);
    const space = rest.indexOf(" ");
    if (space <= 0) malformed("signature line has no key name");
    const name = rest.slice(0, space);
    if (!isValidKeyName(name)) malformed("invalid key name in signature line");
    let raw: Uint8Array;
    try {
      raw = fromBase64(rest.slice(space + 1));
    } catch {
      return malformed("signature is not valid base64");
    }
    if (raw.length < 5) malformed("signature too short");
    signatures.push({ name, keyId: raw.slice(0, 4), signature: raw.slice(4) });
  }
  return { text: body, signatures };
}

export function formatSignedNote(note: SignedNote): string {
  if (!note.text.endsWith("\n"))
    throw new RadledgerError("NOTE_MALFORMED", "note text must end with a newline");
  const lines = note.signatures.map(
    (s) => `\u2014 ${s.name} ${toBase64(concatBytes(s.keyId, s.signature))}\n`,
  );
  return `${note.text}\n${lines.join("")}`;
}

export function signNote(text: string, signers: readonly NoteSigner[]): SignedNote {
  if (!text.endsWith("\n")) throw new RadledgerError("NOTE_MALFORMED", "note text must end with a newline");
  const bytes = utf8(text);
  return {
    text,
    signatures: signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) })),
  };
}

/** Adds signatures to an existing note (e.g. cosignatures), keeping the ones it has. */
export function addSignatures(note: SignedNote, extra: readonly NoteSignature[]): SignedNote {
  const seen = new Set(note.signatures.map((s) => `${s.name} ${toHex(s.keyId)}`));
  const added = extra.filter((s) => !seen.has(`${s.name} ${toHex(s.keyId)}`));
  return { text: note.text, signatures: [...note.signatures, ...added] };
}

export interface VerifiedNote extends SignedNote {
  /** The verifiers whose signatures checked out. */
  readonly verifiedBy: readonly NoteVerifier[];
}

/**
 * Checks a note against known verifiers (signed-note §Signatures): signatures by unknown keys are
 * ignored; a known key whose signature fails rejects the whole note; at least one must verify.
 */
export function verifyNote(note: SignedNote, verifiers: readonly NoteVerifier[]): VerifiedNote {
  const text = utf8(note.text);
  const verifiedBy: NoteVerifier[] = [];
  for (const sig of note.signatures) {
    const verifier = verifiers.find((v) => v.name === sig.name && bytesEqual(v.keyId, sig.keyId));
    if (!verifier) continue;
    if (!verifier.verify(text, sig.signature)) {
      throw new RadledgerError("NOTE_BAD_SIGNATURE", `signature by ${sig.name} does not verify`);
    }
    if (!verifiedBy.includes(verifier)) verifiedBy.push(verifier);
  }
  if (verifiedBy.length === 0)
    throw new RadledgerError("NOTE_NO_VALID_SIGNATURE", "no signature by a trusted key");
  return { ...note, verifiedBy };
}

export interface Ed25519NoteKey {
  readonly name: string;
  readonly publicKey: Uint8Array;
  readonly keyId: Uint8Array;
}

export function ed25519Verifier(
  crypto: CryptoSuite,
  name: string,
  publicKey: Uint8Array,
): NoteVerifier & Ed25519NoteKey {
  if (!isValidKeyName(name)) throw new RadledgerError("KEY_STRING_MALFORMED", "invalid key name");
  if (publicKey.length !== 32)
    throw new RadledgerError("KEY_STRING_MALFORMED", "Ed25519 public key must be 32 bytes");
  const keyId = noteKeyId(crypto, name, SIG_TYPE_ED25519, publicKey);
  return {
    name,
    publicKey,
    keyId,
    verify: (text, signature) => signature.length === 64 && crypto.ed25519Verify(publicKey, text, signature),
  };
}

export function ed25519Signer(
  crypto: CryptoSuite,
  name: string,
  seed: Uint8Array,
): NoteSigner & Ed25519NoteKey {
  if (seed.length !== 32) throw new RadledgerError("KEY_STRING_MALFORMED", "Ed25519 seed must be 32 bytes");
  const publicKey = crypto.ed25519PublicKey(seed);
  const { keyId } = ed25519Verifier(crypto, name, publicKey);
  return { name, publicKey, keyId, sign: (text) => crypto.ed25519Sign(seed, text) };
}

/** `<name>+<hex key ID>+<base64(0x01 || public key)>`. */
export function formatVerifierKey(key: Ed25519NoteKey, type = SIG_TYPE_ED25519): string {
  return `${key.name}+${toHex(key.keyId)}+${toBase64(concatBytes(new Uint8Array([type]), key.publicKey))}`;
}

export interface ParsedVerifierKey {
  readonly name: string;
  readonly keyId: Uint8Array;
  readonly type: number;
  readonly publicKey: Uint8Array;
}

/** Parses a verifier key string and checks that its key ID matches its name and key. */
export function parseVerifierKey(crypto: CryptoSuite, text: string): ParsedVerifierKey {
  const bad = (why: string): never => {
    throw new RadledgerError("KEY_STRING_MALFORMED", `verifier key: ${why}`);
  };
  // The base64 key may itself contain '+'; name and hex ID cannot, so split off the first two fields.
  const parts = splitKeyString(text.trim(), 3);
  if (!parts) return bad("expected <name>+<hex id>+<base64 key>");
  const [name, idHex, keyB64] = parts as [string, string, string];
  if (!isValidKeyName(name)) bad("invalid name");
  if (!/^[0-9a-f]{8}$/.test(idHex)) bad("key ID must be 8 lowercase hex digits");
  let raw: Uint8Array;
  try {
    raw = fromBase64(keyB64);
  } catch {
    return bad("key is not base64");
  }
  if (raw.length !== 33 || (raw[0] !== SIG_TYPE_ED25519 && raw[0] !== SIG_TYPE_COSIGNATURE_V1))
    bad("unsupported key type (Ed25519 0x01 or cosignature/v1 0x04)");
  const type = raw[0]!;
  const publicKey = raw.slice(1);
  const keyId = fromHex(idHex);
  if (!bytesEqual(keyId, noteKeyId(crypto, name, type, publicKey))) bad("key ID does not match name and key");
  return { name, keyId, type, publicKey };
}

/** Splits on the first count-1 '+' signs; the last field keeps any '+' of its base64. */
function splitKeyString(text: string, count: number): string[] | undefined {
  const out: string[] = [];
  let rest = text;
  for (let i = 0; i < count - 1; i++) {
    const plus = rest.indexOf("+");
    if (plus < 0) return undefined;
    out.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  out.push(rest);
  return out;
}

/** `PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || seed)>` — secret; stored with 0600 permissions. */
export function formatSignerKey(crypto: CryptoSuite, name: string, seed: Uint8Array): string {
  const signer = ed25519Signer(crypto, name, seed);
  return `PRIVATE+KEY+${name}+${toHex(signer.keyId)}+${toBase64(concatBytes(new Uint8Array([SIG_TYPE_ED25519]), seed))}`;
}

export function parseSignerKey(crypto: CryptoSuite, text: string): NoteSigner & Ed25519NoteKey {
  const parts = splitKeyString(text.trim(), 5);
  if (!parts || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new RadledgerError(
      "KEY_STRING_MALFORMED",
      "signer key: expected PRIVATE+KEY+<name>+<hex id>+<base64 key>",
    );
  }
  const raw = fromBase64(parts[4]!);
  if (raw.length !== 33 || raw[0] !== SIG_TYPE_ED25519)
    throw new RadledgerError("KEY_STRING_MALFORMED", "signer key: unsupported key type");
  const signer = ed25519Signer(crypto, parts[2]!, raw.slice(1));
  if (toHex(signer.keyId) !== parts[3])
    throw new RadledgerError("KEY_STRING_MALFORMED", "signer key: key ID does not match");
  return signer;
}
