/**
 * Trials family (docs/families/trials.md, area 5): a trial registered by sponsor and protocol id, subjects enrolled
 * under trial-specific pseudonyms, imaging timepoints carried as de-identified manifest roots, reads
 * with their measurement commitments, and corrections. Nothing is ever replaced silently: a second
 * timepoint with the same label, or a second read of a timepoint by the same reader, is refused, and
 * the only way to change one is a `trial.correction` that references the version it corrects. The
 * subject's timeline (queries.ts) shows the original, every correction, and which version is current.
 */
import { z } from "zod";
import { defineEntryType, type ApplyContext } from "../ledger/entry-types.js";
import { modality } from "../imaging/entries.js";
import { getStudy } from "../imaging/state.js";
import { code, keyedId, label, positiveInt, sha256Hex } from "../schemas.js";
import { defineValueSet, requireMember } from "../value-sets.js";
import type { Role } from "../identity/roles.js";
import {
  getTrial,
  getTrialEntry,
  getTrialRead,
  getTrialSubject,
  getTrialTimepoint,
  type ReadData,
  type TimelineEntryDoc,
  type TimepointData,
} from "./state.js";

const REGISTER_SIGNERS: Role[] = ["trial-coordinator", "admin", "institution"];
const IMAGING_SIGNERS: Role[] = ["trial-coordinator", "technologist", "institution"];
const READ_SIGNERS: Role[] = ["radiologist"];

/** Image data of a timepoint, as first imaged or as replaced by a correction. */
export const timepointData = z.strictObject({
  modality,
  instanceCount: positiveInt.min(1),
  /** RFC 9162 Merkle root over the de-identified instance hashes sorted bytewise (as for studies). */
  manifestRoot: sha256Hex,
  /** De-identification profile applied, e.g. "PS3.15-E-basic". */
  deidentification: code.optional(),
});

/** A read of a timepoint, as first recorded or as replaced by a correction. The reader is the signer. */
export const readData = z.strictObject({
  /** The manifest root of the images read: must be the timepoint's current images. */
  manifestRoot: sha256Hex,
  blinded: z.boolean(),
  /** Commitment to the measurements (SHA-256 of salt and canonical measurement record). */
  measurements: sha256Hex,
  /** Response criteria, e.g. "RECIST1.1", "iRECIST", "RANO". */
  criteria: code.optional(),
  /** Response category code under the criteria, e.g. "CR", "PR", "SD", "PD", "NE". */
  response: code.optional(),
});

const uniqueCodes = (max: number) =>
  z
    .array(code)
    .min(1)
    .max(max)
    .refine((a) => new Set(a).size === a.length, "codes must be unique");

const subjectTimelineEntry = (
  ctx: ApplyContext<unknown>,
  doc: Omit<TimelineEntryDoc, "id" | "index" | "type" | "actor" | "time" | "current">,
): void => {
  const entry: TimelineEntryDoc = {
    id: ctx.leafHash,
    index: ctx.index,
    type: ctx.entry.type,
    actor: ctx.entry.actor,
    time: ctx.entry.time,
    current: true,
    ...doc,
  };
  ctx.state.putDoc("trial.entry", ctx.leafHash, entry);
  ctx.state.addIndex("trial.timeline", doc.subject, ctx.index, ctx.leafHash);
};

/** `T` with its possibly-undefined members made optional (exactOptionalPropertyTypes). */
type Compact<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops undefined members: projection documents leave absent fields out. */
export const withoutUndefined = <T extends object>(o: T): Compact<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Compact<T>;

export const trialRegistered = defineEntryType({
  type: "trial.registered",
  summary:
    "Registers a clinical trial at this site: sponsor, protocol id and optionally the protocol's imaging timepoints.",
  body: z.strictObject({
    /** The sponsor organisation (a label, never a person). */
    sponsor: label,
    /** The sponsor's protocol identifier, e.g. "ONC-2024-017". */
    protocolId: code,
    /** Public registry id, e.g. "NCT01234567". */
    registryId: code.optional(),
    title: label.optional(),
    /** The protocol's imaging timepoint labels (e.g. "baseline", "week-12"); when given, the only ones accepted. */
    timepoints: uniqueCodes(64).optional(),
  }),
  refs: {},
  signers: REGISTER_SIGNERS,
  apply(ctx) {
    const b = ctx.body;
    const key = JSON.stringify([b.sponsor, b.protocolId]);
    const existing = ctx.state.lookup("trial.protocol", key, { limit: 1 })[0];
    if (existing)
      ctx.reject(
        "TRIAL_ALREADY_REGISTERED",
        `protocol ${b.protocolId} of this sponsor is already registered`,
        {
          at: "body.protocolId",
          trial: existing.value,
        },
      );
    ctx.state.putDoc(
      "trial",
      ctx.leafHash,
      withoutUndefined({
        id: ctx.leafHash,
        index: ctx.index,
        sponsor: b.sponsor,
        protocolId: b.protocolId,
        registryId: b.registryId,
        title: b.title,
        timepoints: b.timepoints,
        subjects: 0,
        registeredBy: ctx.entry.actor,
        registeredAt: ctx.entry.time,
      }),
    );
    ctx.state.addIndex("trial.protocol", key, ctx.index, ctx.leafHash);
    ctx.state.addIndex("trial.all", "", ctx.index, ctx.leafHash);
  },
});

export const trialSubjectEnrolled = defineEntryType({
  type: "trial.subject.enrolled",
  summary: "Enrols a subject in a trial under a trial-specific keyed pseudonym.",
  body: z.strictObject({
    /** "ts_" + base64url HMAC of the patient identifier under a per-trial key: unlinkable to other records. */
    subject: keyedId("ts_"),
    /** The sponsor's site number, e.g. "site-012". */
    site: code.optional(),
  }),
  refs: { trial: { types: ["trial.registered"] } },
  signers: IMAGING_SIGNERS,
  apply(ctx) {
    const b = ctx.body;
    const trial = getTrial(ctx.state, ctx.ref("trial").leafHash)!;
    const key = `${trial.id}:${b.subject}`;
    if (ctx.state.lookup("trial.subject.key", key, { limit: 1 }).length > 0)
      ctx.reject("TRIAL_SUBJECT_EXISTS", "this subject is already enrolled in the trial", {
        at: "body.subject",
      });
    ctx.state.putDoc(
      "trial.subject",
      ctx.leafHash,
      withoutUndefined({
        id: ctx.leafHash,
        index: ctx.index,
        trial: trial.id,
        subject: b.subject,
        site: b.site,
        enrolledBy: ctx.entry.actor,
        enrolledAt: ctx.entry.time,
      }),
    );
    ctx.state.putDoc("trial", trial.id, { ...trial, subjects: trial.subjects + 1 });
    ctx.state.addIndex("trial.subject.key", key, ctx.index, ctx.leafHash);
    ctx.state.addIndex("trial.subjects", trial.id, ctx.index, ctx.leafHash);
    subjectTimelineEntry(ctx, {
      kind: "enrolment",
      trial: trial.id,
      subject: ctx.leafHash,
      record: ctx.leafHash,
      data: withoutUndefined({ subject: b.subject, site: b.site }),
    });
  },
});

/** The optional source study must have the timepoint's modality (the study ref is institution-internal). */
function checkStudy(ctx: ApplyContext<unknown>, modalityCode: string): string | undefined {
  const ref = ctx.refs("study")[0];
  if (!ref) return undefined;
  const study = getStudy(ctx.state, ref.leafHash)!;
  if (!study.modalities.includes(modalityCode))
    ctx.reject("TRIAL_STUDY_MISMATCH", `the referenced study has no ${modalityCode} images`, {
      at: "refs.study",
    });
  return study.id;
}

export const trialTimepointImaged = defineEntryType({
  type: "trial.timepoint.imaged",
  summary:
    "Records a subject's imaging timepoint: label, modality and the de-identified images' manifest root and count.",
  body: z.strictObject({
    /** The protocol's timepoint label, e.g. "baseline", "week-12". */
    timepoint: code,
    ...timepointData.shape,
  }),
  refs: {
    subject: { types: ["trial.subject.enrolled"] },
    study: { types: ["study.registered"], optional: true },
  },
  signers: IMAGING_SIGNERS,
  apply(ctx) {
    const b = ctx.body;
    const subject = getTrialSubject(ctx.state, ctx.ref("subject").leafHash)!;
    const trial = getTrial(ctx.state, subject.trial)!;
    if (trial.timepoints && !trial.timepoints.includes(b.timepoint))
      ctx.reject(
        "TRIAL_TIMEPOINT_UNKNOWN",
        `timepoint ${b.timepoint} is not in the protocol (${trial.timepoints.join(", ")})`,
        { at: "body.timepoint" },
      );
    const key = `${subject.id}:${b.timepoint}`;
    const existing = ctx.state.lookup("trial.timepoint.key", key, { limit: 1 })[0];
    if (existing) {
      const tp = getTrialTimepoint(ctx.state, existing.value)!;
      ctx.reject(
        "TRIAL_TIMEPOINT_EXISTS",
        `timepoint ${b.timepoint} of this subject is already recorded; to change it, append a trial.correction with refs.corrects = ${tp.current}`,
        { at: "body.timepoint", timepoint: tp.id, current: tp.current },
      );
    }
    const study = checkStudy(ctx, b.modality);
    const data: TimepointData = withoutUndefined({
      modality: b.modality,
      instanceCount: b.instanceCount,
      manifestRoot: b.manifestRoot,
      deidentification: b.deidentification,
      study,
    });
    ctx.state.putDoc("trial.timepoint", ctx.leafHash, {
      id: ctx.leafHash,
      index: ctx.index,
      trial: trial.id,
      subject: subject.id,
      timepoint: b.timepoint,
      current: ctx.leafHash,
      corrections: 0,
      ...data,
    });
    ctx.state.addIndex("trial.timepoint.key", key, ctx.index, ctx.leafHash);
    subjectTimelineEntry(ctx, {
      kind: "timepoint",
      trial: trial.id,
      subject: subject.id,
      record: ctx.leafHash,
      timepoint: b.timepoint,
      data,
    });
  },
});

export const trialReadRecorded = defineEntryType({
  type: "trial.read.recorded",
  summary:
    "Records a radiologist's read of a timepoint: blinded or not, a commitment to the measurements, and optionally a response category.",
  body: readData,
  refs: { timepoint: { types: ["trial.timepoint.imaged"] } },
  signers: READ_SIGNERS,
  apply(ctx) {
    const b = ctx.body;
    const tp = getTrialTimepoint(ctx.state, ctx.ref("timepoint").leafHash)!;
    if (b.manifestRoot !== tp.manifestRoot)
      ctx.reject(
        "TRIAL_MANIFEST_MISMATCH",
        `the read names images other than the timepoint's current images (version ${tp.current})`,
        { at: "body.manifestRoot", current: tp.current },
      );
    const key = `${tp.id}:${ctx.entry.actor}`;
    const existing = ctx.state.lookup("trial.read.key", key, { limit: 1 })[0];
    if (existing) {
      const read = getTrialRead(ctx.state, existing.value)!;
      ctx.reject(
        "TRIAL_READ_EXISTS",
        `this reader already read this timepoint; to change the read, append a trial.correction with refs.corrects = ${read.current}`,
        { read: read.id, current: read.current },
      );
    }
    const data: ReadData = withoutUndefined({ ...b });
    ctx.state.putDoc("trial.read", ctx.leafHash, {
      id: ctx.leafHash,
      index: ctx.index,
      trial: tp.trial,
      subject: tp.subject,
      timepoint: tp.id,
      reader: ctx.entry.actor,
      current: ctx.leafHash,
      corrections: 0,
      ...data,
    });
    ctx.state.addIndex("trial.read.key", key, ctx.index, ctx.leafHash);
    ctx.state.addIndex("trial.reads", tp.id, ctx.index, ctx.leafHash);
    subjectTimelineEntry(ctx, {
      kind: "read",
      trial: tp.trial,
      subject: tp.subject,
      record: ctx.leafHash,
      timepoint: tp.timepoint,
      timepointRecord: tp.id,
      data,
    });
  },
});

const sameData = (a: object, b: object): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/** Why a timepoint or read is corrected (docs/families/trials.md). */
export const correctionReasons = defineValueSet("trial correction reason", [
  /** The wrong series was sent or registered. */
  "wrong-series",
  /** Images were filed under the wrong timepoint. */
  "wrong-timepoint",
  /** Images were filed under the wrong subject. */
  "wrong-subject",
  /** De-identification failed (identifying data found) and the images were redone. */
  "deid-failure",
  /** Images unreadable or incomplete, re-acquired or re-sent. */
  "image-quality",
  /** A read was repeated (e.g. by protocol or after a query). */
  "re-read",
  /** An error entering a measurement or response. */
  "transcription-error",
  /** A change after adjudication between readers. */
  "adjudication",
  /** A data query from the sponsor or monitor resolved by correction. */
  "data-query",
  "other",
]);

export const trialCorrection = defineEntryType({
  type: "trial.correction",
  summary:
    "Corrects a timepoint or a read: references the version it corrects and carries the replacement data and a reason code; nothing is deleted.",
  body: z
    .strictObject({
      /** Why: a code of the correction reason value set (legacy codes on replay only). */
      reason: correctionReasons.body,
      /** Commitment to a free-text explanation kept in the vault (free text never goes on the log). */
      reasonCommitment: sha256Hex.optional(),
      /** Replacement image data (when correcting a timepoint). */
      timepoint: timepointData.optional(),
      /** Replacement read (when correcting a read; signed by the same reader). */
      read: readData.optional(),
    })
    .refine((b) => (b.timepoint === undefined) !== (b.read === undefined), {
      error: "a correction carries exactly one of timepoint or read",
      path: ["timepoint"],
    }),
  refs: {
    /** The current version of the record: the original entry or its latest correction. */
    corrects: { types: ["trial.timepoint.imaged", "trial.read.recorded", "trial.correction"] },
    /** Timepoint corrections only: the source study of the replacement images. */
    study: { types: ["study.registered"], optional: true },
  },
  signers: [...IMAGING_SIGNERS, ...READ_SIGNERS],
  apply(ctx) {
    requireMember(ctx, correctionReasons, ctx.body.reason, "body.reason");
    const b = ctx.body;
    const target = getTrialEntry(ctx.state, ctx.ref("corrects").leafHash);
    if (!target || (target.kind !== "timepoint" && target.kind !== "read"))
      return ctx.reject("ENTRY_REF_WRONG_TYPE", "a correction corrects a timepoint or a read", {
        at: "refs.corrects",
      });
    if (!target.current)
      ctx.reject(
        "TRIAL_VERSION_SUPERSEDED",
        `the corrected version is superseded by ${target.correctedBy ?? "?"}; correct the current version`,
        { at: "refs.corrects", current: target.correctedBy },
      );

    let data: TimepointData | ReadData;
    if (target.kind === "timepoint") {
      if (!b.timepoint)
        return ctx.reject("ENTRY_SCHEMA_INVALID", "correcting a timepoint needs body.timepoint", {
          at: "body.timepoint",
        });
      if (!IMAGING_SIGNERS.some((r) => ctx.actor.roles.includes(r)))
        ctx.reject("ROLE_NOT_PERMITTED", `a timepoint is corrected by a ${IMAGING_SIGNERS.join(" or ")}`);
      const tp = getTrialTimepoint(ctx.state, target.record)!;
      const study = checkStudy(ctx, b.timepoint.modality);
      data = withoutUndefined({ ...b.timepoint, study });
      if (sameData(data, target.data))
        ctx.reject("TRIAL_CORRECTION_NOOP", "the replacement equals the current data", {
          at: "body.timepoint",
        });
      ctx.state.putDoc("trial.timepoint", tp.id, {
        id: tp.id,
        index: tp.index,
        trial: tp.trial,
        subject: tp.subject,
        timepoint: tp.timepoint,
        current: ctx.leafHash,
        corrections: tp.corrections + 1,
        ...data,
      });
    } else {
      if (!b.read)
        return ctx.reject("ENTRY_SCHEMA_INVALID", "correcting a read needs body.read", { at: "body.read" });
      if (ctx.refs("study").length > 0)
        ctx.reject("ENTRY_SCHEMA_INVALID", "a read correction takes no study reference", {
          at: "refs.study",
        });
      const read = getTrialRead(ctx.state, target.record)!;
      if (ctx.entry.actor !== read.reader)
        ctx.reject("ROLE_NOT_PERMITTED", "a read is corrected only by its reader");
      const tp = getTrialTimepoint(ctx.state, read.timepoint)!;
      if (b.read.manifestRoot !== tp.manifestRoot)
        ctx.reject(
          "TRIAL_MANIFEST_MISMATCH",
          `the read names images other than the timepoint's current images (version ${tp.current})`,
          { at: "body.read.manifestRoot", current: tp.current },
        );
      data = withoutUndefined({ ...b.read });
      if (sameData(data, target.data))
        ctx.reject("TRIAL_CORRECTION_NOOP", "the replacement equals the current data", {
          at: "body.read",
        });
      ctx.state.putDoc("trial.read", read.id, {
        id: read.id,
        index: read.index,
        trial: read.trial,
        subject: read.subject,
        timepoint: read.timepoint,
        reader: read.reader,
        current: ctx.leafHash,
        corrections: read.corrections + 1,
        ...data,
      });
    }

    ctx.state.putDoc("trial.entry", target.id, { ...target, current: false, correctedBy: ctx.leafHash });
    subjectTimelineEntry(ctx, {
      kind: target.kind,
      trial: target.trial,
      subject: target.subject,
      record: target.record,
      ...(target.timepoint === undefined ? {} : { timepoint: target.timepoint }),
      ...(target.timepointRecord === undefined ? {} : { timepointRecord: target.timepointRecord }),
      data,
      corrects: target.id,
      reason: b.reason,
      ...(b.reasonCommitment === undefined ? {} : { reasonCommitment: b.reasonCommitment }),
    });
  },
});

export const trialEntryTypes = [
  trialRegistered,
  trialSubjectEnrolled,
  trialTimepointImaged,
  trialReadRecorded,
  trialCorrection,
];
