/**
 * AI provenance family: model registration, inference, the recall query (through reports and their
 * amendments) and who may sign (docs/families/ai.md).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { RadledgerError } from "../../core/errors.js";
import type { HeldKey } from "../../app/keys.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { fakeHash, fakePseudonym, studyBody } from "../../../test/helpers/fixtures.js";
import { aiRecall, listModels } from "./queries.js";

let t: TestNode;
let neuro: HeldKey, tech: HeldKey, ai: HeldKey;
let patient: string, study: string, model: string, inference: string;

const content = (section: string, role: string, extra: Record<string, string> = {}) => ({
  section,
  role,
  contentCommitment: fakeHash(),
  origin: "human",
  ...extra,
});

async function ok(bytes: Uint8Array): Promise<string> {
  return (await t.node.appender.append(bytes)).leafHash;
}

async function refused(bytes: Uint8Array): Promise<string> {
  const size = t.node.ledger.size;
  const [r] = await t.node.appender.appendAll([bytes]);
  expect(r!.ok).toBe(false);
  expect(t.node.ledger.size).toBe(size);
  return (r as { error: RadledgerError }).error.code;
}

beforeEach(async () => {
  t = await makeNode();
  neuro = await t.enrol("rad-neuro", ["radiologist"], {
    displayName: "Dr Neuro",
    specialty: "neuroradiology",
  });
  await t.enrol("rad-cardio", ["radiologist"], { specialty: "cardiac-imaging" });
  tech = await t.enrol("tech-1", ["technologist"]);
  await t.enrol("clin-1", ["clinician"]);
  ai = await t.enrol("ai-engine", ["ai-system"], { kind: "system" });
  patient = fakePseudonym();
  study = await ok(t.sign(t.institution, "study.registered", studyBody(patient)));
  model = await ok(
    t.sign(t.admin, "ai.model.registered", {
      vendor: "Acme AI",
      name: "BrainSeg",
      version: "2.1.0",
      artifactHash: fakeHash(),
      regulatoryId: "K999999",
      intendedUse: "brain lesion segmentation",
    }),
  );
  inference = await ok(
    t.sign(
      ai,
      "ai.inference",
      { inputManifestRoot: fakeHash(), outputCommitment: fakeHash(), node: "gpu-node-1" },
      { model, study },
    ),
  );
});
afterEach(async () => t.close());

async function openReport(): Promise<string> {
  return ok(t.sign(neuro, "report.opened", { reportKind: "diagnostic" }, { study }));
}

describe("AI provenance", () => {
  test("the recall query finds every report, study and patient of a model version, including through amendments", async () => {
    const reportA = await openReport();
    await ok(
      t.sign(
        neuro,
        "report.contribution",
        { ...content("findings", "radiologist"), origin: "ai" },
        { report: reportA, inference },
      ),
    );
    // A second patient: the model's output enters only through an amendment of a signed report.
    const patientB = fakePseudonym();
    const studyB = await ok(t.sign(t.institution, "study.registered", studyBody(patientB)));
    const inferenceB = await ok(
      t.sign(
        ai,
        "ai.inference",
        { inputManifestRoot: fakeHash(), outputCommitment: fakeHash(), node: "gpu" },
        { model },
      ),
    );
    const reportB = await ok(t.sign(neuro, "report.opened", { reportKind: "diagnostic" }, { study: studyB }));
    const b1 = await ok(
      t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report: reportB }),
    );
    await ok(
      t.sign(neuro, "report.signed", { attestation: "final" }, { report: reportB, contributions: [b1] }),
    );
    await ok(
      t.sign(
        neuro,
        "report.amended",
        {
          ...content("findings", "radiologist"),
          origin: "ai-modified",
          kind: "addendum",
          reason: "ai-review",
        },
        { report: reportB, inference: inferenceB },
      ),
    );
    // An unrelated model and report must not appear.
    const other = await ok(
      t.sign(t.admin, "ai.model.registered", {
        vendor: "Acme AI",
        name: "BrainSeg",
        version: "2.2.0",
        artifactHash: fakeHash(),
        intendedUse: "brain lesion segmentation",
      }),
    );
    const studyC = await ok(t.sign(t.institution, "study.registered", studyBody()));
    await ok(
      t.sign(
        ai,
        "ai.inference",
        { inputManifestRoot: fakeHash(), outputCommitment: fakeHash(), node: "gpu" },
        { model: other, study: studyC },
      ),
    );

    const recall = aiRecall(t.node.store, { vendor: "Acme AI", name: "BrainSeg", version: "2.1.0" });
    expect(new Set(recall.reports)).toEqual(new Set([reportA, reportB]));
    expect(new Set(recall.studies)).toEqual(new Set([study, studyB]));
    expect(new Set(recall.patients)).toEqual(new Set([patient, patientB]));
    expect(aiRecall(t.node.store, { id: other }).studies).toEqual([studyC]);
    expect(listModels(t.node.store).items.map((m) => m.version)).toEqual(["2.1.0", "2.2.0"]);
  });

  test("model registration is unique per vendor, name and version; only admins, vendors and the institution register", async () => {
    expect(
      await refused(
        t.sign(t.admin, "ai.model.registered", {
          vendor: "Acme AI",
          name: "BrainSeg",
          version: "2.1.0",
          artifactHash: fakeHash(),
          intendedUse: "x",
        }),
      ),
    ).toBe("MODEL_ALREADY_REGISTERED");
    expect(
      await refused(
        t.sign(neuro, "ai.model.registered", {
          vendor: "Acme AI",
          name: "Other",
          version: "1",
          artifactHash: fakeHash(),
          intendedUse: "x",
        }),
      ),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(
      await refused(
        t.sign(
          neuro,
          "ai.inference",
          { inputManifestRoot: fakeHash(), outputCommitment: fakeHash(), node: "gpu" },
          { model, study },
        ),
      ),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(
      await refused(t.sign(tech, "ai.finding.disposition", { disposition: "accepted" }, { inference })),
    ).toBe("ROLE_NOT_PERMITTED");
  });
});
