// Checks the test oracle itself (test/helpers/merkle-oracle.ts) against published known answers
// before the EVM tests trust it.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import vectors from "../vectors/transparency-dev-merkle-consistency.json" with { type: "json" };
import { EMPTY_ROOT, MerkleOracle, fromHex, leafHash, verifyConsistency } from "../helpers/merkle-oracle.js";

const leaves = vectors.leafInputsHex.map(fromHex);
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));

describe("merkle oracle", () => {
  it("computes the transparency-dev/merkle reference roots for sizes 0..8", () => {
    const tree = MerkleOracle.fromEntries(leaves);
    vectors.rootHashesHex.forEach((root, size) => {
      expect(Buffer.from(tree.root(size)).toString("hex")).toBe(root);
    });
    expect(tree.root(0)).toEqual(EMPTY_ROOT);
  });

  it("generates the reference consistency proofs", () => {
    const tree = MerkleOracle.fromEntries(leaves);
    for (const v of vectors.referenceConsistencyProofsHex) {
      const proof = tree.consistencyProof(v.size1, v.size2).map((h) => Buffer.from(h).toString("hex"));
      expect(proof).toEqual(v.proof);
    }
  });

  it("verifies the testdata happy paths and rejects single-bit tampering", () => {
    for (const v of vectors.happyPathBase64) {
      const proof = (v.proof ?? []).map(b64);
      const [s1, s2, r1, r2] = [BigInt(v.size1), BigInt(v.size2), b64(v.root1), b64(v.root2)];
      expect(verifyConsistency(s1, s2, r1, r2, proof), v.file).toBe(true);
      proof.forEach((_, i) => {
        const bad = proof.map((h) => h.slice());
        bad[i]![0]! ^= 0x10;
        expect(verifyConsistency(s1, s2, r1, r2, bad), `${v.file} proof[${i}]`).toBe(false);
      });
      if (s1 !== s2) {
        expect(verifyConsistency(s1, s2, r2, r1, proof), `${v.file} swapped roots`).toBe(false);
        expect(verifyConsistency(s1, s2, r1, r2, proof.slice(0, -1)), `${v.file} truncated`).toBe(false);
        expect(verifyConsistency(s1, s2, r1, r2, [...proof, r1]), `${v.file} trailing`).toBe(false);
        expect(verifyConsistency(s1 + 1n, s2, r1, r2, proof), `${v.file} size1+1`).toBe(false);
        // (size2 + 1 is not a reliable mutation: e.g. 6→7 and 6→8 share every step of §2.1.4.2.)
        expect(verifyConsistency(s1, s2 * 2n, r1, r2, proof), `${v.file} size2*2`).toBe(false);
      }
    }
  });

  it("accepts its own proofs and rejects them for another tree (property)", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 300 })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n))),
        fc.integer({ min: 0, max: 1_000_000 }),
        ([m, n], salt) => {
          const entries = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`${salt}/${i}`));
          const tree = MerkleOracle.fromEntries(entries);
          const proof = tree.consistencyProof(m, n);
          expect(verifyConsistency(BigInt(m), BigInt(n), tree.root(m), tree.root(n), proof)).toBe(true);
          // A fork: same sizes, one entry before m changed.
          const forked = MerkleOracle.fromEntries(entries.map((e, i) => (i === m - 1 ? leafHash(e) : e)));
          expect(verifyConsistency(BigInt(m), BigInt(n), forked.root(m), tree.root(n), proof)).toBe(false);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("sparse virtual trees agree with the recursive definitions", () => {
    const tree = MerkleOracle.sparseTree([1_000_000, 1_001_000]);
    const proof = tree.consistencyProof(1_000_000, 1_001_000);
    expect(verifyConsistency(1_000_000n, 1_001_000n, tree.root(1_000_000), tree.root(1_001_000), proof)).toBe(
      true,
    );
  });
});
