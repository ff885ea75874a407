/**
 * Snapshots of a node's SQLite databases for `radledger backup` (src/app/backup.ts): read snapshots
 * pinned on several databases at one instant, then copied out at leisure while the node goes on
 * writing. The instant is what makes a backup consistent across the databases (docs/backup.md).
 */

/** One database to pin: its file, and what it is for error messages ("log", "vault", …). */
export interface DatabaseFile {
  readonly path: string;
  readonly what: string;
}

/** Progress of one copy, in database pages. */
export interface CopyProgress {
  readonly totalPages: number;
  readonly remainingPages: number;
}

export interface PinnedDatabases {
  /**
   * Copies database `i` (in the order pinned) as it was when pinned to `to`, a new file: a complete
   * database in rollback-journal mode (no -wal or -shm beside it), so that the copy is one file whose
   * hash is its content.
   */
  copy(i: number, to: string, onProgress?: (p: CopyProgress) => void): Promise<void>;
  /** Ends the read snapshots (the node's WAL checkpoints can then pass them). */
  release(): void;
}

/**
 * Pins a read snapshot on each database, synchronously: the caller pins them all in one synchronous
 * stretch, between two turns of the writer's event loop, so no transaction of the writer lies between
 * the snapshots.
 */
export type PinDatabases = (files: readonly DatabaseFile[]) => PinnedDatabases;
