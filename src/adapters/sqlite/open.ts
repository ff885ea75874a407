/**
 * How every SQLite database of a node is opened (log, vault, credentials, manifests, witness,
 * consortium): one place for the error a missing or unreadable file becomes, and for the pragmas
 * durability depends on. Writers use WAL with synchronous = FULL, so a committed transaction survives
 * power loss (the ledger acknowledges an entry only after its commit, docs/design.md §4.4); readers open the
 * file read-only and must find it; both wait up to 5 s for a writer's lock instead of failing.
 */
import Database from "better-sqlite3";
import { RadledgerError } from "../../core/errors.js";

export interface OpenSqliteOptions {
  /** Open read-only; the file must exist. */
  readonly readonly?: boolean;
  /** Schema statements run on a writable open (CREATE … IF NOT EXISTS). */
  readonly schema?: string;
  /** What the database is, for the error message ("log", "vault", …). */
  readonly what: string;
}

export function openSqlite(path: string, options: OpenSqliteOptions): Database.Database {
  const readonly = options.readonly ?? false;
  let db: Database.Database;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
  } catch (e) {
    throw new RadledgerError(
      "STORE_NOT_FOUND",
      `cannot open the ${options.what} database at ${path}`,
      {},
      { cause: e },
    );
  }
  db.pragma("busy_timeout = 5000");
  if (!readonly) {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    if (options.schema !== undefined) db.exec(options.schema);
  }
  return db;
}
