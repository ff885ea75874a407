/** The trials API's answers as the pages use them (docs/families/trials.md "Projection"). */
export interface Trial {
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

export interface TrialSubject {
  readonly id: string;
  readonly index: number;
  readonly trial: string;
  /** The trial-specific pseudonym (ts_…): never linkable to the patient's other records. */
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
  readonly study?: string;
}

export interface ReadData {
  readonly manifestRoot: string;
  readonly blinded: boolean;
  readonly measurements: string;
  readonly criteria?: string;
  readonly response?: string;
}

export interface TimelineItem {
  readonly id: string;
  readonly index: number;
  readonly type: string;
  readonly actor: string;
  readonly time: string;
  readonly kind: "enrolment" | "timepoint" | "read";
  readonly record: string;
  readonly timepoint?: string;
  readonly timepointRecord?: string;
  readonly data: Partial<TimepointData & ReadData & { subject: string; site: string }>;
  readonly corrects?: string;
  readonly reason?: string;
  readonly reasonCommitment?: string;
  readonly correctedBy?: string;
  readonly current: boolean;
  readonly imagesCurrent?: boolean;
}

export interface Timeline {
  readonly trial: Trial;
  readonly subject: TrialSubject;
  readonly items: TimelineItem[];
  readonly next?: string;
}

export interface TrialRead extends ReadData {
  readonly id: string;
  readonly index: number;
  readonly timepoint: string;
  readonly reader: string;
  readonly current: string;
  readonly corrections: number;
}

/** trial.correction reasons (src/domain/trials/entries.ts correctionReasons) in words. */
export const CORRECTION_REASONS: Readonly<Record<string, string>> = {
  "wrong-series": "Wrong series",
  "wrong-timepoint": "Wrong timepoint",
  "wrong-subject": "Wrong subject",
  "deid-failure": "De-identification failure",
  "image-quality": "Image quality",
  "re-read": "Re-read",
  "transcription-error": "Transcription error",
  adjudication: "Adjudication",
  "data-query": "Data query",
  other: "Other",
};

export const reasonLabel = (code: string | undefined): string =>
  code === undefined ? "" : (CORRECTION_REASONS[code] ?? code);
