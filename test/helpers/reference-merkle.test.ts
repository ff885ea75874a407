// Checks the test oracle itself (reference-merkle.ts) against published known answers before other
// tests trust it: the transparency-dev/merkle reference tree (test/vectors/README.md cites it).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import vectors from "../vectors/transparency-dev-merkle-consistency.json" with { type: "json" };
import { nobleCrypto as crypto } from "../../src/core/crypto-noble.js";
import { verifyConsistency } from "../../src/core/merkle/verify.js";
import { RefTree, refLeafHash } from "./reference-merkle.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const leaves = vectors.leafInputsHex.map((h) => new Uint8Array(Buffer.from(h, "hex")));

describe("reference Merkle tree", () => {
  it("computes the transparency-dev/merkle reference roots for sizes 0..8", () => {
    const tree = RefTree.fromEntries(leaves);
    vectors.rootHashesHex.forEach((root, size) => expect(hex(tree.root(size))).toBe(root));
  });

  it("generates the reference consistency proofs", () => {
    const tree = RefTree.fromEntries(leaves);
    for (const v of vectors.referenceConsistencyProofsHex)
      expect(tree.consistencyProof(v.size1, v.size2).map(hex)).toEqual(v.proof);
  });

  it("its proofs verify with the core verifier, and not against a forked tree (property)", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 200 })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        fc.nat(),
        ([m, n], salt) => {
          const entries = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`${salt}/${i}`));
          const tree = RefTree.fromEntries(entries);
          const proof = tree.consistencyProof(m, n);
          verifyConsistency(crypto, m, n, tree.root(m), tree.root(n), proof);
          const forked = RefTree.fromEntries(entries.map((e, i) => (i === m - 1 ? refLeafHash(e) : e)));
          expect(() => verifyConsistency(crypto, m, n, forked.root(m), tree.root(n), proof)).toThrow();
        },
      ),
      { numRuns: 100 },
    );
  });

  it("sparse virtual trees give proofs the core verifier accepts at sizes near 2^40", () => {
    for (const [m, n] of [
      [1_000_000, 1_001_000],
      [2 ** 39 - 1, 2 ** 40 - 1],
    ] as const) {
      const tree = RefTree.sparse([m, n]);
      verifyConsistency(crypto, m, n, tree.root(m), tree.root(n), tree.consistencyProof(m, n));
    }
  });
});
