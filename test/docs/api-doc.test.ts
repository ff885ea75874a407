import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { buildServer } from "../../src/api/server.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { openAuthStore } from "../../src/wiring/auth.js";

let t: TestNode;
beforeAll(async () => {
  t = await makeNode();
});
afterAll(async () => t.close());

test("docs/api.md lists every API route (per-type create routes as /api/v1/entries/{type})", async () => {
  const doc = readFileSync(join(import.meta.dirname, "../../docs/api.md"), "utf8");
  const app = buildServer(t.node, { auth: openAuthStore(t.dir) });
  try {
    for (const r of app.radledger.routes) {
      const url =
        r.url.startsWith("/api/v1/entries/") && r.url !== "/api/v1/entries/types"
          ? "/api/v1/entries/{type}"
          : r.url;
      expect(doc, `${r.method} ${r.url}`).toContain(`\`${url}\``);
    }
  } finally {
    await app.close();
  }
});
