// A deliberately plain RFC 9162 Merkle tree, used only by the tests as an oracle for the on-chain
// consistency-proof verifier (contracts/RadledgerConsortium.sol). It follows the definitions of
// RFC 9162 §2.1.1 (MTH), §2.1.4.1 (PROOF / SUBPROOF) and the verification steps of §2.1.4.2 word
// for word, favouring obviousness over speed. The production tree lives in the core.
import { createHash } from "node:crypto";

export type Hash = Uint8Array;

export function sha256(...parts: Uint8Array[]): Hash {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** RFC 9162 §2.1.1: MTH({}) = HASH(). */
export const EMPTY_ROOT: Hash = sha256();

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)). */
export function leafHash(entry: Uint8Array): Hash {
  return sha256(Uint8Array.of(0x00), entry);
}

/** RFC 9162 §2.1.1: interior node HASH(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  return sha256(Uint8Array.of(0x01), left, right);
}

/** RFC 9162 §2.1.1: k, the largest power of two smaller than n (n > 1). */
export function splitPoint(n: number): number {
  if (n < 2) throw new RangeError(`splitPoint needs n > 1, got ${n}`);
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(Math.log2(n)) && 2 ** Math.log2(n) === n;
}

/**
 * MTH and PROOF over a list of leaf hashes given by `leaf(i)`. Sizes are JS numbers (exact up to
 * 2^53), so no bitwise operators are used here.
 *
 * `opaque(lo, hi)`, when given, may return the root of a perfect subtree D[lo:hi] directly instead
 * of computing it from its leaves. A verifier only ever combines the hashes it is given, so a tree
 * whose untouched perfect subtrees have arbitrary (but fixed) roots is indistinguishable from one
 * with real leaves: this lets the gas tests prove consistency between trees of 10^6..10^12 leaves
 * without hashing them all (see `sparseTree`).
 */
export class MerkleOracle {
  private readonly memo = new Map<string, Hash>();

  constructor(
    private readonly leaf: (index: number) => Hash,
    private readonly opaque?: (lo: number, hi: number) => Hash | undefined,
  ) {}

  /** A tree whose leaves are the given entries (leaf hash = HASH(0x00 || entry)). */
  static fromEntries(entries: readonly Uint8Array[]): MerkleOracle {
    const hashes = entries.map(leafHash);
    return MerkleOracle.fromLeafHashes(hashes);
  }

  static fromLeafHashes(hashes: readonly Hash[]): MerkleOracle {
    return new MerkleOracle((i) => {
      const h = hashes[i];
      if (h === undefined) throw new RangeError(`leaf ${i} out of range (${hashes.length} leaves)`);
      return h;
    });
  }

  /**
   * A virtual tree of any size in which every perfect subtree that no size in `boundaries` cuts
   * through is opaque (a fixed pseudo-random root labelled by `seed`). Roots and consistency
   * proofs for the sizes in `boundaries` then cost O(log n) hashes.
   */
  static sparseTree(boundaries: readonly number[], seed = "radledger"): MerkleOracle {
    const label = new TextEncoder().encode(seed);
    const u64 = (x: number): Uint8Array => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(x));
      return b;
    };
    return new MerkleOracle(
      (i) => leafHash(new Uint8Array([...label, ...u64(i)])),
      (lo, hi) => {
        if (hi - lo < 2 || !isPowerOfTwo(hi - lo)) return undefined;
        if (boundaries.some((b) => lo < b && b < hi)) return undefined;
        return sha256(new TextEncoder().encode("opaque subtree "), label, u64(lo), u64(hi));
      },
    );
  }

  /** MTH(D[lo:hi]) of RFC 9162 §2.1.1. */
  hash(lo: number, hi: number): Hash {
    const n = hi - lo;
    if (n === 0) return EMPTY_ROOT;
    if (n === 1) return this.leaf(lo);
    const key = `${lo}:${hi}`;
    const cached = this.memo.get(key);
    if (cached) return cached;
    let h = this.opaque?.(lo, hi);
    if (!h) {
      const k = splitPoint(n);
      h = nodeHash(this.hash(lo, lo + k), this.hash(lo + k, hi));
    }
    this.memo.set(key, h);
    return h;
  }

  /** Root of the tree of the first `size` leaves. */
  root(size: number): Hash {
    return this.hash(0, size);
  }

  /** RFC 9162 §2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[0:n], true), for 0 < m <= n. */
  consistencyProof(m: number, n: number): Hash[] {
    if (!(0 < m && m <= n)) throw new RangeError(`consistency proof needs 0 < m <= n, got ${m}, ${n}`);
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, lo: number, hi: number, b: boolean): Hash[] {
    const n = hi - lo;
    // SUBPROOF(m, D[m], true) = {}; SUBPROOF(m, D[m], false) = {MTH(D[m])}.
    if (m === n) return b ? [] : [this.hash(lo, hi)];
    const k = splitPoint(n);
    // m <= k: the old tree lies in the left subtree; its right sibling MTH(D[k:n]) follows.
    if (m <= k) return [...this.subproof(m, lo, lo + k, b), this.hash(lo + k, hi)];
    // m > k: the left subtree D[0:k] is shared; prove the right part, then add MTH(D[0:k]).
    return [...this.subproof(m - k, lo + k, hi, false), this.hash(lo, lo + k)];
  }
}

function equal(a: Hash, b: Hash): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * RFC 9162 §2.1.4.2 verification, step by step, for 0 < first < second. Outside that range,
 * the conventions the contract uses: first == second needs an empty proof and equal roots; an
 * empty first tree is a prefix of every tree (empty proof). Returns false, never throws.
 */
export function verifyConsistency(
  first: bigint,
  second: bigint,
  firstHash: Hash,
  secondHash: Hash,
  consistencyPath: readonly Hash[],
): boolean {
  if (first < 0n || first > second) return false;
  if (first === second) return consistencyPath.length === 0 && equal(firstHash, secondHash);
  if (first === 0n) return consistencyPath.length === 0;
  // 1. An empty consistency_path fails.
  if (consistencyPath.length === 0) return false;
  // 2. If first is an exact power of 2, prepend first_hash to the consistency_path.
  const path = (first & (first - 1n)) === 0n ? [firstHash, ...consistencyPath] : [...consistencyPath];
  // 3.
  let fn = first - 1n;
  let sn = second - 1n;
  // 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  // 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // 6.
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  // 7.
  return equal(fr, firstHash) && equal(sr, secondHash) && sn === 0n;
}

export function toHex(b: Uint8Array): `0x${string}` {
  return `0x${Buffer.from(b).toString("hex")}`;
}

export function fromHex(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h.replace(/^0x/, ""), "hex"));
}
