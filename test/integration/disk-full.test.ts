/**
 * A node whose disk fills up, or whose filesystem is read-only (issue 19, finding 3), on a real small
 * disk (test/helpers/small-disk.ts, a tmpfs): appends and vault writes are refused with a coded 503
 * (STORE_FULL, STORE_IO), never a 500; the cause is logged once per transition, not per request;
 * /readyz says why while the disk refuses writes and is ready again once space returns (its probe),
 * without a restart; nothing half-written is kept.
 */
import type { FastifyInstance } from "fastify";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { buildServer } from "../../src/api/server.js";
import { initDataDir } from "../../src/app/init.js";
import { nodeFactory, openNode, type RadledgerNode } from "../../src/wiring/node.js";
import { openAuthStore } from "../../src/wiring/auth.js";
import { CHEAP_SCRYPT, HIGH_LIMITS } from "../helpers/api.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { ORIGIN } from "../helpers/node.js";
import { mountSmallDisk, type SmallDisk } from "../helpers/small-disk.js";

let disk: SmallDisk;
let dir = "";
let node: RadledgerNode | undefined;
let app: FastifyInstance | undefined;
let token = "";
const lines: string[] = [];

async function start(): Promise<void> {
  node = openNode(dir, { verifyThreads: 0, storageLog: (l) => lines.push(l), storageProbeIntervalMs: 0 });
  app = buildServer(node, { auth: openAuthStore(dir, CHEAP_SCRYPT), limits: HIGH_LIMITS });
  await app.ready();
}

async function stop(): Promise<void> {
  await app?.close();
  await node?.close();
  app = undefined;
  node = undefined;
}

beforeAll(async () => {
  disk = mountSmallDisk(16 * 1024 * 1024);
  dir = join(disk.path, "data");
  await initDataDir(dir, { origin: ORIGIN, institutionName: "Test Hospital" }, nodeFactory);
  await start();
  token = (
    await app!.radledger.auth.issueToken({ actor: "admin", kind: "api", ttlMs: 3600_000, createdBy: "test" })
  ).token;
});

afterAll(async () => {
  await stop();
  disk.unmount();
});

let actors = 0;
const enrol = () =>
  app!.inject({
    method: "POST",
    url: "/api/v1/actors",
    headers: { authorization: `Bearer ${token}` },
    payload: { actorId: `rad-${++actors}`, kind: "staff", roles: ["radiologist"] },
  });
const vaultPut = () =>
  app!.inject({
    method: "POST",
    url: "/api/v1/vault",
    headers: { authorization: `Bearer ${token}` },
    payload: { patient: fakePseudonym(), content: { text: "No acute findings." } },
  });
const readyz = () => app!.inject({ method: "GET", url: "/readyz" });

test("a full disk: appends and vault writes are 503 STORE_FULL, logged once, /readyz not ready; space returns: ready and appending again", async () => {
  expect((await enrol()).statusCode).toBe(201);
  expect((await readyz()).statusCode).toBe(200);
  const size = node!.ledger.size;

  disk.fill();
  for (let i = 0; i < 3; i++) {
    const r = await enrol();
    expect(r.statusCode, r.body).toBe(503);
    expect(r.headers["content-type"]).toContain("application/problem+json");
    expect(r.json()).toMatchObject({ code: "STORE_FULL" });
    expect(r.json<{ detail: string }>().detail).toContain("full");
  }
  expect(node!.ledger.size).toBe(size); // nothing of the refused batches is kept

  // The cause, once for the three refused appends (one transition), in the brief's words.
  const full = lines.filter((l) => l.includes("ledger.sqlite"));
  expect(full).toHaveLength(1);
  expect(full[0]).toMatch(
    /^radledger: storage full \(SQLITE_[A-Z_]+\) on .*\/data\/ledger\.sqlite: appends refused until space returns$/,
  );

  const ready = await readyz();
  expect(ready.statusCode).toBe(503);
  expect(ready.json()).toMatchObject({ status: "storage", code: "STORE_FULL" });
  expect(ready.json<{ reason: string }>().reason).toContain("until space returns");
  expect((await readyz()).statusCode).toBe(503); // the probe fails while the disk is full
  expect(lines.filter((l) => l.includes("ledger.sqlite"))).toHaveLength(1); // and logs nothing more

  const vault = await vaultPut();
  expect(vault.statusCode, vault.body).toBe(503);
  expect(vault.json()).toMatchObject({ code: "STORE_FULL" });

  disk.free();
  // Readiness learns from its probe, before any client writes.
  const again = await readyz();
  expect(again.statusCode, again.body).toBe(200);
  expect(again.json()).toMatchObject({ status: "ready", size });
  expect(lines.at(-1)).toMatch(/^radledger: storage writable again on .*: writes accepted$/);
  expect(lines.filter((l) => l.includes("ledger.sqlite"))).toHaveLength(2);

  expect((await enrol()).statusCode).toBe(201);
  expect((await vaultPut()).statusCode).toBe(201);
  expect(node!.ledger.size).toBe(size + 1);
});

test("a disk that fills between the probe and a write: the refused write makes the node unready at once", async () => {
  expect((await readyz()).statusCode).toBe(200);
  disk.fill();
  try {
    // A healthy node does not probe: the first refused write is what tells readiness.
    expect((await enrol()).statusCode).toBe(503);
    expect((await readyz()).statusCode).toBe(503);
  } finally {
    disk.free();
  }
  expect((await enrol()).statusCode).toBe(201); // a successful write is recovery too
  expect((await readyz()).statusCode).toBe(200);
});

test("a read-only filesystem: opening the node is a coded STORE_IO naming the file, and it opens once writable", async () => {
  await stop();
  disk.readOnly();
  try {
    expect(() => openNode(dir, { verifyThreads: 0 })).toThrow(
      expect.objectContaining({
        code: "STORE_IO",
        message: expect.stringContaining("read-only") as string,
      }) as Error,
    );
  } finally {
    disk.writable();
  }
  await start();
  expect((await readyz()).statusCode).toBe(200);
  expect((await enrol()).statusCode).toBe(201);
});

test("a disk nearly full at open: STORE_FULL (not a permissions hint), and the node opens once space returns", async () => {
  await stop();
  disk.fillLeaving(8 * 1024);
  try {
    expect(() => openNode(dir, { verifyThreads: 0 })).toThrow(
      expect.objectContaining({ code: "STORE_FULL" }) as Error,
    );
  } finally {
    disk.free();
  }
  await start();
  expect((await enrol()).statusCode).toBe(201);
});
