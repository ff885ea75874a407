/**
 * Verifying many inclusion proofs against one tree head: RFC 9162 §2.1.3.2, step by step, with a
 * memo of nodes already proven to lie on a path to the root.
 *
 * For a fixed tree size every node the algorithm computes, and every proof element, has a unique
 * position (level, index): the subtree over leaves [index·2^level, min((index+1)·2^level, size)).
 * Once one proof has verified, all its nodes and siblings are known to be the tree's. A later proof
 * that computes a known node must from then on carry exactly the known siblings above it; the
 * verifier compares those byte for byte instead of hashing them again. The verdict is the same as
 * the plain algorithm's (every element of every proof is still checked: hashed or compared); only the
 * repeated hashing of the shared upper path disappears, which matters for bundles with 10^5 entries.
 */
import type { CryptoSuite } from "../crypto.js";
import { bytesEqual } from "../bytes.js";
import { RadledgerError } from "../errors.js";
import { HASH_SIZE, nodeHash } from "../merkle/hash.js";

const key = (level: number, index: number): number => index * 64 + level;

export class InclusionVerifier {
  readonly #known = new Map<number, Uint8Array>();

  constructor(
    private readonly crypto: CryptoSuite,
    readonly size: number,
    readonly root: Uint8Array,
  ) {
    if (!Number.isSafeInteger(size) || size < 1 || size > 2 ** 47)
      throw new RadledgerError("TREE_SIZE_INVALID", `tree size ${size} out of range`);
  }

  /** Throws PROOF_WRONG_LENGTH, ROOT_MISMATCH, PROOF_INVALID or TREE_INDEX_OUT_OF_RANGE, as RFC 9162 verification fails. */
  verify(index: number, leaf: Uint8Array, proof: readonly Uint8Array[]): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size)
      throw new RadledgerError(
        "TREE_INDEX_OUT_OF_RANGE",
        `leaf index ${index} is not below tree size ${this.size}`,
        { index },
      );
    if (leaf.length !== HASH_SIZE) throw new RadledgerError("PROOF_INVALID", "leaf hash is not 32 bytes");
    for (let i = 0; i < proof.length; i++)
      if (proof[i]!.length !== HASH_SIZE)
        throw new RadledgerError("PROOF_INVALID", `proof[${i}] is not a 32-byte hash`, { at: `proof[${i}]` });
    const learned: [number, Uint8Array][] = [];
    let fn = index;
    let sn = this.size - 1;
    let level = 0;
    let r = leaf;
    let known = false; // r is a node already proven: compare siblings instead of hashing
    for (let k = 0; k < proof.length; k++) {
      if (sn === 0)
        throw new RadledgerError("PROOF_WRONG_LENGTH", "inclusion proof is longer than the tree allows");
      const p = proof[k]!;
      let siblingIndex: number;
      let left: boolean;
      if (fn % 2 === 1 || fn === sn) {
        // RFC step 4: on the right edge, the node rises without a sibling until it is a right child.
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
          level++;
        }
        siblingIndex = fn - 1;
        left = true;
      } else {
        siblingIndex = fn + 1;
        left = false;
      }
      const siblingKey = key(level, siblingIndex);
      if (known) {
        const expected = this.#known.get(siblingKey);
        if (expected === undefined) {
          known = false; // not memoised (cannot happen after a verified proof): hash from here on
        } else if (!bytesEqual(expected, p)) {
          throw new RadledgerError(
            "ROOT_MISMATCH",
            `inclusion proof for index ${index} does not lead to the root of size ${this.size} (hash ${k + 1} is not the tree's)`,
            { index },
          );
        }
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
      level++;
      if (known) continue;
      learned.push([siblingKey, p]);
      r = left ? nodeHash(this.crypto, p, r) : nodeHash(this.crypto, r, p);
      const nodeKey = key(level, fn);
      const proven = this.#known.get(nodeKey);
      if (proven !== undefined) {
        if (!bytesEqual(proven, r))
          throw new RadledgerError(
            "ROOT_MISMATCH",
            `inclusion proof for index ${index} does not lead to the root of size ${this.size}`,
            { index },
          );
        known = true;
      } else {
        learned.push([nodeKey, r]);
      }
    }
    if (sn !== 0)
      throw new RadledgerError("PROOF_WRONG_LENGTH", "inclusion proof is shorter than the tree requires");
    if (!known && !bytesEqual(r, this.root))
      throw new RadledgerError(
        "ROOT_MISMATCH",
        `inclusion proof for index ${index} does not lead to the root of size ${this.size}`,
        { index },
      );
    for (const [k, v] of learned) this.#known.set(k, v);
  }
}
