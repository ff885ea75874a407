/**
 * The auditor's break-glass queue (GET /api/v1/access/break-glass) pages: oldest first, `limit`
 * items a page and `next` passed back as `after`, every open break-glass permit on exactly one
 * page, each with its requester's justification read back from the patient's vault — one vault
 * read per page (Vault.getMany), across patients (docs/api.md; docs/performance.md "Web app pages").
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

interface Item {
  id: string;
  index: number;
  patient: string;
  basis: { kind: string; reason: string };
  justification?: string;
  justificationStatus?: string;
}

let api: TestApi;
let auditor: string;

beforeAll(async () => {
  api = await startApi();
  await seedDemo(api.t.node, nodeFactory);
  auditor = await api.token("auditor-1");
}, 120_000);
afterAll(async () => {
  await api.close();
});

test("the queue pages oldest first with after/next; each item carries its own justification, across patients", async () => {
  // The ER clinician breaks the glass on two patients' reports, through the API.
  const clinician = await api.token("clin-er-1");
  const reports = await api.call<{ items: { id: string; patient: string }[] }>("GET", "/api/v1/reports", {
    token: clinician,
  });
  expect(reports.status, reports.text).toBe(200);
  const byPatient = new Map(reports.body.items.map((r) => [r.patient, r.id]));
  expect(byPatient.size).toBeGreaterThanOrEqual(2);
  const [x, y] = [...byPatient.values()];
  const written = new Map<string, string>();
  for (const [i, report] of [x, y, x, y, x].entries()) {
    const justification = `Trauma call ${i}: prior imaging needed now (case ${i}).`;
    const r = await api.call<{ access: { id: string } }>("POST", `/api/v1/reports/${report}/content`, {
      token: clinician,
      body: { breakGlass: { reason: "urgent-clinical-need", justification } },
    });
    expect(r.status, r.text).toBe(200);
    written.set(r.body.access.id, justification);
  }

  const whole = await api.call<{ items: Item[]; next?: string }>("GET", "/api/v1/access/break-glass", {
    token: auditor,
  });
  expect(whole.status, whole.text).toBe(200);
  expect(whole.body.next).toBeUndefined();
  expect(whole.body.items).toHaveLength(written.size + 1); // and the demo's own break-glass

  // Page by two: the same items, in the same order, each on one page.
  const paged: Item[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const r = await api.call<{ items: Item[]; next?: string }>(
      "GET",
      `/api/v1/access/break-glass?limit=2${after === undefined ? "" : `&after=${after}`}`,
      { token: auditor },
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(2);
    paged.push(...r.body.items);
    after = r.body.next;
    pages++;
  } while (after !== undefined && pages < 10);
  expect(pages).toBe(3);
  expect(paged.map((a) => a.id)).toEqual(whole.body.items.map((a) => a.id));
  const indexes = paged.map((a) => a.index);
  expect(indexes).toEqual([...indexes].sort((a, b) => a - b)); // oldest first

  // Every item has its own justification back from the vault (two patients, one read per page).
  expect(new Set(paged.map((a) => a.patient)).size).toBeGreaterThanOrEqual(2);
  for (const a of paged) {
    expect(a.basis.kind).toBe("break-glass");
    expect(a.justificationStatus).toBeUndefined();
    if (written.has(a.id)) expect(a.justification).toBe(written.get(a.id));
    else expect(a.justification).toContain("road traffic accident");
  }

  // A cursor that is not one of this list's: a coded refusal, not a crash.
  const bad = await api.call("GET", "/api/v1/access/break-glass?after=-1", { token: auditor });
  expect(bad.status).toBe(400);
  expect(bad.body.code).toBe("INPUT_INVALID");
});
