/**
 * A small log with one record of every bundle kind, built through the real append path: a signed
 * report (contributions, an AI inference and its disposition, a consultation, an amendment, texts in
 * the vault), a trial with a subject, timepoint, read and correction, a sealed dataset version with
 * annotation files and de-identified "instances" on disk, and a patient's access history. Keys are
 * rotated and revoked along the way so that bundles carry identity entries of every kind. All data
 * is synthetic (random bytes stand in for DICOM instances; the verifier hashes, it does not parse).
 */
import { inferenceBody } from "./report-scene.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createHash, randomBytes } from "node:crypto";
import type { JsonObject } from "../../src/core/canonical-json.js";
import type { EntryRefs } from "../../src/core/entry.js";
import { toBase64 } from "../../src/core/bytes.js";
import { manifestRootOf } from "../../src/core/bundle/verify.js";
import { nodeCrypto } from "../../src/adapters/node-crypto/crypto.js";
import type { HeldKey } from "../../src/app/keys.js";
import { decide, type AccessQuery } from "../../src/domain/consent/decide.js";
import { accessRecordFor } from "../../src/domain/access/entries.js";
import { proposeSeal } from "../../src/domain/datasets/queries.js";
import { fakeHash, fakePseudonym, studyBody } from "./fixtures.js";
import type { BreakGlassReason } from "../../src/domain/access/break-glass.js";
import { newKey, type TestNode } from "./node.js";

export interface BundleFixture {
  readonly patient: string;
  readonly report: string;
  readonly trial: string;
  readonly subject: string;
  readonly dataset: string;
  /** Folder with the dataset's annotation file and the instances of the trial timepoint and an item. */
  readonly files: string;
  /** Vault commitments of the report's texts. */
  readonly texts: string[];
}

const sha = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

function instances(dir: string, n: number): string {
  mkdirSync(dir, { recursive: true });
  const hashes: string[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = randomBytes(300 + i);
    writeFileSync(join(dir, `instance-${i}.dcm`), bytes);
    hashes.push(sha(bytes));
  }
  return manifestRootOf(nodeCrypto, hashes);
}

export async function seedBundleFixture(t: TestNode, filesDir: string): Promise<BundleFixture> {
  const node = t.node;
  const ok = async (key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs): Promise<string> =>
    (await node.appender.append(t.sign(key, type, body, refs))).leafHash;

  let neuro = await t.enrol("rad-neuro", ["radiologist"], {
    displayName: "Dr Neuro",
    specialty: "neuroradiology",
  });
  const cardio = await t.enrol("rad-cardio", ["radiologist"], { displayName: "Dr Cardio" });
  const tech = await t.enrol("tech-1", ["technologist"]);
  const ai = await t.enrol("ai-engine", ["ai-system"], { kind: "system", displayName: "BrainSeg runner" });
  const coord = await t.enrol("coord-1", ["trial-coordinator"]);
  const cur = await t.enrol("cur-1", ["curator"]);
  const ann = await t.enrol("ann-1", ["annotator"], { displayName: "A. Notator" });
  const ven = await t.enrol("ven-1", ["vendor"]);
  const auditor = await t.enrol("aud-1", ["auditor"]);
  const patient = fakePseudonym();
  const pt = await t.enrol("pt-1", ["patient"], { patient });

  // Dr Neuro rotates her key before reporting: bundles must carry the rotation.
  const rotated = newKey("rad-neuro");
  await ok(neuro, "key.rotated", {
    actorId: "rad-neuro",
    oldKey: neuro.keyId,
    newPublicKey: toBase64(rotated.publicKey),
  });
  neuro = rotated;

  // Report.
  const study = await ok(t.institution, "study.registered", studyBody(patient));
  const model = await ok(t.admin, "ai.model.registered", {
    vendor: "Acme AI",
    name: "BrainSeg",
    version: "2.1.0",
    artifactHash: fakeHash(),
    intendedUse: "brain lesion segmentation",
  });
  const inference = await ok(ai, "ai.inference", inferenceBody(t, study, "gpu-node-1"), { model, study });
  const report = await ok(neuro, "report.opened", { reportKind: "diagnostic" }, { study });
  const texts: string[] = [];
  const text = (t: string): string => {
    const { commitment } = node.vault.put(patient, { text: t });
    texts.push(commitment);
    return commitment;
  };
  const section = (s: string, role: string, commitment: string, origin = "human"): JsonObject => ({
    section: s,
    role,
    contentCommitment: commitment,
    origin,
  });
  const c1 = await ok(
    neuro,
    "report.contribution",
    section("findings", "radiologist", text("No acute infarct.")),
    { report },
  );
  const c2 = await ok(
    tech,
    "report.contribution",
    section("technique", "technologist", text("MR brain, 3T.")),
    { report },
  );
  const c3 = await ok(
    ai,
    "report.contribution",
    section("measurement", "ai-system", text("Lesion 4 mm."), "ai"),
    {
      report,
      inference,
    },
  );
  const consult = await ok(
    neuro,
    "consult.requested",
    { to: "rad-cardio", questionCommitment: text("Cardiac source of emboli?") },
    { report },
  );
  const c4 = await ok(
    cardio,
    "consult.answered",
    section("consultation-note", "radiologist", text("Unlikely.")),
    { consult },
  );
  await ok(neuro, "ai.finding.disposition", { disposition: "accepted" }, { inference, report });
  await ok(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1, c2, c3, c4] });
  await ok(
    neuro,
    "report.amended",
    {
      ...section("impression", "radiologist", text("Normal study.")),
      kind: "addendum",
      reason: "clarification",
    },
    { report },
  );

  // Trial, with images on disk for the timepoint.
  const tpRoot = instances(join(filesDir, "trial-baseline"), 3);
  const trial = await ok(coord, "trial.registered", {
    sponsor: "Acme Oncology",
    protocolId: "ONC-1",
    timepoints: ["baseline", "week-12"],
  });
  const subject = await ok(
    coord,
    "trial.subject.enrolled",
    { subject: fakePseudonym("ts_"), site: "site-1" },
    { trial },
  );
  const tp = await ok(
    tech,
    "trial.timepoint.imaged",
    {
      timepoint: "baseline",
      modality: "MR",
      instanceCount: 3,
      manifestRoot: tpRoot,
      deidentification: "PS3.15-E-basic",
    },
    { subject, study },
  );
  const read = await ok(
    cardio,
    "trial.read.recorded",
    { manifestRoot: tpRoot, blinded: true, measurements: fakeHash(), criteria: "RECIST1.1", response: "SD" },
    { timepoint: tp },
  );
  await ok(
    cardio,
    "trial.correction",
    {
      reason: "transcription-error",
      read: { manifestRoot: tpRoot, blinded: true, measurements: fakeHash(), response: "PR" },
    },
    { corrects: read },
  );

  // Dataset: two items (one with instances on disk), an annotation file, a vendor contribution, a seal, a share.
  const itemRoot = instances(join(filesDir, "item-1"), 2);
  const annotationFile = new TextEncoder().encode('{"nodules":[{"x":12,"y":40,"r":3}]}\n');
  writeFileSync(join(filesDir, "annotation-1.json"), annotationFile);
  const dataset = await ok(cur, "dataset.created", { name: "Lung nodules", purpose: "training" });
  const i1 = await ok(
    cur,
    "dataset.item.added",
    { manifestRoot: itemRoot, instanceCount: 2, sourceInstitution: "hospital-a" },
    { dataset },
  );
  await ok(
    cur,
    "dataset.item.added",
    { manifestRoot: fakeHash(), instanceCount: 5, sourceInstitution: "hospital-b" },
    { dataset },
  );
  await ok(
    ann,
    "dataset.annotation.added",
    {
      labelSchema: "lung-nodule-v2",
      tool: { name: "3D Slicer", version: "5.6.2" },
      contentHash: sha(annotationFile),
    },
    { dataset, item: i1 },
  );
  await ok(ven, "dataset.contribution.vendor", { kind: "pre-annotation" }, { dataset });
  const s1 = await ok(cur, "dataset.version.sealed", proposeSeal(node.store, nodeCrypto, dataset), {
    dataset,
  });
  await ok(
    cur,
    "dataset.shared",
    { grantee: "university-b.example/log", dataUseAgreement: fakeHash() },
    { dataset, version: s1 },
  );
  // Added after the seal: belongs to version 2, not in a version-1 bundle.
  await ok(
    cur,
    "dataset.item.added",
    { manifestRoot: fakeHash(), instanceCount: 1, sourceInstitution: "hospital-a" },
    { dataset },
  );

  // Access history: a grant, accesses permitted by it and by care, a denial, break-glass and its review.
  await ok(pt, "consent.granted", {
    patient,
    grantee: { kind: "actor", id: "rad-cardio" },
    scope: { kind: "all-imaging" },
    purposes: ["TREAT"],
    period: { start: "2020-01-01T00:00:00.000Z" },
  });
  await ok(t.admin, "care.assigned", {
    patient,
    actor: "rad-neuro",
    period: { start: "2020-01-01T00:00:00.000Z" },
  });
  const gate = async (
    actor: string,
    purpose: "TREAT" | "ETREAT",
    breakGlass?: BreakGlassReason,
  ): Promise<string> => {
    const q: AccessQuery = {
      actor,
      patient,
      part: { kind: "study" as const, id: study },
      purpose,
      time: new Date().toISOString(),
      ...(breakGlass ? { breakGlass: { reason: breakGlass } } : {}),
    };
    const { body, refs } = accessRecordFor(
      q,
      "read",
      decide(node.store, q),
      breakGlass ? { reasonCommitment: fakeHash() } : {},
    );
    return ok(t.institution, "access.recorded", body, refs);
  };
  await gate("rad-cardio", "TREAT");
  await gate("rad-neuro", "TREAT");
  await gate("cur-1", "TREAT");
  // Break-glass by a radiologist (technologists are not in the default break-glass policy).
  const bg = await gate("rad-cardio", "ETREAT", "urgent-clinical-need");
  await ok(auditor, "access.reviewed", { outcome: "justified" }, { access: bg });
  // The technologist's key is revoked after everything it signed: bundles show it as revoked later.
  await ok(t.admin, "key.revoked", { actorId: "tech-1", keyId: tech.keyId, reason: "left" });
  return { patient, report, trial, subject, dataset, files: filesDir, texts };
}
