/**
 * Round trip of every bundle kind from the demo data (src/app/demo): each signed report, the trial
 * and each of its subjects, each sealed dataset version, and the access history of every patient
 * with one are exported read-only from the demo directory (as `radledger export bundle` does) and
 * verify offline with the demo log's key alone.
 */
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { initDataDir } from "../../src/app/init.js";
import { DEMO_ORIGIN, seedDemo } from "../../src/app/demo/index.js";
import { openNode, nodeFactory } from "../../src/wiring/node.js";
import { prepareBundle, type BundleExportSource } from "../../src/app/bundle-export.js";
import { openExportSource } from "../../src/wiring/export.js";
import { verifyBundle, type BundleMember } from "../../src/core/bundle/verify.js";
import type { BundleRequest } from "../../src/domain/bundles/select.js";
import type { DatasetDoc } from "../../src/domain/datasets/state.js";
import { tempDir } from "../helpers/node.js";

const tmp = tempDir("radledger-demo-bundles-");
const dir = join(tmp.path, "demo");
let source: BundleExportSource & { close(): void };

beforeAll(async () => {
  await initDataDir(dir, { origin: DEMO_ORIGIN, institutionName: "Demo Hospital" }, nodeFactory);
  const node = openNode(dir, { verifyThreads: 0 });
  try {
    await seedDemo(node, nodeFactory);
  } finally {
    await node.close();
  }
  source = openExportSource(dir);
}, 60_000);
afterAll(() => {
  source.close();
  tmp.remove();
});

async function roundTrip(request: BundleRequest): Promise<void> {
  const out: BundleMember[] = [];
  for await (const m of prepareBundle(source, request).members) out.push(m);
  const report = await verifyBundle(out, { crypto: source.crypto, logKeys: [source.verifierKey] });
  expect(report.failures, `${request.kind} ${request.id}`).toEqual([]);
  expect(report.ok).toBe(true);
}

test("every report, trial, trial subject, sealed dataset version and access history of the demo verifies", async () => {
  const store = source.store;
  const reports = store.lookup("report.signed", "").map((r) => r.value);
  const trials = store.lookup("trial.all", "").map((r) => r.value);
  const subjects = trials.flatMap((t) => store.lookup("trial.subjects", t).map((r) => r.value));
  const datasets = store
    .lookup("dataset.all", "")
    .map((r) => store.getDoc("dataset", r.value) as unknown as DatasetDoc);
  const patients = new Set(
    (store as unknown as { indexKeys(name: string): string[] }).indexKeys("access.patient"),
  );
  expect(reports.length).toBeGreaterThan(0);
  expect(subjects.length).toBeGreaterThan(0);
  expect(datasets.some((d) => d.versions.length > 0)).toBe(true);
  expect(patients.size).toBeGreaterThan(0);
  for (const id of reports) await roundTrip({ kind: "report", id });
  for (const id of trials) await roundTrip({ kind: "trial", id });
  for (const id of subjects) await roundTrip({ kind: "trial-subject", id });
  for (const d of datasets)
    for (const v of d.versions) await roundTrip({ kind: "dataset", id: d.id, version: v.version });
  for (const p of patients) await roundTrip({ kind: "access", id: p });
});
