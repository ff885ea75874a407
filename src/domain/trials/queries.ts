/** Trials queries: trials, their subjects, and a subject's timeline with every correction visible. */
import { RadledgerError } from "../../core/errors.js";
import type { StateReader } from "../../ports/storage.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import {
  getTrial,
  getTrialEntry,
  getTrialRead,
  getTrialSubject,
  getTrialTimepoint,
  type ReadData,
  type TimelineEntryDoc,
  type TrialDoc,
  type TrialReadDoc,
  type TrialSubjectDoc,
  type TrialTimepointDoc,
} from "./state.js";

export function requireTrial(state: StateReader, id: string): TrialDoc {
  return getTrial(state, id) ?? notFound(`no trial ${id}`);
}

export function requireTrialSubject(state: StateReader, id: string): TrialSubjectDoc {
  return getTrialSubject(state, id) ?? notFound(`no trial subject ${id}`);
}

function notFound(message: string): never {
  throw new RadledgerError("RECORD_NOT_FOUND", message);
}

/** All trials registered in this log, in log order. */
export function listTrials(state: StateReader, options: PageOptions = {}): Page<TrialDoc> {
  const o = lookupOptions(options);
  return page(state.lookup("trial.all", "", { ...o, limit: o.limit + 1 }), o.limit, (r) =>
    getTrial(state, r.value)!,
  );
}

/** A trial's subjects in enrolment order. */
export function subjectsOfTrial(
  state: StateReader,
  trialId: string,
  options: PageOptions = {},
): Page<TrialSubjectDoc> {
  requireTrial(state, trialId);
  const o = lookupOptions(options);
  return page(state.lookup("trial.subjects", trialId, { ...o, limit: o.limit + 1 }), o.limit, (r) =>
    getTrialSubject(state, r.value)!,
  );
}

/** The subject record enrolled in `trialId` under the trial pseudonym `subject` ("ts_…"). */
export function findTrialSubject(
  state: StateReader,
  trialId: string,
  subject: string,
): TrialSubjectDoc | undefined {
  const row = state.lookup("trial.subject.key", `${trialId}:${subject}`, { limit: 1 })[0];
  return row ? getTrialSubject(state, row.value) : undefined;
}

/** Reads of a timepoint record (each flattened to its current version), in log order. */
export function readsOfTimepoint(
  state: StateReader,
  timepointId: string,
  options: PageOptions = {},
): Page<TrialReadDoc> {
  if (!getTrialTimepoint(state, timepointId)) notFound(`no trial timepoint ${timepointId}`);
  const o = lookupOptions(options);
  return page(state.lookup("trial.reads", timepointId, { ...o, limit: o.limit + 1 }), o.limit, (r) =>
    getTrialRead(state, r.value)!,
  );
}

export type TimelineItem = TimelineEntryDoc & {
  /** Reads only: whether the images this read names are still the timepoint's current images. */
  readonly imagesCurrent?: boolean;
};

export interface SubjectTimeline extends Page<TimelineItem> {
  readonly trial: TrialDoc;
  readonly subject: TrialSubjectDoc;
}

/**
 * Every entry of a subject in log order — enrolment, timepoints, reads and corrections — each with
 * the record it belongs to, the version it corrects (`corrects`), the correction that superseded it
 * (`correctedBy`) and whether it is the record's current version (`current`). Nothing is hidden:
 * superseded versions stay in the timeline.
 */
export function subjectTimeline(
  state: StateReader,
  subjectId: string,
  options: PageOptions = {},
): SubjectTimeline {
  const subject = requireTrialSubject(state, subjectId);
  const trial = requireTrial(state, subject.trial);
  const o = lookupOptions(options);
  const timepoints = new Map<string, TrialTimepointDoc>();
  const result = page(
    state.lookup("trial.timeline", subjectId, { ...o, limit: o.limit + 1 }),
    o.limit,
    (r) => {
      const item = getTrialEntry(state, r.value)!;
      if (item.kind !== "read" || item.timepointRecord === undefined) return item;
      let tp = timepoints.get(item.timepointRecord);
      if (!tp) {
        tp = getTrialTimepoint(state, item.timepointRecord)!;
        timepoints.set(tp.id, tp);
      }
      return { ...item, imagesCurrent: (item.data as ReadData).manifestRoot === tp.manifestRoot };
    },
  );
  return { trial, subject, ...result };
}
