/**
 * Tamper evidence (docs/design.md §3.9): altering one byte of a stored entry, of a stored hash, or of a stored
 * checkpoint makes `radledger verify` exit 1 and name the place.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { toBase64 } from "../../src/core/bytes.js";
import { makeNode, newKey, type TestNode } from "../helpers/node.js";
import { runCli } from "../helpers/cli.js";

let t: TestNode;

beforeEach(async () => {
  t = await makeNode();
  // 300 entries: more than one level-0 tile, so level-1 tiles exist too.
  const batch = Array.from({ length: 298 }, (_, i) =>
    t.sign(t.admin, "actor.enrolled", {
      actorId: `tech-${i}`,
      kind: "staff",
      roles: ["technologist"],
      publicKey: toBase64(newKey("x").publicKey),
    }),
  );
  for (let i = 0; i < batch.length; i += 50) await t.node.appender.appendAll(batch.slice(i, i + 50));
  await t.node.close();
});
afterEach(async () => {
  await t.reopen();
  await t.close();
});

function alter(sql: (db: Database.Database) => void): void {
  const db = new Database(join(t.dir, "ledger.sqlite"));
  sql(db);
  db.close();
}

function flip(buf: Buffer, at: number): Buffer {
  const copy = Buffer.from(buf);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

test("an untouched log verifies", async () => {
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.stdout).toContain("ok: 300 entries");
  expect(r.code).toBe(0);
});

test("one altered byte in a stored entry is found and named", async () => {
  alter((db) => {
    const row = db.prepare("SELECT data FROM entries WHERE idx = 123").get() as { data: Buffer };
    db.prepare("UPDATE entries SET data = ? WHERE idx = 123").run(flip(row.data, 40));
  });
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/VERIFY_FAILED: entry 123/);
});

test("one altered byte of a stored leaf hash is found and named", async () => {
  alter((db) => {
    const row = db.prepare("SELECT nodes FROM tiles WHERE tile = 0").get() as { nodes: Buffer };
    db.prepare("UPDATE tiles SET nodes = ? WHERE tile = 0").run(flip(row.nodes, 77 * 32 + 5));
  });
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/entry 77: stored leaf hash differs/);
});

test("one altered byte of a stored interior hash is found and named", async () => {
  alter((db) => {
    const row = db.prepare("SELECT nodes FROM tiles WHERE tile = 0").get() as { nodes: Buffer };
    db.prepare("UPDATE tiles SET nodes = ? WHERE tile = 0").run(flip(row.nodes, 300 * 32));
  });
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/tile 0\/0: stored hash of tree node \(level \d+, index \d+\) differs/);
});

test("one altered byte of a stored checkpoint is found and named", async () => {
  alter((db) => {
    const row = db.prepare("SELECT size, note FROM checkpoints ORDER BY size LIMIT 1 OFFSET 2").get() as {
      size: number;
      note: string;
    };
    const note = Buffer.from(row.note);
    db.prepare("UPDATE checkpoints SET note = ? WHERE size = ?").run(
      flip(note, note.indexOf("\n") + 2).toString(),
      row.size,
    );
  });
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/checkpoint/);
});

test("an altered projection row is found", async () => {
  alter((db) =>
    db
      .prepare(
        "UPDATE docs SET body = replace(body, 'technologist', 'radiologist') WHERE kind = 'actor' AND id = 'tech-5'",
      )
      .run(),
  );
  const r = await runCli(["verify", "--data", t.dir, "--quiet", "--json"]);
  expect(r.code).toBe(1);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, failure: { code: "STORE_CORRUPT" } });
  expect(r.stderr).toMatch(/projection row/);
});

test("a deleted entry is found", async () => {
  alter((db) => db.prepare("DELETE FROM entries WHERE idx = 200").run());
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/entry 200/);
});

test("an extra row of the leaf-hash index (a hash that is no leaf, pointed at an entry) is found", async () => {
  // lookups by entry id read this table: a forged row would make a made-up id resolve to entry 5.
  alter((db) => {
    db.prepare("INSERT INTO leaf_index (hash, idx) VALUES (?, 5)").run(Buffer.alloc(32, 0xab));
  });
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/the leaf-hash index has a row for abababababababab… \(at 5\), which is no leaf/);
});

test("a leaf-hash index row pointing a leaf's hash at another entry is found and named", async () => {
  alter((db) => {
    const a = db.prepare("SELECT hash FROM leaf_index WHERE idx = 10").pluck().get() as Buffer;
    const b = db.prepare("SELECT hash FROM leaf_index WHERE idx = 11").pluck().get() as Buffer;
    db.prepare("UPDATE leaf_index SET idx = 11 WHERE hash = ?").run(a);
    db.prepare("UPDATE leaf_index SET idx = 10 WHERE hash = ?").run(b);
  });
  const r = await runCli(["verify", "--data", t.dir, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/entry 10: the leaf-hash index/);
});
