/**
 * End to end: `radledger token create` issues an API token for the first admin of a fresh node; a
 * running `radledger serve` accepts it; `radledger token revoke` from another process stops it at once.
 * It issues no token for a person who is not an admin (issue 18: a person's token is theirs alone),
 * and both verbs are on the log, by the institution, whether or not a server holds the directory.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { makeNode, type TestNode } from "../helpers/node.js";
import { runCli, startServe } from "../helpers/cli.js";
import { tokenRecordOf } from "../../src/domain/identity/state.js";
import { openReadOnly } from "../../src/wiring/read-only.js";

let t: TestNode;
let server: Awaited<ReturnType<typeof startServe>>;

beforeAll(async () => {
  t = await makeNode();
  await t.enrol("rad-1", ["radiologist"]);
  await t.node.close();
  server = await startServe(t.dir);
}, 60_000);

afterAll(async () => {
  await server.stop();
  await t.reopen();
  await t.close();
});

const me = (token: string) =>
  fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

test("token create, use against a running server, list, revoke", async () => {
  const created = await runCli([
    "token",
    "create",
    "--data",
    t.dir,
    "--actor",
    "admin",
    "--label",
    "first admin",
    "--json",
  ]);
  expect(created.code, created.stderr).toBe(0);
  const { token, record } = JSON.parse(created.stdout) as {
    token: string;
    record: { id: string; actor: string };
  };
  expect(token).toMatch(/^rl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
  expect(record.actor).toBe("admin");

  const ok = await me(token);
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({
    actor: { id: "admin", roles: ["admin"] },
    token: { label: "first admin" },
  });

  const list = await runCli(["token", "list", "--data", t.dir]);
  expect(list.stdout).toContain(record.id);
  expect(list.stdout).not.toContain(token.slice(20));

  const revoked = await runCli(["token", "revoke", "--data", t.dir, "--id", record.id]);
  expect(revoked.code, revoked.stderr).toBe(0);
  const after = await me(token);
  expect(after.status).toBe(401);
  expect(await after.json()).toMatchObject({ code: "AUTH_TOKEN_REVOKED" });

  // Issued and revoked through the running server's socket, and on its log, by the institution.
  const log = openReadOnly(t.dir);
  try {
    expect(tokenRecordOf(log.store, record.id)).toMatchObject({
      actor: "admin",
      kind: "api",
      issuedBy: "institution",
      revoked: { by: "institution", reason: "revoked" },
    });
  } finally {
    log.close();
  }
});

test("token create refuses unknown actors and bad usage with their exit codes", async () => {
  const unknown = await runCli(["token", "create", "--data", t.dir, "--actor", "nobody"]);
  expect(unknown.code).toBe(7);
  expect(unknown.stderr).toContain("ACTOR_UNKNOWN");
  const usage = await runCli(["token", "create", "--data", t.dir, "--actor", "admin", "--ttl-days", "0"]);
  expect(usage.code).toBe(2);
});

test("token create is the operator's bootstrap: no token for a person who is not an admin", async () => {
  const person = await runCli(["token", "create", "--data", t.dir, "--actor", "rad-1"]);
  expect(person.code).toBe(6);
  expect(person.stderr).toContain("TOKEN_NOT_ISSUABLE");
  expect(person.stdout).not.toContain("rl_");
});
