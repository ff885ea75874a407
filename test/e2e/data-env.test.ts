/** `--data` falls back to $RADLEDGER_DATA when it is not given (a reading command, the built CLI). */
import { afterEach, expect, test } from "vitest";
import { runCli } from "../helpers/cli.js";
import { makeNode } from "../helpers/node.js";

afterEach(() => {
  delete process.env.RADLEDGER_DATA;
});

test("query list reports reads the data directory named by RADLEDGER_DATA", async () => {
  const t = await makeNode();
  await t.node.close(); // the directory stays for the command line
  process.env.RADLEDGER_DATA = t.dir; // the CLI's child process inherits the environment
  const r = await runCli(["query", "list", "reports", "--json"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toBeDefined();
  // An explicit --data wins over the environment.
  const missing = await runCli(["query", "list", "reports", "--data", `${t.dir}-missing`]);
  expect(missing.stderr).toContain("STORE_NOT_FOUND");
});
