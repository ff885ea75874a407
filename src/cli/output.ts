/**
 * CLI output conventions: results on stdout (human text, or one JSON document with --json),
 * progress and diagnostics on stderr, and exit codes by error category (docs/errors.md).
 */
import { ERROR_CODES, RadledgerError, toRadledgerError, type ErrorCategory } from "../core/errors.js";

export const EXIT_BY_CATEGORY: Record<ErrorCategory, number> = {
  verification: 1,
  untrusted: 8,
  invalid: 2,
  unsupported_media: 2,
  too_large: 2,
  headers_too_large: 2,
  not_found: 3,
  conflict: 4,
  unavailable: 5,
  rate_limited: 5,
  unauthenticated: 6,
  forbidden: 6,
  unprocessable: 7,
  internal: 70,
};

/** An error whose JSON result is already on stdout: only its message goes to stderr. */
export class AlreadyReported extends Error {
  constructor(readonly error: RadledgerError) {
    super(error.message);
  }
}

/**
 * A storage fault that surfaced after its database was opened (src/adapters/sqlite/open.ts turns
 * those at the open into errors naming the file), e.g. a damaged page read by a later query: a coded
 * error rather than an internal one with a stack. Recognised by better-sqlite3's error shape, so that
 * this edge need not load the storage adapter.
 */
function sqliteFault(e: unknown): RadledgerError | undefined {
  if (!(e instanceof Error) || e.name !== "SqliteError") return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== "string") return undefined;
  const store = (
    c: "STORE_CORRUPT" | "STORE_IO" | "STORE_LOCKED" | "STORE_FULL",
    what: string,
  ): RadledgerError =>
    new RadledgerError(
      c,
      `a database of the data directory ${what} (SQLite: ${e.message})`,
      {},
      { cause: e },
    );
  if (code.startsWith("SQLITE_CORRUPT") || code.startsWith("SQLITE_NOTADB"))
    return store("STORE_CORRUPT", "is damaged");
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
    return store("STORE_LOCKED", "is locked by another process");
  if (code.startsWith("SQLITE_FULL")) return store("STORE_FULL", "cannot grow: the disk is full");
  if (/^SQLITE_(IOERR|READONLY|CANTOPEN|PERM)/.test(code))
    return store("STORE_IO", "cannot be read or written");
  return undefined;
}

/**
 * A file the command could not write because the disk is full or the filesystem read-only (a key,
 * a bundle, the local socket): the same codes as the databases' (STORE_FULL, STORE_IO), one line
 * naming the file, not an internal error with a stack. Recognised by Node's fs error shape (a
 * system `code`, `syscall` and `path`).
 */
function fileFault(e: unknown): RadledgerError | undefined {
  if (!(e instanceof Error)) return undefined;
  const { code, syscall, path } = e as NodeJS.ErrnoException;
  if (typeof syscall !== "string" || typeof path !== "string") return undefined;
  if (code === "ENOSPC" || code === "EDQUOT")
    return new RadledgerError(
      "STORE_FULL",
      `cannot write ${path}: the disk is full (${code})`,
      { at: path },
      { cause: e },
    );
  if (code === "EROFS" || code === "EIO")
    return new RadledgerError(
      "STORE_IO",
      `cannot write ${path}: ${code === "EROFS" ? "the filesystem is read-only" : "disk I/O error"} (${code})`,
      { at: path },
      { cause: e },
    );
  return undefined;
}

/** Prints a coded error to stderr and returns the exit code for it. */
export function reportError(e: unknown, json = false): number {
  if (e instanceof AlreadyReported) {
    process.stderr.write(`radledger: ${e.error.code}: ${e.error.message}\n`);
    return EXIT_BY_CATEGORY[ERROR_CODES[e.error.code]];
  }
  const err = sqliteFault(e) ?? fileFault(e) ?? toRadledgerError(e);
  if (json) process.stdout.write(JSON.stringify({ ok: false, error: err.toJSON() }) + "\n");
  const detail = err.code === "INTERNAL" && e instanceof Error && e.stack ? `\n${e.stack}` : "";
  process.stderr.write(`radledger: ${err.code}: ${err.message}${detail}\n`);
  return EXIT_BY_CATEGORY[ERROR_CODES[err.code]];
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** A progress line on stderr: redrawn in place on a terminal, one line every few seconds otherwise. */
export class Progress {
  #last = 0;
  readonly #start = Date.now();

  constructor(
    private readonly label: string,
    private readonly unit = "entries",
    private readonly enabled = true,
  ) {}

  update(done: number, total: number, extra = ""): void {
    if (!this.enabled) return;
    const now = Date.now();
    const tty = process.stderr.isTTY;
    if (done < total && now - this.#last < (tty ? 100 : 5000)) return;
    this.#last = now;
    const seconds = (now - this.#start) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    const width = 24;
    const filled = Math.round((pct / 100) * width);
    const bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
    const line = `${this.label} ${bar} ${pct}% ${done}/${total} ${this.unit} ${rate}/s${extra ? " " + extra : ""}`;
    process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`);
  }

  done(): void {
    if (this.enabled && process.stderr.isTTY) process.stderr.write("\n");
  }
}
