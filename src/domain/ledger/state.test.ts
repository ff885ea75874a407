import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { SqliteLogStore } from "../../adapters/sqlite/log-store.js";
import { DocCache, StateLayer } from "./state.js";

let dir: string;
let store: SqliteLogStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "radledger-state-"));
  store = new SqliteLogStore(join(dir, "ledger.sqlite"));
  const below = new StateLayer(store);
  for (const seq of [1, 3, 5]) below.addIndex("ai.usage", "m", seq, `v${seq}`);
  store.commit({ entries: [], tiles: [], mutations: below.mutations() });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("lookupValues through a layer: committed rows, minus removed, plus added, in seq order", () => {
  const layer = new StateLayer(new DocCache(store, new Set(["actor"])));
  expect(layer.lookupValues("ai.usage", "m")).toEqual(["v1", "v3", "v5"]);
  layer.removeIndex("ai.usage", "m", 3);
  layer.addIndex("ai.usage", "m", 4, "v4");
  layer.addIndex("ai.usage", "m", 9, "v9");
  expect(layer.lookupValues("ai.usage", "m")).toEqual(["v1", "v4", "v5", "v9"]);
  expect(layer.lookupValues("ai.usage", "m")).toEqual(layer.lookup("ai.usage", "m").map((r) => r.value));
  expect(layer.lookupValues("ai.usage", "other")).toEqual([]);
});

test("entries admitted earlier in a batch are readable through its layer, committed ones below it", () => {
  const bytes = new TextEncoder().encode('{"n":1}');
  store.commit({
    entries: [{ index: 0, leafHash: new Uint8Array(32).fill(0xab), type: "t.committed", bytes, refs: [] }],
    tiles: [],
    mutations: [],
  });
  const batch = new StateLayer(new DocCache(store, new Set(["actor"])));
  const entry = new StateLayer(batch);
  batch.addEntry("cd".repeat(32), { index: 1, type: "t.batch", bytes });
  expect(entry.entryByLeafHash("cd".repeat(32))).toMatchObject({ index: 1, type: "t.batch" });
  expect(entry.entryByLeafHash("ab".repeat(32))).toMatchObject({ index: 0, type: "t.committed" });
  expect(entry.entryByLeafHash("ef".repeat(32))).toBeUndefined();
  batch.clear();
  expect(entry.entryByLeafHash("cd".repeat(32))).toBeUndefined();
});
