/**
 * The entry envelope shared by every record family (docs/log-format.md §1.2): a signed statement encoded as
 * canonical JSON (canonical-json.ts), whose exact bytes are one leaf of the log.
 *
 *   { "actor": "<actor id>", "body": {…}, "key": "<signing key id>", "origin": "<log origin>",
 *     "refs": { "<name>": "<leaf hash hex>" | ["<leaf hash hex>", …] }, "sig": "<base64 Ed25519>",
 *     "time": "<RFC 3339 UTC>", "type": "<family>.<event>", "v": 1 }
 *
 * The signature covers the domain-separation prefix "radledger/entry/v1\n" followed by the canonical
 * encoding of the envelope without `sig`, so a signature over an entry can never be replayed as a
 * signature over a checkpoint or any other message, and vice versa. Who controls what: every field
 * is chosen by the signing actor; the node only checks it (docs/log-format.md §Entries).
 */
import type { CryptoSuite } from "./crypto.js";
import {
  canonicalBytes,
  canonicalize,
  parseCanonicalText,
  type JsonObject,
  type JsonValue,
} from "./canonical-json.js";
import { concatBytes, fromBase64, fromUtf8, toBase64, toHex, utf8 } from "./bytes.js";
import { RadledgerError } from "./errors.js";
import { MAX_ENTRY_SIZE } from "./tiles.js";

export const ENTRY_VERSION = 1;
export const ENTRY_SIGNING_PREFIX = "radledger/entry/v1\n";

/** Named references to earlier entries by leaf hash (lowercase hex). */
export type EntryRefs = Record<string, string | string[]>;

export interface UnsignedEntry {
  readonly v: typeof ENTRY_VERSION;
  readonly type: string;
  readonly time: string;
  readonly origin: string;
  readonly actor: string;
  readonly key: string;
  readonly refs?: EntryRefs;
  readonly body: JsonObject;
}

export interface Entry extends UnsignedEntry {
  readonly sig: string;
}

const TYPE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
/** Actor ids are opaque institution-assigned identifiers, never names or patient identifiers. */
export const ACTOR_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const KEY_ID_PATTERN = /^[0-9a-f]{32}$/;
export const LEAF_HASH_PATTERN = /^[0-9a-f]{64}$/;
const REF_NAME_PATTERN = /^[a-z][A-Za-z0-9]{0,63}$/;
/** RFC 3339 UTC with exactly millisecond precision: one text form per instant. */
const TIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MAX_REFS = 256;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digits = (s: string, from: number, to: number): number => {
  let n = 0;
  for (let i = from; i < to; i++) n = 10 * n + (s.charCodeAt(i) - 48);
  return n;
};

/**
 * Whether `time` is the one text form of an instant: the pattern above, a real calendar date, hours
 * 00–23, minutes and seconds 00–59 (no leap second) — exactly the strings Date#toISOString produces
 * for years 0000–9999, checked by arithmetic since every entry's time is checked (a property test
 * compares it with the Date round trip).
 */
export function isCanonicalTime(time: string): boolean {
  if (!TIME_PATTERN.test(time)) return false;
  const year = digits(time, 0, 4);
  const month = digits(time, 5, 7);
  const day = digits(time, 8, 10);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]!)) return false;
  return digits(time, 11, 13) <= 23 && digits(time, 14, 16) <= 59 && digits(time, 17, 19) <= 59;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}

/** Key ID of an actor's Ed25519 key: the first 16 bytes of SHA-256 of the public key, in hex. */
export function actorKeyId(crypto: CryptoSuite, publicKey: Uint8Array): string {
  return toHex(crypto.sha256(publicKey).slice(0, 16));
}

function malformed(message: string, at?: string): never {
  throw new RadledgerError("ENTRY_MALFORMED", message, at === undefined ? {} : { at });
}

const ENVELOPE_FIELDS = new Set(["v", "type", "time", "origin", "actor", "key", "refs", "body", "sig"]);

function checkEnvelope(value: JsonValue): Entry {
  if (typeof value !== "object" || Array.isArray(value)) return malformed("entry is not a JSON object");
  for (const k of Object.keys(value))
    if (!ENVELOPE_FIELDS.has(k)) malformed(`unknown envelope field ${JSON.stringify(k.slice(0, 40))}`, k);
  const { v, type, time, origin, actor, key, refs, body, sig } = value as Record<
    string,
    JsonValue | undefined
  >;
  if (v !== ENTRY_VERSION) malformed("unsupported entry version", "v");
  if (typeof type !== "string" || !TYPE_PATTERN.test(type) || type.length > 64)
    malformed("type must be a dotted lowercase name", "type");
  if (typeof time !== "string" || !isCanonicalTime(time))
    malformed("time must be RFC 3339 UTC with milliseconds, e.g. 2026-01-02T03:04:05.000Z", "time");
  if (typeof origin !== "string" || origin.length === 0 || origin.length > 255 || /[\s+]/.test(origin))
    malformed("origin must be a log origin", "origin");
  if (typeof actor !== "string" || !ACTOR_ID_PATTERN.test(actor))
    malformed("actor must be an actor id", "actor");
  if (typeof key !== "string" || !KEY_ID_PATTERN.test(key))
    malformed("key must be a 32-hex-digit key id", "key");
  if (typeof body !== "object" || Array.isArray(body)) malformed("body must be an object", "body");
  if (typeof sig !== "string") malformed("sig must be a base64 string", "sig");
  if (refs !== undefined) {
    if (typeof refs !== "object" || Array.isArray(refs)) malformed("refs must be an object", "refs");
    let count = 0;
    for (const [name, ref] of Object.entries(refs)) {
      if (!REF_NAME_PATTERN.test(name)) malformed("invalid reference name", `refs.${name}`);
      const list = Array.isArray(ref) ? ref : [ref];
      if (Array.isArray(ref) && ref.length === 0) malformed("empty reference list", `refs.${name}`);
      for (const h of list) {
        if (typeof h !== "string" || !LEAF_HASH_PATTERN.test(h))
          malformed("references are lowercase hex leaf hashes", `refs.${name}`);
        count++;
      }
    }
    if (count > MAX_REFS) malformed(`more than ${MAX_REFS} references`, "refs");
  }
  return value as unknown as Entry;
}

/**
 * Decodes the bytes of a submitted or stored entry: size limit, canonical JSON, envelope shape.
 * The signature is checked separately (verifyEntrySignature) because the key comes from the log state.
 */
export function decodeEntry(bytes: Uint8Array): Entry {
  return decodeEntryWithText(bytes).entry;
}

/** decodeEntry, also returning the entry's text (for signingMessageFromText). */
export function decodeEntryWithText(bytes: Uint8Array): { entry: Entry; text: string } {
  if (bytes.length > MAX_ENTRY_SIZE)
    throw new RadledgerError("ENTRY_TOO_LARGE", `entry is ${bytes.length} bytes; at most ${MAX_ENTRY_SIZE}`);
  if (bytes.length === 0) malformed("empty entry");
  const text = fromUtf8(bytes);
  return { entry: checkEnvelope(parseCanonicalText(text)), text };
}

export function signingMessage(entry: UnsignedEntry): Uint8Array {
  const { sig: _sig, ...rest } = entry as Entry;
  return concatBytes(utf8(ENTRY_SIGNING_PREFIX), canonicalBytes(rest));
}

const SIGNING_PREFIX_BYTES = utf8(ENTRY_SIGNING_PREFIX);
const textEncoder = new TextEncoder();

/**
 * The signing message of an entry whose exact canonical text is known: the text with its
 * `,"sig":"…"` member cut out. In canonical member order "sig" is followed only by "time", "type" and
 * "v", whose validated values cannot contain that sequence, so the last occurrence is the envelope's.
 * Equal to signingMessage(entry) without re-serialising (a property test checks it).
 */
export function signingMessageFromText(text: string): Uint8Array | undefined {
  const start = text.lastIndexOf(',"sig":"');
  if (start < 0) return undefined;
  const end = text.indexOf('"', start + 8);
  if (end < 0) return undefined;
  const rest = textEncoder.encode(text.slice(0, start) + text.slice(end + 1));
  const out = new Uint8Array(SIGNING_PREFIX_BYTES.length + rest.length);
  out.set(SIGNING_PREFIX_BYTES);
  out.set(rest, SIGNING_PREFIX_BYTES.length);
  return out;
}

const SIG_MEMBER = utf8(',"sig":"');
const asciiDecoder = new TextDecoder();

/**
 * signingMessageFromText on the entry's bytes, with the signature's base64: the same cut, made in
 * UTF-8 (the member is ASCII, and no multi-byte sequence contains an ASCII byte), so that bundle
 * verification threads need not decode and re-encode the text. With `scratch`, the message is
 * written into it when it fits and is a view of it, valid until the caller's next use of `scratch`
 * (verification lanes check one signature at a time: a fresh 500-byte array per entry costs as much
 * as the cut).
 */
export function signingPartsFromBytes(
  bytes: Uint8Array,
  scratch?: Uint8Array,
): { message: Uint8Array; signature: string } | undefined {
  // The member's comma, found from the end: in canonical member order only "time", "type" and "v"
  // follow it, a handful of commas.
  let start = bytes.length;
  for (;;) {
    start = start > 0 ? bytes.lastIndexOf(0x2c, start - 1) : -1;
    if (start < 0) return undefined;
    let j = 1;
    while (j < SIG_MEMBER.length && bytes[start + j] === SIG_MEMBER[j]) j++;
    if (j === SIG_MEMBER.length) break;
  }
  const end = bytes.indexOf(0x22, start + SIG_MEMBER.length);
  if (end < 0) return undefined;
  const length = SIGNING_PREFIX_BYTES.length + start + (bytes.length - end - 1);
  const message =
    scratch !== undefined && scratch.length >= length ? scratch.subarray(0, length) : new Uint8Array(length);
  message.set(SIGNING_PREFIX_BYTES);
  message.set(bytes.subarray(0, start), SIGNING_PREFIX_BYTES.length);
  message.set(bytes.subarray(end + 1), SIGNING_PREFIX_BYTES.length + start);
  return { message, signature: asciiDecoder.decode(bytes.subarray(start + SIG_MEMBER.length, end)) };
}

/** Verifies an entry's signature; pass `text`, the entry's canonical text, to skip re-serialising it. */
export function verifyEntrySignature(
  crypto: CryptoSuite,
  entry: Entry,
  publicKey: Uint8Array,
  text?: string,
): boolean {
  let sig: Uint8Array;
  try {
    sig = fromBase64(entry.sig);
  } catch {
    return false;
  }
  if (sig.length !== 64) return false;
  const message = (text === undefined ? undefined : signingMessageFromText(text)) ?? signingMessage(entry);
  return crypto.ed25519Verify(publicKey, message, sig);
}

/** Makes an Ed25519 signature over bytes, wherever the key lives (a seed in memory, an HSM). */
export type SignBytes = (message: Uint8Array) => Uint8Array;

/**
 * Signs an unsigned entry with an Ed25519 seed, or with a signing function for keys whose seed is
 * not at hand (an HSM: docs/security.md §Keys); returns the entry and its exact leaf bytes.
 */
export function signEntry(
  crypto: CryptoSuite,
  unsigned: UnsignedEntry,
  key: Uint8Array | SignBytes,
): { entry: Entry; bytes: Uint8Array } {
  const message = signingMessage(unsigned);
  const sig = toBase64(typeof key === "function" ? key(message) : crypto.ed25519Sign(key, message));
  const entry: Entry = { ...unsigned, sig };
  const text = canonicalize(entry);
  const bytes = utf8(text);
  if (bytes.length > MAX_ENTRY_SIZE)
    throw new RadledgerError("ENTRY_TOO_LARGE", `entry is ${bytes.length} bytes; at most ${MAX_ENTRY_SIZE}`);
  checkEnvelope(entry as unknown as JsonValue);
  return { entry, bytes };
}

/** All leaf hashes an entry references, with the reference names. */
export function entryRefs(entry: Entry): { name: string; hash: string }[] {
  const out: { name: string; hash: string }[] = [];
  for (const [name, ref] of Object.entries(entry.refs ?? {})) {
    for (const hash of Array.isArray(ref) ? ref : [ref]) out.push({ name, hash });
  }
  return out;
}
