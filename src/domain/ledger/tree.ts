/**
 * The log's Merkle tree over stored tiles. Each stored tile keeps every perfect-subtree hash of one
 * height-8 subtree — its 256 tree-level-8L hashes (what tlog-tiles serves) and the 254 hashes above
 * them — so that any perfect node, and therefore any RFC 9162 proof, is a few tile reads with no
 * rehashing (docs/performance.md: proofs p99 < 1 ms at 10M entries).
 *
 * Layout of TileRecord.nodes: tile level r (0..7) starts at hash offset 512 - 2^(9-r) and holds up
 * to 2^(8-r) hashes; 510 hashes (16,320 bytes) in all. A level-r node at offset k within a partial
 * tile exists once width ≥ (k+1)·2^r.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { RadledgerError } from "../../core/errors.js";
import { CompactRange } from "../../core/merkle/compact-range.js";
import { HASH_SIZE } from "../../core/merkle/hash.js";
import { bitSet } from "../../core/merkle/math.js";
import { consistencyProof, inclusionProof, treeRoot, type NodeSource } from "../../core/merkle/prove.js";
import { multiInclusionProof } from "../../core/merkle/multiproof.js";
import { TILE_HEIGHT, TILE_WIDTH } from "../../core/tiles.js";
import type { LogReader, LogStore, TileRecord } from "../../ports/storage.js";

export const TILE_NODE_COUNT = 510;
export const TILE_BYTES = TILE_NODE_COUNT * HASH_SIZE;

export function tileLevelOffset(r: number): number {
  return 512 - 2 ** (9 - r);
}

/** Where perfect node (level, index) lives: tile coordinates, tile level r and hash offset in the record. */
export function locateNode(
  level: number,
  index: number,
): { tileLevel: number; tileIndex: number; r: number; slot: number; needWidth: number } {
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const r = level % TILE_HEIGHT;
  const perTile = 2 ** (TILE_HEIGHT - r);
  const tileIndex = Math.floor(index / perTile);
  const k = index % perTile;
  return { tileLevel, tileIndex, r, slot: tileLevelOffset(r) + k, needWidth: (k + 1) * 2 ** r };
}

export function tileHashes(tile: TileRecord, width = tile.width): Uint8Array {
  return tile.nodes.subarray(0, width * HASH_SIZE);
}

/** Reads perfect nodes of the committed tree from the store, caching tiles in an LRU. */
export class TreeReader {
  readonly #cache = new Map<string, TileRecord>();

  constructor(
    private readonly crypto: CryptoSuite,
    private readonly store: LogReader,
    private readonly cacheTiles = 2048,
  ) {}

  tile(level: number, index: number, needWidth = 1): TileRecord | undefined {
    const key = `${level}/${index}`;
    const hit = this.#cache.get(key);
    if (hit && hit.width >= needWidth) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit;
    }
    const tile = this.store.readTile(level, index);
    // Partial tiles are cached too: a tile only ever grows and a node never changes once it exists,
    // so a tile of width w answers every read that needs no more than w (the check above). The right
    // edge of the tree, in partial tiles at every tile level, is part of nearly every proof.
    if (tile && this.cacheTiles > 0) {
      if (hit) this.#cache.delete(key);
      else if (this.#cache.size >= this.cacheTiles) this.#cache.delete(this.#cache.keys().next().value!);
      this.#cache.set(key, tile);
    }
    return tile;
  }

  readonly node: NodeSource = (level, index) => {
    const loc = locateNode(level, index);
    const tile = this.tile(loc.tileLevel, loc.tileIndex, loc.needWidth);
    if (!tile || tile.width < loc.needWidth) {
      throw new RadledgerError("STORE_CORRUPT", `tree node ${level}/${index} is missing from storage`);
    }
    return tile.nodes.subarray(loc.slot * HASH_SIZE, (loc.slot + 1) * HASH_SIZE);
  };

  root(size: number): Uint8Array {
    this.checkSize(size);
    return treeRoot(this.crypto, size, this.node);
  }

  inclusionProof(index: number, size: number): Uint8Array[] {
    this.checkSize(size);
    return inclusionProof(this.crypto, index, size, this.node);
  }

  /** The multi-leaf inclusion proof of `indexes` (sorted) in the tree of `size` (bundles). */
  multiInclusionProof(indexes: readonly number[], size: number): Uint8Array[] {
    this.checkSize(size);
    return multiInclusionProof(this.crypto, indexes, size, this.node);
  }

  consistencyProof(first: number, second: number): Uint8Array[] {
    this.checkSize(second);
    return consistencyProof(this.crypto, first, second, this.node);
  }

  /** Forgets cached tiles (after a rebuild or in tests that alter storage). */
  clear(): void {
    this.#cache.clear();
  }

  private checkSize(size: number): void {
    const committed = this.store.size();
    if (!Number.isSafeInteger(size) || size < 0 || size > committed) {
      throw new RadledgerError(
        "TREE_SIZE_INVALID",
        `tree size ${size} is outside the log (size ${committed})`,
      );
    }
  }
}

/**
 * The growing right edge of the tree on the append path: appends leaf hashes, writes every new
 * perfect node into its tile buffer, and hands the changed tiles to the batch commit.
 */
export class TreeWriter {
  #range: CompactRange;
  readonly #open = new Map<string, { level: number; index: number; width: number; nodes: Uint8Array }>();
  readonly #dirty = new Set<string>();

  constructor(
    private readonly crypto: CryptoSuite,
    private readonly store: LogStore,
  ) {
    this.#range = this.load();
  }

  get size(): number {
    return this.#range.size;
  }

  root(): Uint8Array {
    return this.#range.root();
  }

  append(leafHash: Uint8Array): void {
    this.#range.append(leafHash, (level, index, hash) => this.writeNode(level, index, hash));
  }

  /** The tiles changed since the last call, as records to store. */
  takeDirtyTiles(): TileRecord[] {
    const out: TileRecord[] = [];
    for (const key of this.#dirty) {
      const t = this.#open.get(key)!;
      out.push({ level: t.level, index: t.index, width: t.width, nodes: t.nodes.slice() });
      // A full tile never changes again: stop holding it.
      if (t.width === TILE_WIDTH) this.#open.delete(key);
    }
    this.#dirty.clear();
    return out;
  }

  /** Drops uncommitted state after a failed commit and reloads the committed right edge. */
  reset(): void {
    this.#open.clear();
    this.#dirty.clear();
    this.#range = this.load();
  }

  private load(): CompactRange {
    const size = this.store.size();
    const reader = new TreeReader(this.crypto, this.store, 0);
    const hashes: Uint8Array[] = [];
    // The right edge of a tree of `size` is one perfect subtree per set bit, largest first.
    let start = 0;
    for (let level = 52; level >= 0; level--) {
      if (bitSet(size, level)) {
        hashes.push(reader.node(level, start / 2 ** level).slice());
        start += 2 ** level;
      }
    }
    return new CompactRange(this.crypto, size, hashes);
  }

  private writeNode(level: number, index: number, hash: Uint8Array): void {
    const loc = locateNode(level, index);
    const key = `${loc.tileLevel}/${loc.tileIndex}`;
    let tile = this.#open.get(key);
    if (!tile) {
      const stored = this.store.readTile(loc.tileLevel, loc.tileIndex);
      tile = stored
        ? { level: stored.level, index: stored.index, width: stored.width, nodes: stored.nodes.slice() }
        : { level: loc.tileLevel, index: loc.tileIndex, width: 0, nodes: new Uint8Array(TILE_BYTES) };
      this.#open.set(key, tile);
    }
    tile.nodes.set(hash, loc.slot * HASH_SIZE);
    if (loc.r === 0) tile.width = Math.max(tile.width, loc.slot + 1);
    this.#dirty.add(key);
  }
}
