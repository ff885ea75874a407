/**
 * C2SP tlog-tiles endpoints at the paths the spec names: /checkpoint, /tile/<L>/<N>[.p/<W>] and
 * /tile/entries/<N>[.p/<W>]. Tile and bundle contents never change once served (a partial tile of
 * width W is a prefix of every later version), so both carry immutable cache headers; the
 * checkpoint is mutable and cached for a second at most. Because they never change, the encoded
 * responses are also kept in a small in-memory LRU (by bytes), so a hot tile is served without
 * touching SQLite or re-encoding (docs/performance.md: ≥ 10,000 tile requests/s).
 */
import type { FastifyInstance } from "fastify";
import { RadledgerError } from "../core/errors.js";
import { encodeEntryBundle, parseTilePath, TILE_WIDTH } from "../core/tiles.js";
import { tileHashes } from "../domain/ledger/tree.js";
import type { RadledgerNode } from "../app/node.js";

const IMMUTABLE = "public, max-age=31536000, immutable";
const CACHE_BYTES = 32 * 1024 * 1024;

/** Least-recently-used cache of immutable responses, bounded by their total size. */
class ResponseCache {
  readonly #map = new Map<string, Buffer>();
  #bytes = 0;
  get(key: string): Buffer | undefined {
    const hit = this.#map.get(key);
    if (hit) {
      this.#map.delete(key);
      this.#map.set(key, hit);
    }
    return hit;
  }
  set(key: string, value: Buffer): void {
    if (value.length > CACHE_BYTES / 8) return;
    this.#map.set(key, value);
    this.#bytes += value.length;
    for (const [k, v] of this.#map) {
      if (this.#bytes <= CACHE_BYTES) break;
      this.#map.delete(k);
      this.#bytes -= v.length;
    }
  }
}

/**
 * `checkpoint` picks the note /checkpoint serves: by default the log's latest; in a consortium the
 * newest one published with its witnesses' cosignature lines (src/domain/consortium/cosigning.ts).
 */
export function registerTileRoutes(
  app: FastifyInstance,
  node: RadledgerNode,
  checkpoint: () => string | undefined = () => node.ledger.latestCheckpoint,
): void {
  app.get("/checkpoint", async (_req, reply) => {
    const note = checkpoint();
    if (note === undefined) throw new RadledgerError("TILE_NOT_FOUND", "the log has no checkpoint yet");
    return reply.header("cache-control", "no-cache, max-age=1").type("text/plain; charset=utf-8").send(note);
  });

  const cache = new ResponseCache();
  app.get("/tile/*", async (req, reply) => {
    const path = req.url.slice(1).split("?")[0]!;
    const cached = cache.get(path);
    if (cached) return reply.header("cache-control", IMMUTABLE).type("application/octet-stream").send(cached);
    const tile = parseTilePath(path);
    const want = tile.width ?? TILE_WIDTH;
    if (tile.kind === "entries") {
      const start = tile.index * TILE_WIDTH;
      const entries = node.store.readEntries(start, start + want);
      if (entries.length !== want)
        throw new RadledgerError("TILE_NOT_FOUND", "entry bundle not available at that width");
      const bundle = Buffer.from(encodeEntryBundle(entries.map((e) => e.bytes)));
      cache.set(path, bundle);
      return reply.header("cache-control", IMMUTABLE).type("application/octet-stream").send(bundle);
    }
    const stored = node.ledger.tree.tile(tile.level, tile.index, want);
    if (!stored || stored.width < want)
      throw new RadledgerError("TILE_NOT_FOUND", "tile not available at that width");
    const hashes = tileHashes(stored, want);
    const body = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
    cache.set(path, body);
    return reply.header("cache-control", IMMUTABLE).type("application/octet-stream").send(body);
  });
}
