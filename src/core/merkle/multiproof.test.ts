import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { nobleCrypto as crypto } from "../crypto-noble.js";
import { concatBytes, toHex } from "../bytes.js";
import { RadledgerError } from "../errors.js";
import { CompactRange } from "./compact-range.js";
import { leafHash } from "./hash.js";
import { multiInclusionProof, multiInclusionProofRanges, verifyMultiInclusion } from "./multiproof.js";
import { inclusionProof, treeRoot, type NodeSource } from "./prove.js";
import { makeEntries } from "../../../test/helpers/reference-merkle.js";

const MAX = 300;
const leaves = makeEntries(MAX).map((e) => leafHash(crypto, e));
const stored = new Map<string, Uint8Array>();
const range = new CompactRange(crypto);
for (const l of leaves) range.append(l, (level, index, hash) => stored.set(`${level}/${index}`, hash));
const nodes: NodeSource = (level, index) => stored.get(`${level}/${index}`)!;

/** A tree size and a non-empty, strictly ascending set of its indexes. */
const sizeAndIndexes = fc.integer({ min: 1, max: MAX }).chain((size) =>
  fc.tuple(
    fc.constant(size),
    fc
      .uniqueArray(fc.nat(size - 1), { minLength: 1, maxLength: Math.min(size, 40) })
      .map((a) => a.sort((x, y) => x - y)),
  ),
);

const leafBytes = (indexes: readonly number[]): Uint8Array => concatBytes(...indexes.map((i) => leaves[i]!));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e; // an uncoded exception fails the test
  }
}

describe("multi-leaf inclusion proofs (docs/bundle-format.md §2)", () => {
  test("verify for every size and set of indexes, against the RFC 9162 root", () => {
    fc.assert(
      fc.property(sizeAndIndexes, ([size, indexes]) => {
        const proof = multiInclusionProof(crypto, indexes, size, nodes);
        const root = treeRoot(crypto, size, nodes);
        expect(
          codeOf(() => verifyMultiInclusion(crypto, indexes, size, leafBytes(indexes), proof, root)),
        ).toBe(undefined);
      }),
      { numRuns: 400 },
    );
  });

  test("for one index the proof holds exactly the RFC 9162 inclusion path", () => {
    for (let size = 1; size <= 70; size++)
      for (let index = 0; index < size; index++) {
        const multi = multiInclusionProof(crypto, [index], size, nodes).map(toHex).sort();
        const path = inclusionProof(crypto, index, size, nodes).map(toHex).sort();
        expect(multi, `size ${size} index ${index}`).toEqual(path);
      }
  });

  test("each node appears once: no larger than the single proofs together, empty for all leaves", () => {
    fc.assert(
      fc.property(sizeAndIndexes, ([size, indexes]) => {
        const multi = multiInclusionProofRanges(indexes, size).length;
        const singles = indexes.reduce((n, i) => n + inclusionProof(crypto, i, size, nodes).length, 0);
        expect(multi).toBeLessThanOrEqual(singles);
      }),
    );
    const all = Array.from({ length: 77 }, (_, i) => i);
    expect(multiInclusionProofRanges(all, 77)).toEqual([]);
  });

  test("a changed hash, a changed leaf, a missing or extra hash, other indexes or root: a coded failure", () => {
    fc.assert(
      fc.property(sizeAndIndexes, fc.nat(), fc.nat(255), fc.nat(5), ([size, indexes], pick, mask, mode) => {
        const proof = multiInclusionProof(crypto, indexes, size, nodes);
        const root = treeRoot(crypto, size, nodes);
        let p = proof;
        let ix = indexes;
        let r = root;
        let lb = leafBytes(indexes);
        if (mode === 0) {
          if (p.length === 0) return;
          const k = pick % p.length;
          const changed = p[k]!.slice();
          changed[mask % 32] = changed[mask % 32]! ^ (1 + (mask % 255));
          p = p.map((h, j) => (j === k ? changed : h));
        } else if (mode === 1) {
          lb = lb.slice();
          lb[pick % lb.length] = lb[pick % lb.length]! ^ (1 + (mask % 255));
        } else if (mode === 2) {
          if (p.length === 0) return;
          p = p.filter((_, j) => j !== pick % p.length);
        } else if (mode === 3) p = [...p, leaves[0]!];
        else if (mode === 4) {
          // The same leaves claimed at other positions.
          const shifted = indexes.map((i) => i + 1);
          if (shifted[shifted.length - 1]! >= size) return;
          ix = shifted;
        } else {
          // Another tree's root (a checkpoint of a different size). The claimed size itself is bound
          // by the checkpoint's signature, as for RFC 9162 single proofs, which also verify for several sizes.
          if (size === MAX) return;
          r = treeRoot(crypto, size + 1, nodes);
        }
        const code = codeOf(() => verifyMultiInclusion(crypto, ix, size, lb, p, r));
        expect(["ROOT_MISMATCH", "PROOF_WRONG_LENGTH"]).toContain(code);
      }),
      { numRuns: 600 },
    );
  });

  test("malformed input is refused with a code", () => {
    const root = treeRoot(crypto, 10, nodes);
    const lb = leafBytes([1, 2]);
    expect(codeOf(() => verifyMultiInclusion(crypto, [2, 1], 10, lb, [], root))).toBe("PROOF_INVALID");
    expect(codeOf(() => verifyMultiInclusion(crypto, [1, 1], 10, lb, [], root))).toBe("PROOF_INVALID");
    expect(codeOf(() => verifyMultiInclusion(crypto, [], 10, new Uint8Array(0), [], root))).toBe(
      "PROOF_INVALID",
    );
    expect(codeOf(() => verifyMultiInclusion(crypto, [1, 10], 10, lb, [], root))).toBe(
      "TREE_INDEX_OUT_OF_RANGE",
    );
    expect(codeOf(() => verifyMultiInclusion(crypto, [1], 10, lb, [], root))).toBe("PROOF_INVALID");
    expect(codeOf(() => verifyMultiInclusion(crypto, [1, 2], 10, lb, [new Uint8Array(31)], root))).toBe(
      "PROOF_INVALID",
    );
  });
});
