/**
 * C2SP tlog-tiles endpoints at the paths the spec names: /checkpoint, /tile/<L>/<N>[.p/<W>] and
 * /tile/entries/<N>[.p/<W>]. Checkpoints and hash tiles are public (hashes only); entry bundles are
 * pseudonymous personal data and are served only to consortium peers and admins and auditors
 * (entry-access.ts, docs/privacy.md). Tile and bundle contents never change once served (a partial
 * tile of width W is a prefix of every later version), so both carry immutable cache headers —
 * `public` for hash tiles, `private` for entry bundles, which no shared cache may keep; the
 * checkpoint is mutable and cached for a second at most. Because they never change, the encoded
 * responses are also kept in a small in-memory LRU (by bytes), so a hot tile is served without
 * touching SQLite or re-encoding (docs/performance.md: ≥ 10,000 tile requests/s). The entry route
 * authenticates before its handler runs, so the LRU never answers an unauthenticated request.
 */
import type { FastifyInstance } from "fastify";
import { RadledgerError } from "../core/errors.js";
import { encodeEntryBundle, parseTilePath, TILE_WIDTH } from "../core/tiles.js";
import { tileHashes } from "../domain/ledger/tree.js";
import type { RadledgerNode } from "../app/node.js";
import type { RouteGate } from "./route.js";

const IMMUTABLE = "public, max-age=31536000, immutable";
const IMMUTABLE_PRIVATE = "private, max-age=31536000, immutable";
const CACHE_BYTES = 32 * 1024 * 1024;

/**
 * Whether the tile at `level`/`index` of `width` lies within a tree of `size` leaves. Only such a tile
 * is fixed for ever: a stored tile the log does not cover (storage ahead of the tree a read-only view
 * or a restored store has) may still change, so it is not served and never cached as immutable.
 */
function withinTree(level: number, index: number, width: number, size: number): boolean {
  return (index * TILE_WIDTH + width) * TILE_WIDTH ** level <= size;
}

/** Least-recently-used cache of immutable responses, bounded by their total size. */
class ResponseCache {
  readonly #map = new Map<string, Buffer>();
  #bytes = 0;
  constructor(private readonly limit: number) {}
  get(key: string): Buffer | undefined {
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
    }
    return hit;
  }
  set(key: string, value: Buffer): void {
    if (value.length > this.limit / 8) return;
    this.#map.set(key, value);
    this.#bytes += value.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= this.limit) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }
}

/**
 * `checkpoint` picks the note /checkpoint serves: by default the log's latest; in a consortium the
 * newest one published with its witnesses' cosignature lines (src/domain/consortium/cosigning.ts).
 * `entries` authenticates the readers of entry bundles (entry-access.ts entryReaderGate).
 */
export function registerTileRoutes(
  app: FastifyInstance,
  node: RadledgerNode,
  entries: RouteGate,
  checkpoint: () => string | undefined = () => node.ledger.latestCheckpoint,
): void {
  app.get("/checkpoint", async (_req, reply) => {
    const note = checkpoint();
    if (note === undefined) throw new RadledgerError("TILE_NOT_FOUND", "the log has no checkpoint yet");
    return reply.header("cache-control", "no-cache, max-age=1").type("text/plain; charset=utf-8").send(note);
  });

  // One cache per route: an entry bundle can only ever be answered by the authenticated route.
  const bundles = new ResponseCache(CACHE_BYTES / 2);
  const tiles = new ResponseCache(CACHE_BYTES);
  const pathOf = (url: string): string => url.slice(1).split("?")[0]!;

  // Entry bundles: a static segment, so the router sends them here and never to /tile/* below.
  app.get(
    "/tile/entries/*",
    {
      config: { access: "authenticated" },
      onRequest: async (req, reply) => {
        const caller = await entries.check(req, reply);
        if (caller) req.caller = caller;
      },
    },
    async (req, reply) => {
      const path = pathOf(req.url);
      void reply.header("vary", "authorization, signature");
      const cached = bundles.get(path);
      if (cached)
        return reply.header("cache-control", IMMUTABLE_PRIVATE).type("application/octet-stream").send(cached);
      const tile = parseTilePath(path);
      if (tile.kind !== "entries") throw new RadledgerError("TILE_NOT_FOUND", "not an entry bundle path");
      const want = tile.width ?? TILE_WIDTH;
      if (!withinTree(0, tile.index, want, node.ledger.size))
        throw new RadledgerError("TILE_NOT_FOUND", "entry bundle beyond the end of the log");
      const start = tile.index * TILE_WIDTH;
      const rows = node.store.readEntries(start, start + want);
      if (rows.length !== want)
        throw new RadledgerError("TILE_NOT_FOUND", "entry bundle not available at that width");
      const bundle = Buffer.from(encodeEntryBundle(rows.map((e) => e.bytes)));
      bundles.set(path, bundle);
      return reply.header("cache-control", IMMUTABLE_PRIVATE).type("application/octet-stream").send(bundle);
    },
  );

  app.get("/tile/*", async (req, reply) => {
    const path = pathOf(req.url);
    const cached = tiles.get(path);
    if (cached) return reply.header("cache-control", IMMUTABLE).type("application/octet-stream").send(cached);
    const tile = parseTilePath(path);
    if (tile.kind === "entries") throw new RadledgerError("TILE_NOT_FOUND", "not a hash tile path");
    const want = tile.width ?? TILE_WIDTH;
    if (!withinTree(tile.level, tile.index, want, node.ledger.size))
      throw new RadledgerError("TILE_NOT_FOUND", "tile beyond the end of the log");
    const stored = node.ledger.tree.tile(tile.level, tile.index, want);
    if (!stored || stored.width < want)
      throw new RadledgerError("TILE_NOT_FOUND", "tile not available at that width");
    const hashes = tileHashes(stored, want);
    const body = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
    tiles.set(path, body);
    return reply.header("cache-control", IMMUTABLE).type("application/octet-stream").send(body);
  });
}
