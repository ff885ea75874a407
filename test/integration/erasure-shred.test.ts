/**
 * Erasure holds against the files (docs/security.md §Erasure and backups): after `erase patient`, a
 * byte scan of every file of the data directory — the SQLite files with their -wal and -shm, the key
 * store, everything — finds none of the patient's texts, neither their data key nor its wrapped form,
 * both while the node still runs and after it closed. Another patient's content is untouched.
 */
import { randomUUID } from "node:crypto";
import { afterEach, expect, test } from "vitest";
import { erasePatient } from "../../src/app/erase.js";
import { makeNode, type TestNode } from "../helpers/node.js";
import { fakePseudonym } from "../helpers/fixtures.js";
import { needlesOf, patientKeyOf, scanDataDir } from "../helpers/erasure-scan.js";

/** Seven report texts, each unique to this run so that no other file can hold them by chance. */
export const reportTexts = (who: string): string[] =>
  [
    "Findings: 14 mm spiculated nodule in the right upper lobe",
    "Impression: suspicious for primary lung malignancy",
    "Comparison: prior CT shows interval growth of the nodule",
    "Recommendation: PET-CT and multidisciplinary review",
    "Addendum: mediastinal lymph nodes not enlarged",
    "Technique: contrast-enhanced CT of the chest",
    "Break-glass justification: unconscious patient in resus",
  ].map((text) => `${text} [${who} ${randomUUID()}]`);

let t: TestNode | undefined;
afterEach(async () => {
  await t?.close();
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
  // While the node still runs: what a copy of the live directory would hold.
  expect(scanDataDir(t.dir, needles)).toEqual([]);
  await t.reopen(); // closing checkpoints and removes the WALs; reopening reads the files back
  expect(scanDataDir(t.dir, needles)).toEqual([]);

  expect(t.node.vault.isErased(patient)).toBe(true);
  expect(keptCommitments.map((c) => t!.node.vault.get(c)?.content)).toEqual(kept.map((text) => ({ text })));
});
