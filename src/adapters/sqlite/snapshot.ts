/**
 * Pinned read snapshots of SQLite databases, copied with SQLite's online backup API (the PinDatabases
 * port, src/ports/backup.ts).
 *
 * Each database is opened read-only on a connection of its own and a read transaction is begun and
 * made to read (BEGIN; SELECT …): in WAL mode that fixes the connection's snapshot at the last commit,
 * without blocking the writer, which goes on appending to the WAL (https://sqlite.org/wal.html
 * §2.2, "readers do not block writers"). The backup API then copies through the same connection: when
 * its source already has a read transaction open, sqlite3_backup_step reads inside it instead of
 * beginning a fresh one per step (sqlite3 src/backup.c), so the copy is the pinned snapshot however
 * many steps it takes and whatever the writer commits meanwhile — it never restarts. Every database a
 * radledger node writes is in WAL mode (src/adapters/sqlite/open.ts); a database in rollback mode
 * would block its writer for the length of the copy.
 *
 * A pinned snapshot keeps the writer's checkpoints from passing it: the WAL grows for the length of
 * the backup, and an erasure during a backup answers ERASURE_INCOMPLETE (it cannot empty the WAL,
 * docs/security.md §Erasure and backups) and is run again afterwards.
 */
import Database from "better-sqlite3";
import { RadledgerError } from "../../core/errors.js";
import type { DatabaseFile, PinDatabases, PinnedDatabases } from "../../ports/backup.js";
import { openSqlite, storeError } from "./open.js";

/** Pages copied per step: small enough that progress shows and the event loop breathes between steps. */
const PAGES_PER_STEP = 1024;

export const pinDatabases: PinDatabases = (files: readonly DatabaseFile[]): PinnedDatabases => {
  const open: Database.Database[] = [];
  const release = (): void => {
    for (const db of open.splice(0)) {
      try {
        if (db.inTransaction) db.exec("COMMIT");
        db.close();
      } catch {
        // a read snapshot that cannot be ended is ended by closing; nothing was written
      }
    }
  };
  for (const f of files) {
    try {
      const db = openSqlite(f.path, { readonly: true, what: f.what });
      open.push(db);
      db.exec("BEGIN");
      // The first read starts the read transaction: from here the connection sees this snapshot.
      db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get();
    } catch (e) {
      release();
      throw storeError(e, f.path, f.what) ?? e;
    }
  }
  const pinned = [...open];
  return {
    async copy(i, to, onProgress) {
      const db = pinned[i];
      const file = files[i];
      if (db === undefined || file === undefined || !db.open)
        throw new RadledgerError("INTERNAL", `no pinned database ${i}`);
      try {
        await db.backup(to, {
          progress: (p) => {
            onProgress?.(p);
            return PAGES_PER_STEP;
          },
        });
        // The copy keeps the source's WAL mode in its header; as a backup it is one self-contained
        // file, so it is switched to a rollback journal (the node sets WAL again when it opens it).
        const copy = new Database(to, { fileMustExist: true });
        try {
          copy.pragma("journal_mode = DELETE");
        } finally {
          copy.close();
        }
      } catch (e) {
        throw (
          storeError(e, file.path, file.what) ??
          new RadledgerError(
            "STORE_IO",
            `cannot copy the ${file.what} database ${file.path} to ${to}${e instanceof Error ? ` (SQLite: ${e.message})` : ""}`,
            { at: file.path },
            { cause: e },
          )
        );
      }
    },
    release,
  };
};
