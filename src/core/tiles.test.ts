import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { RadledgerError } from "./errors.js";
import {
  decodeEntryBundle,
  encodeEntryBundle,
  formatTileIndex,
  parseTilePath,
  tilePath,
  tileWidth,
} from "./tiles.js";

describe("C2SP tlog-tiles paths", () => {
  test("index encoding from the spec: 1234067 is x001/x234/067", () => {
    expect(formatTileIndex(1234067)).toBe("x001/x234/067");
    expect(formatTileIndex(0)).toBe("000");
    expect(formatTileIndex(1000)).toBe("x001/000");
    expect(tilePath({ kind: "hash", level: 1, index: 1234067, width: 17 })).toBe("tile/1/x001/x234/067.p/17");
    expect(tilePath({ kind: "entries", level: 0, index: 5 })).toBe("tile/entries/005");
  });

  test("parse(format(tile)) round-trips", () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: 2 ** 45 }),
        fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
        (entries, level, index, width) => {
          const tile = {
            kind: entries ? ("entries" as const) : ("hash" as const),
            level: entries ? 0 : level,
            index,
            ...(width === undefined ? {} : { width }),
          };
          expect(parseTilePath(tilePath(tile))).toEqual(tile);
        },
      ),
    );
  });

  test("non-canonical and hostile paths are refused with TILE_PATH_INVALID", () => {
    for (const bad of [
      "tile/0/x000/001",
      "tile/0/1",
      "tile/00/000",
      "tile/64/000",
      "tile/0/001.p/0",
      "tile/0/001.p/256",
      "tile/0/001.p/01",
      "tile/0/../000",
      "tile/0/x001/../000",
      "tile/0/001/",
      "tile//000",
      "tile/entries/x1/000",
      "tile/-1/000",
      "tile/0/00a",
      "tile/0/x001/x002",
      "tile/0/001.p",
      "tile/entries/000.p/1/2",
      "checkpoint",
    ]) {
      expect(() => parseTilePath(bad), bad).toThrow(RadledgerError);
    }
  });

  test("partial tile widths follow the spec's 70,000-leaf example", () => {
    // 273 full level-0 tiles, a partial of width 112; one full level-1 tile, a partial of 17; level 2 width 1.
    expect(tileWidth(0, 272, 70000)).toBe(256);
    expect(tileWidth(0, 273, 70000)).toBe(112);
    expect(tileWidth(0, 274, 70000)).toBe(0);
    expect(tileWidth(1, 0, 70000)).toBe(256);
    expect(tileWidth(1, 1, 70000)).toBe(17);
    expect(tileWidth(2, 0, 70000)).toBe(1);
    expect(tileWidth(1, 0, 256)).toBe(1);
  });
});

describe("entry bundles", () => {
  test("big-endian uint16 length prefixes round-trip", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 256 }), (entries) => {
        const bundle = encodeEntryBundle(entries);
        expect(decodeEntryBundle(bundle)).toEqual(entries);
      }),
      { numRuns: 50 },
    );
    expect(Array.from(encodeEntryBundle([new Uint8Array([0x61])]))).toEqual([0, 1, 0x61]);
  });

  test("truncated bundles and oversized entries are refused", () => {
    const b = encodeEntryBundle([new Uint8Array(10)]);
    expect(() => decodeEntryBundle(b.subarray(0, 5))).toThrow(RadledgerError);
    expect(() => decodeEntryBundle(b.subarray(0, 1))).toThrow(RadledgerError);
    expect(() => encodeEntryBundle([new Uint8Array(65536)])).toThrow(RadledgerError);
  });
});
