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
 * or written (read-only directory, file or filesystem, permissions, a directory in its place, disk
 * I/O), STORE_FULL when the disk holding it is full, STORE_LOCKED when another process holds its lock — never a raw SqliteError.
 */
import { existsSync, statfsSync } from "node:fs";
import { dirname } from "node:path";
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
 * Below this many free bytes on the database's filesystem, an I/O error is taken for a full disk.
 * SQLite reports ENOSPC as SQLITE_FULL only where it writes pages; growing the WAL index (-shm) or
 * creating the WAL on a full disk comes back as SQLITE_IOERR_* ("disk I/O error"), which would
 * otherwise send the operator looking at permissions. 1 MiB is more than one batch's pages need.
 */
const NEARLY_FULL_BYTES = 1024 * 1024;

/** Whether the filesystem holding `path` has (nearly) no space left for this user. */
function diskNearlyFull(path: string): boolean {
  try {
    const fs = statfsSync(existsSync(path) ? path : dirname(path));
    return fs.bavail * fs.bsize < NEARLY_FULL_BYTES;
  } catch {
    return false;
  }
}

/** The storage-fault codes: a write refused by the disk, not by the ledger's rules. */
export function isStorageFault(e: unknown): e is RadledgerError {
  return e instanceof RadledgerError && (e.code === "STORE_FULL" || e.code === "STORE_IO");
}

/**
 * The coded error for a SQLite failure on the database at `path`, or undefined when it is not a
 * storage fault (a bug, e.g. an SQL error, stays what it is). `details.sqlite` carries SQLite's (or
 * the system's) code, e.g. SQLITE_FULL, SQLITE_READONLY_DBMOVED, SQLITE_IOERR_WRITE, EROFS.
 */
export function storeError(e: unknown, path: string, what: string): RadledgerError | undefined {
  if (e instanceof RadledgerError) return e;
  const code = codeOf(e);
  const why = e instanceof Error ? ` (SQLite: ${e.message})` : "";
  const at = { at: path, ...(code === "" ? {} : { sqlite: code }) };
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
    code.startsWith("SQLITE_FULL") ||
    code === "ENOSPC" ||
    code === "EDQUOT" ||
    (code.startsWith("SQLITE_IOERR") && diskNearlyFull(path))
  )
    return new RadledgerError(
      "STORE_FULL",
      `the disk holding the ${what} database ${path} is full: writes are refused until space returns${why}`,
      at,
      { cause: e },
    );
  if (
    code.startsWith("SQLITE_CANTOPEN") ||
    code.startsWith("SQLITE_READONLY") ||
    code.startsWith("SQLITE_IOERR") ||
    code.startsWith("SQLITE_PERM") ||
    code.startsWith("SQLITE_AUTH") ||
    code === "EACCES" ||
    code === "EPERM" ||
    code === "EISDIR" ||
    code === "EROFS"
  ) {
    if (!existsSync(path))
      return new RadledgerError("STORE_NOT_FOUND", `no ${what} database at ${path}${why}`, at, { cause: e });
    const hint =
      code.startsWith("SQLITE_READONLY") || code === "EROFS"
        ? ": the file, its directory or its filesystem is read-only for this user (a writer, and a reader of a WAL database, create files beside it)"
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

/**
 * Told the outcome of every write to a database (`fault` undefined: it succeeded), so that the node's
 * readiness and log learn when the disk refuses writes and when it takes them again
 * (src/app/storage-health.ts).
 */
export type WriteObserver = (path: string, fault: RadledgerError | undefined) => void;

/**
 * Runs a write on the database at `path`: a storage fault (full, read-only, I/O) becomes its coded
 * error (STORE_FULL, STORE_IO) instead of a raw SqliteError, which the API would answer with 500;
 * `observe` hears the outcome. Any other failure (a rule, a bug) passes through unobserved.
 */
export function guardWrite<T>(
  path: string,
  what: string,
  observe: WriteObserver | undefined,
  write: () => T,
): T {
  let result: T;
  try {
    result = write();
  } catch (e) {
    const coded = e instanceof RadledgerError ? undefined : storeError(e, path, what);
    if (coded === undefined) throw e;
    if (isStorageFault(coded)) observe?.(path, coded);
    throw coded;
  }
  observe?.(path, undefined);
  return result;
}

/**
 * A write that changes nothing: the header's user_version set to the value it has, in a transaction.
 * SQLite still writes the header page to the WAL and syncs it at commit (4 KiB), so the probe fails
 * as a real write fails on a full or read-only disk, without touching any table — the cheap probe
 * behind readiness (src/app/storage-health.ts).
 */
export function probeWrite(db: Database.Database, path: string, what: string, observe?: WriteObserver): void {
  guardWrite(path, what, observe, () =>
    db.transaction(() => {
      const version = db.pragma("user_version", { simple: true }) as number;
      db.pragma(`user_version = ${version}`);
    })(),
  );
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
