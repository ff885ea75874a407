/**
 * Payload checks of a bundle (docs/bundle-format.md §1.2–1.3, §4 step 5): a disclosure opens the
 * commitment an entry carries (SHA-256 of salt ‖ canonical content), a file or DICOM instance hashes
 * to its name, an image set's instances hash to its manifest root, and each payload is bound to a
 * hash some entry of the bundle commits to. The payload bytes are the exporter's; the hashes the
 * signed entries'.
 */
import type { CryptoSuite } from "../crypto.js";
import { fromBase64, fromUtf8, toHex } from "../bytes.js";
import { canonicalBytes, parseCanonicalText, type JsonValue } from "../canonical-json.js";
import { RadledgerError } from "../errors.js";
import { CompactRange } from "../merkle/compact-range.js";
import { emptyRoot, leafHash, nodeHash } from "../merkle/hash.js";

const HEX64 = /^[0-9a-f]{64}$/;

/** Hex hashes in an entry body, with the member name that holds each (for payload bindings). */
export function collectHashes(
  value: JsonValue,
  name: string,
  out: (hash: string, field: string) => void,
): void {
  if (typeof value === "string") {
    if (value.length === 64 && HEX64.test(value)) out(value, name);
  } else if (Array.isArray(value)) {
    for (const v of value) collectHashes(v, name, out);
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collectHashes(v, k, out);
  }
}

export const isCommitmentField = (field: string): boolean =>
  field.endsWith("Commitment") || field === "measurements";

/**
 * Manifest root of a set of 32-byte hashes (hex): RFC 9162 Merkle tree hash over them sorted bytewise,
 * duplicates removed, each as one leaf (the construction of study, timepoint and dataset manifests).
 */
export function manifestRootOf(crypto: CryptoSuite, hashes: readonly string[]): string {
  const leaves = manifestLeaves(hashes);
  if (!leaves) throw new RadledgerError("ENCODING_INVALID", "a manifest holds 64-digit lowercase hex hashes");
  return toHex(merkleRootOfHashes(crypto, leaves));
}

/** Digit value per character code of lowercase hex, -1 otherwise (manifests are lowercase). */
const LOWER_HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) LOWER_HEX["0123456789abcdef".charCodeAt(i)] = i;
/** Sort keys hold 32 bits of hash and the position below them, exactly, in a double. */
const KEY_POSITIONS = 2 ** 21;

/**
 * The manifest's leaves: the hashes sorted bytewise (as lowercase hex sorts), unique, 32 bytes each;
 * undefined when one is not 64 lowercase hex digits. A sealed dataset has 10^5 of them, so they are
 * decoded once and ordered by a native numeric sort of (first 4 bytes · 2^21 + position), with the
 * rare equal prefixes then ordered by their whole bytes, instead of comparing 64-character strings.
 */
export function manifestLeaves(hashes: readonly string[]): Uint8Array | undefined {
  const n = hashes.length;
  const raw = new Uint8Array(32 * n);
  for (let i = 0; i < n; i++) {
    const h = hashes[i]!;
    if (h.length !== 64) return undefined;
    for (let b = 0; b < 32; b++) {
      const hi = h.charCodeAt(2 * b);
      const lo = h.charCodeAt(2 * b + 1);
      const v = ((hi < 128 ? LOWER_HEX[hi]! : -1) << 4) | (lo < 128 ? LOWER_HEX[lo]! : -1);
      if (v < 0) return undefined;
      raw[32 * i + b] = v;
    }
  }
  const at = (i: number): Uint8Array => raw.subarray(32 * i, 32 * i + 32);
  let order: number[];
  if (n <= KEY_POSITIONS) {
    const keys = new Float64Array(n);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) keys[i] = view.getUint32(32 * i) * KEY_POSITIONS + i;
    keys.sort();
    order = Array.from(keys, (k) => k % KEY_POSITIONS);
    // Runs of equal 4-byte prefixes are in position order: put them in byte order.
    for (let s = 0; s < n;) {
      let e = s + 1;
      const prefix = Math.floor(keys[s]! / KEY_POSITIONS);
      while (e < n && Math.floor(keys[e]! / KEY_POSITIONS) === prefix) e++;
      if (e - s > 1) {
        const run = order.slice(s, e).sort((a, b) => compareBytes(at(a), at(b)));
        for (let k = s; k < e; k++) order[k] = run[k - s]!;
      }
      s = e;
    }
  } else order = Array.from({ length: n }, (_, i) => i).sort((a, b) => compareBytes(at(a), at(b)));
  const out = new Uint8Array(32 * n);
  let count = 0;
  for (const i of order) {
    if (count > 0 && compareBytes(at(i), out.subarray(32 * (count - 1), 32 * count)) === 0) continue;
    out.set(at(i), 32 * count++);
  }
  return out.subarray(0, 32 * count);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** RFC 9162 MTH with each 32-byte hash of `hashes`, in order, as one leaf. */
export function merkleRootOfHashes(crypto: CryptoSuite, hashes: Uint8Array): Uint8Array {
  return merkleRootFromBlocks(crypto, [], hashes);
}

/**
 * The same tree hash in parts, so that threads can share it: every aligned block of 2^m leaves is a
 * perfect subtree of the tree (RFC 9162 §2.1.1 splits at powers of two), so the roots of the full
 * blocks can be computed apart and merged as the nodes of level m (merkleRootFromBlocks).
 * `hashes` holds whole blocks of `blockLeaves` (a power of two) 32-byte hashes; the result is one
 * 32-byte root per block, concatenated.
 */
export function merkleBlockRoots(crypto: CryptoSuite, hashes: Uint8Array, blockLeaves: number): Uint8Array {
  const blockBytes = 32 * blockLeaves;
  if (blockLeaves < 1 || (blockLeaves & (blockLeaves - 1)) !== 0 || hashes.length % blockBytes !== 0)
    throw new RadledgerError("INTERNAL", "merkleBlockRoots needs whole blocks of a power of two leaves");
  const roots = new Uint8Array(hashes.length / blockLeaves);
  for (let b = 0; b * blockBytes < hashes.length; b++) {
    const range = new CompactRange(crypto);
    for (let o = b * blockBytes; o < (b + 1) * blockBytes; o += 32)
      range.append(leafHash(crypto, hashes.subarray(o, o + 32)));
    roots.set(range.hashes[0]!, 32 * b);
  }
  return roots;
}

/**
 * MTH of the leaves whose full blocks have the roots `blockRoots` (in order, all of one power-of-two
 * size) followed by the leaves of `rest` (fewer than a block, hashed here). The perfect subtrees the
 * block roots merge into, then those of `rest`, are the tree's compact range, folded from the right.
 */
export function merkleRootFromBlocks(
  crypto: CryptoSuite,
  blockRoots: readonly Uint8Array[],
  rest: Uint8Array,
): Uint8Array {
  const blocks = new CompactRange(crypto);
  for (const r of blockRoots) blocks.append(r);
  const tail = new CompactRange(crypto);
  for (let o = 0; o < rest.length; o += 32) tail.append(leafHash(crypto, rest.subarray(o, o + 32)));
  const subtrees = [...blocks.hashes, ...tail.hashes];
  if (subtrees.length === 0) return emptyRoot(crypto);
  let root = subtrees[subtrees.length - 1]!;
  for (let i = subtrees.length - 2; i >= 0; i--) root = nodeHash(crypto, subtrees[i]!, root);
  return root;
}

export function checkDisclosure(
  crypto: CryptoSuite,
  commitment: string,
  bytes: Uint8Array,
  path: string,
): void {
  let value: JsonValue;
  try {
    value = parseCanonicalText(fromUtf8(bytes));
  } catch (e) {
    throw new RadledgerError(
      "BUNDLE_MALFORMED",
      `not canonical JSON (${e instanceof Error ? e.message : String(e)})`,
      { at: path },
    );
  }
  if (
    typeof value !== "object" ||
    Array.isArray(value) ||
    Object.keys(value).length !== 2 ||
    typeof value.salt !== "string" ||
    value.content === undefined
  )
    throw new RadledgerError("BUNDLE_MALFORMED", 'a disclosure is {"content": …, "salt": "<base64>"}', {
      at: path,
    });
  let salt: Uint8Array;
  try {
    salt = fromBase64(value.salt);
  } catch {
    throw new RadledgerError("BUNDLE_MALFORMED", "salt is not canonical base64", { at: path });
  }
  if (salt.length !== 32) throw new RadledgerError("BUNDLE_MALFORMED", "salt is not 32 bytes", { at: path });
  const computed = toHex(crypto.sha256Parts(salt, canonicalBytes(value.content)));
  if (computed !== commitment)
    throw new RadledgerError("COMMITMENT_MISMATCH", "content and salt do not hash to the commitment", {
      at: path,
    });
}
