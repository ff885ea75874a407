/**
 * The scene the reports and AI families' tests share: a radiologist of each specialty, a
 * technologist, a clinician and an AI system enrolled, one study, one registered model version and one
 * inference of it on the study.
 */
import type { HeldKey } from "../../src/app/keys.js";
import { fakeHash, fakePseudonym, studyBody } from "./fixtures.js";
import type { TestNode } from "./node.js";
import { getStudy } from "../../src/domain/imaging/state.js";

export interface ReportScene {
  readonly neuro: HeldKey;
  readonly cardio: HeldKey;
  readonly tech: HeldKey;
  readonly clin: HeldKey;
  readonly ai: HeldKey;
  readonly patient: string;
  readonly study: string;
  readonly model: string;
  readonly inference: string;
}

/** Appends an entry that must be admitted; its id. */
export async function admitted(t: TestNode, bytes: Uint8Array): Promise<string> {
  return (await t.node.appender.append(bytes)).leafHash;
}

/** A section's body with a fresh content commitment. */
export const sectionContent = (section: string, role: string, extra: Record<string, string> = {}) => ({
  section,
  role,
  contentCommitment: fakeHash(),
  origin: "human",
  ...extra,
});

/** Registers the scene's AI model version (Acme AI BrainSeg 2.1.0); its id. */
export function registerModel(t: TestNode): Promise<string> {
  return admitted(
    t,
    t.sign(t.admin, "ai.model.registered", {
      vendor: "Acme AI",
      name: "BrainSeg",
      version: "2.1.0",
      artifactHash: fakeHash(),
      regulatoryId: "K999999",
      intendedUse: "brain lesion segmentation",
    }),
  );
}

/**
 * The body of an inference on `study`: its input is the study's manifest root, as the node checks
 * (INFERENCE_INPUT_MISMATCH, docs/families/ai.md).
 */
export function inferenceBody(t: TestNode, study: string, node = "gpu-node-1") {
  const doc = getStudy(t.node.store, study);
  if (!doc) throw new Error(`no study ${study}`);
  return { inputManifestRoot: doc.manifestRoot, outputCommitment: fakeHash(), node };
}

/** Records an inference of `model` on `study` by the AI system `ai`; its id. */
export function recordInference(t: TestNode, ai: HeldKey, model: string, study: string): Promise<string> {
  return admitted(t, t.sign(ai, "ai.inference", inferenceBody(t, study), { model, study }));
}

export async function seedReportScene(t: TestNode): Promise<ReportScene> {
  const neuro = await t.enrol("rad-neuro", ["radiologist"], {
    displayName: "Dr Neuro",
    specialty: "neuroradiology",
  });
  const cardio = await t.enrol("rad-cardio", ["radiologist"], { specialty: "cardiac-imaging" });
  const tech = await t.enrol("tech-1", ["technologist"]);
  const clin = await t.enrol("clin-1", ["clinician"]);
  const ai = await t.enrol("ai-engine", ["ai-system"], { kind: "system" });
  const patient = fakePseudonym();
  const study = await admitted(t, t.sign(t.institution, "study.registered", studyBody(patient)));
  const model = await registerModel(t);
  const inference = await recordInference(t, ai, model, study);
  return { neuro, cardio, tech, clin, ai, patient, study, model, inference };
}
