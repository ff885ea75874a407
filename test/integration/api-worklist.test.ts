/**
 * The reading worklist's API (docs/api.md, docs/web.md "Worklist"): the report and study lists carry
 * what a worklist shows — stage (draft, signed, amended), modality, times, who is on the report — and
 * filter by stage and by the caller being on the report, page by page; the report view carries the AI
 * findings on its study with their dispositions and the consultations with names and times.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

let api: TestApi;
let neuro: string;
let chest: string;

interface Item {
  id: string;
  stage: string;
  status: string;
  modalities: string[];
  openedAt: string;
  contributors: { id: string; name?: string }[];
  amendments: number;
}

beforeAll(async () => {
  api = await startApi();
  await seedDemo(api.t.node, nodeFactory);
  neuro = await api.token("rad-neuro-1");
  chest = await api.token("rad-chest-1");
}, 60_000);
afterAll(() => api.close());

const list = async (token: string, query = "") =>
  api.call<{ items: Item[]; next?: string }>("GET", `/api/v1/reports${query}`, { token });

test("report list items carry stage, modalities, opening time and the people on the report", async () => {
  const all = await list(neuro);
  expect(all.status).toBe(200);
  expect(all.body.items).toHaveLength(3);
  const [a, b, draft] = all.body.items;
  expect(a).toMatchObject({ stage: "amended", status: "signed", modalities: ["MR"], amendments: 1 });
  expect(b).toMatchObject({ stage: "signed", modalities: ["CT"] });
  // The demo's report still being read (src/app/demo/clinical.ts seedReadingDraft).
  expect(draft).toMatchObject({ stage: "draft", status: "open", modalities: ["MR"], sections: 1 });
  expect(a!.openedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  // The opener, the technologist, the AI system, the consultant: everyone on report A, with names.
  expect(a!.contributors.map((c) => c.id).sort()).toEqual(
    ["ai-engine-1", "rad-cardio-1", "rad-neuro-1", "tech-1"].sort(),
  );
  expect(a!.contributors).toContainEqual({ id: "rad-neuro-1", name: "Dr Ada Neuro" });
  // Newest first.
  const newest = await list(neuro, "?order=newest");
  expect(newest.body.items.map((i) => i.id)).toEqual([draft!.id, b!.id, a!.id]);
});

test("filters: stage and mine, paged with a cursor; an unknown stage is INPUT_INVALID", async () => {
  expect((await list(neuro, "?stage=amended")).body.items.map((i) => i.stage)).toEqual(["amended"]);
  expect((await list(neuro, "?stage=draft")).body.items.map((i) => i.stage)).toEqual(["draft"]);
  const mineChest = await list(chest, "?mine=true");
  expect(mineChest.body.items).toHaveLength(1);
  expect(mineChest.body.items[0]!.modalities).toEqual(["CT"]);
  const mineNeuro = await list(neuro, "?mine=true");
  expect(mineNeuro.body.items.map((i) => i.stage)).toEqual(["amended", "draft"]);
  // A filtered page of one continues after the last report it examined.
  const first = await list(neuro, "?stage=signed&limit=1&order=newest");
  expect(first.body.items.map((i) => i.stage)).toEqual(["signed"]);
  expect(first.body.next).toBeDefined();
  const second = await list(neuro, `?stage=signed&limit=1&order=newest&after=${first.body.next}`);
  expect(second.body.items).toEqual([]);
  expect(second.body.next).toBeUndefined();
  const bad = await list(neuro, "?stage=final");
  expect(bad.status).toBe(400);
  expect(bad.body).toMatchObject({ code: "INPUT_INVALID" });
});

test("study list items carry the registration time and the reports on each study", async () => {
  const r = await api.call<{
    items: { id: string; registeredAt: string; modalities: string[]; reports: { stage: string }[] }[];
  }>("GET", "/api/v1/studies", { token: neuro });
  expect(r.status).toBe(200);
  expect(r.body.items).toHaveLength(4);
  expect(r.body.items.map((s) => s.reports.map((x) => x.stage))).toEqual([
    ["amended"],
    ["signed"],
    [],
    ["draft"],
  ]);
  for (const s of r.body.items) expect(s.registeredAt).toMatch(/^\d{4}-\d\d-\d\dT/);
});

test("the report view has the AI findings on its study with dispositions, and consultations with names and times", async () => {
  const [a] = (await list(neuro)).body.items;
  const r = await api.call<{
    stage: string;
    modalities: string[];
    aiFindings: {
      inference: string;
      model: { vendor: string; name: string; version: string };
      status: string;
      dispositions: { disposition: string; by: string; byName: string; time: string }[];
    }[];
    consultationsDetail: {
      fromName: string;
      toName: string;
      status: string;
      requestedAt: string;
      answeredAt: string;
    }[];
  }>("GET", `/api/v1/reports/${a!.id}`, { token: neuro });
  expect(r.status).toBe(200);
  expect(r.body.stage).toBe("amended");
  expect(r.body.aiFindings).toHaveLength(1);
  expect(r.body.aiFindings[0]).toMatchObject({
    model: { vendor: "Acme AI", name: "BrainLesionNet", version: "2.1.0" },
    status: "modified",
    dispositions: [{ disposition: "modified", by: "rad-neuro-1", byName: "Dr Ada Neuro" }],
  });
  expect(r.body.consultationsDetail).toHaveLength(1);
  const c = r.body.consultationsDetail[0]!;
  expect(c).toMatchObject({ fromName: "Dr Ada Neuro", toName: "Dr Ben Cardio", status: "answered" });
  expect(c.requestedAt <= c.answeredAt).toBe(true);
});

test("the demo's draft report has three AI findings of BrainLesionNet 2.2.0 awaiting a disposition", async () => {
  const [draft] = (await list(neuro, "?stage=draft")).body.items;
  const r = await api.call<{ aiFindings: { model: { version: string }; status: string }[] }>(
    "GET",
    `/api/v1/reports/${draft!.id}`,
    { token: neuro },
  );
  expect(r.body.aiFindings).toHaveLength(3);
  for (const f of r.body.aiFindings)
    expect(f).toMatchObject({
      model: { vendor: "Acme AI", name: "BrainLesionNet", version: "2.2.0" },
      status: "pending",
    });
});

test("consultations asked of me: the open requests to the caller, with report and requester; an answer takes one off", async () => {
  const [draft] = (await list(neuro, "?stage=draft")).body.items;
  const mine = (token: string) =>
    api.call<{ items: Record<string, unknown>[]; next?: string }>("GET", "/api/v1/consultations/mine", {
      token,
    });
  expect((await mine(chest)).body.items).toEqual([]);
  const patient = (draft as unknown as { patient: string }).patient;
  const put = async (token: string, text: string) =>
    (
      await api.call<{ commitment: string }>("POST", "/api/v1/vault", {
        token,
        body: { patient, content: { text } },
      })
    ).body.commitment;
  const asked = await api.call<{ leafHash: string }>("POST", "/api/v1/entries/consult.requested", {
    token: neuro,
    body: {
      body: { to: "rad-chest-1", specialty: "thoracic-imaging", questionCommitment: await put(neuro, "Q?") },
      refs: { report: draft!.id },
    },
  });
  expect(asked.status, JSON.stringify(asked.body)).toBe(201);
  const open = await mine(chest);
  expect(open.status).toBe(200);
  expect(open.body.items).toHaveLength(1);
  expect(open.body.items[0]).toMatchObject({
    id: asked.body.leafHash,
    report: draft!.id,
    reportStage: "draft",
    modalities: ["MR"],
    from: "rad-neuro-1",
    fromName: "Dr Ada Neuro",
    specialty: "thoracic-imaging",
  });
  expect(open.body.items[0]!.requestedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  // The person asked reads the question with the report's text, through the gatekeeper (the demo's
  // patient A granted rad-chest-1 nothing: a break-glass read would be the only way; the requester,
  // under care, reads it).
  const read = await api.call<{ consultations: { id: string; question?: { text: string } }[] }>(
    "GET",
    `/api/v1/reports/${draft!.id}/content`,
    { token: neuro },
  );
  expect(read.status, JSON.stringify(read.body)).toBe(200);
  expect(read.body.consultations).toContainEqual({ id: asked.body.leafHash, question: { text: "Q?" } });
  // Only the person asked sees it.
  expect((await mine(neuro)).body.items).toEqual([]);
  const answered = await api.call("POST", "/api/v1/entries/consult.answered", {
    token: chest,
    body: {
      body: {
        section: "consultation-note",
        role: "radiologist",
        contentCommitment: await put(chest, "A."),
        origin: "human",
      },
      refs: { consult: asked.body.leafHash },
    },
  });
  expect(answered.status, JSON.stringify(answered.body)).toBe(201);
  expect((await mine(chest)).body.items).toEqual([]);
  // Not a reader's list: a role that is never asked is refused.
  const auditor = await mine(await api.token("auditor-1"));
  expect(auditor.status).toBe(403);
});
