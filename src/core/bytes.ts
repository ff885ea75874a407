/**
 * Byte helpers that work the same in Node and browsers (no Buffer): hex, standard base64 (RFC 4648
 * §4, as C2SP notes use), UTF-8, concatenation and comparison.
 */
import { RadledgerError } from "./errors.js";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, refusing invalid sequences (hostile input must not be silently repaired). */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    throw new RadledgerError("ENCODING_INVALID", "bytes are not valid UTF-8");
  }
}

const HEX = "0123456789abcdef";
/** Per byte value, its two hex digits as character codes (high digit in the low 8 bits). */
const HEX_PAIRS = new Uint16Array(256);
for (let i = 0; i < 256; i++) HEX_PAIRS[i] = HEX.charCodeAt(i >> 4) | (HEX.charCodeAt(i & 15) << 8);
/** Digit value per character code, -1 for non-hex characters. */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUES[HEX.charCodeAt(i)] = i;
  HEX_VALUES[HEX.toUpperCase().charCodeAt(i)] = i;
}
const asciiDecoder = new TextDecoder();
const hexScratch = new Uint8Array(128);

/**
 * Lowercase hex. The digits are written as ASCII bytes and decoded at once: this is several times
 * faster than joining two-character strings, and gives a flat string, which is cheaper again as a
 * Map key (leaf hashes are looked up by hex 10^5 times per bundle).
 */
export function toHex(bytes: Uint8Array): string {
  const n = bytes.length;
  const out = 2 * n <= hexScratch.length ? hexScratch.subarray(0, 2 * n) : new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    const pair = HEX_PAIRS[bytes[i]!]!;
    out[2 * i] = pair & 0xff;
    out[2 * i + 1] = pair >> 8;
  }
  return asciiDecoder.decode(out);
}

/** Lowercase or uppercase hex of even length; anything else is ENCODING_INVALID. */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new RadledgerError("ENCODING_INVALID", "not a hex string of even length");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const h = hex.charCodeAt(2 * i);
    const l = hex.charCodeAt(2 * i + 1);
    const hv = h < 128 ? HEX_VALUES[h]! : -1;
    const lv = l < 128 ? HEX_VALUES[l]! : -1;
    if ((hv | lv) < 0) throw new RadledgerError("ENCODING_INVALID", "not a hex string of even length");
    out[i] = (hv << 4) | lv;
  }
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_REVERSE = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_REVERSE[B64.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + "==";
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + "=";
  }
  return out;
}

/**
 * Strict standard base64 with padding (RFC 4648 §4). Non-canonical encodings (non-zero pad bits,
 * missing padding, whitespace) are refused so that one value has exactly one text form — a signed
 * note or proof that differs in a byte must not decode to the same bytes.
 */
export function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0)
    throw new RadledgerError("ENCODING_INVALID", "base64 length is not a multiple of 4");
  const pad = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const outLength = (text.length / 4) * 3 - pad;
  const out = new Uint8Array(outLength);
  const dataEnd = text.length - pad;
  let o = 0;
  let group = 0;
  for (let i = 0; i < text.length; i += 4) {
    group = 0;
    for (let j = 0; j < 4; j++) {
      let v = 0;
      if (i + j < dataEnd) {
        const c = text.charCodeAt(i + j);
        v = c < 128 ? B64_REVERSE[c]! : -1;
        if (v < 0) throw new RadledgerError("ENCODING_INVALID", "invalid base64 character");
      }
      group = (group << 6) | v;
    }
    if (o < outLength) out[o++] = (group >> 16) & 255;
    if (o < outLength) out[o++] = (group >> 8) & 255;
    if (o < outLength) out[o++] = group & 255;
  }
  const leftoverBits = pad === 2 ? group & 0xffff : pad === 1 ? group & 0xff : 0;
  if (leftoverBits !== 0) throw new RadledgerError("ENCODING_INVALID", "non-canonical base64 padding bits");
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Lexicographic byte order, used to sort hashes (e.g. study manifests). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Big-endian unsigned 64-bit encoding of a safe integer (tlog-cosignature timestamps). */
export function uint64BE(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RadledgerError("INPUT_INVALID", "uint64 out of range");
  const out = new Uint8Array(8);
  const high = Math.floor(value / 2 ** 32);
  const low = value >>> 0;
  new DataView(out.buffer).setUint32(0, high);
  new DataView(out.buffer).setUint32(4, low);
  return out;
}

export function readUint64BE(bytes: Uint8Array, offset = 0): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  const value = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
  if (!Number.isSafeInteger(value)) throw new RadledgerError("INPUT_INVALID", "uint64 beyond 2^53");
  return value;
}
