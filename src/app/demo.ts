/**
 * The demo scenario (issue: record families), seeded through the real append path: every entry is
 * signed by its actor's key and admitted by the same rules as in production. Demo actors' keys are
 * held by the node (DIR/keys/actors) so the demo can be explored from the CLI and the API.
 *
 * Two institutions: the demo log (Demo Hospital) and a partner hospital with a log of its own in
 * DIR/partner. Everything is synthetic: identifiers are invented ("DEMO-MRN-…", UIDs under a made-up
 * root) and only their keyed pseudonyms reach the ledger; report text goes to the vault.
 */
import { join } from "node:path";
import { toBase64, toHex, utf8 } from "../core/bytes.js";
import { actorKeyId, formatTime, type EntryRefs } from "../core/entry.js";
import type { JsonObject } from "../core/canonical-json.js";
import { INSTITUTION_ACTOR } from "../domain/identity/state.js";
import { decide, type AccessQuery } from "../domain/consent/decide.js";
import { accessRecordFor } from "../domain/access/entries.js";
import { proposeSeal } from "../domain/datasets/queries.js";
import { readActorKey, signAs, writeActorKey, type HeldKey } from "./keys.js";
import { initDataDir } from "./init.js";
import { openNode, type RadledgerNode } from "./node.js";

export const DEMO_ORIGIN = "radledger.demo-hospital.example/log";
export const PARTNER_ORIGIN = "radledger.partner-hospital.example/log";

export interface DemoContext {
  readonly node: RadledgerNode;
  readonly admin: HeldKey;
  readonly institution: HeldKey;
  enrol(actorId: string, body: JsonObject): Promise<HeldKey>;
  append(key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs): Promise<string>;
  /** SHA-256 of a label, for synthetic manifest roots and content hashes. */
  hash(label: string): string;
}

export function demoContext(node: RadledgerNode): DemoContext {
  const admin = readActorKey(node.crypto, node.dir, "admin")!;
  const institution: HeldKey = {
    actor: INSTITUTION_ACTOR,
    seed: node.logKey.seed,
    publicKey: node.logKey.publicKey,
    keyId: actorKeyId(node.crypto, node.logKey.publicKey),
  };
  const ctx: DemoContext = {
    node,
    admin,
    institution,
    async enrol(actorId, body) {
      const seed = node.crypto.randomBytes(32);
      writeActorKey(node.dir, actorId, seed);
      const publicKey = node.crypto.ed25519PublicKey(seed);
      await ctx.append(admin, "actor.enrolled", { actorId, publicKey: toBase64(publicKey), ...body });
      return { actor: actorId, seed, publicKey, keyId: actorKeyId(node.crypto, publicKey) };
    },
    async append(key, type, body, refs) {
      const bytes = signAs(node.crypto, key, node.config.origin, type, body, refs ? { refs } : {});
      return (await node.ledger.appendOne(bytes)).leafHash;
    },
    hash: (label) => toHex(node.crypto.sha256(utf8(`demo/${label}`))),
  };
  return ctx;
}

/** A study as ingest would register it: keyed pseudonyms of invented UIDs, synthetic manifest roots. */
function studyBody(d: DemoContext, mrn: string, n: number, modality: string, bodyPart: string): JsonObject {
  const uid = `1.2.826.0.1.3680043.10.999.${n}`;
  const series = [1, 2].map((s) => ({
    seriesKey: d.node.pseudonym("series", `${uid}.${s}`),
    modality,
    bodyPart,
    instanceCount: 40 * s,
    manifestRoot: d.hash(`${uid}.${s} manifest`),
  }));
  return {
    studyKey: d.node.pseudonym("study", uid),
    patient: d.node.pseudonym("patient", mrn),
    modalities: [modality],
    bodyPart,
    series,
    instanceCount: 120,
    manifestRoot: d.hash(`${uid} manifest`),
    source: { kind: "pacs", name: "orthanc-main" },
  };
}

export async function seedDemo(node: RadledgerNode): Promise<string> {
  const d = demoContext(node);
  const now = (): string => formatTime(Date.now());
  const text = (patient: string, value: string): string =>
    node.vault.put(patient, { text: value }).commitment;

  // People and systems of Demo Hospital.
  const neuro = await d.enrol("rad-neuro-1", {
    kind: "staff",
    roles: ["radiologist"],
    displayName: "Dr Ada Neuro",
    specialty: "neuroradiology",
  });
  const cardio = await d.enrol("rad-cardio-1", {
    kind: "staff",
    roles: ["radiologist"],
    displayName: "Dr Ben Cardio",
    specialty: "cardiac-imaging",
  });
  const chest = await d.enrol("rad-chest-1", {
    kind: "staff",
    roles: ["radiologist"],
    displayName: "Dr Cleo Chest",
    specialty: "thoracic-imaging",
  });
  const tech = await d.enrol("tech-1", { kind: "staff", roles: ["technologist"], displayName: "Chris Tech" });
  const clinician = await d.enrol("clin-er-1", {
    kind: "staff",
    roles: ["clinician"],
    displayName: "Dr Eve Emergency",
    specialty: "emergency-medicine",
  });
  await d.enrol("auditor-1", { kind: "staff", roles: ["auditor"], displayName: "Dana Audit" });
  const coordinator = await d.enrol("trial-coord-1", {
    kind: "staff",
    roles: ["trial-coordinator"],
    displayName: "Finn Trials",
  });
  const curator = await d.enrol("curator-1", { kind: "staff", roles: ["curator"], displayName: "Gia Data" });
  const annotator = await d.enrol("annotator-1", {
    kind: "staff",
    roles: ["annotator"],
    displayName: "Hal Labels",
  });
  const vendor = await d.enrol("vendor-acme", {
    kind: "system",
    roles: ["vendor"],
    displayName: "Acme AI (vendor)",
  });
  const aiEngine = await d.enrol("ai-engine-1", {
    kind: "system",
    roles: ["ai-system"],
    displayName: "AI orchestrator",
  });
  await d.enrol("researcher-1", { kind: "staff", roles: ["researcher"], displayName: "Ivy Research" });

  // Patients (invented record numbers; only pseudonyms are written) — two of them hold their own keys.
  const patientA = node.pseudonym("patient", "DEMO-MRN-0001");
  const patientB = node.pseudonym("patient", "DEMO-MRN-0002");
  const patientC = node.pseudonym("patient", "DEMO-MRN-0003");
  const ptA = await d.enrol("patient-0001", { kind: "patient", roles: ["patient"], patient: patientA });
  const ptB = await d.enrol("patient-0002", { kind: "patient", roles: ["patient"], patient: patientB });

  // Imaging.
  const studyA = await d.append(
    d.institution,
    "study.registered",
    studyBody(d, "DEMO-MRN-0001", 1, "MR", "HEAD"),
  );
  const studyB = await d.append(
    d.institution,
    "study.registered",
    studyBody(d, "DEMO-MRN-0002", 2, "CT", "CHEST"),
  );
  const studyC = await d.append(tech, "study.registered", studyBody(d, "DEMO-MRN-0003", 3, "CT", "CHEST"));

  // An AI model with two versions; inferences by the orchestrator.
  const model = {
    vendor: "Acme AI",
    name: "BrainLesionNet",
    intendedUse: "detection of acute intracranial lesions on MR",
    regulatoryId: "K000000-DEMO",
  };
  const v1 = await d.append(vendor, "ai.model.registered", {
    ...model,
    version: "2.1.0",
    artifactHash: d.hash("brainlesionnet-2.1.0"),
    modalities: ["MR"],
  });
  const v2 = await d.append(vendor, "ai.model.registered", {
    ...model,
    version: "2.2.0",
    artifactHash: d.hash("brainlesionnet-2.2.0"),
    modalities: ["MR"],
  });
  const inferenceA = await d.append(
    aiEngine,
    "ai.inference",
    {
      inputManifestRoot: d.hash("1.2.826.0.1.3680043.10.999.1 manifest"),
      outputCommitment: d.hash("inference A"),
      node: "gpu-node-1",
      findingCount: 1,
    },
    { model: v1, study: studyA },
  );

  // A multi-contributor report with a consultation and an AI-derived finding, signed and amended.
  const report = await d.append(neuro, "report.opened", { reportKind: "diagnostic" }, { study: studyA });
  const content = (section: string, role: string, value: string, origin = "human"): JsonObject => ({
    section,
    role,
    contentCommitment: text(patientA, value),
    origin,
    modality: "MR",
    bodySystem: "neuro",
  });
  const c1 = await d.append(
    tech,
    "report.contribution",
    content("technique", "technologist", "Axial T1, T2, FLAIR and DWI without contrast."),
    { report },
  );
  const c2 = await d.append(
    neuro,
    "report.contribution",
    content(
      "findings",
      "radiologist",
      "A 6 mm focus of restricted diffusion in the left corona radiata.",
      "ai-modified",
    ),
    { report, inference: inferenceA },
  );
  await d.append(
    neuro,
    "ai.finding.disposition",
    { disposition: "modified", findingId: "lesion-1" },
    { inference: inferenceA, report },
  );
  const c3 = await d.append(
    aiEngine,
    "report.contribution",
    content("measurement", "ai-system", "Lesion volume 0.11 mL.", "ai"),
    { report, inference: inferenceA },
  );
  const consult = await d.append(
    neuro,
    "consult.requested",
    {
      to: "rad-cardio-1",
      specialty: "cardiac-imaging",
      questionCommitment: text(patientA, "Is a cardioembolic source plausible on the available imaging?"),
    },
    { report },
  );
  const c4 = await d.append(
    cardio,
    "consult.answered",
    {
      ...content(
        "consultation-note",
        "radiologist",
        "No cardiac imaging available; recommend echocardiography.",
      ),
      modality: "MR",
    },
    { consult },
  );
  const c5 = await d.append(
    neuro,
    "report.contribution",
    content("impression", "radiologist", "Small acute infarct in the left corona radiata."),
    { report },
  );
  await d.append(
    neuro,
    "report.signed",
    { attestation: "final" },
    { report, contributions: [c1, c2, c3, c4, c5] },
  );
  await d.append(
    neuro,
    "report.amended",
    {
      ...content(
        "impression",
        "radiologist",
        "Small acute lacunar infarct in the left corona radiata; no haemorrhage.",
      ),
      kind: "amendment",
      reason: "clarification",
    },
    { report, amends: c5 },
  );
  // A second report, on the chest CT of patient B, by the thoracic radiologist.
  const reportB = await d.append(chest, "report.opened", { reportKind: "diagnostic" }, { study: studyB });
  const b0 = await d.append(
    clinician,
    "report.contribution",
    {
      section: "history",
      role: "clinician",
      contentCommitment: text(patientB, "Fever and productive cough for three days."),
      origin: "human",
    },
    { report: reportB },
  );
  const b1 = await d.append(
    chest,
    "report.contribution",
    {
      section: "findings",
      role: "radiologist",
      contentCommitment: text(patientB, "Right lower lobe consolidation."),
      origin: "human",
      modality: "CT",
      bodySystem: "chest",
    },
    { report: reportB },
  );
  await d.append(
    chest,
    "report.signed",
    { attestation: "final" },
    { report: reportB, contributions: [b0, b1] },
  );

  // Consent: grants by patients themselves, one on the patient's documented behalf, and a revocation.
  const period = { start: now() };
  await d.append(
    ptA,
    "consent.granted",
    {
      patient: patientA,
      grantee: { kind: "institution", id: PARTNER_ORIGIN },
      scope: { kind: "study" },
      purposes: ["TREAT"],
      period,
    },
    { study: studyA },
  );
  await d.append(ptA, "consent.granted", {
    patient: patientA,
    grantee: { kind: "actor", id: "rad-cardio-1" },
    scope: { kind: "reports-only" },
    purposes: ["TREAT", "PATRQT"],
    period,
  });
  const grantToClinician = await d.append(ptB, "consent.granted", {
    patient: patientB,
    grantee: { kind: "actor", id: "clin-er-1" },
    scope: { kind: "all-imaging" },
    purposes: ["TREAT"],
    period,
  });
  await d.append(d.admin, "consent.granted", {
    patient: patientC,
    grantee: { kind: "actor", id: "rad-chest-1" },
    scope: { kind: "all-imaging" },
    purposes: ["TREAT"],
    period,
    onBehalf: { documentCommitment: text(patientC, "Signed consent form, scanned"), reason: "paper-form" },
  });
  await d.append(ptB, "consent.revoked", { reason: "patient-request" }, { grant: grantToClinician });
  await d.append(d.admin, "care.assigned", {
    patient: patientA,
    actor: "rad-neuro-1",
    relationship: "attending",
    period,
  });

  // Accesses, each decided and recorded by the gatekeeper (the institution key): permits by consent
  // and by care, a denial after the revocation, and a break-glass access awaiting review.
  const access = async (q: Omit<AccessQuery, "time">): Promise<string> => {
    const query: AccessQuery = { ...q, time: now() };
    const decision = decide(node.store, query);
    const { body, refs } = accessRecordFor(query, "read", decision);
    return d.append(d.institution, "access.recorded", body, refs);
  };
  await access({
    actor: "rad-neuro-1",
    patient: patientA,
    part: { kind: "study", id: studyA },
    purpose: "TREAT",
  });
  await access({
    actor: "rad-cardio-1",
    patient: patientA,
    part: { kind: "report", id: report, study: studyA },
    purpose: "TREAT",
  });
  await access({
    actor: "clin-er-1",
    patient: patientB,
    part: { kind: "study", id: studyB },
    purpose: "TREAT",
  });
  await access({
    actor: "clin-er-1",
    patient: patientB,
    part: { kind: "report", id: reportB, study: studyB },
    purpose: "ETREAT",
    breakGlass: { reason: "unconscious-patient" },
  });
  await access({
    actor: "patient-0001",
    patient: patientA,
    part: { kind: "report", id: report, study: studyA },
    purpose: "PATRQT",
  });
  await access({
    actor: "rad-chest-1",
    patient: patientC,
    part: { kind: "study", id: studyC },
    purpose: "TREAT",
  });

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

  await seedPartner(node.dir);
  return `${node.ledger.size} entries`;
}

/** The partner hospital: a second institution with its own log, key and staff. */
async function seedPartner(dir: string): Promise<void> {
  const partnerDir = join(dir, "partner");
  await initDataDir(partnerDir, { origin: PARTNER_ORIGIN, institutionName: "Partner Hospital" });
  const partner = openNode(partnerDir, { verifyThreads: 0 });
  try {
    const d = demoContext(partner);
    await d.enrol("rad-msk-1", {
      kind: "staff",
      roles: ["radiologist"],
      displayName: "Dr Kai Bones",
      specialty: "musculoskeletal-imaging",
    });
    await d.append(d.institution, "study.registered", studyBody(d, "PARTNER-MRN-0101", 101, "MR", "KNEE"));
  } finally {
    await partner.close();
  }
}
