import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { nobleCrypto as crypto } from "../crypto-noble.js";
import { RadledgerError } from "../errors.js";
import { CompactRange } from "./compact-range.js";
import { leafHash } from "./hash.js";
import { bitSet, isPowerOfTwo, largestPowerOfTwoBelow, log2Exact, shiftRight } from "./math.js";
import { consistencyProof, inclusionProof, perfectNodesOfRange, treeRoot, type NodeSource } from "./prove.js";
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from "./verify.js";
import { makeEntries, refConsistency, refMth, refPath } from "../../../test/helpers/reference-merkle.js";

/** Builds every perfect node of a tree with the compact range, as a store would persist them. */
function buildTree(entries: readonly Uint8Array[]): { range: CompactRange; nodes: NodeSource } {
  const map = new Map<string, Uint8Array>();
  const range = new CompactRange(crypto);
  for (const e of entries)
    range.append(leafHash(crypto, e), (level, index, hash) => map.set(`${level}/${index}`, hash));
  const nodes: NodeSource = (level, index) => {
    const h = map.get(`${level}/${index}`);
    if (!h) throw new Error(`missing node ${level}/${index}`);
    return h;
  };
  return { range, nodes };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e; // an uncaught non-coded exception fails the test
  }
}

const MAX = 140;
const entries = makeEntries(MAX + 1);
const tree = buildTree(entries);

describe("tree construction against the RFC 9162 §2.1.1 definition", () => {
  test("compact-range root and tile-node root equal MTH for every size up to 140", () => {
    const range = new CompactRange(crypto);
    expect(range.root()).toEqual(refMth([]));
    for (let n = 1; n <= MAX; n++) {
      range.append(leafHash(crypto, entries[n - 1]!));
      const expected = refMth(entries.slice(0, n));
      expect(range.root()).toEqual(expected);
      expect(treeRoot(crypto, n, tree.nodes)).toEqual(expected);
    }
  });

  test("a compact range restored from its hashes continues the same tree", () => {
    const a = new CompactRange(crypto);
    for (const e of entries.slice(0, 77)) a.append(leafHash(crypto, e));
    const b = new CompactRange(crypto, a.size, a.hashes);
    for (const e of entries.slice(77)) b.append(leafHash(crypto, e));
    expect(b.root()).toEqual(tree.range.root());
    expect(() => new CompactRange(crypto, 77, a.hashes.slice(1))).toThrow(RadledgerError);
  });
});

describe("proofs for all index/size pairs (property, against the naive oracle)", () => {
  test("inclusion proofs equal PATH(m, D[n]) and verify", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: MAX })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        ([n, m]) => {
          const proof = inclusionProof(crypto, m, n, tree.nodes);
          expect(proof).toEqual(refPath(m, entries.slice(0, n)));
          verifyInclusion(crypto, m, n, leafHash(crypto, entries[m]!), proof, refMth(entries.slice(0, n)));
        },
      ),
      { numRuns: 600 },
    );
  });

  test("consistency proofs equal PROOF(m, D[n]) and verify", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: MAX })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        ([m, n]) => {
          const proof = consistencyProof(crypto, m, n, tree.nodes);
          expect(proof).toEqual(refConsistency(m, entries.slice(0, n)));
          verifyConsistency(crypto, m, n, refMth(entries.slice(0, m)), refMth(entries.slice(0, n)), proof);
        },
      ),
      { numRuns: 600 },
    );
  });

  test("every pair up to 64 leaves, exhaustively", () => {
    for (let n = 1; n <= 64; n++) {
      const root = refMth(entries.slice(0, n));
      for (let m = 0; m < n; m++) {
        verifyInclusion(
          crypto,
          m,
          n,
          leafHash(crypto, entries[m]!),
          inclusionProof(crypto, m, n, tree.nodes),
          root,
        );
        verifyConsistency(
          crypto,
          m,
          n,
          refMth(entries.slice(0, m)),
          root,
          consistencyProof(crypto, m, n, tree.nodes),
        );
      }
      verifyConsistency(crypto, n, n, root, root, []);
    }
  });

  test("any single-bit change, truncation, extension, wrong index or wrong size fails with a code", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: MAX })
          .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.nat(), fc.nat(7))),
        ([n, m, pick, bit]) => {
          const proof = inclusionProof(crypto, m, n, tree.nodes);
          const leaf = leafHash(crypto, entries[m]!);
          const root = refMth(entries.slice(0, n));
          const mutants: (() => void)[] = [];
          if (proof.length > 0) {
            const flipped = proof.map((p) => p.slice());
            const target = flipped[pick % flipped.length]!;
            target[pick % 32] = target[pick % 32]! ^ (1 << bit);
            mutants.push(() => verifyInclusion(crypto, m, n, leaf, flipped, root));
            mutants.push(() => verifyInclusion(crypto, m, n, leaf, proof.slice(0, -1), root));
          }
          mutants.push(() => verifyInclusion(crypto, m, n, leaf, [...proof, proof[0] ?? leaf], root));
          mutants.push(() => verifyInclusion(crypto, (m + 1) % n, n, leaf, proof, root));
          // A wrong size is only wrong together with that size's root: for some shapes the same
          // proof also proves inclusion in a neighbouring size (e.g. index 0 in sizes 5 and 6 share
          // a proof prefix), so compare against the root a checkpoint of that size would carry.
          mutants.push(() => verifyInclusion(crypto, m, n + 1, leaf, proof, refMth(entries.slice(0, n + 1))));
          mutants.push(() => verifyInclusion(crypto, m, n, leaf, proof, leaf));
          for (const mutant of mutants)
            expect(codeOf(mutant)).toMatch(
              /^(ROOT_MISMATCH|PROOF_WRONG_LENGTH|TREE_INDEX_OUT_OF_RANGE|PROOF_INVALID)$/,
            );
        },
      ),
      { numRuns: 300 },
    );
  });

  test("mutated consistency proofs fail with a code", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 3, max: MAX })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n), fc.nat(), fc.nat(7))),
        ([m, n, pick, bit]) => {
          const proof = consistencyProof(crypto, m, n, tree.nodes);
          const r1 = refMth(entries.slice(0, m));
          const r2 = refMth(entries.slice(0, n));
          const flipped = proof.map((p) => p.slice());
          const target = flipped[pick % flipped.length]!;
          target[pick % 32] = target[pick % 32]! ^ (1 << bit);
          const mutants = [
            () => verifyConsistency(crypto, m, n, r1, r2, flipped),
            () => verifyConsistency(crypto, m, n, r1, r2, proof.slice(1)),
            () => verifyConsistency(crypto, m, n, r1, r2, [...proof, r1]),
            () => verifyConsistency(crypto, m, n, r2, r1, proof),
            () => verifyConsistency(crypto, m, n + 1, r1, refMth(entries.slice(0, n + 1)), proof),
            () => verifyConsistency(crypto, m, n, r1, r2, []),
          ];
          for (const mutant of mutants)
            expect(codeOf(mutant)).toMatch(
              /^(ROOT_MISMATCH|PROOF_WRONG_LENGTH|TREE_SIZE_INVALID|PROOF_INVALID)$/,
            );
        },
      ),
      { numRuns: 300 },
    );
  });

  test("degenerate cases: equal sizes, empty first tree, index beyond size, non-hash elements", () => {
    const r5 = refMth(entries.slice(0, 5));
    expect(codeOf(() => verifyConsistency(crypto, 5, 5, r5, r5, []))).toBeUndefined();
    expect(codeOf(() => verifyConsistency(crypto, 5, 5, r5, refMth(entries.slice(0, 4)), []))).toBe(
      "ROOT_MISMATCH",
    );
    expect(codeOf(() => verifyConsistency(crypto, 0, 5, refMth([]), r5, []))).toBeUndefined();
    expect(codeOf(() => verifyConsistency(crypto, 0, 5, refMth([]), r5, [r5]))).toBe("PROOF_WRONG_LENGTH");
    expect(codeOf(() => verifyConsistency(crypto, 6, 5, r5, r5, [r5]))).toBe("TREE_SIZE_INVALID");
    expect(codeOf(() => verifyInclusion(crypto, 5, 5, r5, [], r5))).toBe("TREE_INDEX_OUT_OF_RANGE");
    expect(codeOf(() => verifyInclusion(crypto, 0, 5, r5, [new Uint8Array(31)], r5))).toBe("PROOF_INVALID");
    expect(codeOf(() => rootFromInclusionProof(crypto, -1, 5, r5, []))).toBe("TREE_SIZE_INVALID");
    expect(codeOf(() => rootFromInclusionProof(crypto, 0, 2 ** 53, r5, []))).toBe("TREE_SIZE_INVALID");
  });
});

describe("tree math is exact up to 2^53 (bigint oracle)", () => {
  const around = (c: number) =>
    fc.integer({ min: Math.max(2, c - 5000), max: Math.min(Number.MAX_SAFE_INTEGER, c + 5000) });
  const sizes = fc.oneof(
    around(2 ** 31),
    around(2 ** 32),
    around(2 ** 53 - 5001),
    fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER }),
  );

  test("split point, power-of-two test, shifts and bits", () => {
    fc.assert(
      fc.property(sizes, fc.integer({ min: 0, max: 52 }), (n, bit) => {
        const big = BigInt(n);
        let k = 1n;
        while (k * 2n < big) k *= 2n;
        expect(BigInt(largestPowerOfTwoBelow(n))).toBe(k);
        expect(isPowerOfTwo(n)).toBe((big & (big - 1n)) === 0n);
        expect(BigInt(shiftRight(n, bit))).toBe(big >> BigInt(bit));
        expect(bitSet(n, bit)).toBe(((big >> BigInt(bit)) & 1n) === 1n);
      }),
      { numRuns: 2000 },
    );
    expect(log2Exact(2 ** 52)).toBe(52);
  });

  test("proof shapes at huge sizes match a bigint transcription of PATH and SUBPROOF", () => {
    // Only the shape (which leaf ranges the proof covers) depends on size arithmetic; compare it.
    const bigPath = (m: bigint, a: bigint, b: bigint, out: [bigint, bigint][]): void => {
      if (b - a <= 1n) return;
      let k = 1n;
      while (k * 2n < b - a) k *= 2n;
      if (m - a < k) {
        bigPath(m, a, a + k, out);
        out.push([a + k, b]);
      } else {
        bigPath(m, a + k, b, out);
        out.push([a, a + k]);
      }
    };
    fc.assert(
      fc.property(
        sizes.chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }))),
        ([n, m]) => {
          const seen: [number, number][] = [];
          const recording: NodeSource = (level, index) => {
            seen.push([level, index]);
            return new Uint8Array(32);
          };
          const proof = inclusionProof(crypto, m, n, recording);
          const want: [bigint, bigint][] = [];
          bigPath(BigInt(m), 0n, BigInt(n), want);
          expect(proof.length).toBe(want.length);
          const wantNodes = want.flatMap(([a, b]) => perfectNodesOfRange(Number(a), Number(b)));
          expect(seen).toEqual(wantNodes.map((x) => [x.level, x.index]));
          for (const [level, index] of seen) expect(index * 2 ** level).toBeLessThan(n);
        },
      ),
      { numRuns: 300 },
    );
  });
});
