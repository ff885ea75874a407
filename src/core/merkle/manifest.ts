/**
 * Manifest roots: the RFC 9162 §2.1.1 Merkle tree hash over a set of 32-byte hashes, sorted bytewise
 * (as their lowercase hex sorts), duplicates removed, each hash one leaf. This is the construction of
 * study, timepoint and dataset manifests (docs/log-format.md, docs/bundle-format.md). A sealed dataset
 * version has 10^5 of them and its bundle verifier recomputes the root, so the pieces are exposed
 * separately: decoding, ordering, and the tree in aligned blocks that threads can share.
 */
import type { CryptoSuite } from "../crypto.js";
import { toHex } from "../bytes.js";
import { RadledgerError } from "../errors.js";
import { CompactRange } from "./compact-range.js";
import { emptyRoot, leafHash, nodeHash } from "./hash.js";

/** Digit value per character code of lowercase hex, -1 otherwise (manifests are lowercase). */
const LOWER_HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) LOWER_HEX["0123456789abcdef".charCodeAt(i)] = i;

/** Decodes 64 lowercase hex digits into out[offset, offset + 32); false (out partly written) otherwise. */
export function decodeHash(hex: string, out: Uint8Array, offset: number): boolean {
  if (hex.length !== 64) return false;
  for (let b = 0; b < 32; b++) {
    const hi = hex.charCodeAt(2 * b);
    const lo = hex.charCodeAt(2 * b + 1);
    const v = ((hi < 128 ? LOWER_HEX[hi]! : -1) << 4) | (lo < 128 ? LOWER_HEX[lo]! : -1);
    if (v < 0) return false;
    out[offset + b] = v;
  }
  return true;
}

/** Sort keys hold 32 bits of hash and the position below them, exactly, in a double. */
const KEY_POSITIONS = 2 ** 21;

function compareAt(a: Uint8Array, ao: number, b: Uint8Array, bo: number): number {
  for (let i = 0; i < 32; i++) if (a[ao + i] !== b[bo + i]) return a[ao + i]! - b[bo + i]!;
  return 0;
}

/**
 * Positions of the 32-byte hashes in `values` in bytewise order, each distinct hash once. Ordered by
 * a native numeric sort of (first 4 bytes · 2^21 + position), the rare equal prefixes then by their
 * whole bytes: several times faster than comparing 64-character strings.
 */
export function sortedUniqueOrder(values: Uint8Array): number[] {
  const n = values.length / 32;
  const cmp = (a: number, b: number): number => compareAt(values, 32 * a, values, 32 * b);
  let order: number[];
  if (n <= KEY_POSITIONS) {
    const keys = new Float64Array(n);
    const view = new DataView(values.buffer, values.byteOffset, values.byteLength);
    for (let i = 0; i < n; i++) keys[i] = view.getUint32(32 * i) * KEY_POSITIONS + i;
    keys.sort();
    order = Array.from(keys, (k) => k % KEY_POSITIONS);
    // Runs of equal 4-byte prefixes are in position order: put them in byte order.
    for (let s = 0; s < n;) {
      let e = s + 1;
      const prefix = Math.floor(keys[s]! / KEY_POSITIONS);
      while (e < n && Math.floor(keys[e]! / KEY_POSITIONS) === prefix) e++;
      if (e - s > 1) {
        const run = order.slice(s, e).sort(cmp);
        for (let k = s; k < e; k++) order[k] = run[k - s]!;
      }
      s = e;
    }
  } else order = Array.from({ length: n }, (_, i) => i).sort(cmp);
  const unique: number[] = [];
  for (const i of order) if (unique.length === 0 || cmp(unique[unique.length - 1]!, i) !== 0) unique.push(i);
  return unique;
}

/** The manifest's values: the hashes sorted, unique, 32 bytes each; undefined when one is not 64 lowercase hex digits. */
export function manifestLeaves(hashes: readonly string[]): Uint8Array | undefined {
  const raw = new Uint8Array(32 * hashes.length);
  for (let i = 0; i < hashes.length; i++) if (!decodeHash(hashes[i]!, raw, 32 * i)) return undefined;
  return gather(raw, sortedUniqueOrder(raw));
}

/** The 32-byte items of `from` at `order`, concatenated. */
export function gather(from: Uint8Array, order: readonly number[]): Uint8Array {
  const out = new Uint8Array(32 * order.length);
  order.forEach((i, k) => out.set(from.subarray(32 * i, 32 * i + 32), 32 * k));
  return out;
}

/**
 * Manifest root (hex) of a set of hex hashes; ENCODING_INVALID when one is not 64 lowercase hex
 * digits.
 */
export function manifestRootOf(crypto: CryptoSuite, hashes: readonly string[]): string {
  const values = manifestLeaves(hashes);
  if (!values) throw new RadledgerError("ENCODING_INVALID", "a manifest holds 64-digit lowercase hex hashes");
  return toHex(merkleRootOfHashes(crypto, values));
}

/** RFC 9162 MTH with each 32-byte hash of `hashes`, in order, as one leaf. */
export function merkleRootOfHashes(crypto: CryptoSuite, hashes: Uint8Array): Uint8Array {
  return merkleRootFromBlocks(crypto, [], hashes);
}

/**
 * The tree hash in parts, so that threads can share it: every aligned block of 2^m leaves is a
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
