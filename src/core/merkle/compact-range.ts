/**
 * The right edge of a growing tree: the roots of the perfect subtrees that make up a tree of `size`
 * leaves (one per set bit of size, largest first). Appending a leaf merges equal-sized subtrees, and
 * every perfect node this creates is reported once, so a store can persist exactly the nodes that
 * proofs and tiles need. This is the "compact range" of transparency-dev/merkle, written from its
 * definition.
 */
import type { CryptoSuite } from "../crypto.js";
import { RadledgerError } from "../errors.js";
import { emptyRoot, HASH_SIZE, nodeHash } from "./hash.js";
import { assertTreeSize, bitSet, shiftRight } from "./math.js";

export type NodeSink = (level: number, index: number, hash: Uint8Array) => void;

export class CompactRange {
  #size: number;
  readonly #hashes: Uint8Array[];

  /** `hashes` are the perfect subtree roots of a tree of `size`, largest first. */
  constructor(
    private readonly crypto: CryptoSuite,
    size = 0,
    hashes: readonly Uint8Array[] = [],
  ) {
    assertTreeSize(size);
    let expected = 0;
    for (let bit = 0; bit < 53; bit++) if (bitSet(size, bit)) expected++;
    if (hashes.length !== expected || hashes.some((h) => h.length !== HASH_SIZE)) {
      throw new RadledgerError("STORE_CORRUPT", `compact range for size ${size} needs ${expected} hashes`);
    }
    this.#size = size;
    this.#hashes = hashes.map((h) => h.slice());
  }

  get size(): number {
    return this.#size;
  }

  /** The perfect subtree roots, largest first. */
  get hashes(): readonly Uint8Array[] {
    return this.#hashes;
  }

  /** Adds one leaf hash; `sink` receives the leaf (level 0) and every perfect node completed by it. */
  append(leaf: Uint8Array, sink?: NodeSink): void {
    let index = this.#size;
    let level = 0;
    let hash = leaf;
    sink?.(0, index, leaf);
    while (bitSet(this.#size, level)) {
      const left = this.#hashes.pop()!;
      hash = nodeHash(this.crypto, left, hash);
      level++;
      index = shiftRight(index);
      sink?.(level, index, hash);
    }
    this.#hashes.push(hash);
    this.#size++;
  }

  /** MTH of the whole tree: fold the subtree roots from the right (RFC 9162 §2.1.1). */
  root(): Uint8Array {
    if (this.#size === 0) return emptyRoot(this.crypto);
    let root = this.#hashes[this.#hashes.length - 1]!;
    for (let i = this.#hashes.length - 2; i >= 0; i--) root = nodeHash(this.crypto, this.#hashes[i]!, root);
    return root;
  }

  clone(): CompactRange {
    return new CompactRange(this.crypto, this.#size, this.#hashes);
  }
}
