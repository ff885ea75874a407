/**
 * The single-writer lock of a data directory, held by the operating system rather than by a PID file:
 * DIR/writer.lock.sqlite is a tiny SQLite database the writer opens in `locking_mode = EXCLUSIVE` and
 * writes once, so SQLite takes — and keeps until the connection closes — its exclusive POSIX lock on
 * the file. The kernel drops that lock when the process ends however it ends (kill -9, crash, power
 * loss), so nothing stale is ever left to clean up, and there is no "remove a stale lock" step to race
 * with. A second process trying to take it gets SQLITE_BUSY at once (no busy wait): STORE_LOCKED.
 *
 * POSIX locks belong to the process, so a second opening inside the same process is refused by a
 * registry of the directories this process holds. The holder's PID is written into the file's header
 * (user_version) only so the refusal can name it; it plays no part in the locking.
 */
import { closeSync, openSync, readSync, realpathSync } from "node:fs";
import Database from "better-sqlite3";
import { RadledgerError } from "../../core/errors.js";
import { storeError } from "./open.js";

/** Real paths of the data directories this process holds the writer lock of. */
const held = new Set<string>();

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

/** The PID the holder wrote into the lock file's header (user_version, bytes 60–63), if readable. */
function holderPid(lock: string): number | undefined {
  try {
    const fd = openSync(lock, "r");
    try {
      const header = Buffer.alloc(4);
      if (readSync(fd, header, 0, 4, 60) !== 4) return undefined;
      const pid = header.readUInt32BE(0);
      return pid > 0 ? pid : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function locked(dir: string, pid: number | undefined, cause?: unknown): RadledgerError {
  return new RadledgerError(
    "STORE_LOCKED",
    `another radledger process${pid === undefined ? "" : ` (pid ${pid})`} is writing to ${dir}`,
    {},
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Takes the single-writer lock of `dir` — the file `lock` in it — and returns its release. STORE_LOCKED while another process
 * (or another opening in this process) holds it; STORE_IO when the directory cannot hold the lock file.
 */
export function acquireWriterLock(dir: string, lock: string): () => void {
  let key: string;
  try {
    key = realpathSync(dir);
  } catch (e) {
    throw new RadledgerError("STORE_NOT_FOUND", `no radledger data directory at ${dir}`, {}, { cause: e });
  }
  if (held.has(key)) throw locked(dir, process.pid);

  let db: Database.Database | undefined;
  try {
    // Created 0600 like the directory's other files (an empty file is an empty database).
    closeSync(openSync(lock, "a", 0o600));
    db = new Database(lock, { timeout: 0 });
    db.pragma("locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE");
    db.pragma(`user_version = ${process.pid}`);
    // In exclusive locking mode the lock taken for this write is kept after the commit, until close.
    db.exec("COMMIT");
  } catch (e) {
    try {
      db?.close();
    } catch {
      // the lock was not taken; the error below says why
    }
    const code = errorCode(e);
    if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"))
      throw locked(dir, holderPid(lock), e);
    const coded = storeError(e, lock, "writer lock");
    if (coded && coded.code !== "STORE_NOT_FOUND") throw coded;
    throw new RadledgerError(
      "STORE_IO",
      `cannot write the writer lock ${lock}${code ? ` (${code})` : ""}: the data directory is not writable`,
      { at: lock },
      { cause: e },
    );
  }
  held.add(key);
  const open = db;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      open.close();
    } finally {
      held.delete(key);
    }
  };
}
