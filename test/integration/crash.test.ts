/**
 * Durability under kill -9 (docs/design.md §3.9): a child process appends in a loop and is killed with SIGKILL
 * at random moments, 20 times over the same data directory. After each kill, every entry the child
 * had acknowledged must be in the log at its index with its leaf hash, the next start must continue
 * the same tree, and the whole log must verify from scratch.
 */
import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { toHex } from "../../src/core/bytes.js";
import { initDataDir } from "../../src/app/init.js";
import { openNode, nodeFactory } from "../../src/wiring/node.js";
import { auditDataDir } from "../../src/wiring/audit.js";
import { ORIGIN, tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-crash-");
const dir = join(tmp.path, "data");

beforeAll(async () => {
  await initDataDir(dir, { origin: ORIGIN }, nodeFactory);
});
afterAll(() => tmp.remove());

/** Runs the append loop until it has acknowledged something and then a random extra delay, then SIGKILLs it. */
function runAndKill(run: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "../fixtures/append-loop.ts"), dir, String(run)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const acked = new Map<number, string>();
    let buffered = "";
    let stderr = "";
    let armed = false;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const m = /^ack (\d+) ([0-9a-f]{64})$/.exec(line);
        if (m) acked.set(Number(m[1]), m[2]!);
      }
      // Kill at a random moment once appends are flowing (acknowledged entries exist).
      if (!armed && acked.size > 0) {
        armed = true;
        setTimeout(() => child.kill("SIGKILL"), randomInt(0, 400));
      }
    });
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve(acked);
      else reject(new Error(`append loop exited with ${code}: ${stderr}`));
    });
  });
}

test("no acknowledged entry is lost across 20 kill -9s, and the log still verifies", async () => {
  const everAcked = new Map<number, string>();
  let lastSize = 2;
  for (let run = 0; run < 20; run++) {
    const acked = await runAndKill(run);
    expect(acked.size).toBeGreaterThan(0);
    for (const [i, h] of acked) everAcked.set(i, h);
    const node = openNode(dir, { verifyThreads: 0 });
    try {
      const size = node.ledger.size;
      expect(size).toBeGreaterThanOrEqual(lastSize);
      for (const [index, leaf] of everAcked) {
        expect(index).toBeLessThan(size);
        expect(toHex(node.ledger.tree.node(0, index))).toBe(leaf);
      }
      // The latest checkpoint covers every committed entry: nothing was published ahead of storage.
      expect(node.store.latestCheckpoint()?.size).toBe(size);
      lastSize = size;
    } finally {
      await node.close();
    }
  }
  const report = await auditDataDir(dir, { threads: 2 });
  expect(report).toMatchObject({ ok: true, entries: lastSize });
}, 300_000);
