import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import Database from "better-sqlite3";
import { nodeCrypto } from "../node-crypto/crypto.js";
import { RadledgerError } from "../../core/errors.js";
import { canonicalBytes } from "../../core/canonical-json.js";
import { checkCommitment, commitmentOf } from "../../domain/privacy/commitments.js";
import { fileKeyWrap, sealAesGcm } from "../node-crypto/key-wrap.js";
import { SqliteVault } from "./vault.js";

let dir = "";
let vault: SqliteVault;
const master = fileKeyWrap(new Uint8Array(32).fill(5));
const alice = "pt_" + "a".repeat(43);
const bob = "pt_" + "b".repeat(43);
const files = () => ({ keys: join(dir, "patient-keys.sqlite"), items: join(dir, "vault.sqlite") });

/** The files of the vault's directory (-wal and -shm included) that contain `needle`. */
function filesHolding(needle: Uint8Array): string[] {
  return readdirSync(dir).filter((f) => readFileSync(join(dir, f)).includes(Buffer.from(needle)));
}

function wrappedKeyOf(patient: string): Buffer {
  const db = new Database(files().keys, { readonly: true });
  try {
    return (
      db.prepare("SELECT wrapped FROM patient_keys WHERE patient = ?").get(patient) as { wrapped: Buffer }
    ).wrapped;
  } finally {
    db.close();
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "radledger-vault-"));
  vault = new SqliteVault(files(), nodeCrypto, master);
});
afterEach(() => {
  vault.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("vault", () => {
  test("put returns a commitment to salt and content; get returns them, checked", () => {
    const { commitment } = vault.put(alice, { text: "No acute intracranial abnormality." });
    const record = vault.get(commitment)!;
    expect(record.content).toEqual({ text: "No acute intracranial abnormality." });
    checkCommitment(nodeCrypto, commitment, record.salt, record.content);
    // The same content twice gets different salts, hence unlinkable commitments.
    expect(vault.put(alice, { text: "No acute intracranial abnormality." }).commitment).not.toBe(commitment);
  });

  test("content is encrypted at rest: the database holds no plaintext", () => {
    vault.put(alice, { text: "Findings consistent with pneumonia" });
    vault.close();
    const raw = new Database(join(dir, "vault.sqlite"), { readonly: true });
    const rows = raw.prepare("SELECT sealed FROM items").all() as { sealed: Buffer }[];
    raw.close();
    for (const r of rows) expect(r.sealed.toString("latin1")).not.toContain("pneumonia");
    vault = new SqliteVault(files(), nodeCrypto, master);
  });

  test("erasing a patient destroys their key and content, and nothing more can be stored for them", () => {
    const a = vault.put(alice, { text: "alice" }).commitment;
    const b = vault.put(bob, { text: "bob" }).commitment;
    expect(vault.erase(alice)).toEqual({ items: 1 });
    expect(vault.get(a)).toBeUndefined();
    expect(vault.get(b)?.content).toEqual({ text: "bob" });
    expect(vault.isErased(alice)).toBe(true);
    expect(() => vault.put(alice, { text: "again" })).toThrow(RadledgerError);
  });

  test("a wrong master key cannot open patient keys", () => {
    const c = vault.put(alice, { text: "x" }).commitment;
    vault.close();
    vault = new SqliteVault(files(), nodeCrypto, fileKeyWrap(new Uint8Array(32).fill(6)));
    expect(() => vault.get(c)).toThrow(RadledgerError);
  });

  test("the key store and its write-ahead log are readable by their owner only", () => {
    vault.put(alice, { text: "x" });
    for (const f of ["patient-keys.sqlite", "patient-keys.sqlite-wal"])
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
  });

  test("a reader holding an old snapshot makes erasure ERASURE_INCOMPLETE; running it again completes it", () => {
    vault.put(alice, { text: "alice" });
    const wrapped = wrappedKeyOf(alice);
    const reader = new Database(files().keys, { readonly: true });
    reader.exec("BEGIN");
    reader.prepare("SELECT count(*) FROM patient_keys").get(); // a read transaction on the WAL
    let code = "";
    try {
      vault.erase(alice); // waits the busy timeout (5 s) for the reader, then gives up
    } catch (e) {
      code = (e as RadledgerError).code;
    }
    expect(code).toBe("ERASURE_INCOMPLETE");
    expect(vault.isErased(alice)).toBe(true); // the key is gone already
    reader.exec("COMMIT");
    reader.close();
    expect(vault.erase(alice)).toEqual({ items: 0 });
    expect(filesHolding(wrapped)).toEqual([]);
  });

  test("erasing one patient among many leaves neither their key nor its wrapped form in any file", () => {
    const patients = Array.from({ length: 120 }, (_, i) => "pt_" + String(i).padStart(43, "0"));
    for (const p of patients) vault.put(p, { text: `${p} item` });
    const victim = patients[60]!;
    const wrapped = wrappedKeyOf(victim);
    const key = master.unwrap(wrapped, `patient-key ${victim}`);
    expect(filesHolding(wrapped)).not.toEqual([]);
    expect(vault.erase(victim)).toEqual({ items: 1 });
    expect({ live: filesHolding(wrapped), key: filesHolding(key) }).toEqual({ live: [], key: [] });
    vault.close();
    expect(filesHolding(wrapped)).toEqual([]);
    vault = new SqliteVault(files(), nodeCrypto, master);
    expect(vault.isErased(victim)).toBe(true);
  });

  test("a vault written before the key store was its own file opens; its keys move and old residue is scrubbed", () => {
    vault.close();
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), "radledger-vault-"));
    // The previous layout: keys, tombstones and items in vault.sqlite; erasure without secure_delete.
    const legacy = new Database(files().items);
    legacy.pragma("journal_mode = WAL");
    legacy.exec(`
      CREATE TABLE patient_keys (patient TEXT PRIMARY KEY, wrapped BLOB NOT NULL) WITHOUT ROWID;
      CREATE TABLE erased (patient TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE items (commitment TEXT PRIMARY KEY, patient TEXT NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID;
      CREATE INDEX items_patient ON items (patient);`);
    const wrapped = new Map<string, Uint8Array>();
    const put = (patient: string, text: string): string => {
      const key = new Uint8Array(32).fill(patient === alice ? 1 : 2);
      if (!wrapped.has(patient)) {
        wrapped.set(patient, master.wrap(key, `patient-key ${patient}`));
        legacy.prepare("INSERT INTO patient_keys VALUES (?, ?)").run(patient, wrapped.get(patient));
      }
      const salt = nodeCrypto.randomBytes(32);
      const commitment = commitmentOf(nodeCrypto, salt, { text });
      const sealed = sealAesGcm(key, Buffer.concat([salt, canonicalBytes({ text })]), commitment);
      legacy.prepare("INSERT INTO items VALUES (?, ?, ?)").run(commitment, patient, sealed);
      return commitment;
    };
    const kept = put(alice, "alice, kept");
    put(bob, "bob, erased the old way");
    legacy.exec(
      `DELETE FROM items WHERE patient = '${bob}'; DELETE FROM patient_keys WHERE patient = '${bob}';`,
    );
    legacy.prepare("INSERT INTO erased VALUES (?, ?)").run(bob, "2026-01-01T00:00:00Z");
    legacy.close();
    expect(filesHolding(wrapped.get(bob)!)).toEqual(["vault.sqlite"]); // the finding: a key in free space

    vault = new SqliteVault(files(), nodeCrypto, master);
    expect(vault.get(kept)?.content).toEqual({ text: "alice, kept" });
    expect(vault.isErased(bob)).toBe(true);
    expect(filesHolding(wrapped.get(bob)!)).toEqual([]);
    expect(filesHolding(wrapped.get(alice)!).filter((f) => f.startsWith("vault."))).toEqual([]);
    vault.close();
    const items = new Database(files().items, { readonly: true });
    const tables = items.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    items.close();
    expect(tables).toEqual([{ name: "items" }]);
    vault = new SqliteVault(files(), nodeCrypto, master); // opens again: nothing left to move
    expect(vault.get(kept)?.content).toEqual({ text: "alice, kept" });
  });
  test("getMany reads a list in one call: the same records as get, unwrapping each patient's key once", () => {
    vault.close();
    // Count unwraps: with an HSM-held master key each one is a round trip to the HSM.
    let unwraps = 0;
    const counting = {
      wrap: (key: Uint8Array, aad: string) => master.wrap(key, aad),
      unwrap: (wrapped: Uint8Array, aad: string) => (unwraps++, master.unwrap(wrapped, aad)),
    };
    vault = new SqliteVault(files(), nodeCrypto, counting);
    const a = [1, 2, 3].map((i) => vault.put(alice, { justification: `alice ${i}` }).commitment);
    const b = [1, 2].map((i) => vault.put(bob, { justification: `bob ${i}` }).commitment);
    const unknown = "f".repeat(64);
    unwraps = 0;
    const got = vault.getMany([...a, unknown, ...b, a[0]!]);
    expect(unwraps).toBe(2);
    expect([...got.keys()].sort()).toEqual([...a, ...b].sort());
    for (const c of [...a, ...b]) expect(got.get(c)).toEqual(vault.get(c));
    expect(vault.getMany([]).size).toBe(0);
    // An erased patient's items are absent, as get() answers undefined for them.
    vault.erase(alice);
    expect([...vault.getMany([...a, ...b]).keys()].sort()).toEqual([...b].sort());
  });
});
