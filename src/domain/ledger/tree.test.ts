/**
 * TreeReader over a growing log: one reader, kept across commits as the node keeps it, must answer
 * roots and RFC 9162 proofs for every committed size exactly as the reference does. It caches the
 * partial tiles of the right edge too, so a tile cached at one width must never answer for a node
 * that only exists at a larger one.
 */
import fc from "fast-check";
import { expect, test } from "vitest";
import { nodeCrypto } from "../../adapters/node-crypto/crypto.js";
import { SqliteLogStore } from "../../adapters/sqlite/log-store.js";
import { makeEntries, RefTree, refLeafHash } from "../../../test/helpers/reference-merkle.js";
import { TreeReader, TreeWriter } from "./tree.js";

test("a reader kept across commits answers roots and proofs like the reference, at every size", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
      fc.infiniteStream(fc.nat()),
      (steps, picks) => {
        const store = new SqliteLogStore(":memory:");
        try {
          const writer = new TreeWriter(nodeCrypto, store);
          const reader = new TreeReader(nodeCrypto, store, 4);
          const entries = makeEntries(steps.reduce((a, b) => a + b, 0));
          const ref = RefTree.fromEntries(entries);
          const pick = (n: number): number => picks.next().value % n;
          const sizes: number[] = [];
          let size = 0;
          for (const step of steps) {
            const added = entries.slice(size, size + step);
            for (const e of added) writer.append(refLeafHash(e));
            store.commit({
              entries: added.map((bytes, i) => ({
                index: size + i,
                leafHash: refLeafHash(bytes),
                type: "t",
                bytes,
                refs: [],
              })),
              tiles: writer.takeDirtyTiles(),
              mutations: [],
            });
            size += step;
            sizes.push(size);
            // Earlier sizes first (their tiles were cached narrower), then the new one.
            for (const n of sizes) {
              expect(reader.root(n)).toEqual(ref.root(n));
              const i = pick(n);
              expect(reader.inclusionProof(i, n)).toEqual(ref.inclusionProof(i, n));
              const m = 1 + pick(n);
              if (m < n) expect(reader.consistencyProof(m, n)).toEqual(ref.consistencyProof(m, n));
            }
          }
        } finally {
          store.close();
        }
      },
    ),
    { numRuns: 40 },
  );
});
