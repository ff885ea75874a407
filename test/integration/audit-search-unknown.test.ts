/**
 * The auditor's access search names a patient by pseudonym: a mistyped or unknown one is
 * 404 PATIENT_UNKNOWN ("no such patient"), never an empty page that an auditor would read as
 * "nobody looked" (issue 20, auditor) — on the search (GET /api/v1/access?patient=) and on an
 * actor's accesses narrowed to a patient (GET /api/v1/actors/:id/access?patient=), as on the
 * patient's own history (test/integration/patient-unknown.test.ts).
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { fakePseudonym } from "../helpers/fixtures.js";

let api: TestApi;
let auditor: string;
let patientB: string;

beforeAll(async () => {
  api = await startApi();
  await seedDemo(api.t.node, nodeFactory);
  auditor = await api.token("auditor-1");
  patientB = api.t.node.pseudonym("patient", "DEMO-MRN-0002");
}, 120_000);
afterAll(async () => {
  await api.close();
});

test("the access search answers PATIENT_UNKNOWN for a pseudonym no record names", async () => {
  const typo = fakePseudonym();
  for (const path of [
    `/api/v1/access?patient=${typo}`,
    `/api/v1/access?patient=${typo}&decision=deny`,
    `/api/v1/actors/clin-er-1/access?patient=${typo}`,
  ]) {
    const r = await api.call("GET", path, { token: auditor });
    expect(r.status, `${path}: ${r.text}`).toBe(404);
    expect(r.body.code).toBe("PATIENT_UNKNOWN");
    expect(String(r.body.detail)).not.toContain(typo);
  }
});

test("a known patient's search still lists their accesses: the demo's break-glass and its deny", async () => {
  const r = await api.call<{ items: { decision: string; basis?: { kind: string } }[] }>(
    "GET",
    `/api/v1/access?patient=${patientB}`,
    { token: auditor },
  );
  expect(r.status, r.text).toBe(200);
  expect(r.body.items.some((a) => a.basis?.kind === "break-glass")).toBe(true);
  expect(r.body.items.some((a) => a.decision === "deny")).toBe(true);
  const byActor = await api.call<{ items: unknown[] }>(
    "GET",
    `/api/v1/actors/clin-er-1/access?patient=${patientB}`,
    { token: auditor },
  );
  expect(byActor.status, byActor.text).toBe(200);
  expect(byActor.body.items.length).toBeGreaterThan(0);
});

test("an auditor's review note goes to the vault and only its commitment onto the log (access.reviewed)", async () => {
  const queue = await api.call<{ items: { id: string; patient: string }[] }>(
    "GET",
    "/api/v1/access/break-glass",
    { token: auditor },
  );
  const item = queue.body.items[0]!;
  const stored = await api.call<{ commitment: string }>("POST", "/api/v1/vault", {
    token: auditor,
    body: { patient: item.patient, content: { note: "Checked with the ER rota: justified." } },
  });
  expect(stored.status, stored.text).toBe(201);
  expect(stored.body.commitment).toMatch(/^[0-9a-f]{64}$/);
  const reviewed = await api.call("POST", "/api/v1/entries/access.reviewed", {
    token: auditor,
    body: {
      body: { outcome: "justified", noteCommitment: stored.body.commitment },
      refs: { access: item.id },
    },
  });
  expect(reviewed.status, reviewed.text).toBe(201);
  expect(api.t.node.vault.get(stored.body.commitment)?.content).toEqual({
    note: "Checked with the ER rota: justified.",
  });
  const after = await api.call<{ items: unknown[] }>("GET", "/api/v1/access/break-glass", { token: auditor });
  expect(after.body.items).toEqual([]);
});
