/**
 * `radledger serve` on a port another process already listens on exits at once with a coded error
 * naming host:port (LISTEN_FAILED, exit 5), without a stack trace, instead of printing one and
 * staying up.
 */
import { createServer, type AddressInfo } from "node:net";
import { afterAll, expect, test } from "vitest";
import { runCli } from "../helpers/cli.js";
import { makeNode } from "../helpers/node.js";

const occupier = createServer();

afterAll(async () => {
  await new Promise<void>((resolve) => occupier.close(() => resolve()));
});

test("serve on a port in use exits with LISTEN_FAILED naming host:port, no stack", async () => {
  const t = await makeNode();
  const dataDir = t.dir;
  await t.node.close(); // the directory stays: `radledger serve` opens it next
  await new Promise<void>((resolve) => occupier.listen(0, "127.0.0.1", () => resolve()));
  const port = (occupier.address() as AddressInfo).port;
  const r = await runCli(["serve", "--data", dataDir, "--host", "127.0.0.1", "--port", String(port)]);
  expect(r.stderr).toContain(`radledger: LISTEN_FAILED: cannot listen on 127.0.0.1:${port}`);
  expect(r.stderr).toContain("already in use");
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(5);
});
