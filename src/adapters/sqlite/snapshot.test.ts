import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, expect, test } from "vitest";
import { openSqlite } from "./open.js";
import { pinDatabases } from "./snapshot.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database opened as the node opens its own: WAL, synchronous = FULL. */
const writer = (path: string): Database.Database =>
  openSqlite(path, { what: "test", schema: "CREATE TABLE IF NOT EXISTS t (n INTEGER, pad BLOB)" });

const count = (path: string): number => {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare("SELECT count(*) FROM t").pluck().get() as number;
  } finally {
    db.close();
  }
};

test("the copies are the databases as they stood when pinned, while the writer goes on committing during the copy", async () => {
  const dir = mkdtempSync(join(tmpdir(), "radledger-snapshot-"));
  dirs.push(dir);
  const a = writer(join(dir, "a.sqlite"));
  const b = writer(join(dir, "b.sqlite"));
  const insA = a.prepare("INSERT INTO t VALUES (?, randomblob(4000))");
  const insB = b.prepare("INSERT INTO t VALUES (?, randomblob(100))");
  // One transaction each: synchronous = FULL makes every commit an fsync.
  a.transaction(() => {
    for (let i = 0; i < 3000; i++) insA.run(i);
  })();
  b.transaction(() => {
    for (let i = 0; i < 10; i++) insB.run(i);
  })();

  const pinned = pinDatabases([
    { path: join(dir, "a.sqlite"), what: "a" },
    { path: join(dir, "b.sqlite"), what: "b" },
  ]);
  // After the pin: commits to both, including during the copy's steps.
  insB.run(99);
  let steps = 0;
  await pinned.copy(0, join(dir, "a.copy"), () => {
    steps++;
    insA.run(-1);
  });
  await pinned.copy(1, join(dir, "b.copy"));
  pinned.release();

  expect(steps).toBeGreaterThan(1); // several steps, each with a commit between them
  expect(count(join(dir, "a.copy"))).toBe(3000);
  expect(count(join(dir, "b.copy"))).toBe(10);
  expect(count(join(dir, "a.sqlite"))).toBe(3000 + steps);
  // Each copy is one file: no -wal or -shm beside it.
  expect(
    readdirSync(dir)
      .filter((f) => f.startsWith("a.copy") || f.startsWith("b.copy"))
      .sort(),
  ).toEqual(["a.copy", "b.copy"]);
  // Released: the writer's truncating checkpoint is no longer held back by a reader.
  expect((a.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[])[0]!.busy).toBe(0);
  a.close();
  b.close();
});

test("a database that cannot be pinned is a coded error naming it, and nothing stays pinned", () => {
  const dir = mkdtempSync(join(tmpdir(), "radledger-snapshot-"));
  dirs.push(dir);
  const a = writer(join(dir, "a.sqlite"));
  expect(() =>
    pinDatabases([
      { path: join(dir, "a.sqlite"), what: "a" },
      { path: join(dir, "missing.sqlite"), what: "missing" },
    ]),
  ).toThrow(expect.objectContaining({ code: "STORE_NOT_FOUND" }));
  expect(existsSync(join(dir, "missing.sqlite"))).toBe(false);
  expect((a.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[])[0]!.busy).toBe(0);
  a.close();
});
