/**
 * A tile past the log's end is not served (issue 19): storage can hold tiles the tree does not cover
 * (a store whose tail entries were lost, a read-only view behind its writer); such a tile may still
 * change, so it is 404 and never carries immutable cache headers.
 */
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { makeNode, type TestNode } from "../helpers/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

let t: TestNode;
let api: TestApi;

beforeEach(async () => {
  t = await makeNode();
  for (let i = 0; i < 6; i++) await t.enrol(`tech-${i}`, ["technologist"]);
  await t.node.close();
  // The store keeps its tile of width 8 while its last three entries are gone: the tree has 5 leaves.
  const db = new Database(join(t.dir, "ledger.sqlite"));
  db.prepare("DELETE FROM entries WHERE idx >= 5").run();
  db.close();
  // The node would refuse a log that lost acknowledged entries (its high-water mark covers 8); this
  // test is about serving tiles of such a store, so it plays a directory from before the mark.
  rmSync(join(t.dir, "checkpoint.mark"));
  await t.reopen({ verifyThreads: 0, onNotice: () => undefined });
  expect(t.node.ledger.size).toBe(5);
  api = await startApi({}, t);
});
afterEach(async () => {
  await api.close();
  await t.close();
});

test("a hash tile width beyond the tree size is 404 and not cached as immutable", async () => {
  const inside = await api.call("GET", "/tile/0/000.p/5");
  expect(inside.status).toBe(200);
  expect(inside.headers.get("cache-control")).toContain("immutable");
  for (const path of ["/tile/0/000.p/6", "/tile/0/000.p/8", "/tile/0/000", "/tile/1/000.p/1"]) {
    const r = await api.call("GET", path);
    expect(r.status, path).toBe(404);
    expect(r.headers.get("cache-control") ?? "", path).not.toContain("immutable");
  }
});
