/**
 * How every SQLite database of a node is opened (log, vault, credentials, manifests, witness,
 * consortium): one place for the error a missing or unreadable file becomes, and for the pragmas
 * durability depends on. Writers use WAL with synchronous = FULL, so a committed transaction survives
 * power loss (the ledger acknowledges an entry only after its commit, docs/design.md §4.4); readers open the
 * file read-only and must find it; both wait up to 5 s for a writer's lock instead of failing.
 *
 * SQLite opens lazily: a file that is not a database, or a directory that cannot hold the WAL files,
 * shows only at the first statement. So the open runs the pragmas and a read of the schema here, and
 * whatever fails becomes a coded error naming the file (docs/errors.md): STORE_NOT_FOUND when there is
 * no file, STORE_CORRUPT when it is not a (sound) database, STORE_IO when it cannot be opened, read
 * or written (read-only directory or file, permissions, a directory in its place, disk I/O),
 * STORE_LOCKED when another process holds its lock — never a raw SqliteError.
 */
import { existsSync } from "node:fs";
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

/** The SQLite (or system) error code of a failure, e.g. SQLITE_NOTADB, SQLITE_READONLY_DIRECTORY, EACCES. */
function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

/**
 * The coded error for a SQLite failure on the database at `path`, or undefined when it is not a
 * storage fault (a bug, e.g. an SQL error, stays what it is).
 */
export function storeError(e: unknown, path: string, what: string): RadledgerError | undefined {
  if (e instanceof RadledgerError) return e;
  const code = codeOf(e);
  const why = e instanceof Error ? ` (SQLite: ${e.message})` : "";
  const at = { at: path };
  if (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT"))
    return new RadledgerError(
      "STORE_CORRUPT",
      `the ${what} database ${path} is not a database or is damaged${why}`,
      at,
      { cause: e },
    );
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
    return new RadledgerError(
      "STORE_LOCKED",
      `the ${what} database ${path} is locked by another process${why}`,
      at,
      { cause: e },
    );
  if (
    code.startsWith("SQLITE_CANTOPEN") ||
    code.startsWith("SQLITE_READONLY") ||
    code.startsWith("SQLITE_IOERR") ||
    code.startsWith("SQLITE_PERM") ||
    code.startsWith("SQLITE_AUTH") ||
    code.startsWith("SQLITE_FULL") ||
    code === "EACCES" ||
    code === "EPERM" ||
    code === "EISDIR" ||
    code === "EROFS"
  ) {
    if (!existsSync(path))
      return new RadledgerError("STORE_NOT_FOUND", `no ${what} database at ${path}${why}`, at, { cause: e });
    const hint = code.startsWith("SQLITE_READONLY")
      ? ": the file or its directory is read-only for this user (a writer, and a reader of a WAL database, create files beside it)"
      : code.startsWith("SQLITE_FULL")
        ? ": the disk is full"
        : ": check that it is a file this user may read and write, in a directory it may write";
    return new RadledgerError(
      "STORE_IO",
      `cannot open or write the ${what} database ${path}${hint}${why}`,
      at,
      { cause: e },
    );
  }
  return undefined;
}

export function openSqlite(path: string, options: OpenSqliteOptions): Database.Database {
  const readonly = options.readonly ?? false;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly, fileMustExist: readonly });
    db.pragma("busy_timeout = 5000");
    if (!readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      if (options.schema !== undefined) db.exec(options.schema);
    }
    // The first read of the file: a file that is not a database, or a WAL database whose
    // shared-memory file cannot be opened, fails here rather than at the caller's first query.
    db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get();
    return db;
  } catch (e) {
    try {
      db?.close();
    } catch {
      // the database is unusable anyway; the error below says why
    }
    throw (
      storeError(e, path, options.what) ??
      new RadledgerError(
        "STORE_IO",
        `cannot open the ${options.what} database at ${path}${e instanceof Error ? ` (SQLite: ${e.message})` : ""}`,
        { at: path },
        { cause: e },
      )
    );
  }
}
