/**
 * Vault on SQLite and node:crypto (docs/design.md §5.3, docs/security.md §Erasure and backups). Each
 * patient has a random 256-bit data key, stored wrapped by the vault master key (the `KeyWrap` port:
 * a file key or an HSM) with the patient pseudonym as associated data. Each item is salt || canonical
 * content, encrypted with AES-256-GCM under the data key with its commitment as associated data, so a
 * ciphertext cannot be moved to another commitment or patient.
 *
 * Two files: the key store (wrapped patient keys and erasure tombstones, DIR/keys/patient-keys.sqlite)
 * and the items (ciphertexts, DIR/vault.sqlite). Keys live apart from the data so that a backup of the
 * data never holds a key, and so that shredding a key is a small, complete operation on a small file.
 *
 * Erasure is crypto-shredding that holds against the files: both databases run with
 * `secure_delete = ON`, so SQLite overwrites deleted rows and freed pages with zeros instead of leaving
 * them in free space, and after the deletes a `wal_checkpoint(TRUNCATE)` copies the zeroed pages into
 * the database and empties the write-ahead log, whose older frames still held the rows. The wrapped
 * key sits in a rowid table, whose interior b-tree pages hold rowids only (a WITHOUT ROWID table keeps
 * copies of whole rows in interior pages as dividers, which a delete can leave behind).
 */
import { guardWrite, openSqlite, probeWrite, type WriteObserver } from "./open.js";
import type Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync } from "node:fs";
import type { CryptoSuite } from "../../core/crypto.js";
import { canonicalBytes, parseCanonical } from "../../core/canonical-json.js";
import { RadledgerError } from "../../core/errors.js";
import { commitmentOf, SALT_BYTES } from "../../domain/privacy/commitments.js";
import type { KeyWrap, Vault, VaultRecord } from "../../ports/vault.js";
import { openAesGcm, sealAesGcm } from "../node-crypto/key-wrap.js";

/** Where the vault keeps its two databases. */
export interface VaultFiles {
  /** Wrapped patient keys and erasure tombstones (the key store). */
  readonly keys: string;
  /** Encrypted items behind commitments. */
  readonly items: string;
}

const KEYS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS patient_keys (patient TEXT NOT NULL UNIQUE, wrapped BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS erased (patient TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID;
`;
const ITEMS_SCHEMA = `
  CREATE TABLE IF NOT EXISTS items (commitment TEXT PRIMARY KEY, patient TEXT NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS items_patient ON items (patient);
`;

const patientKeyAad = (patient: string) => `patient-key ${patient}`;

/** Opens one of the vault's databases with deletion that overwrites (see the module comment). */
function openShredding(path: string, what: string, schema: string): Database.Database {
  const db = openSqlite(path, { what, schema });
  db.pragma("secure_delete = ON");
  return db;
}

/**
 * Copies every WAL frame into the database and truncates the WAL to zero bytes, so that no frame
 * keeps a page as it was before a delete. A reader holding an old snapshot (another process beside
 * the node) prevents it even after the busy timeout: ERASURE_INCOMPLETE, and running the erasure again
 * completes it.
 */
function checkpointTruncate(db: Database.Database, what: string): void {
  const [result] = db.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
  if (result?.busy !== 0)
    throw new RadledgerError(
      "ERASURE_INCOMPLETE",
      `a reader of the ${what} kept the write-ahead log from being emptied; run the erasure again`,
    );
}

export class SqliteVault implements Vault {
  readonly #keys: Database.Database;
  readonly #items: Database.Database;
  readonly #files: VaultFiles;
  readonly #onWrite: WriteObserver | undefined;

  /** `options.onWrite` hears the outcome of every write (the node's storage health). */
  constructor(
    files: VaultFiles,
    private readonly crypto: CryptoSuite,
    private readonly keyWrap: KeyWrap,
    options: { readonly onWrite?: WriteObserver } = {},
  ) {
    this.#files = files;
    this.#onWrite = options.onWrite;
    // The key store is a secret like the other files under DIR/keys: mode 0600, which SQLite gives
    // its -wal and -shm files too. An empty file is an empty database.
    if (!existsSync(files.keys)) closeSync(openSync(files.keys, "wx", 0o600));
    this.#keys = openShredding(files.keys, "vault key store", KEYS_SCHEMA);
    try {
      this.#items = openShredding(files.items, "vault", ITEMS_SCHEMA);
      this.#migrateKeysOutOfItems();
    } catch (e) {
      this.#keys.close();
      throw e;
    }
  }

  /**
   * Vaults written before the key store was its own file kept the wrapped keys and tombstones in
   * vault.sqlite. They move to the key store (committed there first, so an interruption loses
   * nothing), then the old tables are dropped and the file rebuilt (VACUUM), which also scrubs the free
   * pages that earlier erasures, made without secure_delete, left behind. Runs once.
   */
  #migrateKeysOutOfItems(): void {
    const legacy = this.#items
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('patient_keys', 'erased')")
      .all() as { name: string }[];
    if (legacy.length === 0) return;
    const names = new Set(legacy.map((t) => t.name));
    this.#keys.transaction(() => {
      if (names.has("patient_keys"))
        for (const row of this.#items.prepare("SELECT patient, wrapped FROM patient_keys").iterate())
          this.#keys
            .prepare("INSERT OR IGNORE INTO patient_keys (patient, wrapped) VALUES (?, ?)")
            .run((row as { patient: string }).patient, (row as { wrapped: Buffer }).wrapped);
      if (names.has("erased"))
        for (const row of this.#items.prepare("SELECT patient, at FROM erased").iterate()) {
          const r = row as { patient: string; at: string };
          this.#keys.prepare("INSERT OR IGNORE INTO erased (patient, at) VALUES (?, ?)").run(r.patient, r.at);
          this.#keys.prepare("DELETE FROM patient_keys WHERE patient = ?").run(r.patient);
        }
    })();
    this.#items.exec("DROP TABLE IF EXISTS patient_keys; DROP TABLE IF EXISTS erased;");
    this.#items.exec("VACUUM");
    checkpointTruncate(this.#items, "vault");
  }

  private dataKey(patient: string, create: boolean): Uint8Array | undefined {
    const row = this.#keys.prepare("SELECT wrapped FROM patient_keys WHERE patient = ?").get(patient) as
      { wrapped: Buffer } | undefined;
    if (row) return this.keyWrap.unwrap(row.wrapped, patientKeyAad(patient));
    if (!create) return undefined;
    const key = randomBytes(32);
    this.#keys
      .prepare("INSERT INTO patient_keys (patient, wrapped) VALUES (?, ?)")
      .run(patient, this.keyWrap.wrap(key, patientKeyAad(patient)));
    return key;
  }

  put(patient: string, content: Parameters<Vault["put"]>[1]): { commitment: string } {
    if (this.isErased(patient))
      throw new RadledgerError(
        "VAULT_ERASED",
        "this patient's data was erased; nothing more is stored for them",
      );
    const salt = this.crypto.randomBytes(SALT_BYTES);
    const commitment = commitmentOf(this.crypto, salt, content);
    const plaintext = Buffer.concat([salt, canonicalBytes(content)]);
    // The key is committed before the item: a crash in between leaves a key without items, never an
    // item without its key.
    // A full or read-only disk is STORE_FULL or STORE_IO (503), not a raw SqliteError (500).
    const key = this.#writeKeys(() => this.#keys.transaction(() => this.dataKey(patient, true)!)());
    const sealed = sealAesGcm(key, plaintext, commitment);
    guardWrite(this.#files.items, "vault", this.#onWrite, () =>
      this.#items
        .prepare("INSERT INTO items (commitment, patient, sealed) VALUES (?, ?, ?)")
        .run(commitment, patient, sealed),
    );
    return { commitment };
  }

  get(commitment: string): VaultRecord | undefined {
    const row = this.#items
      .prepare("SELECT patient, sealed FROM items WHERE commitment = ?")
      .get(commitment) as { patient: string; sealed: Buffer } | undefined;
    if (!row) return undefined;
    const key = this.dataKey(row.patient, false);
    if (!key) return undefined;
    return this.#open(commitment, row.patient, row.sealed, key);
  }

  /**
   * One query for the items (the commitments as a JSON array, so any number binds as one
   * parameter) and one key unwrap per patient among them; each item is checked against its
   * commitment as get() does. The unwrapped keys live only for this call.
   */
  getMany(commitments: readonly string[]): Map<string, VaultRecord> {
    const out = new Map<string, VaultRecord>();
    if (commitments.length === 0) return out;
    const rows = this.#items
      .prepare(
        "SELECT commitment, patient, sealed FROM items WHERE commitment IN (SELECT value FROM json_each(?))",
      )
      .all(JSON.stringify([...new Set(commitments)])) as {
      commitment: string;
      patient: string;
      sealed: Buffer;
    }[];
    const keys = new Map<string, Uint8Array | undefined>();
    for (const row of rows) {
      if (!keys.has(row.patient)) keys.set(row.patient, this.dataKey(row.patient, false));
      const key = keys.get(row.patient);
      if (key) out.set(row.commitment, this.#open(row.commitment, row.patient, row.sealed, key));
    }
    return out;
  }

  #open(commitment: string, patient: string, sealed: Buffer, key: Uint8Array): VaultRecord {
    const plaintext = openAesGcm(key, sealed, commitment, "a vault item");
    const salt = new Uint8Array(plaintext.subarray(0, SALT_BYTES));
    const content = parseCanonical(plaintext.subarray(SALT_BYTES));
    if (commitmentOf(this.crypto, salt, content) !== commitment)
      throw new RadledgerError("STORE_CORRUPT", "vault item does not match its commitment");
    return { commitment, patient, salt, content };
  }

  /**
   * Shreds the key first (delete and tombstone in one key-store transaction: from then on the items
   * are unreadable and nothing more is stored), then deletes the items, then empties both WALs. Each
   * step is idempotent, so running it again after an interruption completes it.
   */
  erase(patient: string): { items: number } {
    this.#writeKeys(() =>
      this.#keys.transaction(() => {
        this.#keys.prepare("DELETE FROM patient_keys WHERE patient = ?").run(patient);
        this.#keys
          .prepare("INSERT OR IGNORE INTO erased (patient, at) VALUES (?, ?)")
          .run(patient, new Date().toISOString());
      })(),
    );
    const items = guardWrite(
      this.#files.items,
      "vault",
      this.#onWrite,
      () => this.#items.prepare("DELETE FROM items WHERE patient = ?").run(patient).changes,
    );
    checkpointTruncate(this.#keys, "vault key store");
    checkpointTruncate(this.#items, "vault");
    return { items };
  }

  isErased(patient: string): boolean {
    return this.#keys.prepare("SELECT 1 FROM erased WHERE patient = ?").get(patient) !== undefined;
  }

  #writeKeys<T>(write: () => T): T {
    return guardWrite(this.#files.keys, "vault key store", this.#onWrite, write);
  }

  /** A write that changes nothing on each of the two databases (open.ts probeWrite). */
  probeWrite(): void {
    probeWrite(this.#keys, this.#files.keys, "vault key store", this.#onWrite);
    probeWrite(this.#items, this.#files.items, "vault", this.#onWrite);
  }

  close(): void {
    if (this.#items.open) this.#items.close();
    if (this.#keys.open) this.#keys.close();
  }
}
