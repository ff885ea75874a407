/**
 * The README's first command, `npm start`, is `radledger demo --data DIR --serve`: it must seed a
 * fresh directory, serve it, and hand the newcomer a token the API accepts. Run against the built CLI
 * on a free port, stopped with SIGTERM like a user's Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { DEMO_ORIGIN } from "../../src/app/demo/context.js";
import { CLI } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";
import { openReadOnly } from "../../src/wiring/read-only.js";

const tmp = tempDir("radledger-demo-serve-");
const dir = join(tmp.path, "demo");
let child: ChildProcess;
let out = "";

beforeAll(async () => {
  child = spawn(process.execPath, [CLI, "demo", "--data", dir, "--serve", "--port", "0"], {
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

  // The web app answers a browser (it asks for HTML): the start page and the verifier.
  for (const path of ["/", "/verify"])
    expect((await fetch(`${base}${path}`, { headers: { accept: "text/html" } })).status, path).toBe(200);

  // The printed token is on the log like any other: its token.issued is among the last entries
  // (after it only serve's start record and the reads above, each recorded: docs/audit.md).
  const size = Number((await (await fetch(`${base}/checkpoint`)).text()).split("\n")[1]);
  const tokenId = /^rl_([0-9a-f]{16})_/.exec(token)![1]!;
  const recent: string[] = [];
  for (let i = size - 1; i >= Math.max(0, size - 6); i--) {
    const res = await fetch(`${base}/api/v1/log/entries/${i}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    recent.push(JSON.stringify(await res.json()));
  }
  expect(recent.filter((t) => t.includes("token.issued") && t.includes(tokenId))).toHaveLength(1);
});

interface DemoUser {
  actor: string;
  persona: string;
  displayName: string;
  roles: string[];
  password: string;
}

test("every persona signs in with the password in DIR/demo-users.json, printed as a table; each password.set is on the log", async () => {
  const path = join(dir, "demo-users.json");
  expect(statSync(path).mode & 0o777).toBe(0o600);
  const users = JSON.parse(readFileSync(path, "utf8")) as DemoUser[];
  expect(users.map((u) => u.persona)).toEqual([
    "patient",
    "radiologist",
    "clinician",
    "auditor",
    "trial coordinator",
    "sponsor's monitor",
    "dataset curator",
    "researcher",
    "admin",
  ]);
  expect(users[0]!.actor).toBe("patient-0001");
  expect(new Set(users.map((u) => u.password)).size).toBe(users.length);

  const base = /at (http:\/\/\S+)/.exec(out)![1]!;
  // The table comes right after the address: persona, actor id, name, password on one line each.
  expect(out).toMatch(/persona\s+actor id\s+name\s+password/);
  for (const u of users) {
    expect(out).toMatch(new RegExp(`${u.actor}\\s+.*${u.password}`));
    const login = await fetch(`${base}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ actor: u.actor, password: u.password }),
    });
    // 201 with a session: not PASSWORD_CHANGE_REQUIRED, which an admin-set password would answer.
    expect(login.status, `${u.persona}: ${await login.clone().text()}`).toBe(201);
    const { token } = (await login.json()) as { token: string };
    const me = await fetch(`${base}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await me.json()) as { actor: { id: string; roles: string[] } }).actor).toMatchObject({
      id: u.actor,
      roles: u.roles,
    });
  }

  // Each password is on the log like any other: a password.set naming the actor.
  const log = openReadOnly(dir);
  try {
    for (const u of users) expect(log.store.getDoc("password", u.actor)).toMatchObject({ setBy: u.actor });
  } finally {
    log.close();
  }
});
