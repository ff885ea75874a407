/**
 * AI provenance family: model registration, inference, the recall query (through reports and their
 * amendments) and who may sign (docs/families/ai.md).
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { HeldKey } from "../../app/keys.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import {
  admitted,
  inferenceBody,
  sectionContent,
  seedReportScene,
} from "../../../test/helpers/report-scene.js";
import { fakeHash, fakePseudonym, studyBody } from "../../../test/helpers/fixtures.js";
import { aiRecall, listModels } from "./queries.js";

let t: TestNode;
let neuro: HeldKey, tech: HeldKey, ai: HeldKey;
let patient: string, study: string, model: string, inference: string;

const content = sectionContent;
const ok = (bytes: Uint8Array): Promise<string> => admitted(t, bytes);
const refused = (bytes: Uint8Array): Promise<string> => t.refusal(bytes);

beforeEach(async () => {
  t = await makeNode();
  ({ neuro, tech, ai, patient, study, model, inference } = await seedReportScene(t));
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
      t.sign(ai, "ai.inference", inferenceBody(t, studyB, "gpu"), { model, study: studyB }),
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
          reason: "ai-revision",
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
    await ok(t.sign(ai, "ai.inference", inferenceBody(t, studyC, "gpu"), { model: other, study: studyC }));

    const recall = aiRecall(t.node.store, { vendor: "Acme AI", name: "BrainSeg", version: "2.1.0" });
    expect(new Set(recall.reports)).toEqual(new Set([reportA, reportB]));
    expect(new Set(recall.studies)).toEqual(new Set([study, studyB]));
    expect(new Set(recall.patients)).toEqual(new Set([patient, patientB]));
    expect(aiRecall(t.node.store, { id: other }).studies).toEqual([studyC]);
    expect(listModels(t.node.store).items.map((m) => m.version)).toEqual(["2.1.0", "2.2.0"]);
  });

  test("a disposition naming a signed report is refused (REPORT_SIGNED); before sign-off, or naming no report, it is admitted", async () => {
    const report = await openReport();
    await ok(t.sign(neuro, "ai.finding.disposition", { disposition: "accepted" }, { inference, report }));
    const c1 = await ok(t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report }));
    await ok(t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1] }));
    expect(
      await refused(
        t.sign(neuro, "ai.finding.disposition", { disposition: "rejected" }, { inference, report }),
      ),
    ).toBe("REPORT_SIGNED");
    await ok(t.sign(neuro, "ai.finding.disposition", { disposition: "rejected" }, { inference }));
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
