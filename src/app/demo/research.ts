/**
 * The research part of the demo: a clinical trial with two subjects, reads and a timepoint
 * correction; a dataset with items from both institutions, annotations, a vendor contribution, a
 * sealed version, sharing with the partner hospital and a model validation.
 */
import { proposeSeal } from "../../domain/datasets/queries.js";
import type { EntryRefs } from "../../core/entry.js";
import { DEMO_ORIGIN, PARTNER_ORIGIN, type DemoContext } from "./context.js";
import type { ClinicalScene } from "./clinical.js";

export async function seedTrial(d: DemoContext, s: ClinicalScene): Promise<void> {
  const node = d.node;
  const { tech, chest, coordinator } = s;
  // A clinical trial with two subjects, reads, and a correction of a timepoint.
  const trial = await d.append(coordinator, "trial.registered", {
    sponsor: "Demo Pharma",
    protocolId: "DEMO-ONC-001",
    title: "Demo oncology imaging substudy",
    timepoints: ["baseline", "week-12"],
  });
  const trialKey = `trial ${trial}`;
  const s1 = await d.append(
    coordinator,
    "trial.subject.enrolled",
    { subject: node.pseudonym("trial-subject", "DEMO-MRN-0002", trialKey), site: "site-001" },
    { trial },
  );
  const s2 = await d.append(
    coordinator,
    "trial.subject.enrolled",
    { subject: node.pseudonym("trial-subject", "DEMO-MRN-0003", trialKey), site: "site-001" },
    { trial },
  );
  const tp = (subject: string, label: string, root: string, refs: EntryRefs = {}): Promise<string> =>
    d.append(
      tech,
      "trial.timepoint.imaged",
      {
        timepoint: label,
        modality: "CT",
        instanceCount: 120,
        manifestRoot: root,
        deidentification: "PS3.15-E-basic",
      },
      { subject, ...refs },
    );
  const s1Base = await tp(s1, "baseline", d.hash("s1 baseline deid"));
  await d.append(
    chest,
    "trial.read.recorded",
    {
      manifestRoot: d.hash("s1 baseline deid"),
      blinded: true,
      measurements: d.hash("s1 baseline measurements"),
      criteria: "RECIST1.1",
      response: "NE",
    },
    { timepoint: s1Base },
  );
  const s2Base = await tp(s2, "baseline", d.hash("s2 baseline deid wrong series"));
  await d.append(
    coordinator,
    "trial.correction",
    {
      reason: "wrong-series",
      timepoint: {
        modality: "CT",
        instanceCount: 118,
        manifestRoot: d.hash("s2 baseline deid"),
        deidentification: "PS3.15-E-basic",
      },
    },
    { corrects: s2Base },
  );
  await tp(s1, "week-12", d.hash("s1 week-12 deid"));
  // The sponsor's monitor: staff of Demo Pharma, who reads Demo Pharma's trials here and no other's.
  await d.enrol("sponsor-monitor-1", {
    kind: "staff",
    roles: ["sponsor"],
    displayName: "Iris Monitor (Demo Pharma)",
    organisation: "Demo Pharma",
  });
}

export async function seedDataset(d: DemoContext, s: ClinicalScene): Promise<void> {
  const node = d.node;
  const { curator, annotator, neuro, vendor } = s;
  const v2 = s.modelV2;
  // A dataset with items from both institutions, annotations, a vendor contribution, a sealed
  // version, sharing with the partner hospital and a model validation.
  const dataset = await d.append(curator, "dataset.created", {
    name: "Demo stroke MR dataset",
    purpose: "TRAIN",
  });
  const item1 = await d.append(
    curator,
    "dataset.item.added",
    {
      manifestRoot: d.hash("dataset item 1 deid"),
      instanceCount: 120,
      modality: "MR",
      sourceInstitution: DEMO_ORIGIN,
      deidentification: "PS3.15-E-basic",
    },
    { dataset },
  );
  const item2 = await d.append(
    curator,
    "dataset.item.added",
    {
      manifestRoot: d.hash("dataset item 2 deid"),
      instanceCount: 96,
      modality: "MR",
      sourceInstitution: PARTNER_ORIGIN,
      deidentification: "PS3.15-E-basic",
    },
    { dataset },
  );
  await d.append(
    annotator,
    "dataset.annotation.added",
    {
      labelSchema: "stroke-lesion-seg",
      kind: "segmentation",
      tool: { name: "3D Slicer", version: "5.6.2" },
      contentHash: d.hash("annotation 1"),
    },
    { dataset, item: item1 },
  );
  await d.append(
    neuro,
    "dataset.annotation.added",
    {
      labelSchema: "stroke-lesion-seg",
      kind: "segmentation",
      tool: { name: "3D Slicer", version: "5.6.2" },
      contentHash: d.hash("annotation 2"),
    },
    { dataset, item: item2 },
  );
  await d.append(
    vendor,
    "dataset.contribution.vendor",
    {
      kind: "pre-annotation",
      product: { name: "BrainLesionNet", version: "2.1.0" },
      contentHash: d.hash("vendor pre-annotations"),
    },
    { dataset },
  );
  const seal = await d.append(
    curator,
    "dataset.version.sealed",
    proposeSeal(node.store, node.crypto, dataset),
    { dataset },
  );
  await d.append(
    curator,
    "dataset.shared",
    { grantee: PARTNER_ORIGIN, dataUseAgreement: d.hash("data use agreement 2026-001"), purpose: "HRESCH" },
    { dataset, version: seal },
  );
  await d.append(
    vendor,
    "model.validation.recorded",
    {
      model: { vendor: "Acme AI", name: "BrainLesionNet", version: "2.2.0" },
      site: "demo-hospital",
      metrics: { auc_permille: 912, sensitivity_permille: 874, cases: 216 },
    },
    { dataset, version: seal, model: v2 },
  );
}
