import Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { tempDir } from "../../../test/helpers/node.js";
import { SqliteAuthStore, TOKEN_PATTERN } from "./auth-store.js";

const cheap = { passwordCost: { logN: 10, r: 8, p: 1 }, tokenCost: { logN: 10, r: 8, p: 1 } };
let dir: ReturnType<typeof tempDir>;
let path: string;

beforeEach(() => {
  dir = tempDir();
  path = join(dir.path, "auth.sqlite");
});
afterEach(() => dir.remove());

test("only scrypt hashes are stored; a revocation by another process takes effect at once", async () => {
  const server = new SqliteAuthStore(path, cheap);
  const cli = new SqliteAuthStore(path, cheap);
  try {
    const { token, record } = await cli.issueToken({
      actor: "rad-1",
      kind: "api",
      ttlMs: 60_000,
      createdBy: "cli",
    });
    await server.setPassword("rad-1", "a long enough password", "admin");
    // The secret is base64url, which may itself contain "_": take it with the token pattern.
    const secret = TOKEN_PATTERN.exec(token)![2]!;
    const bytes = readFileSync(path).toString("latin1") + readFileSync(`${path}-wal`).toString("latin1");
    expect(bytes).not.toContain(secret);
    expect(bytes).not.toContain("a long enough password");
    expect(bytes).toContain("scrypt$");

    expect((await server.verifyToken(token)).actor).toBe("rad-1");
    expect((await server.verifyToken(token)).id).toBe(record.id); // cached check, same answer
    cli.revokeToken(record.id, "cli");
    await expect(server.verifyToken(token)).rejects.toMatchObject({ code: "AUTH_TOKEN_REVOKED" });
  } finally {
    server.close();
    cli.close();
  }
});

test("expiry, wrong secrets and passwords", async () => {
  const store = new SqliteAuthStore(path, cheap);
  try {
    const { token } = await store.issueToken({
      actor: "a",
      kind: "session",
      ttlMs: 1000,
      createdBy: "a",
      now: 0,
    });
    await expect(store.verifyToken(token, 999)).resolves.toMatchObject({ actor: "a" });
    await expect(store.verifyToken(token, 1000)).rejects.toMatchObject({ code: "AUTH_TOKEN_EXPIRED" });
    const forged = token.slice(0, -2) + (token.endsWith("AA") ? "BB" : "AA");
    await expect(store.verifyToken(forged, 10)).rejects.toMatchObject({ code: "AUTH_TOKEN_INVALID" });
    await expect(store.verifyToken("rl_nothex_x", 10)).rejects.toMatchObject({ code: "AUTH_TOKEN_INVALID" });
    await expect(store.setPassword("a", "short", "admin")).rejects.toMatchObject({ code: "INPUT_INVALID" });
    await store.setPassword("a", "twelve chars!", "admin");
    expect(await store.checkPassword("a", "twelve chars!")).toBe(true);
    expect(await store.checkPassword("a", "twelve chars?")).toBe(false);
    expect(await store.checkPassword("nobody", "twelve chars!")).toBe(false);
    expect(store.revokeTokensOf("a", "admin", 10)).toBe(1);
    await expect(store.verifyToken(token, 20)).rejects.toMatchObject({ code: "AUTH_TOKEN_REVOKED" });
  } finally {
    store.close();
  }
});

test("a pending token is unknown until activated; a store from before pending tokens keeps its tokens", async () => {
  const store = new SqliteAuthStore(path, cheap);
  try {
    const { token, record } = await store.issueToken({
      actor: "pacs",
      kind: "api",
      ttlMs: 60_000,
      createdBy: "admin",
      pending: true,
    });
    expect(record.pending).toBe(true);
    await expect(store.verifyToken(token)).rejects.toMatchObject({ code: "AUTH_TOKEN_INVALID" });
    expect(store.activateToken(record.id)?.pending).toBeUndefined();
    await expect(store.verifyToken(token)).resolves.toMatchObject({ actor: "pacs" });
  } finally {
    store.close();
  }

  // The old schema had no pending column: its tokens were issued usable and stay so.
  const old = join(dir.path, "old-auth.sqlite");
  const before = new SqliteAuthStore(old, cheap);
  const { token } = await before.issueToken({ actor: "a", kind: "api", ttlMs: 60_000, createdBy: "a" });
  before.close();
  const db = new Database(old);
  db.exec(
    "CREATE TABLE t AS SELECT id, actor, kind, label, hash, created_at, created_by, expires_at, revoked_at, revoked_by FROM tokens; DROP TABLE tokens; ALTER TABLE t RENAME TO tokens;",
  );
  db.close();
  const after = new SqliteAuthStore(old, cheap);
  try {
    await expect(after.verifyToken(token)).resolves.toMatchObject({ actor: "a" });
  } finally {
    after.close();
  }
});

test("enrolment codes: only a hash is stored; pending, used and expired codes are refused with their codes", async () => {
  const store = new SqliteAuthStore(path, cheap);
  try {
    const { code, record } = await store.issueEnrolmentCode({
      actor: "pt-1",
      createdBy: "admin",
      ttlMs: 60_000,
      now: 1000,
    });
    const secret = code.replace(/-/g, "").slice(8);
    expect(readFileSync(path).includes(Buffer.from(secret))).toBe(false);
    // pending until its issuance is on the log: no code at all
    await expect(store.checkEnrolmentCode("pt-1", code, 2000)).rejects.toMatchObject({
      code: "ENROLMENT_CODE_INVALID",
    });
    store.activateEnrolmentCode(record.id);
    // typed in lower case, with I/L/O misread and without hyphens, it is the same code
    const typed = code.replace(/-/g, "").toLowerCase().replace(/1/g, "l").replace(/0/g, "o");
    expect(await store.checkEnrolmentCode("pt-1", typed, 2000)).toMatchObject({
      id: record.id,
      actor: "pt-1",
    });
    await expect(store.checkEnrolmentCode("pt-2", code, 2000)).rejects.toMatchObject({
      code: "ENROLMENT_CODE_INVALID",
    });
    await expect(store.checkEnrolmentCode("pt-1", code, 61_000)).rejects.toMatchObject({
      code: "ENROLMENT_CODE_EXPIRED",
    });
    store.useEnrolmentCode(record.id, 3000);
    await expect(store.checkEnrolmentCode("pt-1", code, 4000)).rejects.toMatchObject({
      code: "ENROLMENT_CODE_USED",
    });
    expect(store.listEnrolmentCodes("pt-1")).toEqual([
      {
        id: record.id,
        actor: "pt-1",
        createdAt: 1000,
        createdBy: "admin",
        expiresAt: 61_000,
        usedAt: 3000,
        attempts: 1,
      },
    ]);
  } finally {
    store.close();
  }
});
