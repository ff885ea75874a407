/**
 * Provenance checked, not declared (issue 22 §3; docs/families/ai.md, docs/families/reports.md): an
 * inference reads a registered study's images, human content is not an AI output, only the report's
 * attending or a radiologist contributor signs, co-signature and section verification are entries of
 * their own, and the report view shows them with the radiologists' AI dispositions.
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
import { fakeHash, studyBody } from "../../../test/helpers/fixtures.js";
import { getStudy } from "../imaging/state.js";
import type { InferenceDoc } from "../ai/state.js";
import { reportView } from "./queries.js";

let t: TestNode;
let neuro: HeldKey, cardio: HeldKey, ai: HeldKey;
let study: string, model: string, inference: string;

const ok = (bytes: Uint8Array): Promise<string> => admitted(t, bytes);
const refused = (bytes: Uint8Array): Promise<string> => t.refusal(bytes);

beforeEach(async () => {
  t = await makeNode();
  ({ neuro, cardio, ai, study, model, inference } = await seedReportScene(t));
});
afterEach(async () => t.close());

const openReport = (): Promise<string> =>
  ok(t.sign(neuro, "report.opened", { reportKind: "diagnostic" }, { study }));

describe("provenance checked, not declared", () => {
  test("an inference names a registered study and reads its images (INFERENCE_STUDY_REQUIRED, INFERENCE_INPUT_MISMATCH)", async () => {
    const body = inferenceBody(t, study);
    expect(await refused(t.sign(ai, "ai.inference", body, { model }))).toBe("INFERENCE_STUDY_REQUIRED");
    expect(
      await refused(t.sign(ai, "ai.inference", { ...body, inputManifestRoot: fakeHash() }, { model, study })),
    ).toBe("INFERENCE_INPUT_MISMATCH");
    // Another registered study's root is a mismatch too: the input must be this study's images.
    const other = await ok(t.sign(t.institution, "study.registered", studyBody()));
    const otherRoot = getStudy(t.node.store, other)!.manifestRoot;
    expect(
      await refused(t.sign(ai, "ai.inference", { ...body, inputManifestRoot: otherRoot }, { model, study })),
    ).toBe("INFERENCE_INPUT_MISMATCH");
    // One series of the study is a valid input (a model that reads the FLAIR series only).
    const entry = t.node.store.entryByLeafHash(study)!;
    const registered = JSON.parse(Buffer.from(entry.bytes).toString("utf8")) as {
      body: { series: { manifestRoot: string }[] };
    };
    await ok(
      t.sign(
        ai,
        "ai.inference",
        { ...body, inputManifestRoot: registered.body.series[1]!.manifestRoot },
        { model, study },
      ),
    );
  });

  test("human content that is an AI output on the study is refused (AI_CONTENT_AS_HUMAN); as ai-modified naming the finding it is admitted", async () => {
    const report = await openReport();
    const output = (t.node.store.getDoc("ai.inference", inference) as InferenceDoc)
      .outputCommitment as string;
    const human = { ...sectionContent("findings", "radiologist"), contentCommitment: output };
    expect(await refused(t.sign(neuro, "report.contribution", human, { report }))).toBe(
      "AI_CONTENT_AS_HUMAN",
    );
    // AI content already in the report cannot be re-entered as human either.
    const aiSection = { ...sectionContent("measurement", "ai-system"), origin: "ai" };
    await ok(t.sign(ai, "report.contribution", aiSection, { report, inference }));
    expect(
      await refused(
        t.sign(
          neuro,
          "report.contribution",
          { ...human, section: "measurement", contentCommitment: aiSection.contentCommitment },
          { report },
        ),
      ),
    ).toBe("AI_CONTENT_AS_HUMAN");
    // Naming a finding is for AI-derived content only.
    expect(
      await refused(
        t.sign(
          neuro,
          "report.contribution",
          { ...sectionContent("impression", "radiologist"), aiFinding: "f1" },
          { report },
        ),
      ),
    ).toBe("AI_ORIGIN_INVALID");
    const derived = await ok(
      t.sign(
        neuro,
        "report.contribution",
        { ...human, origin: "ai-modified", aiFinding: "lesion-1" },
        { report, inference },
      ),
    );
    const view = reportView(t.node.store, report);
    expect(view.sections.find((s) => s.id === derived)).toMatchObject({
      origin: "ai-modified",
      inference,
      model,
      aiFinding: "lesion-1",
    });
  });

  test("sign-off by an unrelated radiologist is refused (SIGNOFF_NOT_PERMITTED); the attending or a radiologist contributor signs", async () => {
    const report = await openReport();
    const c1 = await ok(
      t.sign(neuro, "report.contribution", sectionContent("findings", "radiologist"), { report }),
    );
    const sign = (who: HeldKey, contributions: string[]) =>
      t.sign(who, "report.signed", { attestation: "final" }, { report, contributions });
    expect(await refused(sign(cardio, [c1]))).toBe("SIGNOFF_NOT_PERMITTED");
    const c2 = await ok(
      t.sign(cardio, "report.contribution", sectionContent("impression", "radiologist"), { report }),
    );
    // Having contributed a radiologist's section, cardio may now sign.
    await ok(sign(cardio, [c1, c2]));
    expect(reportView(t.node.store, report).signOff).toMatchObject({ by: "rad-cardio" });
  });

  test("a resident signs preliminary, the attending verifies the section and co-signs; the view shows both and the AI disposition", async () => {
    const resident = await t.enrol("rad-resident", ["radiologist"], { displayName: "Dr Resident" });
    const report = await openReport();
    const section = await ok(
      t.sign(resident, "report.contribution", sectionContent("findings", "radiologist"), { report }),
    );
    await ok(
      t.sign(
        resident,
        "ai.finding.disposition",
        { disposition: "rejected", findingId: "lesion-2" },
        { inference, report },
      ),
    );
    expect(await refused(t.sign(neuro, "report.cosigned", {}, { report }))).toBe("REPORT_COSIGN_INVALID");
    // The author does not verify their own section; a section of another report is not this one's.
    expect(
      await refused(t.sign(resident, "report.section.verified", {}, { report, contribution: section })),
    ).toBe("SIGNOFF_NOT_PERMITTED");
    await ok(t.sign(neuro, "report.section.verified", {}, { report, contribution: section }));
    expect(
      await refused(t.sign(neuro, "report.section.verified", {}, { report, contribution: section })),
    ).toBe("REPORT_COSIGN_INVALID");
    await ok(
      t.sign(resident, "report.signed", { attestation: "preliminary" }, { report, contributions: [section] }),
    );
    expect(await refused(t.sign(resident, "report.cosigned", {}, { report }))).toBe("SIGNOFF_NOT_PERMITTED");
    expect(await refused(t.sign(cardio, "report.cosigned", {}, { report }))).toBe("SIGNOFF_NOT_PERMITTED");
    await ok(t.sign(neuro, "report.cosigned", {}, { report }));
    expect(await refused(t.sign(neuro, "report.cosigned", {}, { report }))).toBe("REPORT_COSIGN_INVALID");
    const view = reportView(t.node.store, report);
    expect(view.signOff).toMatchObject({ by: "rad-resident", attestation: "preliminary" });
    expect(view.cosignature).toMatchObject({ by: "rad-neuro", byName: "Dr Neuro" });
    expect(view.verifications).toEqual([expect.objectContaining({ contribution: section, by: "rad-neuro" })]);
    expect(view.aiDispositions).toEqual([
      expect.objectContaining({
        inference,
        model,
        disposition: "rejected",
        findingId: "lesion-2",
        by: "rad-resident",
      }),
    ]);
    expect(typeof view.aiDispositions[0]!.time).toBe("string");
  });
});
