/**
 * C2SP tlog-tiles: tile coordinates, the canonical path encoding, partial-tile widths, entry bundles,
 * and computing any perfect subtree hash from tiles. Tile height is 8 (256 hashes per full tile).
 *
 * A tile at level L, index N holds the tree-level-8L node hashes 256·N … 256·N+255; the levels in
 * between are recomputed by hashing (tlog-tiles "Merkle Tree"). Tile paths arrive from anyone on the
 * network, so parsing is strict: exactly one text form per tile.
 */
import type { CryptoSuite } from "./crypto.js";
import { RadledgerError } from "./errors.js";
import { HASH_SIZE, nodeHash } from "./merkle/hash.js";
import { shiftRight } from "./merkle/math.js";

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
/** tlog-tiles entry bundles prefix each entry with a big-endian uint16 length. */
export const MAX_ENTRY_SIZE = 0xffff;

/** Encodes a tile index as zero-padded 3-digit path elements, all but the last prefixed with "x". */
export function formatTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new RadledgerError("TILE_PATH_INVALID", "tile index out of range");
  const groups: string[] = [];
  let n = index;
  do {
    groups.unshift(String(n % 1000).padStart(3, "0"));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
}

export interface TileAddress {
  /** "hash" for Merkle tiles, "entries" for entry bundles. */
  readonly kind: "hash" | "entries";
  /** Tile level (0 for entry bundles). */
  readonly level: number;
  readonly index: number;
  /** Width of a partial tile; undefined for a full tile. */
  readonly width?: number;
}

export function tilePath(tile: TileAddress): string {
  const head = tile.kind === "entries" ? "tile/entries" : `tile/${tile.level}`;
  const tail = tile.width === undefined ? "" : `.p/${tile.width}`;
  return `${head}/${formatTileIndex(tile.index)}${tail}`;
}

const DECIMAL_NO_LEADING_ZERO = /^(0|[1-9][0-9]*)$/;

/**
 * Parses `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]` (no leading slash). Anything that is not
 * the canonical encoding of a tile — leading zero groups, missing "x", W outside 1..255, L above 63,
 * dot segments — is TILE_PATH_INVALID.
 */
export function parseTilePath(path: string): TileAddress {
  const bad = (): never => {
    throw new RadledgerError("TILE_PATH_INVALID", "not a tlog-tiles path");
  };
  if (path.length > 128) bad();
  const parts = path.split("/");
  if (parts.length < 3 || parts[0] !== "tile") bad();
  let kind: "hash" | "entries";
  let level = 0;
  if (parts[1] === "entries") kind = "entries";
  else {
    kind = "hash";
    if (!DECIMAL_NO_LEADING_ZERO.test(parts[1]!)) bad();
    level = Number(parts[1]);
    if (level > 63) bad();
  }
  let rest = parts.slice(2);
  let width: number | undefined;
  const last = rest[rest.length - 1]!;
  if (rest.length >= 2 && rest[rest.length - 2]!.endsWith(".p")) {
    if (!DECIMAL_NO_LEADING_ZERO.test(last)) bad();
    width = Number(last);
    if (width < 1 || width > 255) bad();
    rest = rest.slice(0, -1);
    rest[rest.length - 1] = rest[rest.length - 1]!.slice(0, -2);
  }
  if (rest.length === 0 || rest.length > 6) bad();
  let index = 0;
  for (let i = 0; i < rest.length; i++) {
    const seg = rest[i]!;
    const isLast = i === rest.length - 1;
    const digits = isLast ? seg : seg.startsWith("x") ? seg.slice(1) : bad();
    if (!/^[0-9]{3}$/.test(digits)) bad();
    index = index * 1000 + Number(digits);
  }
  const tile: TileAddress = width === undefined ? { kind, level, index } : { kind, level, index, width };
  if (tilePath(tile) !== path) bad(); // refuses leading zero groups such as x000/001
  return tile;
}

/** Number of hashes at tree level 8·level for a tree of `treeSize` leaves. */
export function hashesAtTileLevel(level: number, treeSize: number): number {
  return Math.floor(treeSize / 2 ** (TILE_HEIGHT * level));
}

/**
 * The width the tile (level, index) has in a tree of `treeSize`: 256 when full, 1..255 when it is
 * the rightmost partial tile, 0 when it does not exist yet (tlog-tiles "Partial Tiles").
 */
export function tileWidth(level: number, index: number, treeSize: number): number {
  const count = hashesAtTileLevel(level, treeSize);
  const start = index * TILE_WIDTH;
  if (count <= start) return 0;
  return Math.min(TILE_WIDTH, count - start);
}

/** Encodes entries as a tlog-tiles entry bundle: big-endian uint16 length || bytes, repeated. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new RadledgerError("ENTRY_TOO_LARGE", "entry exceeds 65,535 bytes");
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

export function decodeEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < bundle.length) {
    if (o + 2 > bundle.length)
      throw new RadledgerError("PROOF_INVALID", "entry bundle ends inside a length prefix");
    const length = (bundle[o]! << 8) | bundle[o + 1]!;
    o += 2;
    if (o + length > bundle.length)
      throw new RadledgerError("PROOF_INVALID", "entry bundle ends inside an entry");
    out.push(bundle.subarray(o, o + length));
    o += length;
    if (out.length > TILE_WIDTH)
      throw new RadledgerError("PROOF_INVALID", "entry bundle holds more than 256 entries");
  }
  return out;
}

/** Splits a tile's bytes into its hashes. */
export function splitTile(tile: Uint8Array): Uint8Array[] {
  if (tile.length % HASH_SIZE !== 0 || tile.length === 0 || tile.length > TILE_WIDTH * HASH_SIZE) {
    throw new RadledgerError("PROOF_INVALID", "tile length is not a whole number of hashes (1..256)");
  }
  const out: Uint8Array[] = [];
  for (let o = 0; o < tile.length; o += HASH_SIZE) out.push(tile.subarray(o, o + HASH_SIZE));
  return out;
}

/**
 * Which tile holds the hashes needed for perfect node (level, index), and which of its hashes:
 * node (h, i) with h = 8·L + r is the root over hashes [i·2^r, (i+1)·2^r) of tree level 8·L,
 * which lie in tile (L, ⌊i·2^r / 256⌋).
 */
export function tileForNode(
  level: number,
  index: number,
): { tileLevel: number; tileIndex: number; first: number; count: number } {
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const r = level % TILE_HEIGHT;
  const count = 2 ** r;
  const firstAtLevel = index * count;
  return {
    tileLevel,
    tileIndex: shiftRight(firstAtLevel, TILE_HEIGHT),
    first: firstAtLevel % TILE_WIDTH,
    count,
  };
}

/** Merkle root of 2^r consecutive hashes (a perfect subtree inside one tile). */
export function perfectRoot(crypto: CryptoSuite, hashes: readonly Uint8Array[]): Uint8Array {
  let layer = hashes.slice();
  while (layer.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(nodeHash(crypto, layer[i]!, layer[i + 1]!));
    layer = next;
  }
  return layer[0]!;
}
