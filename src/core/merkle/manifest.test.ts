import { expect, test } from "vitest";
import fc from "fast-check";
import { nobleCrypto as crypto } from "../crypto-noble.js";
import { refMth } from "../../../test/helpers/reference-merkle.js";
import { fromHex, toHex } from "../bytes.js";
import {
  manifestLeaves,
  manifestRootOf,
  merkleBlockRoots,
  merkleRootFromBlocks,
  merkleRootOfHashes,
} from "./manifest.js";

const hashesOf = (n: number, seed: number): Uint8Array => {
  const out = new Uint8Array(32 * n);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed * 7 + (i >> 5)) & 0xff;
  return out;
};
const split = (hashes: Uint8Array): Uint8Array[] =>
  Array.from({ length: hashes.length / 32 }, (_, i) => hashes.subarray(32 * i, 32 * i + 32));

test("merkleRootOfHashes is RFC 9162 MTH with each hash as one leaf (reference implementation)", () => {
  for (const n of [0, 1, 2, 3, 7, 8, 9, 100]) {
    const hashes = hashesOf(n, n);
    expect(merkleRootOfHashes(crypto, hashes)).toEqual(refMth(split(hashes)));
  }
});

test("the tree hash in blocks (any power-of-two block size, any split into lanes) equals the whole", () => {
  fc.assert(
    fc.property(
      fc.nat({ max: 300 }),
      fc.nat({ max: 6 }),
      fc.nat({ max: 4 }),
      fc.nat(),
      (n, log2Block, lanes, seed) => {
        const hashes = hashesOf(n, seed);
        const blockLeaves = 2 ** log2Block;
        const blocks = Math.floor(n / blockLeaves);
        // Lanes take consecutive runs of blocks, as the bundle check pool hands them out.
        const roots: Uint8Array[] = [];
        const per = Math.max(1, Math.ceil(blocks / (lanes + 1)));
        for (let b = 0; b < blocks; b += per) {
          const end = Math.min(blocks, b + per);
          roots.push(
            ...split(
              merkleBlockRoots(
                crypto,
                hashes.subarray(32 * b * blockLeaves, 32 * end * blockLeaves),
                blockLeaves,
              ),
            ),
          );
        }
        const rest = hashes.subarray(32 * blocks * blockLeaves);
        expect(merkleRootFromBlocks(crypto, roots, rest)).toEqual(merkleRootOfHashes(crypto, hashes));
      },
    ),
  );
});

test("merkleBlockRoots refuses partial blocks and block sizes that are not powers of two", () => {
  expect(() => merkleBlockRoots(crypto, hashesOf(3, 0), 2)).toThrow(/whole blocks/);
  expect(() => merkleBlockRoots(crypto, hashesOf(6, 0), 3)).toThrow(/whole blocks/);
});

test("manifestLeaves: the hashes sorted bytewise and unique, as the string definition; invalid hex refused", () => {
  const hex = fc
    .uint8Array({ minLength: 32, maxLength: 32 })
    .map((b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(""));
  // Shared 4-byte prefixes exercise the tie-breaking of the numeric sort.
  const prefixed = fc
    .tuple(fc.constantFrom("00000000", "ffffffff", "12345678"), hex)
    .map(([p, h]) => p + h.slice(8));
  fc.assert(
    fc.property(fc.array(fc.oneof(hex, prefixed), { maxLength: 60 }), (list) => {
      const withDuplicates = [...list, ...list.slice(0, 5)];
      const expected = [...new Set(withDuplicates)].sort().join("");
      expect(toHex(manifestLeaves(withDuplicates)!)).toBe(expected);
    }),
  );
  const ok = "ab".repeat(32);
  expect(manifestLeaves([ok, "AB".repeat(32)])).toBeUndefined();
  expect(manifestLeaves([ok, "ab".repeat(31)])).toBeUndefined();
  expect(manifestLeaves([ok, "zz".repeat(32)])).toBeUndefined();
  expect(manifestLeaves([])).toEqual(new Uint8Array(0));
  expect(() => manifestRootOf(crypto, ["AB".repeat(32)])).toThrow(/lowercase hex/);
});

// What study registration and de-identification rely on (src/app/register-study.ts, deidentify.ts):
// a study's manifest root is RFC 6962 §2.1 MTH over its sorted, unique instance hashes.
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex);

test("manifestRootOf: the RFC 6962 MTH of the sorted unique hashes, whatever their order or repeats", () => {
  const listAndPermutation = fc
    .array(hex32, { maxLength: 70 })
    .chain((hs) => fc.tuple(fc.constant(hs), fc.shuffledSubarray(hs, { minLength: hs.length })));
  fc.assert(
    fc.property(listAndPermutation, ([hashes, permuted]) => {
      const unique = [...new Set(hashes)].sort();
      const expected = toHex(refMth(unique.map((h) => fromHex(h))));
      expect(manifestRootOf(crypto, hashes)).toBe(expected);
      expect(manifestRootOf(crypto, [...permuted, ...permuted.slice(0, 2)])).toBe(expected);
    }),
    { numRuns: 200 },
  );
  // Empty: SHA-256 of the empty string; one bit of one instance changes the root.
  expect(manifestRootOf(crypto, [])).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const other = "cd".repeat(32);
  expect(manifestRootOf(crypto, ["ab".repeat(32), other])).not.toBe(
    manifestRootOf(crypto, [`${"ab".repeat(31)}aa`, other]),
  );
  expect(() => manifestRootOf(crypto, ["abcd"])).toThrow(
    expect.objectContaining({ code: "ENCODING_INVALID" }),
  );
});
