import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { Hl7Message } from "@medplum/core";
import { nodeCrypto as crypto } from "../../adapters/node-crypto/crypto.js";
import { fromUtf8, toBase64 } from "../../core/bytes.js";
import { studyBody } from "../../../test/helpers/fixtures.js";
import { reportView } from "../../domain/reports/queries.js";
import type { ReportDoc } from "../../domain/reports/state.js";
import { signOffProvenance } from "../../domain/fhir/resources.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { admitted, sectionContent, seedReportScene } from "../../../test/helpers/report-scene.js";
import { oruMessage } from "../../../test/helpers/oru.js";
import { accessionKey } from "../register-study.js";
import { RisIntake } from "./intake.js";

const STUDY_UID = "1.2.826.0.1.3680043.8.498.7001";
let t: TestNode;
let intake: RisIntake;
let study: string;
const outcomes: string[] = [];

beforeEach(async () => {
  t = await makeNode();
  const { patient } = await seedReportScene(t);
  const studyKey = t.node.pseudonym("study", STUDY_UID);
  study = await admitted(t, t.sign(t.institution, "study.registered", studyBody(patient, { studyKey })));
  await t.enrol("res-1", ["radiologist"], { displayName: "Dr Resident" });
  const held = t.node.heldKeys.put("ris-main", crypto.randomBytes(32));
  await t.node.appender.append(
    t.sign(t.admin, "actor.enrolled", {
      actorId: "ris-main",
      kind: "system",
      roles: ["integration"],
      publicKey: toBase64(held.publicKey),
      displayName: "Main RIS",
    }),
  );
  t.node.manifests.noteAccession(accessionKey(t.node, "ACC-0001"), studyKey);
  outcomes.length = 0;
  intake = new RisIntake(t.node, {
    sources: new Map([["127.0.0.1", "ris-main"]]),
    clinicians: new Map([["RIS-NEURO", "rad-neuro"]]),
    onOutcome: (o) => outcomes.push(o),
  });
});
afterEach(async () => t.close());

const msa = (ack: string): string[] => {
  const m = Hl7Message.parse(ack).getSegment("MSA")!;
  return [m.getComponent(1, 1), m.getComponent(2, 1), m.getComponent(3, 1)];
};
const base = { accession: "ACC-0001", principal: "RIS-NEURO" };
const reportOf = (): ReturnType<typeof reportView> => {
  const row = t.node.store.lookup("report.study", study, { reverse: true, limit: 1 })[0]!;
  return reportView(t.node.store, row.value);
};

describe("ORU^R01 → report entries", () => {
  test("P then F then C: draft sections, sign-off and a correction, each by the clinician, entered by the RIS", async () => {
    const p = await intake.receive(
      "ris-main",
      oruMessage({
        ...base,
        id: "M1",
        status: "P",
        technician: "tech-1",
        obx: [
          ["55111-9^Current imaging procedure descriptions^LN", "CT head without contrast."],
          ["18782-3^Radiology Study observation^LN", "Line one.", "TX", "1"],
          ["18782-3^Radiology Study observation^LN", "Line two.", "TX", "1"],
          ["19005-8^Impression^LN", "Normal\\.br\\study.", "FT"],
        ],
      }),
    );
    expect(p.outcome).toBe("recorded");
    expect(msa(p.ack)).toEqual(["AA", "M1", "OK"]);
    let r = reportOf();
    expect(r.openedBy).toBe("institution");
    expect(r.sections.map((s) => [s.section, s.author, s.role, s.enteredBy])).toEqual([
      ["technique", "tech-1", "technologist", "ris-main"],
      ["findings", "rad-neuro", "radiologist", "ris-main"],
      ["impression", "rad-neuro", "radiologist", "ris-main"],
    ]);
    // The text is in the vault behind the commitment; repeated OBX joined, FT line breaks kept.
    expect(t.node.vault.get(r.sections[1]!.contentCommitment)?.content).toEqual({
      section: "findings",
      text: "Line one.\nLine two.",
    });
    expect(t.node.vault.get(r.sections[2]!.contentCommitment)?.content).toMatchObject({
      text: "Normal\nstudy.",
    });

    const f = await intake.receive("ris-main", oruMessage({ ...base, id: "M2", status: "F" }));
    expect(msa(f.ack)[0]).toBe("AA");
    r = reportOf();
    expect(r.status).toBe("signed");
    expect(r.signOff).toMatchObject({ by: "rad-neuro", enteredBy: "ris-main", attestation: "final" });
    // FHIR Provenance of the sign-off: the radiologist attests, the RIS entered it on their behalf.
    const provenance = signOffProvenance(t.node.store.getDoc("report", r.id) as ReportDoc, "Dr Neuro")!;
    expect(
      provenance.agent.map((a) => [
        a.type?.coding?.[0]?.code,
        a.who.identifier?.value,
        a.onBehalfOf?.identifier?.value,
      ]),
    ).toEqual([
      ["attester", "rad-neuro", undefined],
      ["enterer", "ris-main", "rad-neuro"],
    ]);
    expect(r.sections).toHaveLength(4);

    const c = await intake.receive(
      "ris-main",
      oruMessage({ ...base, id: "M3", status: "C", obx: [["18782-3^Findings^LN", "Corrected text."]] }),
    );
    expect(msa(c.ack)[0]).toBe("AA");
    r = reportOf();
    expect(r.amendments).toMatchObject([
      {
        kind: "amendment",
        section: "findings",
        author: "rad-neuro",
        enteredBy: "ris-main",
        reason: "correction",
        amends: r.sections[3]!.id,
      },
    ]);
    // No raw identifier of the message reaches the log.
    for (let i = 0; i < t.node.ledger.size; i++) {
      const text = fromUtf8(t.node.store.readEntry(i)!.bytes);
      for (const raw of ["ACC-0001", "SYN-0001", "SYNTHETIC", "Line one"]) expect(text).not.toContain(raw);
    }
  });

  test("the same MSH-10 twice: the same ACK, nothing recorded twice", async () => {
    const msg = oruMessage({ ...base, id: "DUP-1", status: "P" });
    const first = await intake.receive("ris-main", msg);
    const size = t.node.ledger.size;
    const [a, b] = await Promise.all([intake.receive("ris-main", msg), intake.receive("ris-main", msg)]);
    expect(a.ack).toBe(first.ack);
    expect(b.ack).toBe(first.ack);
    expect(t.node.ledger.size).toBe(size);
    expect(outcomes).toEqual(["recorded", "duplicate", "duplicate"]);
  });

  test("refusals: AE for a rule, AR for what is not a supported ORU^R01; nothing recorded", async () => {
    const size = t.node.ledger.size;
    const cases: [string, string, string][] = [
      [oruMessage({ ...base, id: "E1", status: "P", accession: "ACC-9999" }), "AE", "HL7_STUDY_UNKNOWN"],
      [oruMessage({ ...base, id: "E2", status: "P", principal: "NOBODY" }), "AE", "HL7_CLINICIAN_UNKNOWN"],
      [oruMessage({ ...base, id: "E3", status: "F", principal: "tech-1" }), "AE", "HL7_CLINICIAN_UNKNOWN"],
      [oruMessage({ ...base, id: "E4", status: "C" }), "AE", "REPORT_NOT_SIGNED"],
      [oruMessage({ ...base, id: "E5", status: "X" }), "AR", "HL7_MESSAGE_MALFORMED"],
      [oruMessage({ ...base, id: "E6", status: "P", type: "ADT^A01" }), "AR", "HL7_MESSAGE_UNSUPPORTED"],
      [oruMessage({ ...base, id: "E7", status: "P", version: "2.7" }), "AR", "HL7_MESSAGE_UNSUPPORTED"],
      [
        oruMessage({ ...base, id: "E8", status: "P", obx: [["X^Y", "1", "NM"]] }),
        "AR",
        "HL7_MESSAGE_MALFORMED",
      ],
      ["garbage\rMSH", "AR", "HL7_MESSAGE_MALFORMED"],
    ];
    for (const [text, code, error] of cases) {
      const answer = await intake.receive("ris-main", text);
      const [ackCode, , why] = msa(answer.ack);
      expect([ackCode, answer.outcome]).toEqual([code, error]);
      expect(why).toContain(error);
      expect(answer.ack).toContain(`${error}: `);
    }
    expect(t.node.ledger.size).toBe(size);
    // A signed report takes no further draft: AE REPORT_SIGNED, nothing recorded.
    await intake.receive("ris-main", oruMessage({ ...base, id: "S1", status: "F" }));
    const signed = t.node.ledger.size;
    const late = await intake.receive("ris-main", oruMessage({ ...base, id: "S2", status: "P" }));
    expect([msa(late.ack)[0], late.outcome]).toEqual(["AE", "REPORT_SIGNED"]);
    expect(t.node.ledger.size).toBe(signed);
    // A refused message resent after its cause is fixed is recorded (refusals are not cached).
    const again = await intake.receive("ris-main", oruMessage({ ...base, id: "E4", status: "C" }));
    expect(msa(again.ack)[0]).toBe("AA");
  });

  test("senders: only configured addresses of active integration actors whose key the node holds", () => {
    expect(intake.identify("::ffff:127.0.0.1")).toBe("ris-main");
    expect(() => intake.identify("10.0.0.9")).toThrow(
      expect.objectContaining({ code: "HL7_SOURCE_UNKNOWN" }),
    );
    const other = new RisIntake(t.node, { sources: new Map([["127.0.0.1", "rad-neuro"]]) });
    expect(() => other.identify("127.0.0.1")).toThrow(
      expect.objectContaining({ code: "HL7_SOURCE_UNKNOWN" }),
    );
  });
});

describe("delegated sign-off (report.signed onBehalfOf)", () => {
  test("an integration signs off only on a radiologist's behalf", async () => {
    const ris = await t.enrol("ris-2", ["integration"], { kind: "system" });
    const report = await admitted(
      t,
      t.sign(t.institution, "report.opened", { reportKind: "diagnostic" }, { study }),
    );
    const c1 = await admitted(
      t,
      t.sign(
        ris,
        "report.contribution",
        { ...sectionContent("findings", "radiologist"), onBehalfOf: "rad-neuro" },
        { report },
      ),
    );
    const refs = { report, contributions: [c1] };
    expect(await t.refusal(t.sign(ris, "report.signed", { attestation: "final" }, refs))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(
      await t.refusal(t.sign(ris, "report.signed", { attestation: "final", onBehalfOf: "tech-1" }, refs)),
    ).toBe("ROLE_NOT_PERMITTED");
    await admitted(t, t.sign(ris, "report.signed", { attestation: "final", onBehalfOf: "rad-neuro" }, refs));
    expect(reportView(t.node.store, report).signOff).toMatchObject({ by: "rad-neuro", enteredBy: "ris-2" });
  });
});
