import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { JsonObject } from "../../core/canonical-json.js";
import type { EntryRefs } from "../../core/entry.js";
import type { RadledgerError } from "../../core/errors.js";
import type { HeldKey } from "../../app/keys.js";
import { auditDataDir } from "../../wiring/audit.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { fakeHash, fakePseudonym, studyBody } from "../../../test/helpers/fixtures.js";
import {
  findTrialSubject,
  listTrials,
  readsOfTimepoint,
  subjectsOfTrial,
  subjectTimeline,
} from "./queries.js";
import { getTrialRead, getTrialTimepoint } from "./state.js";

let t: TestNode;
let coord: HeldKey;
let tech: HeldKey;
let rad: HeldKey;
let rad2: HeldKey;

beforeEach(async () => {
  t = await makeNode();
  coord = await t.enrol("coord-1", ["trial-coordinator"], { displayName: "Trial Office" });
  tech = await t.enrol("tech-1", ["technologist"]);
  rad = await t.enrol("rad-1", ["radiologist"], { displayName: "Dr Reader One" });
  rad2 = await t.enrol("rad-2", ["radiologist"]);
});
afterEach(async () => t.close());

/** Appends an entry that must be admitted; returns its id. */
async function ok(key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs): Promise<string> {
  return (await t.node.appender.append(t.sign(key, type, body, refs))).leafHash;
}

/** Appends an entry that must be refused; checks the log did not grow and returns the code. */
async function refused(key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs): Promise<string> {
  return t.refusal(t.sign(key, type, body, refs));
}

const trialBody = (overrides: JsonObject = {}): JsonObject => ({
  sponsor: "Acme Oncology",
  protocolId: "ONC-2024-017",
  registryId: "NCT01234567",
  timepoints: ["baseline", "week-12", "week-24"],
  ...overrides,
});
const imaged = (timepoint = "baseline", overrides: JsonObject = {}): JsonObject => ({
  timepoint,
  modality: "CT",
  instanceCount: 120,
  manifestRoot: fakeHash(),
  deidentification: "PS3.15-E-basic",
  ...overrides,
});
const read = (manifestRoot: string, overrides: JsonObject = {}): JsonObject => ({
  manifestRoot,
  blinded: true,
  measurements: fakeHash(),
  criteria: "RECIST1.1",
  response: "PR",
  ...overrides,
});

async function trialWithSubject(): Promise<{ trial: string; subject: string; pseudonym: string }> {
  const trial = await ok(coord, "trial.registered", trialBody());
  const pseudonym = fakePseudonym("ts_");
  const subject = await ok(
    coord,
    "trial.subject.enrolled",
    { subject: pseudonym, site: "site-012" },
    { trial },
  );
  return { trial, subject, pseudonym };
}

describe("trials: trial.registered", () => {
  test("a trial coordinator, admin or the institution registers a trial; listTrials pages them", async () => {
    const a = await ok(coord, "trial.registered", trialBody());
    const b = await ok(t.admin, "trial.registered", trialBody({ protocolId: "ONC-2024-018" }));
    const c = await ok(t.institution, "trial.registered", {
      sponsor: "Beta Pharma",
      protocolId: "ONC-2024-017",
    });
    const first = listTrials(t.node.store, { limit: 2 });
    expect(first.items.map((x) => x.id)).toEqual([a, b]);
    expect(first.items[0]).toMatchObject({
      sponsor: "Acme Oncology",
      protocolId: "ONC-2024-017",
      subjects: 0,
    });
    expect(listTrials(t.node.store, { after: first.next! }).items.map((x) => x.id)).toEqual([c]);
  });

  test("the same sponsor and protocol id twice is refused; other roles and bad bodies are refused", async () => {
    await ok(coord, "trial.registered", trialBody());
    expect(await refused(coord, "trial.registered", trialBody({ title: "again" }))).toBe(
      "TRIAL_ALREADY_REGISTERED",
    );
    expect(await refused(rad, "trial.registered", trialBody({ protocolId: "X-1" }))).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(
      await refused(coord, "trial.registered", trialBody({ protocolId: "X-1", timepoints: ["a", "a"] })),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refused(coord, "trial.registered", trialBody({ protocolId: "X-1", pi: "Dr Who" }))).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
  });
});

describe("trials: trial.subject.enrolled", () => {
  test("a coordinator, technologist or the institution enrols a subject under a trial pseudonym", async () => {
    const trial = await ok(coord, "trial.registered", trialBody());
    const p1 = fakePseudonym("ts_");
    const s1 = await ok(coord, "trial.subject.enrolled", { subject: p1 }, { trial });
    const s2 = await ok(tech, "trial.subject.enrolled", { subject: fakePseudonym("ts_") }, { trial });
    const s3 = await ok(
      t.institution,
      "trial.subject.enrolled",
      { subject: fakePseudonym("ts_") },
      { trial },
    );
    expect(subjectsOfTrial(t.node.store, trial).items.map((s) => s.id)).toEqual([s1, s2, s3]);
    expect(findTrialSubject(t.node.store, trial, p1)).toMatchObject({ id: s1, trial, subject: p1 });
    expect(listTrials(t.node.store).items[0]).toMatchObject({ subjects: 3 });
    // The same pseudonym in another trial is another subject.
    const other = await ok(coord, "trial.registered", trialBody({ protocolId: "ONC-2024-099" }));
    await ok(coord, "trial.subject.enrolled", { subject: p1 }, { trial: other });
  });

  test("a subject enrolled twice, a raw patient id, a missing or wrong trial reference, a radiologist: refused", async () => {
    const { trial, pseudonym } = await trialWithSubject();
    expect(await refused(coord, "trial.subject.enrolled", { subject: pseudonym }, { trial })).toBe(
      "TRIAL_SUBJECT_EXISTS",
    );
    expect(await refused(coord, "trial.subject.enrolled", { subject: "MRN-0001" }, { trial })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    expect(await refused(coord, "trial.subject.enrolled", { subject: fakePseudonym("pt_") }, { trial })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    expect(await refused(coord, "trial.subject.enrolled", { subject: fakePseudonym("ts_") })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    const study = await ok(t.institution, "study.registered", studyBody());
    expect(
      await refused(coord, "trial.subject.enrolled", { subject: fakePseudonym("ts_") }, { trial: study }),
    ).toBe("ENTRY_REF_WRONG_TYPE");
    expect(await refused(rad, "trial.subject.enrolled", { subject: fakePseudonym("ts_") }, { trial })).toBe(
      "ROLE_NOT_PERMITTED",
    );
  });
});

describe("trials: trial.timepoint.imaged", () => {
  test("a technologist records a timepoint, optionally referencing the source study", async () => {
    const { subject } = await trialWithSubject();
    const tp = await ok(tech, "trial.timepoint.imaged", imaged("baseline"), { subject });
    expect(getTrialTimepoint(t.node.store, tp)).toMatchObject({
      timepoint: "baseline",
      modality: "CT",
      current: tp,
      corrections: 0,
    });
    const study = await ok(t.institution, "study.registered", studyBody());
    const tp2 = await ok(tech, "trial.timepoint.imaged", imaged("week-12", { modality: "MR" }), {
      subject,
      study,
    });
    expect(getTrialTimepoint(t.node.store, tp2)).toMatchObject({ study });
  });

  test("a second timepoint with the same label is refused, naming the correction to use", async () => {
    const { subject } = await trialWithSubject();
    const tp = await ok(tech, "trial.timepoint.imaged", imaged("baseline"), { subject });
    const size = t.node.ledger.size;
    const [r] = await t.node.appender.appendAll([
      t.sign(tech, "trial.timepoint.imaged", imaged("baseline"), { subject }),
    ]);
    const error = (r as { error: RadledgerError }).error;
    expect(error.code).toBe("TRIAL_TIMEPOINT_EXISTS");
    expect(error.message).toContain("trial.correction");
    expect(error.details).toMatchObject({ timepoint: tp, current: tp });
    expect(t.node.ledger.size).toBe(size);
  });

  test("labels outside the protocol, a study without the modality, a radiologist, a zero count: refused", async () => {
    const { subject } = await trialWithSubject();
    expect(await refused(tech, "trial.timepoint.imaged", imaged("week-13"), { subject })).toBe(
      "TRIAL_TIMEPOINT_UNKNOWN",
    );
    const study = await ok(t.institution, "study.registered", studyBody());
    expect(await refused(tech, "trial.timepoint.imaged", imaged("baseline"), { subject, study })).toBe(
      "TRIAL_STUDY_MISMATCH",
    );
    expect(await refused(rad, "trial.timepoint.imaged", imaged("baseline"), { subject })).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(
      await refused(tech, "trial.timepoint.imaged", imaged("baseline", { instanceCount: 0 }), { subject }),
    ).toBe("ENTRY_SCHEMA_INVALID");
    // Without a registered schedule, any label code is accepted.
    const open = await ok(coord, "trial.registered", { sponsor: "Acme Oncology", protocolId: "OPEN-1" });
    const s = await ok(coord, "trial.subject.enrolled", { subject: fakePseudonym("ts_") }, { trial: open });
    await ok(tech, "trial.timepoint.imaged", imaged("unscheduled-1"), { subject: s });
  });
});

describe("trials: trial.read.recorded", () => {
  test("radiologists read a timepoint, each once, naming the images they read", async () => {
    const { subject } = await trialWithSubject();
    const root = fakeHash();
    const tp = await ok(tech, "trial.timepoint.imaged", imaged("baseline", { manifestRoot: root }), {
      subject,
    });
    const r1 = await ok(rad, "trial.read.recorded", read(root), { timepoint: tp });
    const r2 = await ok(rad2, "trial.read.recorded", read(root, { blinded: false, response: "SD" }), {
      timepoint: tp,
    });
    expect(getTrialRead(t.node.store, r1)).toMatchObject({
      reader: "rad-1",
      blinded: true,
      response: "PR",
      current: r1,
    });
    expect(readsOfTimepoint(t.node.store, tp).items.map((r) => r.id)).toEqual([r1, r2]);
  });

  test("a second read by the same reader, other images, a non-radiologist, a wrong reference: refused", async () => {
    const { subject } = await trialWithSubject();
    const root = fakeHash();
    const tp = await ok(tech, "trial.timepoint.imaged", imaged("baseline", { manifestRoot: root }), {
      subject,
    });
    await ok(rad, "trial.read.recorded", read(root), { timepoint: tp });
    expect(await refused(rad, "trial.read.recorded", read(root), { timepoint: tp })).toBe(
      "TRIAL_READ_EXISTS",
    );
    expect(await refused(rad2, "trial.read.recorded", read(fakeHash()), { timepoint: tp })).toBe(
      "TRIAL_MANIFEST_MISMATCH",
    );
    expect(await refused(coord, "trial.read.recorded", read(root), { timepoint: tp })).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(await refused(rad2, "trial.read.recorded", read(root), { timepoint: subject })).toBe(
      "ENTRY_REF_WRONG_TYPE",
    );
    expect(
      await refused(rad2, "trial.read.recorded", read(root, { measurements: "12.5 mm" }), { timepoint: tp }),
    ).toBe("ENTRY_SCHEMA_INVALID");
  });
});

describe("trials: trial.correction", () => {
  async function imagedAndRead(): Promise<{ subject: string; tp: string; r: string; root: string }> {
    const { subject } = await trialWithSubject();
    const root = fakeHash();
    const tp = await ok(tech, "trial.timepoint.imaged", imaged("baseline", { manifestRoot: root }), {
      subject,
    });
    const r = await ok(rad, "trial.read.recorded", read(root), { timepoint: tp });
    return { subject, tp, r, root };
  }
  const tpData = (manifestRoot = fakeHash()): JsonObject => ({
    modality: "CT",
    instanceCount: 118,
    manifestRoot,
  });

  test("a timepoint is corrected by a new entry; the correction is then the version to correct", async () => {
    const { tp } = await imagedAndRead();
    const root2 = fakeHash();
    const c1 = await ok(
      coord,
      "trial.correction",
      { reason: "deid-failure", timepoint: tpData(root2) },
      { corrects: tp },
    );
    expect(getTrialTimepoint(t.node.store, tp)).toMatchObject({
      current: c1,
      manifestRoot: root2,
      corrections: 1,
    });
    const c2 = await ok(
      tech,
      "trial.correction",
      { reason: "wrong-series", reasonCommitment: fakeHash(), timepoint: tpData() },
      { corrects: c1 },
    );
    expect(getTrialTimepoint(t.node.store, tp)).toMatchObject({ current: c2, corrections: 2 });
  });

  test("correcting a superseded version, the wrong kind of data, no change, or by a radiologist: refused", async () => {
    const { subject, tp, r, root } = await imagedAndRead();
    expect(
      await refused(rad, "trial.correction", { reason: "other", timepoint: tpData() }, { corrects: tp }),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(
      await refused(coord, "trial.correction", { reason: "other", read: read(root) }, { corrects: tp }),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(
      await refused(
        coord,
        "trial.correction",
        { reason: "other", timepoint: tpData(), read: read(root) },
        { corrects: tp },
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    const same = {
      modality: "CT",
      instanceCount: 120,
      manifestRoot: root,
      deidentification: "PS3.15-E-basic",
    };
    expect(
      await refused(coord, "trial.correction", { reason: "other", timepoint: same }, { corrects: tp }),
    ).toBe("TRIAL_CORRECTION_NOOP");
    await ok(coord, "trial.correction", { reason: "other", timepoint: tpData() }, { corrects: tp });
    expect(
      await refused(
        coord,
        "trial.correction",
        { reason: "data-query", timepoint: tpData() },
        { corrects: tp },
      ),
    ).toBe("TRIAL_VERSION_SUPERSEDED");
    // An enrolment is not a correctable record; a read is not corrected with timepoint data.
    expect(
      await refused(
        coord,
        "trial.correction",
        { reason: "other", timepoint: tpData() },
        { corrects: subject },
      ),
    ).toBe("ENTRY_REF_WRONG_TYPE");
    expect(
      await refused(rad, "trial.correction", { reason: "other", timepoint: tpData() }, { corrects: r }),
    ).toBe("ENTRY_SCHEMA_INVALID");
  });

  test("a read is corrected by its reader only, and only against the timepoint's current images", async () => {
    const { tp, r, root } = await imagedAndRead();
    expect(
      await refused(rad2, "trial.correction", { reason: "re-read", read: read(root) }, { corrects: r }),
    ).toBe("ROLE_NOT_PERMITTED");
    expect(
      await refused(coord, "trial.correction", { reason: "re-read", read: read(root) }, { corrects: r }),
    ).toBe("ROLE_NOT_PERMITTED");
    const root2 = fakeHash();
    await ok(
      coord,
      "trial.correction",
      { reason: "wrong-series", timepoint: tpData(root2) },
      { corrects: tp },
    );
    // The read is now on superseded images: a correction must name the new ones.
    expect(
      await refused(rad, "trial.correction", { reason: "re-read", read: read(root) }, { corrects: r }),
    ).toBe("TRIAL_MANIFEST_MISMATCH");
    const rc = await ok(rad, "trial.correction", { reason: "re-read", read: read(root2) }, { corrects: r });
    expect(getTrialRead(t.node.store, r)).toMatchObject({ current: rc, manifestRoot: root2, corrections: 1 });
  });
});

describe("trials: subject timeline", () => {
  test("every entry of the subject in log order, corrections linked, the current version flagged", async () => {
    const { trial, subject, pseudonym } = await trialWithSubject();
    const root1 = fakeHash();
    const root2 = fakeHash();
    const tp = await ok(tech, "trial.timepoint.imaged", imaged("baseline", { manifestRoot: root1 }), {
      subject,
    });
    const r1 = await ok(rad, "trial.read.recorded", read(root1), { timepoint: tp });
    const r2 = await ok(rad2, "trial.read.recorded", read(root1), { timepoint: tp });
    const tc = await ok(
      coord,
      "trial.correction",
      { reason: "wrong-series", timepoint: { modality: "CT", instanceCount: 121, manifestRoot: root2 } },
      { corrects: tp },
    );
    const rc = await ok(rad, "trial.correction", { reason: "re-read", read: read(root2) }, { corrects: r1 });
    // Another subject's entries stay out of this timeline.
    const other = await ok(coord, "trial.subject.enrolled", { subject: fakePseudonym("ts_") }, { trial });
    await ok(tech, "trial.timepoint.imaged", imaged("baseline"), { subject: other });

    const tl = subjectTimeline(t.node.store, subject);
    expect(tl.trial).toMatchObject({ id: trial, protocolId: "ONC-2024-017" });
    expect(tl.subject).toMatchObject({ id: subject, subject: pseudonym });
    expect(tl.next).toBeUndefined();
    expect(tl.items.map((i) => [i.type, i.id, i.record, i.corrects, i.correctedBy, i.current])).toEqual([
      ["trial.subject.enrolled", subject, subject, undefined, undefined, true],
      ["trial.timepoint.imaged", tp, tp, undefined, tc, false],
      ["trial.read.recorded", r1, r1, undefined, rc, false],
      ["trial.read.recorded", r2, r2, undefined, undefined, true],
      ["trial.correction", tc, tp, tp, undefined, true],
      ["trial.correction", rc, r1, r1, undefined, true],
    ]);
    const [, tpItem, r1Item, r2Item, tcItem, rcItem] = tl.items;
    expect(tpItem).toMatchObject({ kind: "timepoint", timepoint: "baseline", data: { manifestRoot: root1 } });
    expect(tcItem).toMatchObject({
      kind: "timepoint",
      reason: "wrong-series",
      data: { manifestRoot: root2 },
    });
    expect(r1Item).toMatchObject({ kind: "read", actor: "rad-1", timepointRecord: tp, imagesCurrent: false });
    // rad-2's read still stands but names superseded images: the timeline shows it.
    expect(r2Item).toMatchObject({ kind: "read", actor: "rad-2", current: true, imagesCurrent: false });
    expect(rcItem).toMatchObject({
      kind: "read",
      actor: "rad-1",
      imagesCurrent: true,
      data: { manifestRoot: root2 },
    });

    const page1 = subjectTimeline(t.node.store, subject, { limit: 4 });
    expect(page1.items).toHaveLength(4);
    expect(subjectTimeline(t.node.store, subject, { after: page1.next! }).items.map((i) => i.id)).toEqual([
      tc,
      rc,
    ]);
    expect(() => subjectTimeline(t.node.store, tp)).toThrow(
      expect.objectContaining({ code: "RECORD_NOT_FOUND" }),
    );

    // The projection is a pure function of the log: a replay from scratch reproduces it.
    expect(await auditDataDir(t.dir, { threads: 0 })).toMatchObject({ ok: true });
  });
});
