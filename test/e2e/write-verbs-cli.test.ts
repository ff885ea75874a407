/**
 * The command line's write verbs for scripts (issue 20): `consent grant|revoke`, `access review`,
 * `actor add|passwd|revoke`, each against a stopped node (run in the CLI's own process) and a running
 * `radledger serve` (sent over its local socket), each with --json, coded errors and exit codes for
 * wrong input — and each on the log naming who acted and for whom, as the API does: the institution
 * (the operator) for consent on a patient's documented request and for actor management, the
 * auditor themself (authenticated by their own token) for a review.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CLI, startServe, type CliResult } from "../helpers/cli.js";
import { tempDir } from "../helpers/node.js";
import { openReadOnly } from "../../src/wiring/read-only.js";
import { getActor, getKey } from "../../src/domain/identity/state.js";

const tmp = tempDir("radledger-write-verbs-");
const dir = join(tmp.path, "demo");
let patient = "";
const PASSWORD = "a first password, 24 chars";

/** The built CLI with extra environment (a token in $RADLEDGER_TOKEN) and stdin. */
function cli(
  args: readonly string[],
  o: { env?: Record<string, string>; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...o.env };
    if (o.env?.RADLEDGER_TOKEN === undefined) delete env.RADLEDGER_TOKEN;
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["pipe", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(o.input ?? "");
  });
}

/** The --json document of a run that succeeded, as the type the caller expects. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the shape
function json<T = Record<string, unknown>>(r: CliResult): T {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

function refused(r: CliResult, exit: number, code: string): void {
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(exit);
  expect(r.stderr).toContain(code);
}

function readLog<T>(fn: (log: ReturnType<typeof openReadOnly>) => T): T {
  const log = openReadOnly(dir);
  try {
    return fn(log);
  } finally {
    log.close();
  }
}

beforeAll(async () => {
  const seeded = await cli(["demo", "--data", dir]);
  expect(seeded.code, seeded.stderr).toBe(0);
  patient = readLog((log) => getActor(log.store, "patient-0001")!.patient as string);
}, 120_000);

afterAll(() => tmp.remove());

describe("with the node stopped", () => {
  test("actor add enrols as the institution, holds the key, sets a first password; wrong input is refused", async () => {
    const added = json<{ actor: { id: string; roles: string[] }; keyHeld: boolean; passwordSet: boolean }>(
      await cli(
        [
          "actor",
          "add",
          "--data",
          dir,
          "--id",
          "rad-new-1",
          "--kind",
          "staff",
          "--roles",
          "radiologist",
          "--name",
          "Dr New",
          "--specialty",
          "neuroradiology",
          "--password-stdin",
          "--json",
        ],
        { input: `${PASSWORD}\n` },
      ),
    );
    expect(added).toMatchObject({
      actor: { id: "rad-new-1", roles: ["radiologist"] },
      keyHeld: true,
      passwordSet: true,
    });
    expect(existsSync(join(dir, "keys", "actors", "rad-new-1.key"))).toBe(true);
    readLog((log) => {
      expect(getActor(log.store, "rad-new-1")).toMatchObject({
        enrolledBy: "institution",
        displayName: "Dr New",
      });
      expect(log.store.getDoc("password", "rad-new-1")).toMatchObject({ setBy: "institution" });
    });

    refused(
      await cli([
        "actor",
        "add",
        "--data",
        dir,
        "--id",
        "rad-new-1",
        "--kind",
        "staff",
        "--roles",
        "radiologist",
      ]),
      4,
      "ACTOR_ALREADY_ENROLLED",
    );
    refused(
      await cli(["actor", "add", "--data", dir, "--id", "x-1", "--kind", "robot", "--roles", "radiologist"]),
      2,
      "CLI_USAGE",
    );
    refused(
      await cli(["actor", "add", "--data", dir, "--id", "x-1", "--kind", "staff", "--roles", "wizard"]),
      2,
      "CLI_USAGE",
    );
    refused(
      await cli([
        "actor",
        "add",
        "--data",
        dir,
        "--id",
        "has space",
        "--kind",
        "staff",
        "--roles",
        "radiologist",
      ]),
      2,
      "CLI_USAGE",
    );
    // A patient actor carries a pseudonym and no name: the family rule, checked before anything is written.
    refused(
      await cli(["actor", "add", "--data", dir, "--id", "pt-x", "--kind", "patient", "--roles", "patient"]),
      2,
      "ENTRY_SCHEMA_INVALID",
    );
    refused(
      await cli(
        [
          "actor",
          "add",
          "--data",
          dir,
          "--id",
          "x-2",
          "--kind",
          "staff",
          "--roles",
          "clinician",
          "--password-stdin",
        ],
        { input: "short\n" },
      ),
      2,
      "CLI_USAGE",
    );
    readLog((log) => expect(getActor(log.store, "x-1") ?? getActor(log.store, "x-2")).toBeUndefined());
  });

  test("consent grant and revoke are signed by the institution on the patient's documented request", async () => {
    const granted = json<{ index: number; leafHash: string; record: Record<string, unknown> }>(
      await cli([
        "consent",
        "grant",
        "--data",
        dir,
        "--patient",
        patient,
        "--to",
        "person:rad-new-1",
        "--scope",
        "reports-only",
        "--purpose",
        "TREAT,COC",
        "--days",
        "30",
        "--on-behalf",
        "paper-form",
        "--document",
        "Signed form 2026-12-07, scanned to the EHR",
        "--json",
      ]),
    );
    expect(granted.record).toMatchObject({
      patient,
      grantee: { kind: "actor", id: "rad-new-1" },
      scope: "reports-only",
      purposes: ["TREAT", "COC"],
      grantedBy: "institution",
      onBehalf: { reason: "paper-form" },
    });
    const period = granted.record.period as { start: string; end: string };
    expect(Date.parse(period.end) - Date.parse(period.start)).toBe(30 * 86_400_000);
    // The document is in the patient's vault, the log has its commitment only.
    const entryText = readLog((log) => Buffer.from(log.store.readEntry(granted.index)!.bytes).toString());
    expect(entryText).not.toContain("Signed form");

    const grants = json<{ id: string; status: string }[]>(
      await cli(["query", "grants", "--patient", patient, "--data", dir, "--json"]),
    );
    expect(grants.find((g) => g.id === granted.leafHash)?.status).toBe("active");

    const revoked = json<{ record: { revoked?: { by: string; reason: string } } }>(
      await cli([
        "consent",
        "revoke",
        "--data",
        dir,
        "--grant",
        granted.leafHash.slice(0, 12),
        "--reason",
        "purpose-fulfilled",
        "--on-behalf",
        "verbal-request",
        "--document",
        "Phone call noted by the registrar",
        "--json",
      ]),
    );
    expect(revoked.record.revoked).toMatchObject({ by: "institution", reason: "purpose-fulfilled" });
    refused(
      await cli([
        "consent",
        "revoke",
        "--data",
        dir,
        "--grant",
        granted.leafHash,
        "--on-behalf",
        "verbal-request",
        "--document",
        "again",
      ]),
      4,
      "GRANT_ALREADY_REVOKED",
    );
  });

  test("consent grant refuses an unknown patient, bad grantees, scopes, purposes and times", async () => {
    const base = [
      "consent",
      "grant",
      "--data",
      dir,
      "--on-behalf",
      "paper-form",
      "--document",
      "form",
      "--purpose",
      "TREAT",
    ];
    const typo = `pt_${"Q".repeat(43)}`;
    refused(await cli([...base, "--patient", typo, "--to", "person:rad-new-1"]), 3, "PATIENT_UNKNOWN");
    refused(await cli([...base, "--patient", patient, "--to", "rad-new-1"]), 2, "CLI_USAGE");
    refused(await cli([...base, "--patient", patient, "--to", "person:nobody-here"]), 7, "ACTOR_UNKNOWN");
    refused(
      await cli([...base, "--patient", patient, "--to", "person:rad-new-1", "--scope", "study"]),
      2,
      "CLI_USAGE",
    );
    refused(
      await cli([...base, "--patient", patient, "--to", "person:rad-new-1", "--until", "next tuesday"]),
      2,
      "CLI_USAGE",
    );
    refused(
      await cli([...base, "--patient", patient, "--to", "person:rad-new-1", "--until", "2001-01-01"]),
      2,
      "CLI_USAGE",
    );
    refused(
      await cli([...base.slice(0, -2), "--purpose", "FUN", "--patient", patient, "--to", "person:rad-new-1"]),
      2,
      "CLI_USAGE",
    );
    refused(
      await cli([...base, "--patient", patient, "--to", "person:rad-new-1", "--on-behalf", "because"]),
      2,
      "CLI_USAGE",
    );
    const noRequest = await cli([
      "consent",
      "grant",
      "--data",
      dir,
      "--patient",
      patient,
      "--to",
      "person:rad-new-1",
      "--purpose",
      "TREAT",
    ]);
    expect(noRequest.code).toBe(2); // --on-behalf and --document are required
  });
});

describe("with the node serving (over its local socket)", () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  const users = (): { actor: string; password: string }[] =>
    JSON.parse(readFileSync(join(dir, "demo-users.json"), "utf8")) as { actor: string; password: string }[];
  const login = async (actor: string, password: string): Promise<Response> =>
    fetch(`${server.url}/api/v1/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ actor, password }),
    });
  const session = async (actor: string): Promise<string> => {
    const r = await login(actor, users().find((u) => u.actor === actor)!.password);
    expect(r.status).toBe(201);
    return ((await r.json()) as { token: string }).token;
  };
  const me = (token: string): Promise<Response> =>
    fetch(`${server.url}/api/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    server = await startServe(dir);
  }, 60_000);
  afterAll(async () => {
    await server.stop();
  });

  test("access review closes a break-glass access as the auditor whose token is given; others are refused", async () => {
    const queue = json<{ items: { id: string }[] }>(
      await cli(["query", "break-glass-queue", "--data", dir, "--json"]),
    );
    expect(queue.items.length).toBeGreaterThan(0);
    const access = queue.items[0]!.id;
    const review = [
      "access",
      "review",
      "--data",
      dir,
      "--access",
      access.slice(0, 10),
      "--outcome",
      "justified",
      "--note",
      "Patient unconscious in ER; confirmed with the attending",
      "--json",
    ];

    refused(await cli(review), 6, "AUTH_REQUIRED");
    refused(
      await cli(review, {
        env: { RADLEDGER_TOKEN: "rl_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
      }),
      6,
      "AUTH_TOKEN",
    );
    const radiologist = await session("rad-neuro-1");
    refused(await cli(review, { env: { RADLEDGER_TOKEN: radiologist } }), 6, "ROLE_NOT_PERMITTED");

    const auditor = await session("auditor-1");
    const done = json<{
      record: { review: { open: boolean; outcome: string; by: string; noteCommitment?: string } };
    }>(await cli(review, { env: { RADLEDGER_TOKEN: auditor } }));
    expect(done.record.review).toMatchObject({ open: false, outcome: "justified", by: "auditor-1" });
    expect(done.record.review.noteCommitment).toMatch(/^[0-9a-f]{64}$/);
    const after = json<{ items: { id: string }[] }>(
      await cli(["query", "break-glass-queue", "--data", dir, "--json"]),
    );
    expect(after.items.map((a) => a.id)).not.toContain(access);
    refused(await cli(review, { env: { RADLEDGER_TOKEN: auditor } }), 4, "ACCESS_ALREADY_REVIEWED");
    refused(
      await cli(["access", "review", "--data", dir, "--access", access, "--outcome", "fine"], {
        env: { RADLEDGER_TOKEN: auditor },
      }),
      2,
      "CLI_USAGE",
    );
    refused(
      await cli(["access", "review", "--data", dir, "--access", "ffffff0000", "--outcome", "justified"], {
        env: { RADLEDGER_TOKEN: auditor },
      }),
      3,
      "RECORD_NOT_FOUND",
    );
  });

  test("a first password set by actor add must be changed at the first sign-in", async () => {
    const r = await login("rad-new-1", PASSWORD);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { code: string }).code).toBe("PASSWORD_CHANGE_REQUIRED");
  });

  test("actor passwd resets: the person's tokens stop at once and the new password must be changed at sign-in", async () => {
    const token = await session("clin-er-1");
    expect((await me(token)).status).toBe(200);
    const reset = json<{ actor: string; revokedTokens: number; password: string }>(
      await cli(["actor", "passwd", "--data", dir, "--actor", "clin-er-1", "--json"]),
    );
    expect(reset.revokedTokens).toBeGreaterThanOrEqual(1);
    expect((await me(token)).status).toBe(401);
    const again = await login("clin-er-1", reset.password);
    expect(((await again.json()) as { code: string }).code).toBe("PASSWORD_CHANGE_REQUIRED");
    readLog((log) =>
      expect(log.store.getDoc("password", "clin-er-1")).toMatchObject({ setBy: "institution" }),
    );
    refused(await cli(["actor", "passwd", "--data", dir, "--actor", "nobody-here"]), 7, "ACTOR_UNKNOWN");
    refused(
      await cli(["actor", "passwd", "--data", dir, "--actor", "clin-er-1", "--password-stdin"], {
        input: "short",
      }),
      2,
      "CLI_USAGE",
    );
  });

  test("actor revoke: the actor's keys sign nothing more and its tokens stop", async () => {
    const token = await session("researcher-1");
    const r = json<{ keys: string[]; tokens: { id: string; revokedBy: string }[] }>(
      await cli(["actor", "revoke", "--data", dir, "--actor", "researcher-1", "--reason", "left", "--json"]),
    );
    expect(r.keys.length).toBe(1);
    expect(r.tokens.map((t) => t.revokedBy)).toEqual(["institution"]);
    expect((await me(token)).status).toBe(401);
    readLog((log) =>
      expect(getKey(log.store, r.keys[0]!)).toMatchObject({ status: "revoked", reason: "left" }),
    );
    refused(await cli(["actor", "revoke", "--data", dir, "--actor", "researcher-1"]), 7, "KEY_REVOKED");
    refused(
      await cli(["actor", "revoke", "--data", dir, "--actor", "researcher-1", "--reason", "bored"]),
      2,
      "CLI_USAGE",
    );
  });
});

test("every verb has --help", async () => {
  for (const verb of [
    ["consent", "grant"],
    ["consent", "revoke"],
    ["access", "review"],
    ["actor", "add"],
    ["actor", "passwd"],
    ["actor", "revoke"],
  ]) {
    const r = await cli([...verb, "--help"]);
    expect(r.code, verb.join(" ")).toBe(0);
    expect(r.stdout).toContain("--json");
  }
});
