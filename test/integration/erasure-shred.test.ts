/**
 * Erasure holds against the files (docs/security.md §Erasure and backups): after `erase patient`, a
 * byte scan of every file of the data directory — the SQLite files with their -wal and -shm, the key
 * store, everything — finds none of the patient's texts, neither their data key nor its wrapped form,
 * both while the node still runs and after it closed. Another patient's content is untouched.
 */
import { afterEach, expect, test } from "vitest";
import { erasePatient } from "../../src/app/erase.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { needlesOf, patientKeyOf, reportTexts, scanDataDir } from "../helpers/erasure-scan.js";

let t: TestNode | undefined;
let api: TestApi | undefined;
afterEach(async () => {
  await api?.close();
  await t?.close();
  api = undefined;
  t = undefined;
});

test("after erasure no file of the data directory holds the texts, the data key or the wrapped key", async () => {
  t = await makeNode();
  const patient = fakePseudonym();
  const other = fakePseudonym();
  const texts = reportTexts("erased");
  const kept = reportTexts("kept");
  // Interleaved, as on a busy node: the two patients' rows share pages.
  const keptCommitments: string[] = [];
  for (const [i, text] of texts.entries()) {
    t.node.vault.put(patient, { text });
    keptCommitments.push(t.node.vault.put(other, { text: kept[i]! }).commitment);
  }
  const needles = needlesOf(texts, patientKeyOf(t.dir, patient));

  expect(await erasePatient(t.node, patient, "patient-request")).toEqual({ recorded: true, items: 7 });
  // While the node still runs (what a copy of the live directory would hold), and once it closed.
  const live = scanDataDir(t.dir, needles);
  await t.reopen(); // closing checkpoints and removes the WALs; reopening reads the files back
  expect({ live, closed: scanDataDir(t.dir, needles) }).toEqual({ live: [], closed: [] });

  expect(t.node.vault.isErased(patient)).toBe(true);
  expect(keptCommitments.map((c) => t!.node.vault.get(c)?.content)).toEqual(kept.map((text) => ({ text })));
});

test("POST /api/v1/patients/{patient}/erasure erases through the running node, for admins only", async () => {
  api = await startApi();
  const { t: node } = api;
  const admin = await api.token("admin");
  await node.enrol("rad-1", ["radiologist"]);
  const radiologist = await api.token("rad-1");
  const patient = fakePseudonym();
  const texts = reportTexts("api");
  for (const text of texts) {
    const r = await api.call("POST", "/api/v1/vault", { token: admin, body: { patient, content: { text } } });
    expect(r.status, r.text).toBe(201);
  }
  const needles = needlesOf(texts, patientKeyOf(node.dir, patient));
  const erase = (token: string) =>
    api!.call("POST", `/api/v1/patients/${patient}/erasure`, { token, body: { reason: "patient-request" } });

  const refused = await erase(radiologist);
  expect([refused.status, refused.body.code]).toEqual([403, "FORBIDDEN_ROLE"]);
  expect(node.node.vault.isErased(patient)).toBe(false);
  expect(
    (await api.call("POST", `/api/v1/patients/${patient}/erasure`, { token: admin, body: {} })).status,
  ).toBe(400);

  const done = await erase(admin);
  expect(done.status, done.text).toBe(200);
  expect(done.body).toMatchObject({
    patient,
    recorded: true,
    items: 7,
    erasure: { by: "admin", reason: "patient-request" },
  });
  const entry = node.node.store.getDoc("erasure", patient);
  expect(entry).toMatchObject({ by: "admin" });

  // The running node's files hold nothing of the patient, and it stores nothing more for them.
  expect(scanDataDir(node.dir, needles)).toEqual([]);
  const again = await erase(admin);
  expect([again.status, again.body.recorded, again.body.items]).toEqual([200, false, 0]);
  const put = await api.call("POST", "/api/v1/vault", {
    token: admin,
    body: { patient, content: { text: "x" } },
  });
  expect([put.status, put.body.code]).toEqual([409, "VAULT_ERASED"]);

  await api.app.close();
  await node.reopen();
  expect(scanDataDir(node.dir, needles)).toEqual([]);
});

test("an erasure an admin records through the entry routes is carried out at once", async () => {
  api = await startApi();
  const { t: node } = api;
  const admin = await api.token("admin");
  const patient = fakePseudonym();
  const texts = reportTexts("entry-route");
  for (const text of texts) node.node.vault.put(patient, { text });
  const needles = needlesOf(texts, patientKeyOf(node.dir, patient));

  const recorded = await api.call("POST", "/api/v1/entries/patient.data.erased", {
    token: admin,
    body: { body: { patient, reason: "patient-request" }, refs: {} },
  });
  expect(recorded.status, recorded.text).toBe(201);
  expect(node.node.vault.isErased(patient)).toBe(true);
  expect(scanDataDir(node.dir, needles)).toEqual([]);
});
