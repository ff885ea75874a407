/**
 * `radledger backup` and `radledger restore` (docs/backup.md): an online, consistent copy of a data
 * directory while the node serves, and its checked return.
 *
 * What "consistent" means here: the backup is the data directory exactly as it stood at one instant
 * between two turns of the node's event loop. Every write of a node — each commit of the log (entries,
 * tiles, projections and the newly signed checkpoint in one SQLite transaction, src/domain/ledger/
 * ledger.ts), each vault put or erasure step, each credential — is a synchronous better-sqlite3 call on
 * the node's main thread, and only the process holding the writer lock writes (src/adapters/sqlite/
 * writer-lock.ts). The backup runs inside that process (in the serving node, reached over its local
 * socket, or as the directory's writer when nothing serves) and, in one synchronous stretch, lists the
 * directory, pins a read snapshot on every SQLite database (src/adapters/sqlite/snapshot.ts), reads the
 * other files, and takes the log's size and checkpoint from the ledger. No JavaScript of the node runs
 * during the stretch, so no commit is in progress — the appender is held without being told — and no
 * write of any database falls between two snapshots. The slow part, copying the pinned snapshots,
 * happens afterwards while the node goes on serving.
 *
 * What that instant gives a restore: the state the node itself would find after a power cut at that
 * instant (every database commits with synchronous = FULL), which it is built to recover from: the log
 * is a prefix-consistent tree with its signed checkpoint in the same transaction; every entry
 * acknowledged before the backup began is in it (acknowledged = committed); a vault item is put before
 * its entry is appended, so every entry's content is there (an item whose entry was not yet committed
 * is an unreferenced ciphertext, as after a refused append); a token is acknowledged only after its
 * credential row is written, so every token handed out before the backup authenticates after a restore.
 *
 * Keys are never in a data backup (docs/security.md §Erasure and backups): every `keys` directory is
 * left out, and copied — at the same instant — only to the separate key backup (`--keys-to`).
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { toHex } from "../core/bytes.js";
import { parseCheckpointText } from "../core/checkpoint.js";
import { parseStrictJson } from "../core/canonical-json.js";
import { RadledgerError } from "../core/errors.js";
import type { DatabaseFile, PinDatabases } from "../ports/backup.js";
import { paths } from "./data-dir.js";
import type { RadledgerNode } from "./node.js";

export const BACKUP_MANIFEST = "backup.json";
export const BACKUP_FORMAT = "radledger-backup/1";

/** The first 16 bytes of every SQLite database file (https://sqlite.org/fileformat.html §1.3). */
const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

export interface BackupFileRecord {
  /** Relative to the data directory, '/'-separated. */
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** A SQLite database, copied from its pinned snapshot. */
  readonly sqlite: boolean;
}

export interface BackupManifest {
  readonly format: typeof BACKUP_FORMAT;
  /** "data": the data directory without keys; "keys": its keys directories alone. */
  readonly kind: "data" | "keys";
  readonly createdAt: string;
  readonly origin: string;
  /** The log at the backup's instant: its size, root hash (hex) and signed checkpoint. */
  readonly logSize: number;
  readonly rootHash: string | null;
  readonly checkpoint: string | null;
  readonly files: readonly BackupFileRecord[];
}

export interface BackupProgress {
  readonly phase: "copy" | "hash";
  readonly file: string;
  /** Files done before this one, and in all (data and keys). */
  readonly done: number;
  readonly total: number;
  /** A SQLite database (copied page by page), not a plain file. */
  readonly sqlite: boolean;
  /** For a database being copied: pages left of its total. */
  readonly pages?: { readonly total: number; readonly remaining: number };
}

export interface BackupResult {
  readonly to: string;
  readonly keysTo: string | null;
  readonly createdAt: string;
  readonly logSize: number;
  readonly rootHash: string | null;
  readonly files: number;
  readonly keyFiles: number;
  readonly bytes: number;
  /** How long the node's event loop was held for the snapshot instant. */
  readonly pausedMillis: number;
}

interface Planned {
  readonly rel: string;
  readonly toKeys: boolean;
  /** Index among the pinned databases, or the file's bytes as read at the instant. */
  readonly source: { readonly db: number } | { readonly bytes: Buffer };
}

/** The checkpoint text of a signed note: everything before the blank line (C2SP signed-note). */
function checkpointText(note: string): string {
  const end = note.indexOf("\n\n");
  return end < 0 ? note : note.slice(0, end + 1);
}

/** Leaves that are never copied, wherever they are: lock, socket, SQLite's transient files. */
function transient(name: string): boolean {
  return (
    name === "writer.lock.sqlite" ||
    name === "node.sock" ||
    name.endsWith("-wal") ||
    name.endsWith("-shm") ||
    name.endsWith("-journal")
  );
}

function isSqlite(path: string): boolean {
  const fd = openSync(path, "r");
  try {
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.equals(SQLITE_MAGIC);
  } finally {
    closeSync(fd);
  }
}

/** A target must be absent or an empty directory, outside the data directory. */
function checkTarget(dir: string, target: string, flag: string): void {
  if (!isAbsolute(target)) throw new RadledgerError("INPUT_INVALID", `${flag} must be an absolute path`);
  const real = (p: string): string => {
    // The deepest existing ancestor, resolved, with the rest appended: symlinks cannot hide nesting.
    let head = resolve(p);
    const tail: string[] = [];
    while (!existsSync(head) && dirname(head) !== head) {
      tail.unshift(head.slice(dirname(head).length).replace(/^[/\\]/, ""));
      head = dirname(head);
    }
    return join(realpathSync(head), ...tail);
  };
  const inside = relative(real(dir), real(target));
  if (inside === "" || (!inside.startsWith("..") && !isAbsolute(inside)))
    throw new RadledgerError("INPUT_INVALID", `${flag} ${target} is inside the data directory`, {
      at: flag,
    });
  if (!existsSync(target)) return;
  const info = statSync(target);
  if (!info.isDirectory() || readdirSync(target).length > 0)
    throw new RadledgerError(
      "BACKUP_TARGET_NOT_EMPTY",
      `${target} exists and is not an empty directory; a backup is written only into a new or empty one`,
      { at: flag },
    );
}

/** Lists the data directory: files to copy, in a stable order. Runs inside the snapshot stretch. */
function listFiles(dir: string): { rel: string; toKeys: boolean }[] {
  const out: { rel: string; toKeys: boolean }[] = [];
  const walk = (abs: string, rel: string, inKeys: boolean): void => {
    for (const d of readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel === "" ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) walk(join(abs, d.name), r, inKeys || d.name === "keys");
      // Regular files only: a socket, a link or a device is not data.
      else if (d.isFile() && !transient(d.name)) out.push({ rel: r, toKeys: inKeys });
    }
  };
  walk(dir, "", false);
  return out;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The manifest's JSON, fsynced, and the directories above every file fsynced (their entries). */
function writeManifest(root: string, manifest: BackupManifest): void {
  const path = join(root, BACKUP_MANIFEST);
  writeFileSync(path, JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  fsyncPath(path);
  const dirs = new Set<string>([root]);
  for (const f of manifest.files) {
    let d = dirname(join(root, ...f.path.split("/")));
    while (d.startsWith(root) && !dirs.has(d)) {
      dirs.add(d);
      d = dirname(d);
    }
  }
  for (const d of dirs) fsyncPath(d);
}

/**
 * Backs up the node's data directory to `to` (and its keys to `keysTo`), while the node runs. See the
 * module comment for why it is consistent.
 */
export async function backupNode(
  node: RadledgerNode,
  pin: PinDatabases,
  args: { readonly to: string; readonly keysTo?: string | undefined },
  progress: (p: BackupProgress) => void = () => undefined,
): Promise<BackupResult> {
  const dir = resolve(node.dir);
  checkTarget(dir, args.to, "to");
  if (args.keysTo !== undefined) {
    checkTarget(dir, args.keysTo, "keysTo");
    const a = resolve(args.to);
    const b = resolve(args.keysTo);
    if (a === b || a.startsWith(b + sep) || b.startsWith(a + sep))
      throw new RadledgerError(
        "INPUT_INVALID",
        "keysTo must lie apart from to: keys are stored apart from data",
        {
          at: "keysTo",
        },
      );
  }

  // ---- The instant: one synchronous stretch, no await until the snapshots are pinned. ----
  const started = performance.now();
  const listed = listFiles(dir).filter((f) => args.keysTo !== undefined || !f.toKeys);
  const databases: DatabaseFile[] = [];
  const plan: Planned[] = [];
  for (const f of listed) {
    const abs = join(dir, ...f.rel.split("/"));
    // A WAL database's main file can still be empty with everything in its -wal (before the first
    // checkpoint): the -wal beside it says it is a database, to be copied through SQLite.
    if (isSqlite(abs) || existsSync(`${abs}-wal`)) {
      plan.push({ rel: f.rel, toKeys: f.toKeys, source: { db: databases.length } });
      databases.push({ path: abs, what: f.rel });
    } else plan.push({ rel: f.rel, toKeys: f.toKeys, source: { bytes: readFileSync(abs) } });
  }
  const pinned = pin(databases);
  const checkpoint = node.ledger.latestCheckpoint ?? null;
  const logSize = node.ledger.size;
  const pausedMillis = performance.now() - started;
  // ---- End of the instant. ----

  const createdAt = new Date(node.clock.now()).toISOString();
  let rootHash: string | null = null;
  if (checkpoint !== null) {
    const cp = parseCheckpointText(checkpointText(checkpoint));
    if (cp.size !== logSize)
      throw new RadledgerError("INTERNAL", `checkpoint size ${cp.size} is not the log size ${logSize}`);
    rootHash = toHex(cp.root);
  }
  const created: string[] = [];
  const records = { data: [] as BackupFileRecord[], keys: [] as BackupFileRecord[] };
  let bytes = 0;
  try {
    for (const target of [args.to, args.keysTo]) {
      if (target === undefined) continue;
      if (!existsSync(target)) created.push(target);
      mkdirSync(target, { recursive: true, mode: 0o700 });
    }
    let done = 0;
    for (const p of plan) {
      const root = p.toKeys ? args.keysTo! : args.to;
      const dest = join(root, ...p.rel.split("/"));
      mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
      progress({ phase: "copy", file: p.rel, done, total: plan.length, sqlite: "db" in p.source });
      if ("db" in p.source) {
        await pinned.copy(p.source.db, dest, ({ totalPages, remainingPages }) =>
          progress({
            phase: "copy",
            file: p.rel,
            done,
            total: plan.length,
            sqlite: true,
            pages: { total: totalPages, remaining: remainingPages },
          }),
        );
      } else writeFileSync(dest, p.source.bytes, { mode: 0o600, flag: "wx" });
      // Owner only, whatever the original's mode: a backup is as private as the directory it copies.
      chmodSync(dest, 0o600);
      fsyncPath(dest);
      done++;
    }
    pinned.release();
    done = 0;
    for (const p of plan) {
      const root = p.toKeys ? args.keysTo! : args.to;
      const dest = join(root, ...p.rel.split("/"));
      progress({ phase: "hash", file: p.rel, done: done++, total: plan.length, sqlite: "db" in p.source });
      const size = lstatSync(dest).size;
      bytes += size;
      (p.toKeys ? records.keys : records.data).push({
        path: p.rel,
        bytes: size,
        sha256: await sha256File(dest),
        sqlite: "db" in p.source,
      });
    }
    const manifest = (kind: "data" | "keys", files: BackupFileRecord[]): BackupManifest => ({
      format: BACKUP_FORMAT,
      kind,
      createdAt,
      origin: node.config.origin,
      logSize,
      rootHash,
      checkpoint,
      files,
    });
    if (args.keysTo !== undefined) writeManifest(args.keysTo, manifest("keys", records.keys));
    // The data manifest last: a backup without its manifest is not one (restore refuses it).
    writeManifest(args.to, manifest("data", records.data));
  } catch (e) {
    pinned.release();
    // The targets were absent or empty: what is in them now is this backup's, and incomplete.
    for (const target of [args.to, args.keysTo]) {
      if (target === undefined || !existsSync(target)) continue;
      if (created.includes(target)) rmSync(target, { recursive: true, force: true });
      else
        for (const name of readdirSync(target)) rmSync(join(target, name), { recursive: true, force: true });
    }
    throw e;
  }
  return {
    to: args.to,
    keysTo: args.keysTo ?? null,
    createdAt,
    logSize,
    rootHash,
    files: records.data.length,
    keyFiles: records.keys.length,
    bytes,
    pausedMillis: Math.round(pausedMillis * 100) / 100,
  };
}

// ---------------------------------------------------------------------------------------------------
// Restore

/** A manifest path: relative, '/'-separated, no empty, '.' or '..' segment, nothing that escapes. */
const relPath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) =>
      !p.includes("\\") &&
      !p.includes("\0") &&
      p.split("/").every((s) => s !== "" && s !== "." && s !== "..") &&
      p !== BACKUP_MANIFEST,
    "a relative path inside the backup",
  );

const manifestSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  kind: z.enum(["data", "keys"]),
  createdAt: z.string().max(64),
  origin: z.string().min(1).max(1024),
  logSize: z.number().int().min(0),
  rootHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  checkpoint: z.string().max(65536).nullable(),
  files: z
    .array(
      z.strictObject({
        path: relPath,
        bytes: z.number().int().min(0),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        sqlite: z.boolean(),
      }),
    )
    .max(1_000_000),
});

/** Reads and checks a backup's manifest against the files beside it (every byte hashed). */
export async function checkBackup(
  root: string,
  kind: "data" | "keys",
  progress: (p: BackupProgress) => void = () => undefined,
): Promise<BackupManifest> {
  const mismatch = (why: string, at?: string): never => {
    throw new RadledgerError(
      "BACKUP_MANIFEST_MISMATCH",
      `${root}: ${why}; the backup is damaged or was changed, refusing to restore it`,
      at === undefined ? {} : { at },
    );
  };
  const path = join(root, BACKUP_MANIFEST);
  if (!existsSync(root)) throw new RadledgerError("STORE_NOT_FOUND", `no backup at ${root}`, { at: root });
  if (!existsSync(path))
    throw new RadledgerError(
      "BACKUP_MANIFEST_INVALID",
      `${root} has no ${BACKUP_MANIFEST}: not a (complete) backup`,
      {
        at: path,
      },
    );
  let manifest: BackupManifest;
  try {
    const parsed = manifestSchema.safeParse(parseStrictJson(readFileSync(path, "utf8")));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RadledgerError(
        "BACKUP_MANIFEST_INVALID",
        `${path}: ${issue.path.join(".")}: ${issue.message}`,
        { at: issue.path.join(".") },
      );
    }
    manifest = parsed.data;
  } catch (e) {
    if (e instanceof RadledgerError && e.code === "BACKUP_MANIFEST_INVALID") throw e;
    throw new RadledgerError(
      "BACKUP_MANIFEST_INVALID",
      `${path} is not a backup manifest`,
      { at: path },
      {
        cause: e,
      },
    );
  }
  if (manifest.kind !== kind)
    throw new RadledgerError(
      "BACKUP_MANIFEST_INVALID",
      `${root} is a ${manifest.kind} backup; a ${kind} backup is needed here`,
      { at: "kind" },
    );
  if (manifest.checkpoint !== null && manifest.rootHash !== null) {
    let cp;
    try {
      cp = parseCheckpointText(checkpointText(manifest.checkpoint));
    } catch (e) {
      throw new RadledgerError(
        "BACKUP_MANIFEST_INVALID",
        `${path}: checkpoint: ${e instanceof Error ? e.message : "malformed"}`,
        { at: "checkpoint" },
        { cause: e },
      );
    }
    if (cp.size !== manifest.logSize || toHex(cp.root) !== manifest.rootHash || cp.origin !== manifest.origin)
      mismatch("the manifest's log size, root hash or origin is not its checkpoint's", "checkpoint");
  }
  // Keys and data never share a backup, so a restore never lets one overwrite the other.
  for (const f of manifest.files)
    if (f.path.split("/").slice(0, -1).includes("keys") !== (kind === "keys"))
      throw new RadledgerError("BACKUP_MANIFEST_INVALID", `${f.path} does not belong in a ${kind} backup`, {
        at: f.path,
      });
  const listed = new Set(manifest.files.map((f) => f.path));
  if (listed.size !== manifest.files.length) mismatch("a file is listed twice");
  const present: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const r = rel === "" ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) walk(join(abs, d.name), r);
      else if (r !== BACKUP_MANIFEST) present.push(r);
    }
  };
  walk(root, "");
  for (const r of present) if (!listed.has(r)) mismatch(`${r} is not in the manifest`, r);
  let done = 0;
  for (const f of manifest.files) {
    progress({ phase: "hash", file: f.path, done: done++, total: manifest.files.length, sqlite: f.sqlite });
    const abs = join(root, ...f.path.split("/"));
    let info;
    try {
      info = lstatSync(abs);
    } catch {
      return mismatch(`${f.path} is missing`, f.path);
    }
    if (!info.isFile()) mismatch(`${f.path} is not a regular file`, f.path);
    if (info.size !== f.bytes)
      mismatch(`${f.path} has ${info.size} bytes, the manifest says ${f.bytes}`, f.path);
    if ((await sha256File(abs)) !== f.sha256) mismatch(`${f.path} does not have its SHA-256`, f.path);
  }
  // The log itself is re-checked by `radledger verify --data` on the restored directory.
  return manifest;
}

export interface RestoreResult {
  readonly data: string;
  readonly origin: string;
  readonly createdAt: string;
  readonly logSize: number;
  readonly rootHash: string | null;
  readonly files: number;
  readonly keyFiles: number;
}

/**
 * Restores a backup (and its key backup) into a new data directory, after checking every file
 * against its manifest: a mismatch anywhere refuses the whole restore before anything is written.
 */
export async function restoreBackup(
  args: { readonly from: string; readonly data: string; readonly keysFrom?: string | undefined },
  progress: (p: BackupProgress) => void = () => undefined,
): Promise<RestoreResult> {
  const data = await checkBackup(args.from, "data", progress);
  const keys = args.keysFrom === undefined ? undefined : await checkBackup(args.keysFrom, "keys", progress);
  if (keys && keys.origin !== data.origin)
    throw new RadledgerError(
      "BACKUP_MANIFEST_MISMATCH",
      `the key backup is of ${keys.origin}, the data backup of ${data.origin}`,
      { at: "keysFrom" },
    );
  if (existsSync(args.data) && (!statSync(args.data).isDirectory() || readdirSync(args.data).length > 0))
    throw new RadledgerError(
      "STORE_EXISTS",
      `${args.data} already exists and is not empty; refusing to overwrite a data directory`,
    );
  const created = !existsSync(args.data);
  try {
    mkdirSync(args.data, { recursive: true, mode: 0o700 });
    // The node expects its keys directory (0700) even when the keys come later.
    mkdirSync(paths(args.data).keys, { mode: 0o700 });
    const sets: [string, BackupManifest][] = [[args.from, data]];
    if (keys && args.keysFrom !== undefined) sets.push([args.keysFrom, keys]);
    const total = data.files.length + (keys?.files.length ?? 0);
    let done = 0;
    for (const [root, manifest] of sets) {
      for (const f of manifest.files) {
        progress({ phase: "copy", file: f.path, done: done++, total, sqlite: f.sqlite });
        const dest = join(args.data, ...f.path.split("/"));
        mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
        copyFileSync(join(root, ...f.path.split("/")), dest);
        chmodSync(dest, 0o600);
        fsyncPath(dest);
      }
    }
    fsyncPath(args.data);
  } catch (e) {
    if (created) rmSync(args.data, { recursive: true, force: true });
    else
      for (const name of readdirSync(args.data))
        rmSync(join(args.data, name), { recursive: true, force: true });
    throw e;
  }
  return {
    data: args.data,
    origin: data.origin,
    createdAt: data.createdAt,
    logSize: data.logSize,
    rootHash: data.rootHash,
    files: data.files.length,
    keyFiles: keys?.files.length ?? 0,
  };
}
