import { readFileSync, statSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { auditDataDir } from "../wiring/audit.js";
import { openNode } from "../wiring/node.js";
import type { AccessDoc } from "../domain/access/state.js";
import { seedDataDir } from "./seed.js";
import { measureWebQueries } from "./web-queries.js";

const scratch = mkdtempSync(join(tmpdir(), "radledger-seed-test-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("bench seed builds a valid log of exactly N entries with a patient of M accesses, and the pages' queries answer over it", async () => {
  const dir = join(scratch, "data");
  const r = await seedDataDir({ dataDir: dir, entries: 1500, patientAccesses: 120, threads: 1 });
  expect(r.size).toBe(1500);
  expect(r.patientAccesses).toBe(120);

  // Every entry admitted by the rules as they stand: the whole-log audit replays the log.
  const audit = await auditDataDir(dir, { threads: 1 });
  expect(audit.failure).toBeUndefined();
  expect(audit).toMatchObject({ ok: true, entries: 1500 });

  // The mix the pages show: care-based reads, refusals, the patient's own, break-glass; over a year.
  const node = openNode(dir);
  try {
    const docs = node.store
      .lookup("access.patient", r.patient)
      .map((row) => node.store.getDoc("access", row.value) as unknown as AccessDoc);
    const count = (f: (a: AccessDoc) => boolean) => docs.filter(f).length;
    expect(count((a) => a.basis?.kind === "care")).toBe(72);
    expect(count((a) => a.basis?.kind === "patient")).toBe(12);
    expect(count((a) => a.basis?.kind === "break-glass")).toBe(1);
    expect(count((a) => a.decision === "deny")).toBe(35);
    expect(new Set(docs.map((a) => a.part.kind))).toEqual(new Set(["study", "series", "report", "record"]));
    const times = docs.map((a) => Date.parse(a.time)).sort((a, b) => a - b);
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(300 * 86_400_000);
  } finally {
    await node.close();
  }

  // The sign-ins: one per persona, readable by the owner only.
  const users = JSON.parse(readFileSync(r.usersFile, "utf8")) as {
    patient: string;
    users: { persona: string }[];
  };
  expect(users.patient).toBe(r.patient);
  expect(users.users.map((u) => u.persona)).toEqual(["patient", "radiologist", "auditor", "admin"]);
  expect(statSync(r.usersFile).mode & 0o777).toBe(0o600);

  // Every measured request answers 200 (measureWebQueries throws otherwise), signed in by password.
  const m = await measureWebQueries(dir, 2);
  expect(m.queries.length).toBeGreaterThan(10);
  expect(m.queries.find((q) => q.name === "patient: history, first page")!.items).toBe(50);
}, 240_000);

test("bench seed refuses an existing data directory and impossible sizes", async () => {
  const dir = join(scratch, "data");
  await expect(
    seedDataDir({ dataDir: dir, entries: 100, patientAccesses: 0, threads: 1 }),
  ).rejects.toMatchObject({
    code: "STORE_EXISTS",
  });
  await expect(
    seedDataDir({ dataDir: join(scratch, "small"), entries: 50, patientAccesses: 100, threads: 1 }),
  ).rejects.toMatchObject({ code: "CLI_USAGE" });
  await expect(
    seedDataDir({ dataDir: join(scratch, "zero"), entries: 0, patientAccesses: 0, threads: 1 }),
  ).rejects.toMatchObject({ code: "CLI_USAGE" });
}, 60_000);
