/**
 * Interoperability (issue: foundation, "done when"): a log filled by `radledger bench append` and
 * served by `radledger serve` is read and verified by an independent C2SP tlog-tiles client
 * (test/e2e/tlog_client.py, written from the specifications in Python, sharing no code with
 * radledger) holding only the key printed by `radledger key` — and, for the entry bundles, which are
 * served only to authenticated parties (docs/privacy.md), either an auditor's or admin's API token or
 * a consortium peer's key with which it signs its requests (RFC 9421, implemented in the client from
 * the RFC alone).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toHex } from "../../src/core/bytes.js";
import { ed25519Signer, formatVerifierKey } from "../../src/core/note.js";
import { runCli, startServe } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";

const run = promisify(execFile);
const tmp = tempDir("radledger-interop-");
const dir = join(tmp.path, "bench");
let server: Awaited<ReturnType<typeof startServe>>;
let vkey = "";
let token = "";
const PEER = "peer-hospital.example/log";
const peerSeed = crypto.randomBytes(32);
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
  const created = await runCli(["token", "create", "--data", dir, "--actor", "admin", "--json"]);
  token = (JSON.parse(created.stdout) as { token: string }).token;
  const peerKey = formatVerifierKey(ed25519Signer(crypto, PEER, peerSeed));
  const added = await runCli(["consortium", "add-peer", PEER, "http://127.0.0.1:9", peerKey, "--data", dir]);
  expect(added.code, added.stderr).toBe(0);
  server = await startServe(dir);
}, 240_000);

afterAll(async () => {
  await server.stop();
  tmp.remove();
});

const client = (env: Record<string, string>, ...indexes: string[]) =>
  run(PYTHON, [join(import.meta.dirname, "tlog_client.py"), server.url, vkey, ...indexes], {
    env: { ...process.env, ...env },
  });

test.each([
  ["an admin's API token", () => ({ TLOG_AUTHORIZATION: `Bearer ${token}` })],
  ["a consortium peer's signed requests", () => ({ TLOG_SIGNING_KEY: `${PEER} ${toHex(peerSeed)}` })],
])(
  "an independent tlog-tiles client with %s verifies the checkpoint, the tiles and sampled entries",
  async (_what, env) => {
    const { stdout } = await client(env(), "0", "1", "255", "256", "1000", "2023");
    const result = JSON.parse(stdout) as { ok: boolean; size: number; entries: { type: string }[] };
    expect(result.ok).toBe(true);
    // genesis, admin enrolment, 23 bench setup entries, 2,000 entries, the admin token's issuance,
    // and serve's own start record (110100, docs/audit.md)
    expect(result.size).toBe(2027);
    expect(result.entries.map((e) => e.type)).toContain("study.registered");
  },
);

test("without credentials the client verifies the tree but is refused the entries (401)", async () => {
  const { stdout } = await client({});
  expect(JSON.parse(stdout)).toMatchObject({ ok: true, size: 2027, entries: [] });
  const refused = await client({}, "0").then(
    () => undefined,
    (e: unknown) => e as { code: number; stdout: string },
  );
  expect(refused?.code).toBe(1);
  expect(refused?.stdout).toContain("tile/entries/000: HTTP 401");
});

test("the same client refuses a wrong key", async () => {
  const wrong = vkey.replace(/\+[0-9a-f]{8}\+/, "+00000000+");
  await expect(
    run(PYTHON, [join(import.meta.dirname, "tlog_client.py"), server.url, wrong, "0"]),
  ).rejects.toMatchObject({ code: 1 });
});
