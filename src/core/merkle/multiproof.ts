/**
 * A multi-leaf inclusion proof: the fewest subtree hashes that, with the leaf hashes of a set of
 * indexes, determine the root of a tree of `size` leaves (docs/bundle-format.md §2). RFC 9162 defines
 * proofs for one leaf; a bundle proves 10^5 leaves against one checkpoint, and per-leaf paths repeat
 * their upper nodes once per leaf. This proof carries each needed node once and the verifier hashes
 * each inner node once.
 *
 * Definition, over RFC 9162 §2.1.1 MTH and its split k (the largest power of two below n): for a leaf
 * range D[lo:hi] and the sorted indexes S,
 *
 *   NODES(lo, hi) = []                                    if hi − lo = 1 and lo ∈ S
 *                 = [MTH(D[lo:hi])]                       if no index of S is in [lo, hi)
 *                 = NODES(lo, lo+k) ‖ NODES(lo+k, hi)     otherwise
 *
 * and the proof is NODES(0, size): left to right. The verifier evaluates the same recursion, taking
 * the next proof hash where no index falls, the leaf hash at an index, and SHA-256(0x01 ‖ left ‖
 * right) otherwise; the proof is valid when every hash is used and the result is the root. For one
 * index the proof holds exactly the RFC 9162 inclusion path, left to right instead of bottom-up.
 * Every node is a subtree of the RFC 9162 tree, so a second preimage of the root would be a SHA-256
 * collision, as for single inclusion proofs.
 */
import type { CryptoSuite } from "../crypto.js";
import { bytesEqual } from "../bytes.js";
import { RadledgerError } from "../errors.js";
import { HASH_SIZE, nodeHash } from "./hash.js";
import { assertTreeSize, largestPowerOfTwoBelow } from "./math.js";
import { rangeHash, type LeafRange, type NodeSource } from "./prove.js";

/** Strictly ascending indexes below size, or a coded error (the indexes come from the bundle's manifest). */
function checkIndexes(indexes: readonly number[], size: number): void {
  assertTreeSize(size);
  if (indexes.length === 0) throw new RadledgerError("PROOF_INVALID", "a multi-leaf proof needs leaves");
  let previous = -1;
  for (const i of indexes) {
    if (!Number.isSafeInteger(i) || i <= previous)
      throw new RadledgerError("PROOF_INVALID", "leaf indexes must be strictly ascending integers");
    previous = i;
  }
  if (previous >= size)
    throw new RadledgerError(
      "TREE_INDEX_OUT_OF_RANGE",
      `leaf index ${previous} is not below tree size ${size}`,
      { index: previous },
    );
}

/** First position p in [a, b) with indexes[p] ≥ bound (b when none): binary search. */
function firstAtLeast(indexes: readonly number[], a: number, b: number, bound: number): number {
  let lo = a;
  let hi = b;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (indexes[mid]! < bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The leaf ranges whose MTH form the proof NODES(0, size), in proof order. */
export function multiInclusionProofRanges(indexes: readonly number[], size: number): LeafRange[] {
  checkIndexes(indexes, size);
  const out: LeafRange[] = [];
  // indexes[a..b) are exactly the indexes within [lo, hi).
  const visit = (lo: number, hi: number, a: number, b: number): void => {
    if (a === b) {
      out.push([lo, hi]);
      return;
    }
    if (hi - lo === 1) return;
    const k = largestPowerOfTwoBelow(hi - lo);
    const m = firstAtLeast(indexes, a, b, lo + k);
    visit(lo, lo + k, a, m);
    visit(lo + k, hi, m, b);
  };
  visit(0, size, 0, indexes.length);
  return out;
}

export function multiInclusionProof(
  crypto: CryptoSuite,
  indexes: readonly number[],
  size: number,
  nodes: NodeSource,
): Uint8Array[] {
  return multiInclusionProofRanges(indexes, size).map(([a, b]) => rangeHash(crypto, a, b, nodes));
}

/**
 * The root that `proof` implies for the leaves `leafHashes` (32 bytes per index, in index order) at
 * `indexes` in a tree of `size`. Throws PROOF_WRONG_LENGTH when the proof has too few or too many
 * hashes, PROOF_INVALID or TREE_INDEX_OUT_OF_RANGE for malformed input.
 */
export function rootFromMultiInclusionProof(
  crypto: CryptoSuite,
  indexes: readonly number[],
  size: number,
  leafHashes: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkIndexes(indexes, size);
  if (leafHashes.length !== HASH_SIZE * indexes.length)
    throw new RadledgerError("PROOF_INVALID", "one 32-byte leaf hash per index is required");
  for (let i = 0; i < proof.length; i++)
    if (proof[i]!.length !== HASH_SIZE)
      throw new RadledgerError("PROOF_INVALID", `proof[${i}] is not a 32-byte hash`, { at: `proof[${i}]` });
  let used = 0;
  const rootOf = (lo: number, hi: number, a: number, b: number): Uint8Array => {
    if (a === b) {
      if (used >= proof.length)
        throw new RadledgerError(
          "PROOF_WRONG_LENGTH",
          `the inclusion proof has ${proof.length} hashes; the tree needs more`,
        );
      return proof[used++]!;
    }
    if (hi - lo === 1) return leafHashes.subarray(HASH_SIZE * a, HASH_SIZE * a + HASH_SIZE);
    const k = largestPowerOfTwoBelow(hi - lo);
    const m = firstAtLeast(indexes, a, b, lo + k);
    return nodeHash(crypto, rootOf(lo, lo + k, a, m), rootOf(lo + k, hi, m, b));
  };
  const root = rootOf(0, size, 0, indexes.length);
  if (used !== proof.length)
    throw new RadledgerError(
      "PROOF_WRONG_LENGTH",
      `the inclusion proof has ${proof.length} hashes; the tree needs ${used}`,
    );
  return root;
}

/** Throws ROOT_MISMATCH unless the leaves and the proof lead to `root` (and the errors above). */
export function verifyMultiInclusion(
  crypto: CryptoSuite,
  indexes: readonly number[],
  size: number,
  leafHashes: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromMultiInclusionProof(crypto, indexes, size, leafHashes, proof);
  if (!bytesEqual(computed, root))
    throw new RadledgerError(
      "ROOT_MISMATCH",
      `the leaves and the inclusion proof do not lead to the root of size ${size}`,
    );
}
