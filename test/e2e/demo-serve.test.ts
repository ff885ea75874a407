/**
 * The README's first command, `npm start`, is `radledger demo --data DIR --serve`: it must seed a
 * fresh directory, serve it, and hand the newcomer a token the API accepts. Run against the built CLI
 * on a free port, stopped with SIGTERM like a user's Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { DEMO_ORIGIN } from "../../src/app/demo/context.js";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-demo-serve-");
let child: ChildProcess;
let out = "";

beforeAll(async () => {
  child = spawn(process.execPath, [CLI, "demo", "--data", join(tmp.path, "demo"), "--serve", "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (/try: curl/.test(out)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`demo exited with ${code}: ${err}`)));
  });
}, 120_000);

afterAll(async () => {
  if (child.exitCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
  tmp.remove();
});

test("demo --serve seeds, serves the log and prints a working admin token", async () => {
  expect(out).toMatch(/seeded demo log in .*: /);
  const base = /at (http:\/\/\S+)/.exec(out)![1]!;
  const token = /admin token \(8 h\): (\S+)/.exec(out)![1]!;

  const checkpoint = await fetch(`${base}/checkpoint`);
  expect(checkpoint.status).toBe(200);
  expect((await checkpoint.text()).split("\n")[0]).toBe(DEMO_ORIGIN);

  expect((await fetch(`${base}/api/v1/reports`)).status).toBe(401);
  const reports = await fetch(`${base}/api/v1/reports`, { headers: { authorization: `Bearer ${token}` } });
  expect(reports.status).toBe(200);
  expect(((await reports.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);

  expect((await fetch(`${base}/verify`)).status).toBe(200);

  // The printed token is on the log like any other: the last entry is its token.issued.
  const size = Number((await (await fetch(`${base}/checkpoint`)).text()).split("\n")[1]);
  const last = await fetch(`${base}/api/v1/log/entries/${size - 1}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(last.status).toBe(200);
  const tokenId = /^rl_([0-9a-f]{16})_/.exec(token)![1]!;
  const text = JSON.stringify(await last.json());
  expect(text).toContain("token.issued");
  expect(text).toContain(tokenId);
});
