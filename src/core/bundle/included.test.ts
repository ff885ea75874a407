import { expect, test } from "vitest";
import fc from "fast-check";
import { fromHex } from "../bytes.js";
import { LeafIndex } from "./included.js";

/** The leaf hashes as the verifier holds them: 32 bytes per manifest position. */
const hashesOf = (leaves: readonly string[]): Uint8Array => {
  const out = new Uint8Array(32 * leaves.length);
  leaves.forEach((l, i) => out.set(fromHex(l), 32 * i));
  return out;
};

test("LeafIndex finds exactly what a Map by hex leaf finds, shared 30-bit prefixes included", () => {
  const hex = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
  // Leaves that share their first 8 hex digits (and so their key) with others, or all but the last.
  const clashing = fc.oneof(
    hex.map((h) => "0000000" + h.slice(7)),
    hex.map((h) => "ab".repeat(31) + h.slice(62)),
  );
  fc.assert(
    fc.property(
      fc.array(fc.oneof(hex, clashing), { maxLength: 40 }),
      fc.array(fc.oneof(hex, clashing), { maxLength: 5 }),
      (leaves, others) => {
        const index = new LeafIndex(hashesOf(leaves));
        const map = new Map<string, number>();
        leaves.forEach((l, position) => {
          index.set(position);
          map.set(l, position);
        });
        for (const l of [...leaves, ...others]) {
          expect(index.get(l)).toBe(map.get(l));
          expect(index.has(l)).toBe(map.has(l));
        }
      },
    ),
  );
});

test("LeafIndex answers only lowercase 64-digit hex, and a later equal leaf replaces the first", () => {
  const leaf = "ab".repeat(32);
  const index = new LeafIndex(hashesOf([leaf, "cd".repeat(32), leaf]));
  index.set(0);
  expect(index.get(leaf.toUpperCase())).toBeUndefined();
  expect(index.get(leaf.slice(0, 62))).toBeUndefined();
  expect(index.get(leaf.slice(0, 62) + "zz")).toBeUndefined();
  expect(index.get(leaf + "00")).toBeUndefined();
  expect(index.has(leaf)).toBe(true);
  expect(index.has("cd".repeat(32))).toBe(false); // not set yet
  index.set(2); // as Map.set does
  expect(index.get(leaf)).toBe(2);
});
