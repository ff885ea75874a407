/**
 * Who reads a trial (docs/families/trials.md): the site's trial roles read every trial registered
 * here; a sponsor's monitor reads its own sponsor's trials only. Another sponsor's trial, its
 * subjects, timelines, reads and bundles answer 404 as if they did not exist — which trials a site
 * runs for whom is confidential between sponsors.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { demoContext, seedDemo } from "../../src/app/demo/index.js";
import { nodeFactory } from "../../src/wiring/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

let api: TestApi;
let monitor: string;
let coordinator: string;
let other: { trial: string; subject: string; timepoint: string };

interface Trial {
  id: string;
  sponsor: string;
}

beforeAll(async () => {
  api = await startApi();
  await seedDemo(api.t.node, nodeFactory);
  // A second sponsor's trial at the same site, with a subject and a timepoint.
  const d = demoContext(api.t.node);
  const coord = api.t.node.heldKeys.get("trial-coord-1")!;
  const trial = await d.append(coord, "trial.registered", { sponsor: "Other Pharma", protocolId: "OTH-9" });
  const subject = await d.append(
    coord,
    "trial.subject.enrolled",
    { subject: api.t.node.pseudonym("trial-subject", "OTHER-MRN-1", `trial ${trial}`), site: "site-001" },
    { trial },
  );
  const timepoint = await d.append(
    coord,
    "trial.timepoint.imaged",
    { timepoint: "baseline", modality: "CT", instanceCount: 3, manifestRoot: d.hash("other baseline") },
    { subject },
  );
  other = { trial, subject, timepoint };
  monitor = await api.token("sponsor-monitor-1");
  coordinator = await api.token("trial-coord-1");
}, 60_000);
afterAll(() => api.close());

const get = (path: string, token: string) => api.call("GET", path, { token });

test("the site's coordinator lists both sponsors' trials; Demo Pharma's monitor only Demo Pharma's", async () => {
  const all = (await get("/api/v1/trials", coordinator)).body.items as Trial[];
  expect(all.map((t) => t.sponsor)).toEqual(["Demo Pharma", "Other Pharma"]);
  const own = await get("/api/v1/trials", monitor);
  expect(own.status).toBe(200);
  expect((own.body.items as Trial[]).map((t) => t.sponsor)).toEqual(["Demo Pharma"]);
  // Paging stays within the scope: one per page, no cursor past the last own trial.
  const first = await get("/api/v1/trials?limit=1", monitor);
  expect((first.body.items as Trial[]).map((t) => t.sponsor)).toEqual(["Demo Pharma"]);
  expect(first.body.next).toBeUndefined();
});

test("the monitor reads its own trial's subjects and timeline, and downloads its bundle", async () => {
  const [trial] = (await get("/api/v1/trials", monitor)).body.items as Trial[];
  const subjects = await get(`/api/v1/trials/${trial!.id}/subjects`, monitor);
  expect(subjects.status).toBe(200);
  const [s] = subjects.body.items as { id: string }[];
  expect((await get(`/api/v1/trial-subjects/${s!.id}/timeline`, monitor)).status).toBe(200);
  const bundle = await fetch(`${api.url}/api/v1/bundles/trial/${trial!.id}`, {
    headers: { authorization: `Bearer ${monitor}` },
  });
  expect(bundle.status).toBe(200);
  await bundle.arrayBuffer();
});

test("another sponsor's trial, subject, timeline, reads and bundles are 404 RECORD_NOT_FOUND to the monitor", async () => {
  const paths = [
    `/api/v1/trials/${other.trial}`,
    `/api/v1/trials/${other.trial}/subjects`,
    `/api/v1/trial-subjects/${other.subject}/timeline`,
    `/api/v1/trial-timepoints/${other.timepoint}/reads`,
  ];
  for (const path of paths) {
    const r = await get(path, monitor);
    expect([path, r.status, r.body.code]).toEqual([path, 404, "RECORD_NOT_FOUND"]);
    // The coordinator reads each of them.
    expect([path, (await get(path, coordinator)).status]).toEqual([path, 200]);
  }
  for (const [kind, id] of [
    ["trial", other.trial],
    ["trial-subject", other.subject],
  ] as const) {
    const r = await fetch(`${api.url}/api/v1/bundles/${kind}/${id}`, {
      headers: { authorization: `Bearer ${monitor}` },
    });
    expect([kind, r.status, ((await r.json()) as { code: string }).code]).toEqual([
      kind,
      404,
      "RECORD_NOT_FOUND",
    ]);
  }
});
