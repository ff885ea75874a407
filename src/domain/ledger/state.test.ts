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
