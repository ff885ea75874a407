import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import Database from "better-sqlite3";
import { nodeCrypto } from "../node-crypto/crypto.js";
import { RadledgerError } from "../../core/errors.js";
import { checkCommitment } from "../../domain/privacy/commitments.js";
import { aesGcmKeyWrap, SqliteVault } from "./vault.js";

let dir = "";
let vault: SqliteVault;
const master = new Uint8Array(32).fill(5);
const alice = "pt_" + "a".repeat(43);
const bob = "pt_" + "b".repeat(43);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "radledger-vault-"));
  vault = new SqliteVault(join(dir, "vault.sqlite"), nodeCrypto, aesGcmKeyWrap(master));
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
    vault = new SqliteVault(join(dir, "vault.sqlite"), nodeCrypto, aesGcmKeyWrap(master));
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
    vault = new SqliteVault(join(dir, "vault.sqlite"), nodeCrypto, aesGcmKeyWrap(new Uint8Array(32).fill(6)));
    expect(() => vault.get(c)).toThrow(RadledgerError);
  });
});
