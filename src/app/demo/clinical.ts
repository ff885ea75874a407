/**
 * The clinical part of the demo: staff and systems, patients, studies, an AI model with two
 * versions, a multi-contributor report with a consultation, an AI-derived finding, sign-off and an
 * amendment, consent grants and a revocation, a care relationship, and the gatekeeper's access
 * records (permits, a denial, a break-glass access awaiting review); and, seeded last, a draft report
 * with three AI findings awaiting a disposition (seedReadingDraft).
 */
import { formatTime } from "../../core/entry.js";
import type { JsonObject } from "../../core/canonical-json.js";
import { decide, type AccessQuery } from "../../domain/consent/decide.js";
import { accessRecordFor } from "../../domain/access/entries.js";
import { justificationCommitment } from "../gatekeeper.js";
import type { HeldKey } from "../keys.js";
import { PARTNER_ORIGIN, studyBody, type DemoContext } from "./context.js";

/** What the research part of the demo builds on. */
export interface ClinicalScene {
  readonly neuro: HeldKey;
  readonly chest: HeldKey;
  readonly tech: HeldKey;
  readonly coordinator: HeldKey;
  readonly curator: HeldKey;
  readonly annotator: HeldKey;
  readonly vendor: HeldKey;
  /** The second model version (validated on the demo dataset). */
  readonly modelV2: string;
  readonly aiEngine: HeldKey;
}

export async function seedClinical(d: DemoContext): Promise<ClinicalScene> {
  const node = d.node;
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
  const access = async (q: Omit<AccessQuery, "time">, justification?: string): Promise<string> => {
    const query: AccessQuery = { ...q, time: now() };
    const decision = decide(node.store, query, node.policy);
    const { body, refs } = accessRecordFor(
      query,
      "read",
      decision,
      justification === undefined
        ? {}
        : { reasonCommitment: justificationCommitment(node, q.patient, justification) },
    );
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
  await access(
    {
      actor: "clin-er-1",
      patient: patientB,
      part: { kind: "report", id: reportB, study: studyB },
      purpose: "ETREAT",
      breakGlass: { reason: "patient-unable-to-consent" },
    },
    "Unconscious after a road traffic accident; prior imaging needed for the trauma CT read.",
  );
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

  return { neuro, chest, tech, coordinator, curator, annotator, vendor, modelV2: v2, aiEngine };
}

/**
 * A report still being read (docs/web.md "Reading"): a follow-up MR of patient A with three AI
 * findings of BrainLesionNet 2.2.0 awaiting the radiologist's disposition, the technologist's
 * technique section, and no consultation yet. Seeded after the rest of the demo, so every earlier
 * entry keeps its place in the log.
 */
export async function seedReadingDraft(d: DemoContext, s: ClinicalScene): Promise<string> {
  const patientA = d.node.pseudonym("patient", "DEMO-MRN-0001");
  const study = await d.append(
    d.institution,
    "study.registered",
    studyBody(d, "DEMO-MRN-0001", 4, "MR", "HEAD"),
  );
  for (const [n, findingCount] of [
    [1, 1],
    [2, 2],
    [3, 1],
  ] as const)
    await d.append(
      s.aiEngine,
      "ai.inference",
      {
        inputManifestRoot: d.hash("1.2.826.0.1.3680043.10.999.4 manifest"),
        outputCommitment: d.hash(`follow-up inference ${n}`),
        node: "gpu-node-1",
        findingCount,
      },
      { model: s.modelV2, study },
    );
  const report = await d.append(s.neuro, "report.opened", { reportKind: "diagnostic" }, { study });
  await d.append(
    s.tech,
    "report.contribution",
    {
      section: "technique",
      role: "technologist",
      contentCommitment: d.node.vault.put(patientA, {
        text: "Follow-up axial FLAIR and DWI without contrast.",
      }).commitment,
      origin: "human",
      modality: "MR",
      bodySystem: "neuro",
    },
    { report },
  );
  return report;
}
