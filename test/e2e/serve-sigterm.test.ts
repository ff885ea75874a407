/**
 * `radledger serve` stops gracefully on SIGTERM (docs/operations.md "Stopping"): requests in flight
 * when the signal arrives finish with their answers (each saying Connection: close), no connection
 * is reset before its response, the process exits 0 and prints its final size, and after a restart
 * every acknowledged entry is in the log under a signed checkpoint that covers it.
 *
 * "In flight" is made exact, without timing: each append is sent with `Expect: 100-continue`
 * (RFC 9110 §10.1.1), so the node answers 100 once it has parsed the request's head (the request
 * is then being served); SIGTERM is sent when every request has had its 100, and the bodies are
 * written only once the node reports it is draining.
 */
import { request, type IncomingHttpHeaders } from "node:http";
import { afterAll, beforeAll, expect, test } from "vitest";
import { openNode } from "../../src/wiring/node.js";
import { runCli, startServe } from "../helpers/cli.js";
import { makeNode, tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-serve-sigterm-");
let dataDir = "";
let closeNodeDir = async (): Promise<void> => undefined;
let token = "";

beforeAll(async () => {
  const t = await makeNode();
  dataDir = t.dir;
  await t.node.close(); // the directory stays: `radledger serve` opens it next
  closeNodeDir = () => t.close();
  const created = await runCli(["token", "create", "--data", dataDir, "--actor", "admin", "--json"]);
  expect(created.code, created.stderr).toBe(0);
  token = (JSON.parse(created.stdout) as { token: string }).token;
}, 120_000);

afterAll(async () => {
  await closeNodeDir();
  tmp.remove();
});

interface Outcome {
  readonly status?: number;
  readonly headers?: IncomingHttpHeaders;
  readonly body?: string;
  readonly error?: string;
}

test("SIGTERM mid-flight: in-flight appends complete, exit 0 with the final size, every acknowledged entry is under the final checkpoint after restart", async () => {
  const server = await startServe(dataDir);
  let stderr = "";
  let stdout = "";
  const draining = new Promise<void>((resolve) => {
    server.child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
      if (stderr.includes("SIGTERM, draining")) resolve();
    });
  });
  server.child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => server.child.once("exit", (code) => resolve(code)));

  const N = 24;
  let continued = 0;
  let allContinued: () => void = () => undefined;
  const headsParsed = new Promise<void>((resolve) => (allContinued = resolve));
  const outcomes = Array.from({ length: N }, (_, i) => {
    const body = JSON.stringify({
      body: { sponsor: "Synthetic Pharma", protocolId: `SIGTERM-${i}`, timepoints: ["baseline"] },
    });
    return new Promise<Outcome>((resolve) => {
      const req = request(`${server.url}/api/v1/entries/trial.registered`, {
        method: "POST",
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          expect: "100-continue",
        },
      });
      req.on("continue", () => {
        if (++continued === N) allContinued();
        // The body goes only once the node is draining: these requests straddle the signal.
        void draining.then(() => req.end(body));
      });
      req.on("response", (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
        res.on("error", (e) => resolve({ error: e.message }));
      });
      req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      req.flushHeaders();
    });
  });

  await headsParsed;
  server.child.kill("SIGTERM");
  const results = await Promise.all(outcomes);
  const code = await exited;

  // No request lost its connection before its answer; each one in flight was answered in full.
  expect(results.filter((r) => r.error !== undefined)).toEqual([]);
  for (const r of results) {
    expect(r.headers!.connection).toBe("close");
    if (r.status !== 201) {
      expect(r.status, r.body).toBe(503);
      expect((JSON.parse(r.body!) as { code: string }).code).toBe("NODE_CLOSED");
    }
  }
  const acknowledged = results
    .filter((r) => r.status === 201)
    .map((r) => JSON.parse(r.body!) as { index: number; leafHash: string });
  // Their heads were parsed before the signal, so every one of them is served to the end.
  expect(acknowledged.length).toBe(N);

  expect(code).toBe(0);
  const last = /radledger stopped: size (\d+), signed checkpoint of size (\d+) on disk\n$/.exec(stdout);
  expect(last, stdout + stderr).not.toBeNull();
  const [size, covered] = [Number(last![1]), Number(last![2])];
  const highest = Math.max(...acknowledged.map((a) => a.index));
  expect(size).toBeGreaterThan(highest);
  expect(covered).toBe(size);

  // After a restart: every acknowledged entry at its index, under the latest checkpoint on disk.
  const node = openNode(dataDir, { verifyThreads: 0 });
  try {
    expect(node.ledger.size).toBe(size);
    const checkpointSize = Number(node.ledger.latestCheckpoint!.split("\n")[1]);
    expect(checkpointSize).toBe(size);
    for (const a of acknowledged) {
      const stored = node.store.entryByLeafHash(a.leafHash);
      expect(stored?.index, a.leafHash).toBe(a.index);
    }
  } finally {
    await node.close();
  }
  // And the checkpoint verifies against the stored tree (signature, root, every tile).
  const verified = await runCli(["verify", "--data", dataDir]);
  expect(verified.code, verified.stdout + verified.stderr).toBe(0);
}, 120_000);
