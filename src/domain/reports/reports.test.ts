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
import { listReports, modelsUsedInReport, reportView } from "./queries.js";
import type { ReportDoc } from "./state.js";
import { contributionProvenance } from "../fhir/resources.js";
import { fromHex } from "../../core/bytes.js";
import { auditDataDir } from "../../wiring/audit.js";

let t: TestNode;
let neuro: HeldKey, cardio: HeldKey, tech: HeldKey, clin: HeldKey, ai: HeldKey;
let patient: string, study: string, model: string, inference: string;

const content = sectionContent;
const ok = (bytes: Uint8Array): Promise<string> => admitted(t, bytes);
const refused = (bytes: Uint8Array): Promise<string> => t.refusal(bytes);

beforeEach(async () => {
  t = await makeNode();
  ({ neuro, cardio, tech, clin, ai, patient, study, model, inference } = await seedReportScene(t));
});
afterEach(async () => t.close());

async function openReport(): Promise<string> {
  return ok(t.sign(neuro, "report.opened", { reportKind: "diagnostic" }, { study }));
}

describe("reports: multi-contributor workflow", () => {
  test("contributions by several specialists, a consultation, an AI finding, sign-off and an amendment", async () => {
    const report = await openReport();
    const c1 = await ok(
      t.sign(neuro, "report.contribution", content("findings", "radiologist", { bodySystem: "neuro" }), {
        report,
      }),
    );
    const c2 = await ok(
      t.sign(tech, "report.contribution", content("technique", "technologist"), { report }),
    );
    const c3 = await ok(
      t.sign(
        neuro,
        "report.contribution",
        { ...content("findings", "radiologist"), origin: "ai-modified" },
        { report, inference },
      ),
    );
    const c4 = await ok(
      t.sign(
        ai,
        "report.contribution",
        { ...content("measurement", "ai-system"), origin: "ai" },
        { report, inference },
      ),
    );
    const consult = await ok(
      t.sign(
        neuro,
        "consult.requested",
        { to: "rad-cardio", specialty: "cardiac-imaging", questionCommitment: fakeHash() },
        { report },
      ),
    );
    const c5 = await ok(
      t.sign(cardio, "consult.answered", content("consultation-note", "radiologist"), { consult }),
    );
    await ok(t.sign(neuro, "ai.finding.disposition", { disposition: "modified" }, { inference, report }));
    await ok(
      t.sign(
        neuro,
        "report.signed",
        { attestation: "final" },
        { report, contributions: [c1, c2, c3, c4, c5] },
      ),
    );
    const amendment = await ok(
      t.sign(
        neuro,
        "report.amended",
        { ...content("impression", "radiologist"), kind: "amendment", reason: "transcription-error" },
        { report, amends: c1 },
      ),
    );

    const view = reportView(t.node.store, report);
    expect(view.status).toBe("signed");
    expect(view.sections.map((s) => [s.author, s.role, s.section, s.origin])).toEqual([
      ["rad-neuro", "radiologist", "findings", "human"],
      ["tech-1", "technologist", "technique", "human"],
      ["rad-neuro", "radiologist", "findings", "ai-modified"],
      ["ai-engine", "ai-system", "measurement", "ai"],
      ["rad-cardio", "radiologist", "consultation-note", "human"],
    ]);
    expect(view.sections[0]).toMatchObject({ authorName: "Dr Neuro", specialty: "neuroradiology" });
    expect(view.sections[2]!.modelVersion).toMatchObject({
      vendor: "Acme AI",
      name: "BrainSeg",
      version: "2.1.0",
    });
    expect(view.consultations).toEqual([
      expect.objectContaining({ from: "rad-neuro", to: "rad-cardio", status: "answered", answer: c5 }),
    ]);
    expect(view.signOff).toMatchObject({ by: "rad-neuro", byName: "Dr Neuro" });
    expect(view.amendments).toEqual([
      expect.objectContaining({
        id: amendment,
        kind: "amendment",
        amends: c1,
        reason: "transcription-error",
      }),
    ]);
    expect(modelsUsedInReport(t.node.store, report).map((m) => m.version)).toEqual(["2.1.0"]);
    expect(listReports(t.node.store).items).toEqual([{ id: report, study, patient, status: "signed" }]);
  });

  test("sign-off freezes the set: contributions afterwards are refused, amendments are admitted", async () => {
    const report = await openReport();
    const c1 = await ok(t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report }));
    await ok(t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1] }));
    expect(
      await refused(t.sign(neuro, "report.contribution", content("impression", "radiologist"), { report })),
    ).toBe("REPORT_SIGNED");
    expect(
      await refused(
        t.sign(neuro, "consult.requested", { to: "rad-cardio", questionCommitment: fakeHash() }, { report }),
      ),
    ).toBe("REPORT_SIGNED");
    expect(
      await refused(
        t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1] }),
      ),
    ).toBe("REPORT_SIGNED");
    await ok(
      t.sign(
        cardio,
        "report.amended",
        { ...content("impression", "radiologist"), kind: "addendum", reason: "late-finding" },
        { report },
      ),
    );
  });

  test("sign-off must list exactly the report's contributions", async () => {
    const report = await openReport();
    const other = await openReport();
    const c1 = await ok(t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report }));
    const c2 = await ok(
      t.sign(neuro, "report.contribution", content("impression", "radiologist"), { report }),
    );
    const foreign = await ok(
      t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report: other }),
    );
    expect(
      await refused(
        t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1] }),
      ),
    ).toBe("REPORT_CONTRIBUTIONS_MISMATCH");
    expect(
      await refused(
        t.sign(
          neuro,
          "report.signed",
          { attestation: "final" },
          { report, contributions: [c1, c2, foreign] },
        ),
      ),
    ).toBe("REPORT_CONTRIBUTIONS_MISMATCH");
    expect(
      await refused(
        t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1, c1, c2] }),
      ),
    ).toBe("REPORT_CONTRIBUTIONS_MISMATCH");
    expect(
      await refused(
        t.sign(tech, "report.signed", { attestation: "final" }, { report, contributions: [c1, c2] }),
      ),
    ).toBe("ROLE_NOT_PERMITTED");
    await ok(t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c2, c1] }));
  });

  test("only fitting roles contribute: role held, section allowed for the role", async () => {
    const report = await openReport();
    expect(
      await refused(t.sign(tech, "report.contribution", content("impression", "technologist"), { report })),
    ).toBe("SECTION_NOT_PERMITTED");
    expect(
      await refused(t.sign(tech, "report.contribution", content("findings", "radiologist"), { report })),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(
      await refused(t.sign(clin, "report.contribution", content("findings", "clinician"), { report })),
    ).toBe("SECTION_NOT_PERMITTED");
    expect(
      await refused(t.sign(t.admin, "report.contribution", content("findings", "radiologist"), { report })),
    ).toBe("ROLE_NOT_PERMITTED");
    await ok(t.sign(clin, "report.contribution", content("history", "clinician"), { report }));
  });

  test("AI-derived content must cite an inference of an active model on the same study", async () => {
    const report = await openReport();
    expect(
      await refused(
        t.sign(
          neuro,
          "report.contribution",
          { ...content("findings", "radiologist"), origin: "ai" },
          { report },
        ),
      ),
    ).toBe("AI_INFERENCE_REQUIRED");
    expect(
      await refused(
        t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report, inference }),
      ),
    ).toBe("AI_ORIGIN_INVALID");
    expect(
      await refused(
        t.sign(
          ai,
          "report.contribution",
          { ...content("findings", "ai-system"), origin: "ai-modified" },
          { report, inference },
        ),
      ),
    ).toBe("AI_ORIGIN_INVALID");
    expect(
      await refused(
        t.sign(
          neuro,
          "report.contribution",
          { ...content("findings", "radiologist"), origin: "ai" },
          { report, inference: study },
        ),
      ),
    ).toBe("ENTRY_REF_WRONG_TYPE");
    const otherStudy = await ok(t.sign(t.institution, "study.registered", studyBody()));
    const otherInference = await ok(
      t.sign(ai, "ai.inference", inferenceBody(t, otherStudy, "gpu"), { model, study: otherStudy }),
    );
    expect(
      await refused(
        t.sign(
          neuro,
          "report.contribution",
          { ...content("findings", "radiologist"), origin: "ai" },
          { report, inference: otherInference },
        ),
      ),
    ).toBe("AI_INFERENCE_WRONG_STUDY");
    await ok(t.sign(t.admin, "ai.model.retired", { reason: "safety-issue" }, { model }));
    expect(
      await refused(
        t.sign(
          neuro,
          "report.contribution",
          { ...content("findings", "radiologist"), origin: "ai" },
          { report, inference },
        ),
      ),
    ).toBe("MODEL_RETIRED");
    expect(await refused(t.sign(ai, "ai.inference", inferenceBody(t, study, "gpu"), { model, study }))).toBe(
      "MODEL_RETIRED",
    );
  });

  test("consultations: only the consultant asked answers, once; open consultations block sign-off", async () => {
    const report = await openReport();
    const c1 = await ok(t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report }));
    expect(
      await refused(
        t.sign(neuro, "consult.requested", { to: "rad-neuro", questionCommitment: fakeHash() }, { report }),
      ),
    ).toBe("CONSULT_INVALID");
    expect(
      await refused(
        t.sign(neuro, "consult.requested", { to: "tech-1", questionCommitment: fakeHash() }, { report }),
      ),
    ).toBe("ACTOR_UNKNOWN");
    const consult = await ok(
      t.sign(neuro, "consult.requested", { to: "rad-cardio", questionCommitment: fakeHash() }, { report }),
    );
    expect(
      await refused(
        t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1] }),
      ),
    ).toBe("CONSULT_OPEN");
    expect(
      await refused(
        t.sign(neuro, "consult.answered", content("consultation-note", "radiologist"), { consult }),
      ),
    ).toBe("CONSULT_WRONG_ANSWERER");
    const answer = await ok(
      t.sign(cardio, "consult.answered", content("consultation-note", "radiologist"), { consult }),
    );
    expect(
      await refused(
        t.sign(cardio, "consult.answered", content("consultation-note", "radiologist"), { consult }),
      ),
    ).toBe("CONSULT_ALREADY_ANSWERED");
    await ok(
      t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1, answer] }),
    );
  });

  test("amendments only on signed reports, referencing a contribution of the same report", async () => {
    const report = await openReport();
    const other = await openReport();
    const c1 = await ok(t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report }));
    const o1 = await ok(
      t.sign(neuro, "report.contribution", content("findings", "radiologist"), { report: other }),
    );
    const amend = { ...content("findings", "radiologist"), kind: "amendment", reason: "correction" };
    expect(await refused(t.sign(neuro, "report.amended", amend, { report, amends: c1 }))).toBe(
      "REPORT_NOT_SIGNED",
    );
    await ok(t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions: [c1] }));
    expect(await refused(t.sign(neuro, "report.amended", amend, { report }))).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refused(t.sign(neuro, "report.amended", amend, { report, amends: o1 }))).toBe(
      "ENTRY_REF_WRONG_TYPE",
    );
    await ok(t.sign(neuro, "report.amended", amend, { report, amends: c1 }));
  });
});

describe("reports: content entered on a clinician's behalf names both", () => {
  test("an integration signs a section for a radiologist: the entry, the report view and FHIR Provenance name both", async () => {
    const ris = await t.enrol("ris-1", ["integration"], { kind: "system", displayName: "RIS bridge" });
    const report = await openReport();
    const id = await ok(
      t.sign(
        ris,
        "report.contribution",
        { ...content("findings", "radiologist"), onBehalfOf: "rad-neuro" },
        { report },
      ),
    );
    // The entry: signed by the system (envelope actor), naming the clinician (body).
    const entry = JSON.parse(
      new TextDecoder().decode(t.node.store.readEntry(t.node.store.indexOfLeafHash(fromHex(id))!)!.bytes),
    ) as { actor: string; body: { onBehalfOf: string } };
    expect(entry).toMatchObject({ actor: "ris-1", body: { onBehalfOf: "rad-neuro" } });
    // The query: the clinician is the author, the system entered it.
    const section = reportView(t.node.store, report).sections[0]!;
    expect(section).toMatchObject({
      id,
      author: "rad-neuro",
      authorName: "Dr Neuro",
      enteredBy: "ris-1",
      enteredByName: "RIS bridge",
      role: "radiologist",
      specialty: "neuroradiology",
    });
    // FHIR Provenance: the clinician as author; the system as enterer on the clinician's behalf.
    const doc = t.node.store.getDoc("report", report) as ReportDoc;
    const provenance = contributionProvenance(doc, doc.contributions[0]!, "Dr Neuro", "RIS bridge");
    expect(
      provenance.agent.map((a) => ({
        type: a.type?.coding?.[0]?.code,
        who: a.who.identifier?.value,
        onBehalfOf: a.onBehalfOf?.identifier?.value,
      })),
    ).toEqual([
      { type: "author", who: "rad-neuro", onBehalfOf: undefined },
      { type: "enterer", who: "ris-1", onBehalfOf: "rad-neuro" },
    ]);
    // A contribution without delegation has no enterer.
    await ok(t.sign(tech, "report.contribution", content("technique", "technologist"), { report }));
    expect(reportView(t.node.store, report).sections[1]!.enteredBy).toBeUndefined();
    // After sign-off, an addendum entered on the radiologist's behalf names both as well.
    const contributions = reportView(t.node.store, report).sections.map((x) => x.id);
    await ok(t.sign(neuro, "report.signed", { attestation: "final" }, { report, contributions }));
    const addendum = await ok(
      t.sign(
        ris,
        "report.amended",
        {
          ...content("impression", "radiologist"),
          kind: "addendum",
          reason: "late-finding",
          onBehalfOf: "rad-neuro",
        },
        { report },
      ),
    );
    expect(reportView(t.node.store, report).amendments[0]).toMatchObject({
      id: addendum,
      kind: "addendum",
      author: "rad-neuro",
      enteredBy: "ris-1",
    });
    await t.node.ledger.idle();
    expect(await auditDataDir(t.dir, { threads: 0 })).toMatchObject({ ok: true });
  });

  test("only an integration acts for someone, only for an active clinician who holds the role and may author the section", async () => {
    const ris = await t.enrol("ris-1", ["integration"], { kind: "system" });
    const staffIntegration = await t.enrol("bridge-staff", ["integration"]);
    await t.enrol("pt-1", ["patient"], { patient: patient });
    const report = await openReport();
    const forNeuro = { ...content("findings", "radiologist"), onBehalfOf: "rad-neuro" };
    // A person may not sign on another's behalf, nor a system without the integration role.
    expect(await refused(t.sign(cardio, "report.contribution", forNeuro, { report }))).toBe(
      "DELEGATION_NOT_PERMITTED",
    );
    expect(await refused(t.sign(staffIntegration, "report.contribution", forNeuro, { report }))).toBe(
      "DELEGATION_NOT_PERMITTED",
    );
    expect(
      await refused(
        t.sign(
          ai,
          "report.contribution",
          { ...forNeuro, role: "ai-system", section: "measurement", origin: "ai" },
          {
            report,
            inference,
          },
        ),
      ),
    ).toBe("DELEGATION_NOT_PERMITTED");
    // Only for an active enrolled clinician (staff), who holds the role, which authors the section.
    for (const who of ["nobody", "pt-1", "ai-engine"])
      expect(
        await refused(t.sign(ris, "report.contribution", { ...forNeuro, onBehalfOf: who }, { report })),
      ).toBe("DELEGATION_NOT_PERMITTED");
    expect(
      await refused(
        t.sign(
          ris,
          "report.contribution",
          { ...content("findings", "radiologist"), onBehalfOf: "clin-1" },
          { report },
        ),
      ),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(
      await refused(
        t.sign(
          ris,
          "report.contribution",
          { ...content("findings", "clinician"), onBehalfOf: "clin-1" },
          { report },
        ),
      ),
    ).toBe("SECTION_NOT_PERMITTED");
    // Without onBehalfOf, an integration contributes nothing of its own.
    expect(
      await refused(t.sign(ris, "report.contribution", content("findings", "radiologist"), { report })),
    ).toBe("ROLE_NOT_PERMITTED");
    await ok(
      t.sign(
        ris,
        "report.contribution",
        { ...content("history", "clinician"), onBehalfOf: "clin-1" },
        { report },
      ),
    );
  });
});
