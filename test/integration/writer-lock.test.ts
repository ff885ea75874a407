/**
 * The single-writer lock is an OS lock on DIR/writer.lock.sqlite (src/adapters/sqlite/writer-lock.ts):
 * it dies with its process, so nothing a dead writer left behind — a PID file naming a PID since
 * reused, or the lock file itself after kill -9 — keeps the next writer out; while a writer lives,
 * another process and another opening in the same process are refused with STORE_LOCKED.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeEach, expect, test } from "vitest";
import { initDataDir } from "../../src/app/init.js";
import { nodeFactory, openNode } from "../../src/wiring/node.js";
import { startServe } from "../helpers/cli.js";
import { ORIGIN, tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-writer-lock-");
afterAll(() => tmp.remove());

let dir = "";
let count = 0;
beforeEach(async () => {
  dir = join(tmp.path, `data-${++count}`);
  await initDataDir(dir, { origin: ORIGIN, institutionName: "Test Hospital" }, nodeFactory);
});

const locked = expect.objectContaining({ code: "STORE_LOCKED" }) as Error;

test("a stale writer.lock naming a PID that is alive again (reused) does not block opening", async () => {
  // What an earlier writer killed with -9 left behind, its PID since taken by another live process.
  for (const pid of [1, process.ppid, process.pid]) {
    writeFileSync(join(dir, "writer.lock"), String(pid), { mode: 0o600 });
    const node = openNode(dir, { verifyThreads: 0 });
    await node.close();
  }
});

test("a second opening in the same process is refused until the first closes", async () => {
  const first = openNode(dir, { verifyThreads: 0 });
  try {
    expect(() => openNode(dir, { verifyThreads: 0 })).toThrow(locked);
    // Through another spelling of the same directory, too.
    expect(() => openNode(join(dir, "..", `data-${count}`, "."), { verifyThreads: 0 })).toThrow(locked);
  } finally {
    await first.close();
  }
  const again = openNode(dir, { verifyThreads: 0 });
  await again.close();
});

test("another process is refused while `serve` writes, and opens once serve is killed with SIGKILL", async () => {
  const server = await startServe(dir);
  const pid = server.child.pid!;
  try {
    expect(() => openNode(dir, { verifyThreads: 0 })).toThrow(
      expect.objectContaining({
        code: "STORE_LOCKED",
        message: `another radledger process (pid ${pid}) is writing to ${dir}`,
      }) as Error,
    );
  } finally {
    // No cleanup runs in the killed process: the lock file stays, only the OS lock goes with it.
    const exited = new Promise((done) => server.child.once("exit", done));
    server.child.kill("SIGKILL");
    await exited;
  }
  expect(existsSync(join(dir, "writer.lock.sqlite"))).toBe(true);
  const node = openNode(dir, { verifyThreads: 0 });
  await node.close();
});
