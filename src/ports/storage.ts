/**
 * The storage port: what the log and its projections need from a database. One contract test suite
 * (test/contract/log-store.contract.ts) runs against every adapter. The interface is synchronous
 * because the append path applies a batch's rules and writes in one transaction on one connection
 * (better-sqlite3 is synchronous; an asynchronous engine would prefetch state per batch).
 */
import type { JsonObject } from "../core/canonical-json.js";

/** One row of a secondary index kept by a projection: ordered by seq (usually an entry index). */
export interface IndexRow {
  readonly seq: number;
  readonly value: string;
}

export interface LookupOptions {
  /** Only rows with seq strictly after (or, with reverse, before) this cursor. */
  readonly after?: number;
  readonly limit?: number;
  readonly reverse?: boolean;
}

/** Read access to projection state (documents and secondary indexes) as of the last commit. */
export interface StateReader {
  getDoc(kind: string, id: string): JsonObject | undefined;
  lookup(name: string, key: string, options?: LookupOptions): IndexRow[];
  /**
   * Just the values of every row under (name, key), in seq order: for whole-key scans (the AI
   * recall reads 50,000 rows of one model version) where building a {seq, value} per row costs a
   * third of the query.
   */
  lookupValues(name: string, key: string): string[];
  /**
   * The entry whose leaf hash is `leafHash` (64 lowercase hex digits; anything else finds nothing),
   * as committed, or admitted earlier in the same batch when read through the batch's state layer.
   * Projections whose document would only repeat an entry's own fields (a registered study) read
   * the entry instead of storing a copy: docs/log-format.md §Storage.
   */
  entryByLeafHash(leafHash: string): StoredEntry | undefined;
}

export interface StoredEntry {
  readonly index: number;
  readonly type: string;
  readonly bytes: Uint8Array;
}

export interface EntryRef {
  readonly name: string;
  readonly target: number;
}

export interface NewEntry {
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly type: string;
  readonly bytes: Uint8Array;
  readonly refs: readonly EntryRef[];
}

export type StateMutation =
  | { readonly op: "put"; readonly kind: string; readonly id: string; readonly doc: JsonObject }
  | { readonly op: "delete"; readonly kind: string; readonly id: string }
  | {
      readonly op: "index";
      readonly name: string;
      readonly key: string;
      readonly seq: number;
      readonly value: string;
    }
  | { readonly op: "unindex"; readonly name: string; readonly key: string; readonly seq: number };

/** A stored tile: all perfect-subtree hashes of one height-8 subtree (see docs/log-format.md §Storage). */
export interface TileRecord {
  readonly level: number;
  readonly index: number;
  /** Number of level-0 hashes present (1..256). */
  readonly width: number;
  /** 510 hashes: tile levels 0..7 at offsets 512 - 2^(9-r) (see src/domain/ledger/tile-store.ts). */
  readonly nodes: Uint8Array;
}

export interface CommitBatch {
  readonly entries: readonly NewEntry[];
  readonly tiles: readonly TileRecord[];
  readonly mutations: readonly StateMutation[];
  /** The signed checkpoint (note text) covering the tree after this batch; absent when replaying. */
  readonly checkpoint?: { readonly size: number; readonly note: string };
}

export interface LogStore extends StateReader {
  /** Committed tree size. */
  size(): number;
  readEntry(index: number): StoredEntry | undefined;
  readEntries(start: number, end: number): StoredEntry[];
  /** Calls fn for every entry in order, without holding them all in memory. */
  forEachEntry(fn: (entry: StoredEntry) => void, start?: number): void;
  indexOfLeafHash(leafHash: Uint8Array): number | undefined;
  /** Every row of the leaf-hash index, in hash order (what the audit compares with the replay). */
  leafIndexRows(): IterableIterator<{ readonly hash: Uint8Array; readonly index: number }>;
  readTile(level: number, index: number): TileRecord | undefined;
  /** Entries that reference entry `target` (by leaf hash), in log order. */
  referencesTo(target: number, options?: LookupOptions): { source: number; name: string }[];
  latestCheckpoint(): { size: number; note: string } | undefined;
  checkpoints(): { size: number; note: string }[];
  /**
   * Stored checkpoints newest first: those of size below `before` (all without it), at most
   * `limit`. The checkpoint history the log explorer pages through (GET /api/v1/log/checkpoints).
   */
  checkpointsBefore(before: number | undefined, limit: number): { size: number; note: string }[];
  /** The smallest stored checkpoint of size at least `size` (sampling the history for a chart). */
  checkpointAtLeast(size: number): { size: number; note: string } | undefined;
  /**
   * Entries newest first: of `type` when given, below index `before` when given, at most `limit`.
   * Backs the public list of recent entries, so it must not scan the log for a rare type.
   */
  recentEntries(options: { type?: string; before?: number; limit: number }): StoredEntry[];
  /** How many entries of each type lie at index `start` or after (the whole log by default). */
  entryTypeCounts(start?: number): Record<string, number>;
  /**
   * Every projection row (documents, then index rows) as one text line each, in a fixed order, so
   * that a rebuild can be compared with the live state without loading either into memory.
   */
  stateRows(): IterableIterator<string>;
  /**
   * Leaf hashes (hex) of entries of `type` whose hash starts with `prefix` (hex digits), at most
   * `limit`: lets people type short ids of records that are entries themselves (a study).
   */
  entryIdsWithPrefix(type: string, prefix: string, limit?: number): string[];
  /** Ids of documents of `kind` starting with `prefix`, at most `limit` (default 2): short ids people type. */
  docIdsWithPrefix(kind: string, prefix: string, limit?: number): string[];
  /** Distinct keys of a secondary index in ascending order, after `after` (e.g. every patient with a study). */
  indexKeys(name: string, options?: { after?: string; limit?: number }): string[];
  /** Applies a whole batch atomically and durably; after it returns, the batch survives kill -9. Only the Ledger commits. */
  commit(batch: CommitBatch): void;
  close(): void;
}

/**
 * The high-water mark (docs/security.md §High-water mark): the latest signed checkpoint the node
 * published, kept OUTSIDE the log database it protects. A damaged WAL makes SQLite drop every frame
 * after the bad checksum, by design, so a committed and acknowledged tail can vanish with the store
 * still consistent in itself; only a record kept elsewhere shows that it was there. The Ledger
 * writes the mark after each commit and before it acknowledges the batch; opening a writing node
 * and `verify --data` compare the store with it.
 */
export interface CheckpointMark {
  /** Where the mark lives (a path), for messages. */
  readonly location: string;
  /** The recorded checkpoint's note text; undefined when there is none yet. */
  read(): string | undefined;
  /** Replaces the mark; returns only once the new mark survives a crash or power loss. */
  write(note: string): void;
}

/** The log and its projections as readers get them: everything but committing (the Ledger's alone) and closing (the owner's). */
export type LogReader = Omit<LogStore, "commit" | "close">;
