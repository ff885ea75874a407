/**
 * Vault on SQLite and node:crypto (docs/design.md §5.3). Each patient has a random 256-bit data key, stored
 * wrapped (AES-256-GCM) under the institution's master key with the patient pseudonym as associated
 * data. Each item is salt || canonical content, encrypted with AES-256-GCM under the data key with
 * its commitment as associated data, so a ciphertext cannot be moved to another commitment or patient.
 * Erasure deletes the wrapped key and the items and leaves a tombstone, so later puts are refused.
 */
import { openSqlite } from "./open.js";
import Database from "better-sqlite3";
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { CryptoSuite } from "../../core/crypto.js";
import { canonicalBytes, parseCanonical } from "../../core/canonical-json.js";
import { RadledgerError } from "../../core/errors.js";
import { commitmentOf, SALT_BYTES } from "../../domain/privacy/commitments.js";
import type { KeyWrap, Vault, VaultRecord } from "../../ports/vault.js";

function seal(key: Uint8Array, plaintext: Uint8Array, aad: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function open(key: Uint8Array, sealed: Buffer, aad: string): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
  } catch {
    throw new RadledgerError("STORE_CORRUPT", "a vault item failed authentication");
  }
}

/**
 * The file backend's KeyWrap: the 32-byte master key in memory, AES-256-GCM with the same layout an
 * HSM's wrap produces (iv || ciphertext || tag), so a vault's wrapped keys read the same either way.
 */
export function aesGcmKeyWrap(masterKey: Uint8Array): KeyWrap {
  if (masterKey.length !== 32) throw new RadledgerError("STORE_CORRUPT", "vault master key must be 32 bytes");
  return {
    wrap: (key, aad) => seal(masterKey, key, aad),
    unwrap: (wrapped, aad) => open(masterKey, Buffer.from(wrapped), aad),
  };
}

export class SqliteVault implements Vault {
  readonly #db: Database.Database;

  constructor(
    path: string,
    private readonly crypto: CryptoSuite,
    private readonly masterKey: KeyWrap,
  ) {
    this.#db = openSqlite(path, {
      what: "vault",
      schema: `
      CREATE TABLE IF NOT EXISTS patient_keys (patient TEXT PRIMARY KEY, wrapped BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS erased (patient TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS items (commitment TEXT PRIMARY KEY, patient TEXT NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS items_patient ON items (patient);
    `,
    });
  }

  private dataKey(patient: string, create: boolean): Buffer | undefined {
    const row = this.#db.prepare("SELECT wrapped FROM patient_keys WHERE patient = ?").get(patient) as
      { wrapped: Buffer } | undefined;
    if (row) return Buffer.from(this.masterKey.unwrap(row.wrapped, `patient-key ${patient}`));
    if (!create) return undefined;
    const key = randomBytes(32);
    this.#db
      .prepare("INSERT INTO patient_keys (patient, wrapped) VALUES (?, ?)")
      .run(patient, Buffer.from(this.masterKey.wrap(key, `patient-key ${patient}`)));
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
    this.#db.transaction(() => {
      const key = this.dataKey(patient, true)!;
      this.#db
        .prepare("INSERT INTO items (commitment, patient, sealed) VALUES (?, ?, ?)")
        .run(commitment, patient, seal(key, plaintext, commitment));
    })();
    return { commitment };
  }

  get(commitment: string): VaultRecord | undefined {
    const row = this.#db.prepare("SELECT patient, sealed FROM items WHERE commitment = ?").get(commitment) as
      { patient: string; sealed: Buffer } | undefined;
    if (!row) return undefined;
    const key = this.dataKey(row.patient, false);
    if (!key) return undefined;
    const plaintext = open(key, row.sealed, commitment);
    const salt = new Uint8Array(plaintext.subarray(0, SALT_BYTES));
    const content = parseCanonical(plaintext.subarray(SALT_BYTES));
    if (commitmentOf(this.crypto, salt, content) !== commitment)
      throw new RadledgerError("STORE_CORRUPT", "vault item does not match its commitment");
    return { commitment, patient: row.patient, salt, content };
  }

  erase(patient: string): { items: number } {
    return this.#db.transaction(() => {
      const items = this.#db.prepare("DELETE FROM items WHERE patient = ?").run(patient).changes;
      this.#db.prepare("DELETE FROM patient_keys WHERE patient = ?").run(patient);
      this.#db
        .prepare("INSERT OR IGNORE INTO erased (patient, at) VALUES (?, ?)")
        .run(patient, new Date().toISOString());
      return { items };
    })();
  }

  isErased(patient: string): boolean {
    return this.#db.prepare("SELECT 1 FROM erased WHERE patient = ?").get(patient) !== undefined;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
