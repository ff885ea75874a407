import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
