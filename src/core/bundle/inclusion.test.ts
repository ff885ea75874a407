import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { nobleCrypto as crypto } from "../crypto-noble.js";
import { RadledgerError } from "../errors.js";
import { leafHash, nodeHash } from "../merkle/hash.js";
import { inclusionProof, treeRoot, type NodeSource } from "../merkle/prove.js";
import { verifyInclusion } from "../merkle/verify.js";
import { InclusionVerifier } from "./inclusion.js";

function tree(size: number): { nodes: NodeSource; leaves: Uint8Array[] } {
  const leaves = Array.from({ length: size }, (_, i) => leafHash(crypto, new Uint8Array([i & 255, i >> 8])));
  const levels = [leaves];
  while (levels[levels.length - 1]!.length > 1) {
    const prev = levels[levels.length - 1]!;
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < prev.length; i += 2) next.push(nodeHash(crypto, prev[i]!, prev[i + 1]!));
    levels.push(next);
  }
  return { leaves, nodes: (l, i) => levels[l]![i]! };
}

const verdict = (fn: () => void): string => {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e;
  }
};

describe("InclusionVerifier (memoised RFC 9162 §2.1.3.2)", () => {
  test("agrees with the plain algorithm on every proof of many trees, valid and mutated, in any order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(255), fc.nat(3)), { maxLength: 60 }),
        (size, picks) => {
          const { leaves, nodes } = tree(size);
          const root = treeRoot(crypto, size, nodes);
          const v = new InclusionVerifier(crypto, size, root);
          for (const [i, which, mask, mode] of picks) {
            const index = i % size;
            let proof = inclusionProof(crypto, index, size, nodes);
            let leaf = leaves[index]!;
            if (mode === 1 && proof.length > 0) {
              const k = which % proof.length;
              const changed = proof[k]!.slice();
              changed[mask % 32] = changed[mask % 32]! ^ (1 + (mask % 255));
              proof = proof.map((p, j) => (j === k ? changed : p));
            } else if (mode === 2) proof = [...proof, leaf];
            else if (mode === 3) leaf = leaves[(index + 1) % size]!;
            const expected = verdict(() => verifyInclusion(crypto, index, size, leaf, proof, root));
            const got = verdict(() => v.verify(index, leaf, proof));
            expect(got === "ok", `size ${size} index ${index} mode ${mode}`).toBe(expected === "ok");
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
