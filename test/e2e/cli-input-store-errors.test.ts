/**
 * Issue 18, finding 6 (the command line's part): `token create --ttl-days` accepts exactly the
 * lifetimes the API accepts (one set of limits, src/ports/auth.ts); and a damaged or read-only data
 * directory ends in a coded error naming the database file — STORE_CORRUPT (exit 1) for a file that
 * is not a database, STORE_IO (exit 5) for one that cannot be opened or written — never a raw
 * SqliteError with a stack (exit 70).
 *
 * A read-only data directory: chmod does not stop root, and these tests may run as root. As root the
 * command runs as the unprivileged user 65534 ("nobody") on a directory owned by root (mode 0755,
 * files 0644), which it can read but not write; otherwise the directory and its files are made
 * read-only (0555 / 0444) for the test's own user. Both are the same fault for SQLite.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { chmodSync, cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { makeNode, type TestNode } from "../helpers/node.js";
import { runCli, type CliResult } from "../helpers/cli.js";
import { MAX_API_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS } from "../../src/ports/auth.js";

let t: TestNode;
let root: string;

beforeAll(async () => {
  t = await makeNode();
  root = dirname(t.dir);
  await t.node.close();
});
afterAll(() => {
  chmodAll(root, 0o755, 0o644);
  rmSync(root, { recursive: true, force: true });
});

const NO_STACK = /\n\s+at /;

/** A copy of the data directory to spoil. */
function copy(name: string): string {
  const dir = join(root, name);
  cpSync(t.dir, dir, { recursive: true });
  return dir;
}

function chmodAll(dir: string, dirMode: number, fileMode: number): void {
  chmodSync(dir, dirMode);
  for (const it of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, it.name);
    if (it.isDirectory()) chmodAll(p, dirMode, fileMode);
    else chmodSync(p, fileMode);
  }
}

const isRoot = process.getuid?.() === 0;

/** Runs the CLI as a user who may read but not write `dir` (see the header). */
function runReadOnly(dir: string, args: readonly string[]): Promise<CliResult> {
  if (isRoot) chmodAll(dir, 0o755, 0o644);
  else chmodAll(dir, 0o555, 0o444);
  return runCli(args, undefined, isRoot ? { uid: 65534, gid: 65534 } : undefined);
}

test("token create --ttl-days takes what the API takes: 60 seconds to 366 days, else exit 2", async () => {
  const create = (days: string) =>
    runCli(["token", "create", "--data", t.dir, "--actor", "admin", "--ttl-days", days, "--json"]);
  for (const days of ["0.00002", "0", "-1", "367", "1e2", "0x10", "", " 5", "Infinity", "NaN"]) {
    const r = await create(days);
    expect([days, r.code, r.stderr]).toEqual([
      days,
      2,
      expect.stringMatching(/^radledger: CLI_USAGE: --ttl-days /),
    ]);
    expect(r.stderr).toContain(`${MIN_TOKEN_TTL_SECONDS} seconds`);
  }
  const shortest = await create("0.000695"); // 60.048 seconds
  expect(shortest.code, shortest.stderr).toBe(0);
  const longest = await create(String(MAX_API_TOKEN_TTL_SECONDS / 86400));
  expect(longest.code, longest.stderr).toBe(0);
  const half = await create("0.5");
  expect(half.code, half.stderr).toBe(0);
  const { record } = JSON.parse(half.stdout) as { record: { createdAt: string; expiresAt: string } };
  expect(Date.parse(record.expiresAt) - Date.parse(record.createdAt)).toBe(43_200_000);
});

test("a log or vault file that is not a database: STORE_CORRUPT naming the file, exit 1, no stack", async () => {
  const dir = copy("corrupt-log");
  for (const f of readdirSync(dir)) if (f.startsWith("ledger.sqlite")) rmSync(join(dir, f));
  writeFileSync(join(dir, "ledger.sqlite"), randomBytes(8192));
  for (const args of [
    ["verify", "--data", dir, "--quiet"],
    ["query", "list", "reports", "--data", dir],
    ["token", "create", "--data", dir, "--actor", "admin"],
  ]) {
    const r = await runCli(args);
    expect([args[0], r.code]).toEqual([args[0], 1]);
    expect(r.stderr).toMatch(/^radledger: STORE_CORRUPT: /);
    expect(r.stderr).toContain(join(dir, "ledger.sqlite"));
    expect(r.stderr).not.toMatch(NO_STACK);
  }

  const vault = copy("corrupt-vault");
  for (const f of readdirSync(vault)) if (f.startsWith("vault.sqlite")) rmSync(join(vault, f));
  writeFileSync(join(vault, "vault.sqlite"), randomBytes(8192));
  const out = join(root, "x.tar");
  const r = await runCli([
    "export",
    "bundle",
    "--data",
    vault,
    "--kind",
    "report",
    "--id",
    "a".repeat(64),
    "--out",
    out,
  ]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^radledger: STORE_CORRUPT: /);
  expect(r.stderr).toContain(join(vault, "vault.sqlite"));
  expect(r.stderr).not.toMatch(NO_STACK);
});

test("a database that is a directory: STORE_IO naming the file, exit 5, no stack", async () => {
  const dir = copy("dir-in-place");
  for (const f of readdirSync(dir)) if (f.startsWith("auth.sqlite")) rmSync(join(dir, f));
  mkdirSync(join(dir, "auth.sqlite"));
  const r = await runCli(["token", "list", "--data", dir]);
  expect(r.code).toBe(5);
  expect(r.stderr).toMatch(/^radledger: STORE_IO: /);
  expect(r.stderr).toContain(join(dir, "auth.sqlite"));
  expect(r.stderr).not.toMatch(NO_STACK);
});

test("a read-only data directory: STORE_IO naming the file, exit 5, no stack", async () => {
  const dir = copy("read-only");
  chmodSync(root, 0o755);
  const write = await runReadOnly(dir, ["token", "create", "--data", dir, "--actor", "admin"]);
  expect(write.code, write.stderr).toBe(5);
  expect(write.stderr).toMatch(/^radledger: STORE_IO: /);
  expect(write.stderr).toMatch(/\.sqlite|writer\.lock/); // the first file it cannot write
  expect(write.stderr).toContain(dir);
  expect(write.stderr).not.toMatch(NO_STACK);

  // A reader works where SQLite can read the WAL beside the database (its files are there), and
  // otherwise fails naming the file: either way, no internal error.
  const read = await runReadOnly(dir, ["verify", "--data", dir, "--quiet"]);
  if (read.code !== 0) {
    expect(read.code, read.stderr).toBe(5);
    expect(read.stderr).toMatch(/^radledger: STORE_IO: /);
    expect(read.stderr).toContain(join(dir, "ledger.sqlite"));
  }
  expect(read.stderr).not.toMatch(NO_STACK);
});
