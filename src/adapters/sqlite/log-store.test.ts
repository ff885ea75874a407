import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, test } from "vitest";
import { runLogStoreContract } from "../../../test/contract/log-store.contract.js";
import { SqliteLogStore } from "./log-store.js";

let dir = "";
runLogStoreContract("SQLite file", {
  create() {
    dir = mkdtempSync(join(tmpdir(), "radledger-store-"));
    return new SqliteLogStore(join(dir, "ledger.sqlite"));
  },
  reopen(store) {
    store.close();
    return new SqliteLogStore(join(dir, "ledger.sqlite"));
  },
  cleanup() {
    rmSync(dir, { recursive: true, force: true });
  },
});

runLogStoreContract("SQLite in memory", {
  create: () => new SqliteLogStore(":memory:"),
  cleanup() {},
});

describe("storage schema version 1 (study documents)", () => {
  test("a writer drops the study copies and moves to version 2; a reader of version 1 leaves them out", () => {
    const d = mkdtempSync(join(tmpdir(), "radledger-store-v1-"));
    try {
      const path = join(d, "ledger.sqlite");
      const first = new SqliteLogStore(path);
      first.commit({
        entries: [],
        tiles: [],
        mutations: [
          { op: "put", kind: "study", id: "a".repeat(64), doc: { patient: "pt_x" } },
          { op: "put", kind: "report", id: "r1", doc: { status: "open" } },
        ],
      });
      first.close();
      // What a version-1 node left behind.
      const raw = new Database(path);
      raw.prepare("UPDATE meta SET value = '1' WHERE key = 'schema'").run();
      raw.close();

      const reader = new SqliteLogStore(path, { readonly: true });
      expect([...reader.stateRows()]).toEqual(['doc report r1 {"status":"open"}']);
      reader.close();

      const writer = new SqliteLogStore(path);
      expect([...writer.stateRows()]).toEqual(['doc report r1 {"status":"open"}']);
      writer.close();
      const after = new Database(path, { readonly: true });
      expect(after.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get()).toBe("2");
      expect(after.prepare("SELECT count(*) FROM docs WHERE kind = 'study'").pluck().get()).toBe(0);
      after.close();
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  test("an unknown schema version is refused", () => {
    const d = mkdtempSync(join(tmpdir(), "radledger-store-v9-"));
    try {
      const path = join(d, "ledger.sqlite");
      new SqliteLogStore(path).close();
      const raw = new Database(path);
      raw.prepare("UPDATE meta SET value = '9' WHERE key = 'schema'").run();
      raw.close();
      for (const readonly of [false, true])
        expect(() => new SqliteLogStore(path, { readonly })).toThrow(
          expect.objectContaining({ code: "STORE_CORRUPT" }),
        );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
