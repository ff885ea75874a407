/**
 * Proof verification exactly as RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency) describe it,
 * step by step — including step 2 of the consistency algorithm (prepend the first root when the first
 * size is a power of two), which some public verifiers skip and then reject valid proofs.
 *
 * Inputs come from untrusted parties (proof JSON from a server, a bundle file): every failure is a
 * coded RadledgerError, never an exception from out-of-range array access.
 */
import type { CryptoSuite } from "../crypto.js";
import { bytesEqual } from "../bytes.js";
import { RadledgerError } from "../errors.js";
import { HASH_SIZE, nodeHash } from "./hash.js";
import { assertTreeSize, isOdd, isPowerOfTwo, shiftRight } from "./math.js";

function checkHashes(hashes: readonly Uint8Array[], what: string): void {
  for (let i = 0; i < hashes.length; i++) {
    if (hashes[i]!.length !== HASH_SIZE)
      throw new RadledgerError("PROOF_INVALID", `${what}[${i}] is not a 32-byte hash`, {
        at: `${what}[${i}]`,
      });
  }
}

/** RFC 9162 §2.1.3.2: the root that `proof` implies for `leaf` at `index` in a tree of `size`. */
export function rootFromInclusionProof(
  crypto: CryptoSuite,
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  assertTreeSize(size);
  assertTreeSize(index, "leaf index");
  if (leaf.length !== HASH_SIZE) throw new RadledgerError("PROOF_INVALID", "leaf hash is not 32 bytes");
  checkHashes(proof, "proof");
  // Step 1.
  if (index >= size)
    throw new RadledgerError(
      "TREE_INDEX_OUT_OF_RANGE",
      `leaf index ${index} is not below tree size ${size}`,
      { index },
    );
  // Steps 2–3.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  // Step 4.
  for (const p of proof) {
    if (sn === 0)
      throw new RadledgerError("PROOF_WRONG_LENGTH", "inclusion proof is longer than the tree allows");
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(crypto, p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = shiftRight(fn);
          sn = shiftRight(sn);
        }
      }
    } else {
      r = nodeHash(crypto, r, p);
    }
    fn = shiftRight(fn);
    sn = shiftRight(sn);
  }
  // Step 5 (first half): sn must have reached 0.
  if (sn !== 0)
    throw new RadledgerError("PROOF_WRONG_LENGTH", "inclusion proof is shorter than the tree requires");
  return r;
}

export function verifyInclusion(
  crypto: CryptoSuite,
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(crypto, index, size, leaf, proof);
  // Step 5 (second half).
  if (!bytesEqual(computed, root))
    throw new RadledgerError(
      "ROOT_MISMATCH",
      `inclusion proof for index ${index} does not lead to the root of size ${size}`,
      { index },
    );
}

/**
 * RFC 9162 §2.1.4.2. The RFC defines proofs for 0 < first < second; the two degenerate cases every
 * deployed verifier accepts are handled first: equal sizes need an empty proof and equal roots, and
 * an empty first tree is consistent with anything given an empty proof.
 */
export function verifyConsistency(
  crypto: CryptoSuite,
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  assertTreeSize(first, "first size");
  assertTreeSize(second, "second size");
  if (firstRoot.length !== HASH_SIZE || secondRoot.length !== HASH_SIZE)
    throw new RadledgerError("PROOF_INVALID", "roots must be 32-byte hashes");
  checkHashes(proof, "proof");
  if (first > second)
    throw new RadledgerError("TREE_SIZE_INVALID", `first size ${first} is larger than second size ${second}`);
  if (first === second) {
    if (proof.length !== 0)
      throw new RadledgerError("PROOF_WRONG_LENGTH", "consistency proof between equal sizes must be empty");
    if (!bytesEqual(firstRoot, secondRoot))
      throw new RadledgerError("ROOT_MISMATCH", `two different roots for size ${first}`);
    return;
  }
  if (first === 0) {
    if (proof.length !== 0)
      throw new RadledgerError("PROOF_WRONG_LENGTH", "consistency proof from the empty tree must be empty");
    return;
  }
  const { fr, sr } = consistencyProofRoots(crypto, first, second, firstRoot, proof);
  if (!bytesEqual(fr, firstRoot))
    throw new RadledgerError("ROOT_MISMATCH", `consistency proof does not lead to the root of size ${first}`);
  if (!bytesEqual(sr, secondRoot))
    throw new RadledgerError(
      "ROOT_MISMATCH",
      `consistency proof does not lead to the root of size ${second}`,
    );
}

/**
 * Steps 1–7 of RFC 9162 §2.1.4.2 for 0 < first < second, without the final comparisons: the two
 * roots (fr, sr) that `proof` implies. When `first` is not a power of two, fr does not depend on
 * `firstRoot` (step 2 prepends it only for powers of two), so the proof itself names the root of the
 * size-`first` prefix of the tree whose root is sr — which is how equivocation evidence shows that a
 * log rewrote its history (src/core/evidence.ts). Throws PROOF_WRONG_LENGTH on a malformed path.
 */
export function consistencyProofRoots(
  crypto: CryptoSuite,
  first: number,
  second: number,
  firstRoot: Uint8Array,
  proof: readonly Uint8Array[],
): { fr: Uint8Array; sr: Uint8Array } {
  assertTreeSize(first, "first size");
  assertTreeSize(second, "second size");
  checkHashes(proof, "proof");
  if (!(0 < first && first < second))
    throw new RadledgerError("TREE_SIZE_INVALID", "consistency proof roots need 0 < first < second");
  // Step 1.
  if (proof.length === 0) throw new RadledgerError("PROOF_WRONG_LENGTH", "consistency proof is empty");
  // Step 2.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  // Step 3.
  let fn = first - 1;
  let sn = second - 1;
  // Step 4.
  if (isOdd(fn)) {
    while (isOdd(fn)) {
      fn = shiftRight(fn);
      sn = shiftRight(sn);
    }
  }
  // Step 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // Step 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0)
      throw new RadledgerError("PROOF_WRONG_LENGTH", "consistency proof is longer than the trees allow");
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(crypto, c, fr);
      sr = nodeHash(crypto, c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = shiftRight(fn);
          sn = shiftRight(sn);
        }
      }
    } else {
      sr = nodeHash(crypto, sr, c);
    }
    fn = shiftRight(fn);
    sn = shiftRight(sn);
  }
  // Step 7 (first part).
  if (sn !== 0)
    throw new RadledgerError("PROOF_WRONG_LENGTH", "consistency proof is shorter than the trees require");
  return { fr, sr };
}
