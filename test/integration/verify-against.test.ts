/**
 * `radledger verify --data DIR --against CHECKPOINT` (issue 19): the stored log must be at least the
 * size of a checkpoint the log published and consistent with it. A data directory rolled back to an
 * older copy, a truncated database and a fork (same size, another root) each fail, naming the sizes.
 */
import Database from "better-sqlite3";
import { cpSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { runCli } from "../helpers/cli.js";

let t: TestNode;
let work: { path: string; remove(): void };
/** A copy of the data directory at 5 entries, and the checkpoint notes at 5 and at 8 entries. */
let early: string;
let earlyNote: string;
let laterNote: string;

function latestNote(dir: string): { size: number; note: string } {
  const db = new Database(join(dir, "ledger.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").get() as {
      size: number;
      note: string;
    };
  } finally {
    db.close();
  }
}

function noteFile(name: string, note: string): string {
  const file = join(work.path, name);
  writeFileSync(file, note);
  return file;
}

async function enrolAll(prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await t.enrol(`${prefix}-${i}`, ["technologist"]);
}

beforeEach(async () => {
  work = tempDir("radledger-against-");
  t = await makeNode();
  await enrolAll("early", 3);
  await t.node.close();
  const e = latestNote(t.dir);
  expect(e.size).toBe(5);
  earlyNote = noteFile("early.checkpoint", e.note);
  early = join(work.path, "early");
  cpSync(t.dir, early, { recursive: true });
  await t.reopen();
  await enrolAll("later", 3);
  await t.node.close();
  const l = latestNote(t.dir);
  expect(l.size).toBe(8);
  laterNote = noteFile("later.checkpoint", l.note);
});
afterEach(async () => {
  await t.reopen();
  await t.close();
  work.remove();
});

test("the log verifies against a checkpoint at its size and against an earlier one", async () => {
  const same = await runCli(["verify", "--data", t.dir, "--against", laterNote, "--quiet"]);
  expect(same.stderr).toBe("");
  expect(same.stdout).toContain("ok: 8 entries");
  expect(same.stdout).toContain("consistent with the --against checkpoint");
  expect(same.code).toBe(0);
  const earlier = await runCli(["verify", "--data", t.dir, "--against", earlyNote, "--quiet"]);
  expect(earlier.code).toBe(0);
});

test("a data directory rolled back to an older copy fails against a later checkpoint", async () => {
  // On its own the older copy is a valid log.
  expect((await runCli(["verify", "--data", early, "--quiet"])).code).toBe(0);
  const r = await runCli(["verify", "--data", early, "--against", laterNote, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/stored log has 5 entries but the checkpoint given with --against covers 8/);
  expect(r.stderr).toContain("STORE_ROLLED_BACK");
});

test("a database truncated back to an earlier state fails against a later checkpoint", async () => {
  const truncated = join(work.path, "truncated");
  cpSync(t.dir, truncated, { recursive: true });
  rmSync(join(truncated, "ledger.sqlite"));
  cpSync(join(early, "ledger.sqlite"), join(truncated, "ledger.sqlite"));
  // The directory's own high-water mark (copied with it) already catches the truncation…
  const marked = await runCli(["verify", "--data", truncated, "--quiet"]);
  expect(marked.code).toBe(1);
  expect(marked.stderr).toContain("STORE_ROLLED_BACK");
  // …and without it (a directory from before the mark, or one whose mark went too) --against does.
  rmSync(join(truncated, "checkpoint.mark"));
  expect((await runCli(["verify", "--data", truncated, "--quiet"])).code).toBe(0);
  const r = await runCli(["verify", "--data", truncated, "--against", laterNote, "--quiet"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/stored log has 5 entries but the checkpoint given with --against covers 8/);
});

test("a fork (same size, another root; or larger but inconsistent) fails against the checkpoint", async () => {
  // Replace the directory with the early copy and grow it with other entries: a forked history.
  const later = join(work.path, "later");
  cpSync(t.dir, later, { recursive: true });
  rmSync(t.dir, { recursive: true });
  cpSync(early, t.dir, { recursive: true });
  await t.reopen();
  await enrolAll("fork", 3);
  await t.node.close();
  expect(latestNote(t.dir).size).toBe(8);
  expect((await runCli(["verify", "--data", t.dir, "--quiet"])).code).toBe(0);
  const same = await runCli(["verify", "--data", t.dir, "--against", laterNote, "--quiet"]);
  expect(same.code).toBe(1);
  expect(same.stderr).toMatch(
    /stored log \(size 8\) has another root than the checkpoint given with --against/,
  );
  await t.reopen();
  await enrolAll("fork-more", 1);
  await t.node.close();
  const larger = await runCli(["verify", "--data", t.dir, "--against", laterNote, "--quiet"]);
  expect(larger.code).toBe(1);
  expect(larger.stderr).toMatch(
    /stored log \(size 9\) is not consistent with the checkpoint given with --against \(size 8\)/,
  );
  // The fork still extends the checkpoint they share.
  expect((await runCli(["verify", "--data", t.dir, "--against", earlyNote, "--quiet"])).code).toBe(0);
});
