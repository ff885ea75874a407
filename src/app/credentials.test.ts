import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { RadledgerError } from "../core/errors.js";
import { SqliteAuthStore } from "../adapters/sqlite/auth-store.js";
import { getActor } from "../domain/identity/state.js";
import type { RadledgerNode } from "./node.js";
import { makeNode, type TestNode } from "../../test/helpers/node.js";
import { issueToken } from "./credentials.js";

const cheap = { passwordCost: { logN: 10, r: 8, p: 1 }, tokenCost: { logN: 10, r: 8, p: 1 } };
let t: TestNode;
let auth: SqliteAuthStore;

beforeEach(async () => {
  t = await makeNode();
  await t.enrol("pacs", ["ai-system"], { kind: "system" });
  auth = new SqliteAuthStore(join(t.dir, "auth-test.sqlite"), cheap);
});
afterEach(async () => {
  auth.close();
  await t.close();
});

const request = (node: RadledgerNode) => ({
  target: getActor(node.store, "pacs")!,
  issuer: getActor(node.store, "admin")!,
  kind: "api" as const,
  ttlSeconds: 3600,
});

test("an issued token works, and its issuance is on the log", async () => {
  const size = t.node.ledger.size;
  const { token, record } = await issueToken(t.node, auth, request(t.node));
  expect(record.pending).toBeUndefined();
  await expect(auth.verifyToken(token)).resolves.toMatchObject({ actor: "pacs" });
  expect(t.node.ledger.size).toBe(size + 1);
});

test("a token whose issuance the log refuses never works, even when revoking it fails too (a full disk)", async () => {
  const node = t.node;
  const full = new RadledgerError("STORE_FULL", "the disk is full");
  let issued: string | undefined;
  const original = auth.issueToken.bind(auth);
  // Capture the secret the store hands out, as an attacker reading memory would.
  auth.issueToken = async (r) => {
    const out = await original(r);
    issued = out.token;
    return out;
  };
  auth.revokeToken = () => {
    throw full;
  };
  const refusing = {
    ...node,
    clock: node.clock,
    store: node.store,
    appender: { ...node.appender, append: () => Promise.reject(full) },
  } as unknown as RadledgerNode;
  await expect(issueToken(refusing, auth, request(node))).rejects.toMatchObject({ code: "STORE_FULL" });
  expect(issued).toBeDefined();
  await expect(auth.verifyToken(issued!)).rejects.toMatchObject({ code: "AUTH_TOKEN_INVALID" });
  expect(auth.listTokens("pacs")).toEqual([expect.objectContaining({ pending: true })]);
});
