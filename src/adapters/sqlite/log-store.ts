/**
 * SQLite storage (better-sqlite3 12) for the log and its projections: the embedded default
 * (docs/design.md §2.7). WAL journal with synchronous=FULL, so a commit that returned survives kill -9 and
 * power loss; one transaction per append batch (entries, tiles, projection rows, checkpoint).
 * Schema: docs/log-format.md §Storage.
 */
import { guardWrite, openSqlite, probeWrite, type WriteObserver } from "./open.js";
import Database from "better-sqlite3";
import type { JsonObject } from "../../core/canonical-json.js";
import { RadledgerError } from "../../core/errors.js";
import type {
  CommitBatch,
  IndexRow,
  LogStore,
  LookupOptions,
  StoredEntry,
  TileRecord,
} from "../../ports/storage.js";

const SCHEMA_VERSION = "2";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, type TEXT NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS leaf_index (hash BLOB PRIMARY KEY, idx INTEGER NOT NULL) WITHOUT ROWID;
-- tile key = level * 2^47 + index: one integer key keeps the 16 KiB rows in a rowid table.
CREATE TABLE IF NOT EXISTS tiles (tile INTEGER PRIMARY KEY, width INTEGER NOT NULL, nodes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entry_refs (target INTEGER NOT NULL, source INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (target, source, name)) WITHOUT ROWID;
-- Documents are up to a few KiB: a rowid table keeps them out of the (kind, id) B-tree, which
-- WITHOUT ROWID would fill with large rows and split on every random-key insert.
CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (kind, id));
CREATE TABLE IF NOT EXISTS idx (name TEXT NOT NULL, key TEXT NOT NULL, seq INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key, seq)) WITHOUT ROWID;
-- Entries by type (the type and the rowid, idx): the public list of recent entries of one type and
-- the counts by type read it, so that neither scans the log (a rare type would read every row).
-- Created on the first writable open of an older file; no schema version change: older code reads
-- the file as before, and SQLite keeps the index current whatever writes.
CREATE INDEX IF NOT EXISTS entries_type ON entries (type);
`;

const TILE_LEVEL_FACTOR = 2 ** 47;
const LEAF_HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * Index values are mostly entry ids (64 hex digits): stored as their 32 bytes, a third of the index
 * rows' size (three rows per registered study). Rows read back as text through INDEX_VALUE, in
 * SQLite itself, so that a 50,000-row scan builds no Buffers. Any other value stays text.
 */
function indexValue(value: string): string | Buffer {
  return LEAF_HASH_HEX.test(value) ? Buffer.from(value, "hex") : value;
}
const INDEX_VALUE = "CASE typeof(value) WHEN 'blob' THEN lower(hex(value)) ELSE value END";

function blob(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The first `limit` rows of a query (all without a limit), stopping the cursor early. */
function firstRows<T>(statement: Database.Statement, params: unknown[], limit?: number): T[] {
  if (limit === undefined || limit < 0) return statement.all(...params) as T[];
  if (limit === 1) {
    const row = statement.get(...params) as T | undefined;
    return row === undefined ? [] : [row];
  }
  const out: T[] = [];
  if (limit === 0) return out;
  for (const row of statement.iterate(...params) as IterableIterator<T>) {
    out.push(row);
    if (out.length >= limit) break;
  }
  return out;
}

export interface SqliteStoreOptions {
  readonly readonly?: boolean;
  /** Page cache in MiB (bounded: the 1M-entry ingest must stay under 256 MB RSS). */
  readonly cacheMiB?: number;
  /** Hears the outcome of every commit and probe (the node's storage health, src/app/storage-health.ts). */
  readonly onWrite?: WriteObserver;
}

export class SqliteLogStore implements LogStore {
  readonly #db: Database.Database;
  #size: number;
  readonly #s: ReturnType<SqliteLogStore["prepare"]>;
  readonly #legacyStudyDocs: boolean;
  readonly #path: string;
  readonly #onWrite: WriteObserver | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#path = path;
    this.#onWrite = options.onWrite;
    this.#db = openSqlite(path, {
      what: "log",
      schema: SCHEMA,
      ...(options.readonly === undefined ? {} : { readonly: options.readonly }),
    });
    const db = this.#db;
    // 16 MiB: at 1,000,000 entries 32 MiB appended no faster (5,643 against 5,636/s) and held
    // ≈ 20 MiB more of the 256 MB RSS budget (docs/performance.md, "Memory"). The tables outgrow
    // either long before: inserts at random keys miss the cache whatever its size.
    db.pragma(`cache_size = -${(options.cacheMiB ?? 16) * 1024}`);
    // Checkpoint the WAL every ~16 MiB instead of 4 MiB: fewer, larger checkpoints per batch stream.
    db.pragma("wal_autocheckpoint = 4000");
    const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get() as
      string | undefined;
    if (version !== undefined && version !== SCHEMA_VERSION && version !== "1")
      throw new RadledgerError("STORE_CORRUPT", `unsupported storage schema version ${version}`);
    if (!options.readonly) {
      if (version === undefined)
        db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
      else if (version === "1") {
        // Version 1 kept a "study" document per registered study, a copy of the entry's own
        // fields; version 2 reads the entry instead. Dropping the copies loses nothing.
        db.transaction(() => {
          db.prepare("DELETE FROM docs WHERE kind = 'study'").run();
          db.prepare("UPDATE meta SET value = ? WHERE key = 'schema'").run(SCHEMA_VERSION);
        })();
      }
    }
    // A read-only view of a version-1 file (not yet opened by a writer) still holds the copies;
    // its state rows leave them out, so that `radledger verify` compares like with like.
    this.#legacyStudyDocs = version === "1" && options.readonly === true;
    this.#s = this.prepare();
    this.#size = ((db.prepare("SELECT max(idx) FROM entries").pluck().get() as number | null) ?? -1) + 1;
  }

  private prepare() {
    const db = this.#db;
    return {
      entry: db.prepare("SELECT idx, type, data FROM entries WHERE idx = ?"),
      entries: db.prepare("SELECT idx, type, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx"),
      leaf: db.prepare("SELECT idx FROM leaf_index WHERE hash = ?").pluck(),
      entryIdsInRange: db.prepare(
        "SELECT l.hash AS hash FROM leaf_index l JOIN entries e ON e.idx = l.idx WHERE l.hash BETWEEN ? AND ? AND e.type = ? ORDER BY l.hash",
      ),
      tile: db.prepare("SELECT width, nodes FROM tiles WHERE tile = ?"),
      doc: db.prepare("SELECT body FROM docs WHERE kind = ? AND id = ?").pluck(),
      // No bound LIMIT: with "LIMIT ?" SQLite's plan costs several µs more per lookup here; callers
      // stop the cursor instead (lookups are on the append path of every projection).
      lookupAsc: db.prepare(
        `SELECT seq, ${INDEX_VALUE} AS value FROM idx WHERE name = ? AND key = ? AND seq > ? ORDER BY seq`,
      ),
      lookupValues: db
        .prepare(`SELECT ${INDEX_VALUE} FROM idx WHERE name = ? AND key = ? ORDER BY seq`)
        .pluck(),
      lookupDesc: db.prepare(
        `SELECT seq, ${INDEX_VALUE} AS value FROM idx WHERE name = ? AND key = ? AND seq < ? ORDER BY seq DESC`,
      ),
      refsTo: db.prepare(
        "SELECT source, name FROM entry_refs WHERE target = ? AND source > ? ORDER BY source",
      ),
      docPrefix: db.prepare("SELECT id FROM docs WHERE kind = ? AND id >= ? AND id < ? ORDER BY id"),
      indexKeys: db.prepare("SELECT DISTINCT key FROM idx WHERE name = ? AND key > ? ORDER BY key"),
      latestCheckpoint: db.prepare("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"),
      checkpointsBefore: db.prepare(
        "SELECT size, note FROM checkpoints WHERE size < ? ORDER BY size DESC LIMIT ?",
      ),
      checkpointAtLeast: db.prepare(
        "SELECT size, note FROM checkpoints WHERE size >= ? ORDER BY size LIMIT 1",
      ),
      recent: db.prepare("SELECT idx, type, data FROM entries WHERE idx < ? ORDER BY idx DESC LIMIT ?"),
      recentOfType: db.prepare(
        "SELECT idx, type, data FROM entries WHERE type = ? AND idx < ? ORDER BY idx DESC LIMIT ?",
      ),
      // The whole log from the type index alone; a tail by its rowid range.
      typeCounts: db.prepare("SELECT type, count(*) AS n FROM entries GROUP BY type"),
      typeCountsFrom: db.prepare(
        "SELECT type, count(*) AS n FROM entries NOT INDEXED WHERE idx >= ? GROUP BY type",
      ),
      ...(this.isReadonly()
        ? {}
        : {
            insEntry: db.prepare("INSERT INTO entries (idx, type, data) VALUES (?, ?, ?)"),
            insLeaf: db.prepare("INSERT INTO leaf_index (hash, idx) VALUES (?, ?)"),
            insRef: db.prepare("INSERT OR IGNORE INTO entry_refs (target, source, name) VALUES (?, ?, ?)"),
            putTile: db.prepare("INSERT OR REPLACE INTO tiles (tile, width, nodes) VALUES (?, ?, ?)"),
            putDoc: db.prepare(
              "INSERT INTO docs (kind, id, body) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body",
            ),
            delDoc: db.prepare("DELETE FROM docs WHERE kind = ? AND id = ?"),
            putIdx: db.prepare("INSERT OR REPLACE INTO idx (name, key, seq, value) VALUES (?, ?, ?, ?)"),
            delIdx: db.prepare("DELETE FROM idx WHERE name = ? AND key = ? AND seq = ?"),
            insCheckpoint: db.prepare("INSERT INTO checkpoints (size, note) VALUES (?, ?)"),
          }),
    };
  }

  private isReadonly(): boolean {
    return this.#db.readonly;
  }

  size(): number {
    return this.#size;
  }

  readEntry(index: number): StoredEntry | undefined {
    const row = this.#s.entry.get(index) as { idx: number; type: string; data: Buffer } | undefined;
    return row && { index: row.idx, type: row.type, bytes: bytes(row.data) };
  }

  readEntries(start: number, end: number): StoredEntry[] {
    return (this.#s.entries.all(start, end) as { idx: number; type: string; data: Buffer }[]).map((r) => ({
      index: r.idx,
      type: r.type,
      bytes: bytes(r.data),
    }));
  }

  forEachEntry(fn: (entry: StoredEntry) => void, start = 0): void {
    for (const row of this.#s.entries.iterate(start, Number.MAX_SAFE_INTEGER) as IterableIterator<{
      idx: number;
      type: string;
      data: Buffer;
    }>) {
      fn({ index: row.idx, type: row.type, bytes: bytes(row.data) });
    }
  }

  indexOfLeafHash(leafHash: Uint8Array): number | undefined {
    return this.#s.leaf.get(blob(leafHash)) as number | undefined;
  }

  *leafIndexRows(): IterableIterator<{ readonly hash: Uint8Array; readonly index: number }> {
    for (const r of this.#db
      .prepare("SELECT hash, idx FROM leaf_index ORDER BY hash")
      .iterate() as IterableIterator<{ hash: Buffer; idx: number }>) {
      yield { hash: new Uint8Array(r.hash), index: r.idx };
    }
  }

  entryByLeafHash(leafHash: string): StoredEntry | undefined {
    // Who controls it: callers pass ids from requests and entries; only exact lowercase hex is a key.
    if (!LEAF_HASH_HEX.test(leafHash)) return undefined;
    const index = this.#s.leaf.get(Buffer.from(leafHash, "hex")) as number | undefined;
    return index === undefined ? undefined : this.readEntry(index);
  }

  entryIdsWithPrefix(type: string, prefix: string, limit = 2): string[] {
    if (!/^[0-9a-f]{0,64}$/.test(prefix)) return [];
    // The prefix may end in half a byte: every hash from prefix‖0…0 to prefix‖f…f.
    const low = Buffer.from(prefix.padEnd(64, "0"), "hex");
    const high = Buffer.from(prefix.padEnd(64, "f"), "hex");
    return firstRows<{ hash: Buffer }>(this.#s.entryIdsInRange, [low, high, type], limit).map((r) =>
      r.hash.toString("hex"),
    );
  }

  readTile(level: number, index: number): TileRecord | undefined {
    const row = this.#s.tile.get(level * TILE_LEVEL_FACTOR + index) as
      { width: number; nodes: Buffer } | undefined;
    return row && { level, index, width: row.width, nodes: bytes(row.nodes) };
  }

  referencesTo(target: number, options: LookupOptions = {}): { source: number; name: string }[] {
    return firstRows(this.#s.refsTo, [target, options.after ?? -1], options.limit);
  }

  getDoc(kind: string, id: string): JsonObject | undefined {
    const body = this.#s.doc.get(kind, id) as string | undefined;
    return body === undefined ? undefined : (JSON.parse(body) as JsonObject);
  }

  lookup(name: string, key: string, options: LookupOptions = {}): IndexRow[] {
    if (options.reverse) {
      return firstRows(
        this.#s.lookupDesc,
        [name, key, options.after ?? Number.MAX_SAFE_INTEGER],
        options.limit,
      );
    }
    return firstRows(this.#s.lookupAsc, [name, key, options.after ?? -1], options.limit);
  }

  lookupValues(name: string, key: string): string[] {
    return this.#s.lookupValues.all(name, key) as string[];
  }

  /** Ids of documents of `kind` starting with `prefix` (at most `limit`): lets people type short ids. */
  docIdsWithPrefix(kind: string, prefix: string, limit = 2): string[] {
    return firstRows<{ id: string }>(this.#s.docPrefix, [kind, prefix, `${prefix}\uffff`], limit).map(
      (r) => r.id,
    );
  }

  indexKeys(name: string, options: { after?: string; limit?: number } = {}): string[] {
    return firstRows<{ key: string }>(this.#s.indexKeys, [name, options.after ?? ""], options.limit).map(
      (r) => r.key,
    );
  }

  latestCheckpoint(): { size: number; note: string } | undefined {
    return this.#s.latestCheckpoint.get() as { size: number; note: string } | undefined;
  }

  checkpoints(): { size: number; note: string }[] {
    return this.#db.prepare("SELECT size, note FROM checkpoints ORDER BY size").all() as {
      size: number;
      note: string;
    }[];
  }

  checkpointsBefore(before: number | undefined, limit: number): { size: number; note: string }[] {
    return this.#s.checkpointsBefore.all(before ?? Number.MAX_SAFE_INTEGER, limit) as {
      size: number;
      note: string;
    }[];
  }

  checkpointAtLeast(size: number): { size: number; note: string } | undefined {
    return this.#s.checkpointAtLeast.get(size) as { size: number; note: string } | undefined;
  }

  recentEntries(options: { type?: string; before?: number; limit: number }): StoredEntry[] {
    const before = options.before ?? Number.MAX_SAFE_INTEGER;
    const rows = (
      options.type === undefined
        ? this.#s.recent.all(before, options.limit)
        : this.#s.recentOfType.all(options.type, before, options.limit)
    ) as { idx: number; type: string; data: Buffer }[];
    return rows.map((r) => ({ index: r.idx, type: r.type, bytes: bytes(r.data) }));
  }

  entryTypeCounts(start = 0): Record<string, number> {
    const out: Record<string, number> = {};
    const rows = start <= 0 ? this.#s.typeCounts.all() : this.#s.typeCountsFrom.all(start);
    for (const r of rows as { type: string; n: number }[]) out[r.type] = r.n;
    return out;
  }

  *stateRows(): IterableIterator<string> {
    for (const r of this.#db
      .prepare(
        `SELECT kind, id, body FROM docs ${this.#legacyStudyDocs ? "WHERE kind <> 'study'" : ""} ORDER BY kind, id`,
      )
      .iterate() as IterableIterator<{ kind: string; id: string; body: string }>) {
      yield `doc ${r.kind} ${r.id} ${r.body}`;
    }
    for (const r of this.#db
      .prepare(`SELECT name, key, seq, ${INDEX_VALUE} AS value FROM idx ORDER BY name, key, seq`)
      .iterate() as IterableIterator<{ name: string; key: string; seq: number; value: string }>) {
      yield `idx ${r.name} ${r.key} ${r.seq} ${r.value}`;
    }
    for (const r of this.#db
      .prepare("SELECT target, source, name FROM entry_refs ORDER BY target, source, name")
      .iterate() as IterableIterator<{ target: number; source: number; name: string }>) {
      yield `ref ${r.target} ${r.source} ${r.name}`;
    }
  }

  commit(batch: CommitBatch): void {
    const s = this.#s;
    if (!s.insEntry) throw new RadledgerError("STORE_LOCKED", "the store is open read-only");
    const first = batch.entries[0]?.index;
    if (first !== undefined && first !== this.#size)
      throw new RadledgerError("STORE_CORRUPT", `batch starts at ${first}, log size is ${this.#size}`);
    // A full or read-only disk fails the commit as STORE_FULL or STORE_IO (SQLite has rolled the
    // transaction back: nothing of the batch is kept), and the node's storage health hears of it.
    guardWrite(this.#path, "log", this.#onWrite, () =>
      this.#db.transaction(() => {
        for (const e of batch.entries) {
          s.insEntry!.run(e.index, e.type, blob(e.bytes));
          s.insLeaf!.run(blob(e.leafHash), e.index);
          for (const r of e.refs) s.insRef!.run(r.target, e.index, r.name);
        }
        for (const t of batch.tiles)
          s.putTile!.run(t.level * TILE_LEVEL_FACTOR + t.index, t.width, blob(t.nodes));
        for (const m of batch.mutations) {
          switch (m.op) {
            case "put":
              s.putDoc!.run(m.kind, m.id, JSON.stringify(m.doc));
              break;
            case "delete":
              s.delDoc!.run(m.kind, m.id);
              break;
            case "index":
              s.putIdx!.run(m.name, m.key, m.seq, indexValue(m.value));
              break;
            case "unindex":
              s.delIdx!.run(m.name, m.key, m.seq);
              break;
          }
        }
        if (batch.checkpoint) s.insCheckpoint!.run(batch.checkpoint.size, batch.checkpoint.note);
      })(),
    );
    this.#size += batch.entries.length;
  }

  /** A write that changes nothing (open.ts probeWrite): can the log's disk take a write now? */
  probeWrite(): void {
    probeWrite(this.#db, this.#path, "log", this.#onWrite);
  }

  /** Re-reads the committed size (for a read-only view of a log another process appends to). */
  refresh(): void {
    this.#size =
      ((this.#db.prepare("SELECT max(idx) FROM entries").pluck().get() as number | null) ?? -1) + 1;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
