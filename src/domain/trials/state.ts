/**
 * Trials projection documents (docs/families/trials.md): `trial`, `trial.subject`, `trial.timepoint`
 * and `trial.read` records (the latter two flattened to their current version), and one
 * `trial.entry` per subject-related entry — the subject's timeline, with correction links.
 */
import type { StateReader } from "../../ports/storage.js";

export interface TrialDoc {
  readonly id: string;
  readonly index: number;
  readonly sponsor: string;
  readonly protocolId: string;
  readonly registryId?: string;
  readonly title?: string;
  readonly timepoints?: string[];
  readonly subjects: number;
  readonly registeredBy: string;
  readonly registeredAt: string;
}

export interface TrialSubjectDoc {
  readonly id: string;
  readonly index: number;
  readonly trial: string;
  /** The trial-specific pseudonym ("ts_…"). */
  readonly subject: string;
  readonly site?: string;
  readonly enrolledBy: string;
  readonly enrolledAt: string;
}

export interface TimepointData {
  readonly modality: string;
  readonly instanceCount: number;
  readonly manifestRoot: string;
  readonly deidentification?: string;
  /** Id of the source study.registered entry, when the entry referenced one. */
  readonly study?: string;
}

export interface ReadData {
  readonly manifestRoot: string;
  readonly blinded: boolean;
  readonly measurements: string;
  readonly criteria?: string;
  readonly response?: string;
}

interface Versioned {
  readonly id: string;
  readonly index: number;
  readonly trial: string;
  readonly subject: string;
  /** Entry id of the current version: the record's own entry or its latest correction. */
  readonly current: string;
  readonly corrections: number;
}

export type TrialTimepointDoc = Versioned & TimepointData & { readonly timepoint: string };
export type TrialReadDoc = Versioned &
  ReadData & {
    /** Id of the timepoint record read. */
    readonly timepoint: string;
    readonly reader: string;
  };

/** One entry of a subject's timeline. */
export interface TimelineEntryDoc {
  readonly id: string;
  readonly index: number;
  readonly type: string;
  readonly actor: string;
  readonly time: string;
  readonly kind: "enrolment" | "timepoint" | "read";
  readonly trial: string;
  /** Id of the subject record (the enrolment entry). */
  readonly subject: string;
  /** Id of the record this entry creates or corrects (subject, timepoint or read). */
  readonly record: string;
  /** Timepoint label (timepoints and reads). */
  readonly timepoint?: string;
  /** Reads: id of the timepoint record read. */
  readonly timepointRecord?: string;
  /** Enrolment: subject and site; timepoints: image data; reads: the read. */
  readonly data: object;
  /** Corrections: id of the version this entry corrects, the reason code and its commitment. */
  readonly corrects?: string;
  readonly reason?: string;
  readonly reasonCommitment?: string;
  /** Id of the correction that superseded this version. */
  readonly correctedBy?: string;
  /** Whether this version is the record's current one. */
  readonly current: boolean;
}

export const getTrial = (s: StateReader, id: string): TrialDoc | undefined =>
  s.getDoc("trial", id) as TrialDoc | undefined;
export const getTrialSubject = (s: StateReader, id: string): TrialSubjectDoc | undefined =>
  s.getDoc("trial.subject", id) as TrialSubjectDoc | undefined;
export const getTrialTimepoint = (s: StateReader, id: string): TrialTimepointDoc | undefined =>
  s.getDoc("trial.timepoint", id) as TrialTimepointDoc | undefined;
export const getTrialRead = (s: StateReader, id: string): TrialReadDoc | undefined =>
  s.getDoc("trial.read", id) as TrialReadDoc | undefined;
export const getTrialEntry = (s: StateReader, id: string): TimelineEntryDoc | undefined =>
  s.getDoc("trial.entry", id) as TimelineEntryDoc | undefined;
