/**
 * The high-water mark (docs/security.md §High-water mark): a log that lost acknowledged entries, or
 * is another tree than the one the node published, is refused when a writing node opens (and so by
 * `serve` and the demo) and fails `verify --data` — named, with what was lost — instead of serving
 * fewer entries as if nothing happened. The losses are made the ways they happen: one bit flipped in
 * the WAL (SQLite drops every frame after a bad checksum, by design), the log database replaced by an
 * older copy, a forked copy of the same size, and the mark file gone while the consortium store still
 * holds the published checkpoint.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { parseCheckpointText } from "../../src/core/checkpoint.js";
import { parseSignedNote } from "../../src/core/note.js";
import { RadledgerError } from "../../src/core/errors.js";
import { SqliteLogStore } from "../../src/adapters/sqlite/log-store.js";
import { SqliteConsortiumStore } from "../../src/adapters/sqlite/consortium-store.js";
import { rotateLogKey } from "../../src/app/key-rotate.js";
import { openNode } from "../../src/wiring/node.js";
import { openReadOnly } from "../../src/wiring/read-only.js";
import { auditDataDir } from "../../src/wiring/audit.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { runCli } from "../helpers/cli.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function node(): Promise<TestNode> {
  const t = await makeNode();
  cleanup.push(() => t.close());
  return t;
}

/** Enrols n staff actors, one append (one batch, one checkpoint, one commit in the WAL) each. */
async function grow(t: TestNode, n: number, prefix = "staff"): Promise<void> {
  for (let i = 0; i < n; i++) await t.enrol(`${prefix}-${t.node.ledger.size}-${i}`, ["radiologist"]);
}

const markPath = (dir: string): string => join(dir, "checkpoint.mark");
const sizeOf = (note: string): number => parseCheckpointText(parseSignedNote(note).text).size;

/** What the log database alone says its size is (what a reader without the mark sees). */
function storedSize(dir: string): number {
  const store = new SqliteLogStore(join(dir, "ledger.sqlite"), { readonly: true });
  try {
    return store.size();
  } finally {
    store.close();
  }
}

/** The coded error opening a writing node on `dir` throws (fails the test if it opens). */
function openRefusal(dir: string): RadledgerError {
  try {
    const opened = openNode(dir, { verifyThreads: 0 });
    void opened.close();
  } catch (e) {
    expect(e).toBeInstanceOf(RadledgerError);
    return e as RadledgerError;
  }
  throw new Error(`the node opened ${dir}`);
}

/** The log database files (ledger.sqlite and its WAL files) of `from` copied over those of `to`. */
function replaceLog(from: string, to: string): void {
  for (const suffix of ["", "-wal", "-shm"]) {
    rmSync(join(to, `ledger.sqlite${suffix}`), { force: true });
    if (existsSync(join(from, `ledger.sqlite${suffix}`)))
      copyFileSync(join(from, `ledger.sqlite${suffix}`), join(to, `ledger.sqlite${suffix}`));
  }
}

test("init writes the mark, and every acknowledged entry is under it when its append resolves", async () => {
  const t = await node();
  // init wrote it with the genesis and the first admin's enrolment.
  expect(sizeOf(readFileSync(markPath(t.dir), "utf8"))).toBe(t.node.ledger.size);
  for (let i = 0; i < 5; i++) {
    await t.enrol(`staff-${i}`, ["radiologist"]);
    const acknowledged = t.node.ledger.size;
    // Read the file, not the ledger: the mark must be on disk before the submitter hears back.
    expect(sizeOf(readFileSync(markPath(t.dir), "utf8"))).toBe(acknowledged);
  }
});

test("a bit flipped in the WAL: the node refuses to open and verify fails, naming the lost entries", async () => {
  const t = await node();
  await grow(t, 60);
  const acknowledged = t.node.ledger.size;
  // A copy of the data directory while the node runs: its WAL still holds the committed frames.
  const copy = `${t.dir}-wal-copy`;
  cpSync(t.dir, copy, { recursive: true });
  cleanup.push(() => rmSync(copy, { recursive: true, force: true }));
  const wal = join(copy, "ledger.sqlite-wal");
  const bytes = readFileSync(wal);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  writeFileSync(wal, bytes);
  // The loss itself is silent: the database alone is consistent, just smaller.
  const left = storedSize(copy);
  expect(left).toBeLessThan(acknowledged);

  const refused = openRefusal(copy);
  expect(refused.code).toBe("STORE_ROLLED_BACK");
  expect(refused.message).toContain(
    `the log has ${left} entries; its last published checkpoint (${markPath(copy)}) covers ${acknowledged}: ${acknowledged - left} acknowledged entries are missing`,
  );

  const report = await auditDataDir(copy, { threads: 0 });
  expect(report.ok).toBe(false);
  expect(report.failure?.code).toBe("STORE_ROLLED_BACK");
  expect(report.failure?.message).toContain(`${acknowledged - left} acknowledged entries are missing`);

  const verify = await runCli(["verify", "--data", copy, "--quiet"]);
  expect(verify.code).toBe(1);
  expect(verify.stderr).toContain("STORE_ROLLED_BACK");
  const serve = await runCli(["serve", "--data", copy, "--port", "0"]);
  expect(serve.code).toBe(1);
  expect(serve.stderr).toContain("STORE_ROLLED_BACK");
  expect(serve.stderr).toContain("acknowledged entries are missing");
});

test("the log database replaced by an older copy (rollback) is refused and fails verify", async () => {
  const t = await node();
  await grow(t, 3);
  const old = `${t.dir}-old`;
  await t.node.close();
  cpSync(t.dir, old, { recursive: true });
  cleanup.push(() => rmSync(old, { recursive: true, force: true }));
  const oldSize = storedSize(old);
  await t.reopen();
  await grow(t, 4);
  const size = t.node.ledger.size;
  await t.node.close();

  replaceLog(old, t.dir);
  const refused = openRefusal(t.dir);
  expect(refused.code).toBe("STORE_ROLLED_BACK");
  expect(refused.message).toContain(`the log has ${oldSize} entries`);
  expect(refused.message).toContain(`covers ${size}: ${size - oldSize} acknowledged entries are missing`);
  const report = await auditDataDir(t.dir, { threads: 0 });
  expect(report.failure?.code).toBe("STORE_ROLLED_BACK");
  // Reopened for the cleanup's close: the rolled-back log is put back as it was.
  replaceLog(old, t.dir);
  copyFileSync(join(old, "checkpoint.mark"), markPath(t.dir));
  await t.reopen();
});

test("a forked copy (another tree of the same size) is refused as STORE_FORKED and fails verify", async () => {
  const t = await node();
  await grow(t, 2);
  await t.node.close();
  // Two copies of one directory (same keys, same origin) that then append different entries.
  const other = `${t.dir}-fork`;
  cpSync(t.dir, other, { recursive: true });
  cleanup.push(() => rmSync(other, { recursive: true, force: true }));
  await t.reopen();
  await grow(t, 1, "here");
  const size = t.node.ledger.size;
  await t.node.close();
  const fork = openNode(other, { verifyThreads: 0 });
  const admin = t.admin;
  await fork.appender.append(
    t.sign(admin, "actor.enrolled", {
      actorId: "elsewhere",
      kind: "staff",
      roles: ["radiologist"],
      publicKey: Buffer.alloc(32, 7).toString("base64"),
    }),
  );
  expect(fork.ledger.size).toBe(size);
  await fork.close();

  const saved = `${t.dir}-saved`;
  cpSync(t.dir, saved, { recursive: true });
  cleanup.push(() => rmSync(saved, { recursive: true, force: true }));
  replaceLog(other, t.dir);
  const refused = openRefusal(t.dir);
  expect(refused.code).toBe("STORE_FORKED");
  expect(refused.message).toContain(markPath(t.dir));
  const report = await auditDataDir(t.dir, { threads: 0 });
  expect(report.failure?.code).toBe("STORE_FORKED");
  replaceLog(saved, t.dir);
  await t.reopen();
});

test("without the mark file, the consortium store's published checkpoint still catches a rollback", async () => {
  const t = await node();
  await grow(t, 2);
  await t.node.close();
  const old = `${t.dir}-old`;
  cpSync(t.dir, old, { recursive: true });
  cleanup.push(() => rmSync(old, { recursive: true, force: true }));
  await t.reopen();
  await grow(t, 3);
  const size = t.node.ledger.size;
  // What the consortium side records when it publishes a checkpoint (src/domain/consortium/cosigning.ts).
  const consortium = new SqliteConsortiumStore(join(t.dir, "consortium.sqlite"));
  consortium.saveCosigned({
    size,
    note: t.node.ledger.latestCheckpoint!,
    final: true,
    witnesses: [],
    publishedAt: Date.now(),
  });
  consortium.close();
  await t.node.close();

  replaceLog(old, t.dir);
  rmSync(markPath(t.dir));
  const refused = openRefusal(t.dir);
  expect(refused.code).toBe("STORE_ROLLED_BACK");
  expect(refused.message).toContain(`(${join(t.dir, "consortium.sqlite")}) covers ${size}`);
  expect(existsSync(markPath(t.dir))).toBe(false); // a refused log never gets a mark of its own
  const report = await auditDataDir(t.dir, { threads: 0 });
  expect(report.failure?.code).toBe("STORE_ROLLED_BACK");
  rmSync(join(t.dir, "consortium.sqlite"));
  await t.reopen();
});

test("a data directory from before the mark gets one on first open, with a note, and is not refused", async () => {
  const t = await node();
  await grow(t, 2);
  await t.node.close();
  rmSync(markPath(t.dir));
  const notes: string[] = [];
  await t.reopen({ verifyThreads: 0, onNotice: (m) => notes.push(m) });
  expect(notes).toHaveLength(1);
  expect(notes[0]).toContain(`created the high-water mark ${markPath(t.dir)}`);
  expect(readFileSync(markPath(t.dir), "utf8")).toBe(t.node.ledger.latestCheckpoint);
  const report = await auditDataDir(t.dir, { threads: 0 });
  expect(report.ok).toBe(true);
});

test("a damaged mark file is refused as STORE_CORRUPT naming it", async () => {
  const t = await node();
  await grow(t, 1);
  await t.node.close();
  const note = readFileSync(markPath(t.dir), "utf8");
  writeFileSync(markPath(t.dir), note.replace(/\n[0-9]+\n/, "\n999\n"));
  const refused = openRefusal(t.dir);
  expect(refused.code).toBe("STORE_CORRUPT");
  expect(refused.message).toContain(markPath(t.dir));
  writeFileSync(markPath(t.dir), note);
  await t.reopen();
});

test("key rotation, the read-only view beside the node and reopening keep working with the mark", async () => {
  const t = await node();
  await grow(t, 2);
  await rotateLogKey(t.node);
  await grow(t, 2);
  const view = openReadOnly(t.dir);
  expect(view.store.size()).toBe(t.node.ledger.size);
  view.close();
  await t.reopen();
  await grow(t, 1);
  expect(sizeOf(readFileSync(markPath(t.dir), "utf8"))).toBe(t.node.ledger.size);
  await t.node.close();
  const report = await auditDataDir(t.dir, { threads: 0 });
  expect(report.ok).toBe(true);
  await t.reopen();
});

test("a mark that cannot be written: the committed batch is not acknowledged (STORE_IO), the next mark covers it", async () => {
  const t = await node();
  await grow(t, 1);
  // A directory where the temporary mark file goes: the write fails as on a full or read-only disk.
  const blocker = `${markPath(t.dir)}.tmp`;
  mkdirSync(blocker);
  const before = t.node.ledger.size;
  const [result] = await t.node.appender.appendAll([
    t.sign(t.admin, "actor.enrolled", {
      actorId: "unmarked",
      kind: "staff",
      roles: ["radiologist"],
      publicKey: Buffer.alloc(32, 9).toString("base64"),
    }),
  ]);
  expect(result!.ok).toBe(false);
  const error = (result as { error: RadledgerError }).error;
  expect(error.code).toBe("STORE_IO");
  expect(error.message).toContain(`entries ${before}..${before} were committed`);
  expect(error.message).toContain(markPath(t.dir));
  expect(sizeOf(readFileSync(markPath(t.dir), "utf8"))).toBe(before);
  rmSync(blocker, { recursive: true });
  await grow(t, 1);
  expect(sizeOf(readFileSync(markPath(t.dir), "utf8"))).toBe(before + 2);
});
