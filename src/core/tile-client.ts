/**
 * A C2SP tlog-tiles client in the pure core: given a way to fetch resources from a log (HTTP, a
 * directory, a bundle), it reads tiles and entry bundles for a verified checkpoint and computes
 * inclusion and consistency proofs from them, exactly as a standard tiles client does. The node's
 * end-to-end tests and the browser verifier use it; it trusts nothing it fetches — every hash is
 * checked against the checkpoint's root.
 */
import type { CryptoSuite } from "./crypto.js";
import { bytesEqual } from "./bytes.js";
import { RadledgerError } from "./errors.js";
import { emptyRoot, leafHash } from "./merkle/hash.js";
import {
  consistencyProofRanges,
  inclusionProofRanges,
  perfectNodesOfRange,
  rangeHash,
  treeRoot,
} from "./merkle/prove.js";
import { verifyConsistency, verifyInclusion } from "./merkle/verify.js";
import {
  decodeEntryBundle,
  perfectRoot,
  splitTile,
  TILE_HEIGHT,
  TILE_WIDTH,
  tilePath,
  tileWidth,
} from "./tiles.js";
import type { Checkpoint } from "./checkpoint.js";

/** Fetches a log resource by its tlog-tiles path (e.g. "tile/0/x001/234.p/7"). */
export type TileFetcher = (path: string) => Promise<Uint8Array>;

export class TileClient {
  readonly #tiles = new Map<string, Promise<Uint8Array[]>>();

  constructor(
    private readonly crypto: CryptoSuite,
    private readonly fetch: TileFetcher,
    /** A checkpoint the caller has verified (signature and origin). */
    readonly checkpoint: Checkpoint,
  ) {}

  /** The hashes of tile (level, index) as of the checkpoint's tree size. */
  async tile(level: number, index: number): Promise<Uint8Array[]> {
    const width = tileWidth(level, index, this.checkpoint.size);
    if (width === 0)
      throw new RadledgerError(
        "TILE_NOT_FOUND",
        `tile ${level}/${index} does not exist at size ${this.checkpoint.size}`,
      );
    const path = tilePath({ kind: "hash", level, index, ...(width < TILE_WIDTH ? { width } : {}) });
    let pending = this.#tiles.get(path);
    if (!pending) {
      pending = this.fetch(path).then((bytes) => {
        const hashes = splitTile(bytes);
        if (hashes.length !== width)
          throw new RadledgerError("PROOF_INVALID", `${path} has ${hashes.length} hashes, expected ${width}`);
        return hashes;
      });
      this.#tiles.set(path, pending);
    }
    return pending;
  }

  /** Hashes of perfect nodes, each computed from the one tile that holds its subtree. */
  async nodes(ids: readonly { level: number; index: number }[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    await Promise.all(
      ids.map(async ({ level, index }) => {
        const tileLevel = Math.floor(level / TILE_HEIGHT);
        const r = level % TILE_HEIGHT;
        const span = 2 ** r;
        const first = index * span;
        const hashes = await this.tile(tileLevel, Math.floor(first / TILE_WIDTH));
        const start = first % TILE_WIDTH;
        const slice = hashes.slice(start, start + span);
        if (slice.length !== span)
          throw new RadledgerError("PROOF_INVALID", `tile too short for node ${level}/${index}`);
        out.set(`${level}/${index}`, perfectRoot(this.crypto, slice));
      }),
    );
    return out;
  }

  private async ranges(ranges: readonly (readonly [number, number])[]): Promise<Uint8Array[]> {
    const ids = ranges.flatMap(([a, b]) => perfectNodesOfRange(a, b));
    const nodes = await this.nodes(ids);
    const source = (level: number, index: number): Uint8Array => nodes.get(`${level}/${index}`)!;
    return ranges.map(([a, b]) => rangeHash(this.crypto, a, b, source));
  }

  /** Recomputes the root from the tiles and checks it against the checkpoint. */
  async verifyRoot(): Promise<void> {
    const size = this.checkpoint.size;
    if (size === 0) return;
    const ids = perfectNodesOfRange(0, size);
    const nodes = await this.nodes(ids);
    const root = treeRoot(this.crypto, size, (l, i) => nodes.get(`${l}/${i}`)!);
    if (!bytesEqual(root, this.checkpoint.root))
      throw new RadledgerError("ROOT_MISMATCH", "tiles do not hash to the checkpoint's root");
  }

  /**
   * MTH of the first `size` entries as this checkpoint's tree has them, from its tiles. Tiles are
   * not authenticated by themselves: bind the result with a consistency proof to the checkpoint
   * (a mirror does, to show which prefix a log's new tree commits to; src/core/evidence.ts).
   */
  async rootAt(size: number): Promise<Uint8Array> {
    if (size === 0) return emptyRoot(this.crypto);
    if (size > this.checkpoint.size)
      throw new RadledgerError("TREE_SIZE_INVALID", `size ${size} is beyond the checkpoint`);
    const [root] = await this.ranges([[0, size]]);
    return root!;
  }

  async inclusionProof(index: number): Promise<Uint8Array[]> {
    return this.ranges(inclusionProofRanges(index, this.checkpoint.size));
  }

  async consistencyProof(oldSize: number): Promise<Uint8Array[]> {
    return this.ranges(consistencyProofRanges(oldSize, this.checkpoint.size));
  }

  /** Entries of bundle `index` as of the checkpoint, each checked against the level-0 tile. */
  async entryBundle(index: number): Promise<Uint8Array[]> {
    const width = tileWidth(0, index, this.checkpoint.size);
    if (width === 0)
      throw new RadledgerError(
        "TILE_NOT_FOUND",
        `entry bundle ${index} does not exist at size ${this.checkpoint.size}`,
      );
    const path = tilePath({ kind: "entries", level: 0, index, ...(width < TILE_WIDTH ? { width } : {}) });
    const entries = decodeEntryBundle(await this.fetch(path));
    if (entries.length !== width)
      throw new RadledgerError("PROOF_INVALID", `${path} has ${entries.length} entries, expected ${width}`);
    const leaves = await this.tile(0, index);
    entries.forEach((e, i) => {
      if (!bytesEqual(leafHash(this.crypto, e), leaves[i]!))
        throw new RadledgerError(
          "PROOF_INVALID",
          `entry ${index * TILE_WIDTH + i} does not match its leaf hash`,
        );
    });
    return entries;
  }

  /** One entry, proven included in the checkpoint with an inclusion proof computed from tiles. */
  async entry(index: number): Promise<Uint8Array> {
    const bundle = await this.entryBundle(Math.floor(index / TILE_WIDTH));
    const entry = bundle[index % TILE_WIDTH]!;
    verifyInclusion(
      this.crypto,
      index,
      this.checkpoint.size,
      leafHash(this.crypto, entry),
      await this.inclusionProof(index),
      this.checkpoint.root,
    );
    return entry;
  }

  /** Checks that an older checkpoint is a prefix of this one. */
  async verifyConsistentWith(older: Checkpoint): Promise<void> {
    verifyConsistency(
      this.crypto,
      older.size,
      this.checkpoint.size,
      older.root,
      this.checkpoint.root,
      await this.consistencyProof(older.size),
    );
  }
}
