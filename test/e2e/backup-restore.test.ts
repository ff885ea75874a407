/**
 * The restore drill (docs/backup.md): `radledger backup` taken from a serving node in the middle of a
 * stream of concurrent API appends and vault writes, restored with `radledger restore` into a new
 * directory, which `radledger verify --data` passes and which holds every entry acknowledged before the
 * backup began (same index, same leaf hash), every vault item stored before it, and the credentials:
 * a token issued before the backup authenticates against the restored node. Then the refusals: a
 * non-empty target, a missing data directory, a damaged backup.
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli, startServe } from "../helpers/cli.js";
import { fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { openNode } from "../../src/wiring/node.js";

const tmp = tempDir("radledger-backup-");
let t: TestNode;
let server: Awaited<ReturnType<typeof startServe>> | undefined;
let restored: Awaited<ReturnType<typeof startServe>> | undefined;

beforeAll(async () => {
  t = await makeNode();
  await t.node.close(); // `radledger serve` opens the directory next
  server = await startServe(t.dir);
}, 60_000);

afterAll(async () => {
  await restored?.stop();
  await server?.stop();
  await t.close();
  tmp.remove();
});

/** RFC 9162 §2.1.1: the leaf hash of an entry's bytes. */
const leafHash = (bytes: Uint8Array): string =>
  createHash("sha256")
    .update(Buffer.from([0]))
    .update(bytes)
    .digest("hex");

/** Every regular file under `dir`, '/'-separated relative paths. */
const filesIn = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1));

test("a backup taken mid-stream restores to a log that verifies and keeps everything acknowledged before it", async () => {
  const url = server!.url;
  const created = await runCli(["token", "create", "--data", t.dir, "--actor", "admin", "--json"]);
  expect(created.code, created.stderr).toBe(0);
  const token = (JSON.parse(created.stdout) as { token: string }).token;
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };

  // Writers: each loops appending a study registration (signed by the node with the admin's held
  // key) and storing a vault item, recording what the node acknowledged and when.
  const entries: { index: number; leafHash: string; at: number }[] = [];
  const items: { commitment: string; patient: string; text: string; at: number }[] = [];
  let stop = false;
  let seq = 0;
  const writer = async (): Promise<void> => {
    while (!stop) {
      const r = await fetch(`${url}/api/v1/entries/study.registered`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ body: studyBody(fakePseudonym()) }),
      });
      const answer = (await r.json()) as { index: number; leafHash: string };
      expect(r.status, JSON.stringify(answer)).toBe(201);
      entries.push({ index: answer.index, leafHash: answer.leafHash, at: performance.now() });
      const patient = fakePseudonym();
      const text = `drill finding ${seq++}`;
      const v = await fetch(`${url}/api/v1/vault`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ patient, content: { text } }),
      });
      const stored = (await v.json()) as { commitment: string };
      expect(v.status, JSON.stringify(stored)).toBe(201);
      items.push({ commitment: stored.commitment, patient, text, at: performance.now() });
    }
  };
  const writers = Array.from({ length: 4 }, () => writer());
  // Mid-stream: wait until the writers have something acknowledged (polled through their own
  // progress, not a timer), then back up while they keep going.
  while (entries.length < 20) await new Promise((r) => setImmediate(r));

  const out = join(tmp.path, "backup");
  const keys = join(tmp.path, "keys-backup");
  const startedAt = performance.now();
  const backup = await runCli(["backup", "--data", t.dir, "--to", out, "--keys-to", keys, "--json"]);
  const endedAt = performance.now();
  expect(backup.code, backup.stderr).toBe(0);
  const during = entries.filter((e) => e.at > startedAt && e.at < endedAt).length;
  // A few more after the backup, so the stream demonstrably went on past it.
  const after = entries.length + 10;
  while (entries.length < after) await new Promise((r) => setImmediate(r));
  stop = true;
  await Promise.all(writers);

  const result = JSON.parse(backup.stdout) as { logSize: number; rootHash: string; pausedMillis: number };
  const before = entries.filter((e) => e.at < startedAt);
  const itemsBefore = items.filter((i) => i.at < startedAt);
  expect(before.length).toBeGreaterThanOrEqual(20);
  expect(result.logSize).toBeGreaterThan(Math.max(...before.map((e) => e.index)));
  expect(entries.length).toBeGreaterThan(before.length + during); // it went on after the backup
  console.log(
    `backup: ${before.length} entries acknowledged before it, ${during} during it, log size ${result.logSize}; node paused ${result.pausedMillis} ms; backup took ${Math.round(endedAt - startedAt)} ms`,
  );

  // The data backup holds no key; the key backup holds the keys only.
  expect(filesIn(out).filter((f) => f.split("/").includes("keys"))).toEqual([]);
  expect(filesIn(out)).toContain("auth.sqlite");
  expect(filesIn(keys).every((f) => f === "backup.json" || f.startsWith("keys/"))).toBe(true);
  expect(filesIn(keys)).toContain("keys/patient-keys.sqlite");
  // No SQLite transient file: each database is one self-contained file, hashed in the manifest.
  expect(filesIn(out).filter((f) => /-(wal|shm|journal)$/.test(f))).toEqual([]);

  await server!.stop();
  server = undefined;

  const into = join(tmp.path, "restored");
  const restore = await runCli(["restore", "--from", out, "--keys-from", keys, "--data", into, "--json"]);
  expect(restore.code, restore.stderr).toBe(0);
  const verify = await runCli(["verify", "--data", into, "--quiet"]);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);

  const node = openNode(into, { verifyThreads: 0 });
  try {
    expect(node.ledger.size).toBe(result.logSize);
    for (const e of before) expect(leafHash(node.store.readEntry(e.index)!.bytes)).toBe(e.leafHash);
    for (const i of itemsBefore)
      expect(node.vault.get(i.commitment)).toMatchObject({ patient: i.patient, content: { text: i.text } });
  } finally {
    await node.close();
  }

  // The token issued before the backup authenticates against the restored node.
  restored = await startServe(into);
  const read = await fetch(`${restored.url}/api/v1/log/entries/${before[0]!.index}`, { headers: auth });
  expect(read.status, await read.clone().text()).toBe(200);
  const bad = await fetch(`${restored.url}/api/v1/log/entries/0`, {
    headers: { authorization: `Bearer ${token}x` },
  });
  expect(bad.status).toBe(401);
}, 180_000);

test("backup refuses a target that is not empty, and a data directory that is not there, with codes", async () => {
  const full = join(tmp.path, "full");
  mkdirSync(full);
  writeFileSync(join(full, "precious.txt"), "keep me");
  const refused = await runCli(["backup", "--data", t.dir, "--to", full]);
  expect(refused.stderr).toContain("BACKUP_TARGET_NOT_EMPTY");
  expect(refused.code).toBe(4);
  expect(readdirSync(full)).toEqual(["precious.txt"]);

  const missing = await runCli([
    "backup",
    "--data",
    join(tmp.path, "no-such-dir"),
    "--to",
    join(tmp.path, "b2"),
  ]);
  expect(missing.stderr).toContain("STORE_NOT_FOUND");
  expect(missing.code).toBe(3);
  expect(existsSync(join(tmp.path, "b2"))).toBe(false);

  // Inside the data directory: it would copy itself.
  const inside = await runCli(["backup", "--data", t.dir, "--to", join(t.dir, "backup")]);
  expect(inside.stderr).toContain("INPUT_INVALID");
  expect(inside.code).toBe(2);
  expect(existsSync(join(t.dir, "backup"))).toBe(false);
});

test("restore refuses a backup that does not match its manifest, before writing anything", async () => {
  const out = join(tmp.path, "to-damage");
  const made = await runCli(["backup", "--data", t.dir, "--to", out, "--quiet"]);
  expect(made.code, made.stderr).toBe(0);

  appendFileSync(join(out, "config.json"), " ");
  const into = join(tmp.path, "never");
  const damaged = await runCli(["restore", "--from", out, "--data", into]);
  expect(damaged.stderr).toContain("BACKUP_MANIFEST_MISMATCH");
  expect(damaged.code).toBe(1);
  expect(existsSync(into)).toBe(false);

  // A file the manifest does not list is refused as well.
  writeFileSync(join(out, "config.json"), readFileSync(join(t.dir, "config.json")));
  writeFileSync(join(out, "extra.sqlite"), "x");
  const extra = await runCli(["restore", "--from", out, "--data", into]);
  expect(extra.stderr).toContain("BACKUP_MANIFEST_MISMATCH");
  expect(existsSync(into)).toBe(false);

  // A manifest naming a path outside the backup is not a manifest.
  const manifest = JSON.parse(readFileSync(join(out, "backup.json"), "utf8")) as {
    files: { path: string }[];
  };
  manifest.files[0]!.path = "../escape";
  writeFileSync(join(out, "backup.json"), JSON.stringify(manifest));
  const hostile = await runCli(["restore", "--from", out, "--data", into]);
  expect(hostile.stderr).toContain("BACKUP_MANIFEST_INVALID");
  expect(hostile.code).toBe(2);
  expect(existsSync(into)).toBe(false);
});
