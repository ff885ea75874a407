/**
 * Proof generation (RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF/SUBPROOF) over any source of perfect
 * subtree hashes. A perfect subtree is addressed as (level, index): it covers leaves
 * [index·2^level, (index+1)·2^level). Stores keep those hashes (in tiles); proof elements that are
 * not perfect subtrees — the ragged right edge — are combined here from perfect ones, following the
 * MTH definition of RFC 9162 §2.1.1 exactly.
 *
 * Generation is split in two so that remote clients can fetch what they need first: the *ranges*
 * each proof element covers, and the perfect nodes each range needs.
 */
import type { CryptoSuite } from "../crypto.js";
import { RadledgerError } from "../errors.js";
import { emptyRoot, nodeHash } from "./hash.js";
import { assertTreeSize, isPowerOfTwo, largestPowerOfTwoBelow, log2Exact } from "./math.js";

export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Returns the hash of a perfect subtree; a store throws if it does not hold it. */
export type NodeSource = (level: number, index: number) => Uint8Array;

/** A half-open leaf range [start, end) whose Merkle Tree Hash is one proof element. */
export type LeafRange = readonly [start: number, end: number];

/** Ranges of the inclusion proof PATH(index, D[0:size]), in proof order. */
export function inclusionProofRanges(index: number, size: number): LeafRange[] {
  assertTreeSize(size);
  assertTreeSize(index, "leaf index");
  if (index >= size)
    throw new RadledgerError(
      "TREE_INDEX_OUT_OF_RANGE",
      `leaf index ${index} is not below tree size ${size}`,
      { index },
    );
  const out: LeafRange[] = [];
  // Iterative form of PATH(m, D[a:b]): descend to the leaf, remembering siblings, then reverse so
  // that the deepest sibling comes first, as PATH(m, D[0:k]) : MTH(D[k:n]) orders them.
  let a = 0;
  let b = size;
  while (b - a > 1) {
    const k = largestPowerOfTwoBelow(b - a);
    if (index - a < k) {
      out.push([a + k, b]);
      b = a + k;
    } else {
      out.push([a, a + k]);
      a = a + k;
    }
  }
  return out.reverse();
}

/** Ranges of the consistency proof PROOF(first, D[0:second]), in proof order; empty when first is 0 or equal. */
export function consistencyProofRanges(first: number, second: number): LeafRange[] {
  assertTreeSize(first, "first size");
  assertTreeSize(second, "second size");
  if (first > second)
    throw new RadledgerError("TREE_SIZE_INVALID", `first size ${first} is larger than second size ${second}`);
  if (first === 0 || first === second) return [];
  const out: LeafRange[] = [];
  // SUBPROOF(m, D[a:b], startFromOldRoot), iteratively.
  let m = first;
  let a = 0;
  let b = second;
  let fromOldRoot = true;
  while (true) {
    const n = b - a;
    if (m === n) {
      if (!fromOldRoot) out.push([a, b]);
      break;
    }
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) {
      out.push([a + k, b]);
      b = a + k;
    } else {
      out.push([a, a + k]);
      m -= k;
      a = a + k;
      fromOldRoot = false;
    }
  }
  return out.reverse();
}

/** The perfect subtrees whose hashes determine MTH(D[start:end]), left to right. */
export function perfectNodesOfRange(start: number, end: number): NodeId[] {
  const out: NodeId[] = [];
  const visit = (a: number, b: number): void => {
    const n = b - a;
    if (isPowerOfTwo(n) && a % n === 0) {
      out.push({ level: log2Exact(n), index: a / n });
      return;
    }
    const k = largestPowerOfTwoBelow(n);
    visit(a, a + k);
    visit(a + k, b);
  };
  if (end <= start) throw new RadledgerError("TREE_SIZE_INVALID", "empty leaf range");
  visit(start, end);
  return out;
}

/** MTH(D[start:end]) as RFC 9162 §2.1.1 defines it, from perfect subtree hashes. */
export function rangeHash(crypto: CryptoSuite, start: number, end: number, nodes: NodeSource): Uint8Array {
  const n = end - start;
  if (n <= 0) throw new RadledgerError("TREE_SIZE_INVALID", "empty leaf range");
  if (isPowerOfTwo(n) && start % n === 0) return nodes(log2Exact(n), start / n);
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(
    crypto,
    rangeHash(crypto, start, start + k, nodes),
    rangeHash(crypto, start + k, end, nodes),
  );
}

export function treeRoot(crypto: CryptoSuite, size: number, nodes: NodeSource): Uint8Array {
  assertTreeSize(size);
  return size === 0 ? emptyRoot(crypto) : rangeHash(crypto, 0, size, nodes);
}

export function inclusionProof(
  crypto: CryptoSuite,
  index: number,
  size: number,
  nodes: NodeSource,
): Uint8Array[] {
  return inclusionProofRanges(index, size).map(([a, b]) => rangeHash(crypto, a, b, nodes));
}

export function consistencyProof(
  crypto: CryptoSuite,
  first: number,
  second: number,
  nodes: NodeSource,
): Uint8Array[] {
  return consistencyProofRanges(first, second).map(([a, b]) => rangeHash(crypto, a, b, nodes));
}
