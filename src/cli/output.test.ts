import { afterEach, expect, test, vi } from "vitest";
import { reportError } from "./output.js";

afterEach(() => vi.restoreAllMocks());

/** reportError's stderr and exit code for `e`. */
function report(e: unknown): { code: number; stderr: string } {
  let stderr = "";
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const code = reportError(e);
  vi.restoreAllMocks();
  return { code, stderr };
}

/** An error shaped as node:fs throws it. */
const fsError = (code: string, path: string): Error =>
  Object.assign(new Error(`${code}: failed, write '${path}'`), { code, errno: -28, syscall: "write", path });

test("a file the disk is too full to write: STORE_FULL naming the file, exit 5, no stack", () => {
  const r = report(fsError("ENOSPC", "/data/keys/actors/rad-1.key"));
  expect(r.code).toBe(5);
  expect(r.stderr).toBe(
    "radledger: STORE_FULL: cannot write /data/keys/actors/rad-1.key: the disk is full (ENOSPC)\n",
  );
});

test("a file on a read-only filesystem: STORE_IO naming the file, exit 5, no stack", () => {
  const r = report(fsError("EROFS", "/data/node.sock"));
  expect(r.code).toBe(5);
  expect(r.stderr).toBe(
    "radledger: STORE_IO: cannot write /data/node.sock: the filesystem is read-only (EROFS)\n",
  );
});

test("SQLITE_FULL surfacing after the open: STORE_FULL, exit 5", () => {
  const e = Object.assign(new Error("database or disk is full"), {
    name: "SqliteError",
    code: "SQLITE_FULL",
  });
  const r = report(e);
  expect(r.code).toBe(5);
  expect(r.stderr).toMatch(/^radledger: STORE_FULL: .*full.*\n$/);
});

test("any other error is still internal, with its stack for the bug report", () => {
  const r = report(new Error("boom"));
  expect(r.code).toBe(70);
  expect(r.stderr).toMatch(/^radledger: INTERNAL: boom\n.*\n\s+at /);
});
