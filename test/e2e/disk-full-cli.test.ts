/**
 * The command line on a full or read-only disk (issue 19, finding 3), as a user runs it
 * (dist/cli/main.js) on a real small disk (test/helpers/small-disk.ts): `serve` and `token create`
 * end with one line naming the code and the file, exit 5 (unavailable), no stack trace and no
 * process left running; `bench append` that loses entries to a full disk fails and says how many.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { initDataDir } from "../../src/app/init.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { runCli, type CliResult } from "../helpers/cli.js";
import { ORIGIN } from "../helpers/node.js";
import { mountSmallDisk, type SmallDisk } from "../helpers/small-disk.js";

let disk: SmallDisk;
let dir = "";

beforeAll(async () => {
  disk = mountSmallDisk(8 * 1024 * 1024);
  dir = join(disk.path, "data");
  await initDataDir(dir, { origin: ORIGIN, institutionName: "Test Hospital" }, nodeFactory);
});

afterAll(() => disk.unmount());

/** One line on stderr, `radledger: CODE: …`, and no stack trace. */
function oneCodedLine(r: CliResult, code: string): string {
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^radledger: ${code}: `));
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

const serve = () => runCli(["serve", "--data", dir, "--port", "0"]);
const tokenCreate = () => runCli(["token", "create", "--data", dir, "--actor", "admin"]);

test("serve and token create on a full disk: STORE_FULL naming the disk as full, exit 5, one line", async () => {
  disk.fill();
  try {
    for (const r of [await serve(), await tokenCreate()]) {
      expect(r.code, r.stderr).toBe(5);
      expect(oneCodedLine(r, "STORE_FULL")).toContain("full");
      expect(r.stdout).toBe("");
    }
  } finally {
    disk.free();
  }
});

test("serve and token create on a disk nearly full (opens fail inside SQLite as disk I/O errors): STORE_FULL, not a permissions hint", async () => {
  disk.fillLeaving(8 * 1024);
  try {
    for (const r of [await serve(), await tokenCreate()]) {
      expect(r.code, r.stderr).toBe(5);
      const line = oneCodedLine(r, "STORE_FULL");
      expect(line).not.toContain("may read and write");
    }
  } finally {
    disk.free();
  }
});

test("serve and token create on a read-only filesystem: STORE_IO saying read-only, exit 5, one line", async () => {
  disk.readOnly();
  try {
    for (const r of [await serve(), await tokenCreate()]) {
      expect(r.code, r.stderr).toBe(5);
      expect(oneCodedLine(r, "STORE_IO")).toContain("read-only");
    }
  } finally {
    disk.writable();
  }
});

test("serve whose credentials store fails to open after the node opened exits with the coded error (no process left running)", async () => {
  // What a disk filling up between the two opens does; a directory in the file's place is the
  // reproducible way to fail that second open.
  const auth = join(dir, "auth.sqlite");
  rmSync(auth, { force: true });
  mkdirSync(auth);
  try {
    const r = await serve();
    expect(r.code, r.stderr).toBe(5);
    expect(oneCodedLine(r, "STORE_IO")).toContain("auth.sqlite");
  } finally {
    rmSync(auth, { recursive: true, force: true });
  }
});

test("bench append that loses entries to a full disk exits non-zero and says how many were refused", async () => {
  const small = mountSmallDisk(3 * 1024 * 1024);
  try {
    const data = join(small.path, "bench");
    const r = await runCli([
      "bench",
      "append",
      "--data",
      data,
      "--entries",
      "4000",
      "--threads",
      "1",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(5);
    const result = JSON.parse(r.stdout) as {
      refused: number;
      refusedByCode: Record<string, number>;
      entries: number;
    };
    expect(result.refused).toBeGreaterThan(0);
    expect(result.refusedByCode).toEqual({ STORE_FULL: result.refused });
    expect(result.entries + result.refused).toBe(4000);
    expect(r.stderr).toContain(
      `radledger: STORE_FULL: bench append: ${result.refused} of 4000 entries refused (STORE_FULL ${result.refused})`,
    );
    // The cause was logged when the disk filled, once per transition.
    expect(r.stderr).toMatch(
      /radledger: storage full \(SQLITE_FULL\) on .*ledger\.sqlite: appends refused until space returns/,
    );
  } finally {
    small.unmount();
  }
}, 120_000);
