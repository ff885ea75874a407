/**
 * A deliberately naive RFC 9162 §2.1.1 / §2.1.3.1 / §2.1.4.1 implementation, transcribed from the
 * recursive definitions with no tiles and no iteration tricks (results are memoised per subtree,
 * nothing else). It is the oracle that property tests compare the real core (src/core/merkle) and
 * the on-chain verifier (contracts/RadledgerConsortium.sol) against; verification is the core's.
 */
import { nobleCrypto } from "../../src/core/crypto-noble.js";

const sha = (...parts: Uint8Array[]): Uint8Array => nobleCrypto.sha256Parts(...parts);

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)). */
export function refLeafHash(entry: Uint8Array): Uint8Array {
  return sha(new Uint8Array([0]), entry);
}

/** k, the largest power of two smaller than n (n > 1). */
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * MTH, PATH and PROOF over the leaf hashes `leaf(i)`. Sizes are JS numbers (exact up to 2^53); no
 * bitwise operators.
 *
 * `opaque(lo, hi)`, when given, may return the root of a perfect subtree D[lo:hi] directly instead of
 * computing it from its leaves. A verifier only combines the hashes it is given, so a tree whose
 * untouched perfect subtrees have arbitrary (but fixed) roots is indistinguishable from one with real
 * leaves: this lets tests prove consistency between trees of 10^6..10^12 leaves (see `sparse`).
 */
export class RefTree {
  readonly #memo = new Map<string, Uint8Array>();

  constructor(
    private readonly leaf: (index: number) => Uint8Array,
    private readonly opaque?: (lo: number, hi: number) => Uint8Array | undefined,
  ) {}

  static fromEntries(entries: readonly Uint8Array[]): RefTree {
    return RefTree.fromLeafHashes(entries.map(refLeafHash));
  }

  static fromLeafHashes(hashes: readonly Uint8Array[]): RefTree {
    return new RefTree((i) => {
      const h = hashes[i];
      if (h === undefined) throw new RangeError(`leaf ${i} out of range (${hashes.length} leaves)`);
      return h;
    });
  }

  /**
   * A virtual tree of any size in which every perfect subtree that no size in `boundaries` cuts
   * through is opaque (a fixed pseudo-random root labelled by `seed`): roots and consistency proofs
   * for the sizes in `boundaries` then cost O(log n) hashes.
   */
  static sparse(boundaries: readonly number[], seed = "radledger"): RefTree {
    const label = new TextEncoder().encode(seed);
    const u64 = (x: number): Uint8Array => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(x));
      return b;
    };
    return new RefTree(
      (i) => refLeafHash(new Uint8Array([...label, ...u64(i)])),
      (lo, hi) => {
        if (hi - lo < 2 || !isPowerOfTwo(hi - lo)) return undefined;
        if (boundaries.some((b) => lo < b && b < hi)) return undefined;
        return sha(new TextEncoder().encode("opaque subtree "), label, u64(lo), u64(hi));
      },
    );
  }

  /** MTH(D[lo:hi]). */
  hash(lo: number, hi: number): Uint8Array {
    const n = hi - lo;
    if (n === 0) return sha(new Uint8Array(0));
    if (n === 1) return this.leaf(lo);
    const key = `${lo}:${hi}`;
    const cached = this.#memo.get(key);
    if (cached) return cached;
    let h = this.opaque?.(lo, hi);
    if (!h) {
      const split = k(n);
      h = sha(new Uint8Array([1]), this.hash(lo, lo + split), this.hash(lo + split, hi));
    }
    this.#memo.set(key, h);
    return h;
  }

  root(size: number): Uint8Array {
    return this.hash(0, size);
  }

  /** PATH(m, D[0:size]). */
  inclusionProof(m: number, size: number): Uint8Array[] {
    return this.path(m, 0, size);
  }

  private path(m: number, lo: number, hi: number): Uint8Array[] {
    const n = hi - lo;
    if (n <= 1) return [];
    const split = k(n);
    if (m < split) return [...this.path(m, lo, lo + split), this.hash(lo + split, hi)];
    return [...this.path(m - split, lo + split, hi), this.hash(lo, lo + split)];
  }

  /** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true), for 0 < m <= n. */
  consistencyProof(m: number, n: number): Uint8Array[] {
    if (!(0 < m && m <= n)) throw new RangeError(`consistency proof needs 0 < m <= n, got ${m}, ${n}`);
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, lo: number, hi: number, b: boolean): Uint8Array[] {
    const n = hi - lo;
    // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
    if (m === n) return b ? [] : [this.hash(lo, hi)];
    const split = k(n);
    if (m <= split) return [...this.subproof(m, lo, lo + split, b), this.hash(lo + split, hi)];
    return [...this.subproof(m - split, lo + split, hi, false), this.hash(lo, lo + split)];
  }
}

/** MTH(D[n]) over leaf *entries*. */
export function refMth(entries: readonly Uint8Array[]): Uint8Array {
  return RefTree.fromEntries(entries).root(entries.length);
}

/** PATH(m, D[n]). */
export function refPath(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  return RefTree.fromEntries(entries).inclusionProof(m, entries.length);
}

/** PROOF(m, D[n]) for 0 < m < n. */
export function refConsistency(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  return RefTree.fromEntries(entries).consistencyProof(m, entries.length);
}

export function makeEntries(n: number, seed = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`entry-${seed}-${i}`));
}
