/**
 * Interoperability (issue: foundation, "done when"): a log filled by `radledger bench append` and
 * served by `radledger serve` is read and verified by an independent C2SP tlog-tiles client
 * (test/e2e/tlog_client.py, written from the specifications in Python, sharing no code with
 * radledger) holding only the key printed by `radledger key`.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { runCli, startServe } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const run = promisify(execFile);
const tmp = tempDir("radledger-interop-");
const dir = join(tmp.path, "bench");
let server: Awaited<ReturnType<typeof startServe>>;
let vkey = "";
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

beforeAll(async () => {
  const bench = await runCli([
    "bench",
    "append",
    "--data",
    dir,
    "--entries",
    "2000",
    "--workload",
    "clinical",
    "--threads",
    "2",
    "--json",
  ]);
  expect(bench.code, bench.stderr).toBe(0);
  expect(JSON.parse(bench.stdout)).toMatchObject({ entries: 2000, refused: 0 });
  vkey = (await runCli(["key", "--data", dir])).stdout.trim();
  server = await startServe(dir);
}, 240_000);

afterAll(async () => {
  await server.stop();
  tmp.remove();
});

test("an independent tlog-tiles client verifies the checkpoint, the tiles and sampled entries", async () => {
  const { stdout } = await run(PYTHON, [
    join(import.meta.dirname, "tlog_client.py"),
    server.url,
    vkey,
    "0",
    "1",
    "255",
    "256",
    "1000",
    "2023",
  ]);
  const result = JSON.parse(stdout) as { ok: boolean; size: number; entries: { type: string }[] };
  expect(result.ok).toBe(true);
  expect(result.size).toBe(2025); // genesis, admin enrolment, 23 bench setup entries, 2,000 entries
  expect(result.entries.map((e) => e.type)).toContain("study.registered");
});

test("the same client refuses a wrong key", async () => {
  const wrong = vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+");
  await expect(
    run(PYTHON, [join(import.meta.dirname, "tlog_client.py"), server.url, wrong, "0"]),
  ).rejects.toMatchObject({ code: 1 });
});
