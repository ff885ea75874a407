import { expect, test } from "vitest";
import fc from "fast-check";
import { fromHex } from "../bytes.js";
import { LeafIndex, type Included } from "./included.js";

const item = (leaf: string, index: number): Included => ({
  index,
  at: `entries/0:${index}`,
  leaf,
  entry: {} as Included["entry"],
});

test("LeafIndex finds exactly what a Map by hex leaf finds, shared 30-bit prefixes included", () => {
  const hex = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
  // Leaves that share their first 8 hex digits (and so their key) with others.
  const clashing = hex.map((h) => "0000000" + h.slice(7));
  fc.assert(
    fc.property(
      fc.array(fc.oneof(hex, clashing), { maxLength: 40 }),
      fc.array(hex, { maxLength: 5 }),
      (leaves, others) => {
        const index = new LeafIndex();
        const map = new Map<string, Included>();
        leaves.forEach((l, i) => {
          const it = item(l, i);
          index.set(it, fromHex(l));
          map.set(l, it);
        });
        for (const l of [...leaves, ...others]) expect(index.get(l)).toBe(map.get(l));
      },
    ),
  );
  const index = new LeafIndex();
  const leaf = "ab".repeat(32);
  index.set(item(leaf, 1), fromHex(leaf));
  expect(index.get(leaf.toUpperCase())).toBeUndefined();
  expect(index.get(leaf.slice(0, 62))).toBeUndefined();
  expect(index.has(leaf)).toBe(true);
  index.set(item(leaf, 2), fromHex(leaf)); // a later equal leaf replaces the first, as Map.set does
  expect(index.get(leaf)?.index).toBe(2);
});
