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

/**
 * Which trials a reader may see (docs/families/trials.md "Who reads a trial"): the site's trial
 * roles see every trial registered here (undefined); a sponsor's actor sees only the trials whose
 * sponsor is its organisation. Another sponsor's trial answers as if it did not exist: which
 * trials a site runs for whom is itself confidential between sponsors.
 */
export type TrialScope = { readonly sponsor: string } | undefined;

const inScope = (trial: TrialDoc, scope: TrialScope): boolean =>
  scope === undefined || trial.sponsor === scope.sponsor;

export function requireTrial(state: StateReader, id: string, scope?: TrialScope): TrialDoc {
  const trial = getTrial(state, id);
  return trial && inScope(trial, scope) ? trial : notFound(`no trial ${id}`);
}

export function requireTrialSubject(state: StateReader, id: string, scope?: TrialScope): TrialSubjectDoc {
  const subject = getTrialSubject(state, id);
  if (!subject || (scope && !inScope(getTrial(state, subject.trial)!, scope)))
    notFound(`no trial subject ${id}`);
  return subject;
}

function notFound(message: string): never {
  throw new RadledgerError("RECORD_NOT_FOUND", message);
}

/** The trials registered in this log that `scope` may see, in log order. */
export function listTrials(
  state: StateReader,
  options: PageOptions = {},
  scope?: TrialScope,
): Page<TrialDoc> {
  const o = lookupOptions(options);
  if (scope === undefined)
    return page(state.lookup("trial.all", "", { ...o, limit: o.limit + 1 }), o.limit, (r) =>
      getTrial(state, r.value)!,
    );
  // A sponsor's page: walk the site's trials in log order, keeping its own, until the page is full
  // (a site registers tens of trials, not millions; no index by sponsor is needed).
  const items: TrialDoc[] = [];
  let after = o.after;
  let last = 0;
  for (;;) {
    const rows = state.lookup("trial.all", "", { ...(after === undefined ? {} : { after }), limit: 256 });
    for (const row of rows) {
      const trial = getTrial(state, row.value)!;
      if (!inScope(trial, scope)) continue;
      if (items.length === o.limit) return { items, next: last };
      items.push(trial);
      last = row.seq;
    }
    if (rows.length < 256) return { items };
    after = rows[rows.length - 1]!.seq;
  }
}

/** A trial's subjects in enrolment order. */
export function subjectsOfTrial(
  state: StateReader,
  trialId: string,
  options: PageOptions = {},
  scope?: TrialScope,
): Page<TrialSubjectDoc> {
  requireTrial(state, trialId, scope);
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
  scope?: TrialScope,
): Page<TrialReadDoc> {
  const timepoint = getTrialTimepoint(state, timepointId);
  if (!timepoint || (scope && !inScope(getTrial(state, timepoint.trial)!, scope)))
    notFound(`no trial timepoint ${timepointId}`);
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
  scope?: TrialScope,
): SubjectTimeline {
  const subject = requireTrialSubject(state, subjectId, scope);
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
