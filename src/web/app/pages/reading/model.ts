/**
 * What the reading pages get from the node (docs/api.md: GET /api/v1/reports, /api/v1/studies,
 * /api/v1/reports/:id, /api/v1/reports/:id/content) and the vocabularies they offer. The
 * vocabularies repeat the node's own (the web app runs on the pure core only, eslint.boundaries.js);
 * the node validates every write against its schema anyway (ENTRY_SCHEMA_INVALID names the field).
 */

export type Stage = "draft" | "signed" | "amended";

export interface Person {
  readonly id: string;
  readonly name?: string;
}

export interface WorklistReport {
  readonly id: string;
  readonly study: string;
  readonly patient: string;
  readonly stage: Stage;
  readonly reportKind?: string;
  readonly openedBy: string;
  readonly openedAt: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly contributors: Person[];
  readonly sections: number;
  readonly amendments: number;
  readonly openConsultations: number;
  readonly signedAt?: string;
}

/** GET /api/v1/consultations/mine: an open consultation asked of the signed-in person. */
export interface AskedConsultation {
  readonly id: string;
  readonly report: string;
  readonly reportStage: Stage;
  readonly study: string;
  readonly patient: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly from: string;
  readonly fromName?: string;
  readonly specialty?: string;
  readonly requestedAt?: string;
}

export interface WorklistStudy {
  readonly id: string;
  readonly patient: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly registeredAt?: string;
  readonly instanceCount: number;
  readonly reports: { id: string; stage: Stage }[];
}

export interface ModelSummary {
  readonly id: string;
  readonly vendor: string;
  readonly name: string;
  readonly version: string;
  readonly status: string;
}

export interface Section {
  readonly id: string;
  readonly kind: "contribution" | "consultation" | "amendment" | "addendum";
  readonly section: string;
  readonly author: string;
  readonly authorName?: string;
  readonly enteredBy?: string;
  readonly enteredByName?: string;
  readonly role: string;
  readonly specialty?: string;
  readonly origin: "human" | "ai" | "ai-modified";
  readonly inference?: string;
  readonly modelVersion?: ModelSummary;
  readonly contentCommitment: string;
  readonly time: string;
  readonly amends?: string;
  readonly reason?: string;
}

export type DispositionCode = "accepted" | "modified" | "rejected";

export interface AiFinding {
  readonly inference: string;
  readonly model?: ModelSummary;
  readonly time?: string;
  readonly findingCount?: number;
  readonly dispositions: { disposition: DispositionCode; by: string; byName?: string; time?: string }[];
  readonly status: DispositionCode | "pending";
}

export interface Consultation {
  readonly id: string;
  readonly from: string;
  readonly fromName?: string;
  readonly to: string;
  readonly toName?: string;
  readonly specialty?: string;
  readonly status: "open" | "answered";
  readonly requestedAt?: string;
  readonly answer?: string;
  readonly answeredAt?: string;
}

export interface ReportView {
  readonly id: string;
  readonly study: string;
  readonly patient: string;
  readonly status: "open" | "signed";
  readonly stage: Stage;
  readonly reportKind?: string;
  readonly modalities: string[];
  readonly bodyPart?: string;
  readonly openedBy: string;
  readonly openedByName?: string;
  readonly openedAt: string;
  readonly sections: Section[];
  readonly amendments: Section[];
  readonly consultationsDetail: Consultation[];
  readonly signOff?: { id: string; by: string; byName?: string; time: string; attestation: string };
  readonly aiFindings: AiFinding[];
}

/** The gatekeeper's answer to a read (POST /api/v1/reports/:id/content). */
export interface ContentAnswer {
  readonly access: {
    id: string;
    index: number;
    decision: "permit";
    basis: Record<string, unknown>;
    review?: boolean;
  };
  readonly sections: (Section & { content?: { text?: string }; contentStatus?: string })[];
  /** Each consultation's question (a whole-report read). */
  readonly consultations?: { id: string; question?: { text?: string }; contentStatus?: string }[];
}

/** src/domain/reports/entries.ts SECTIONS_BY_ROLE: the sections each role may author. */
export const SECTIONS_BY_ROLE: Readonly<Record<string, readonly string[]>> = {
  radiologist: [
    "history",
    "technique",
    "comparison",
    "findings",
    "measurement",
    "impression",
    "recommendation",
    "consultation-note",
  ],
  clinician: ["history", "consultation-note"],
  technologist: ["technique", "measurement"],
};

/** src/domain/reports/entries.ts amendmentReasons. */
export const AMENDMENT_REASONS = [
  "correction",
  "transcription-error",
  "laterality-error",
  "omission",
  "clarification",
  "late-finding",
  "comparison-available",
  "clinical-information",
  "recall",
  "ai-revision",
  "other",
] as const;

/** src/domain/access/break-glass.ts breakGlassReasons. */
export const BREAK_GLASS_REASONS = [
  "immediate-threat-to-life",
  "patient-unable-to-consent",
  "urgent-clinical-need",
  "covering-clinician",
  "care-relationship-not-recorded",
  "other",
] as const;

export const STAGE_TONE = { draft: "warning", signed: "success", amended: "info" } as const;

/** "consultation-note" → "Consultation note". */
export function label(code: string): string {
  const s = code.replace(/-/g, " ");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function personName(p: { id: string; name?: string }): string {
  return p.name ?? p.id;
}
