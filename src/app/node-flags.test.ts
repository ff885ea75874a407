import { readFileSync } from "node:fs";
import { expect, test } from "vitest";
import { NODE_ENV, NODE_FLAGS } from "./node-flags.js";

test("the radledger command's shebang starts node with exactly NODE_ENV and NODE_FLAGS", () => {
  const main = readFileSync(new URL("../cli/main.ts", import.meta.url), "utf8");
  const env = Object.entries(NODE_ENV).map(([k, v]) => `${k}=${v}`);
  expect(main.split("\n")[0]).toBe(`#!/usr/bin/env -S ${env.join(" ")} node ${NODE_FLAGS.join(" ")}`);
});
