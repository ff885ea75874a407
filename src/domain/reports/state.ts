/**
 * Reports projection (docs/families/reports.md): documents `report/<id>` (the report with its
 * contributions, consultations, sign-off and amendments) and `consult/<id>`; indexes `report.study`,
 * `report.patient`, `report.all`, `report.signed` and `consult.open` (consultant → open
 * consultations). AI content also writes `ai.usage` rows (src/domain/ai/state.ts).
 */
import type { ApplyContext } from "../ledger/entry-types.js";

export interface ContributionView {
  readonly id: string;
  readonly index: number;
  readonly kind: "contribution" | "consultation" | "amendment" | "addendum";
  readonly section: string;
  /** Whose content it is: the signer, or the clinician an integration entered it for. */
  readonly author: string;
  /** The system that signed it on the author's behalf (body `onBehalfOf`), when not the author. */
  readonly enteredBy?: string;
  readonly role: string;
  readonly specialty?: string;
  readonly modality?: string;
  readonly bodySystem?: string;
  readonly origin: "human" | "ai" | "ai-modified";
  readonly inference?: string;
  readonly model?: string;
  /** The AI finding the content comes from (body aiFinding), when named. */
  readonly aiFinding?: string;
  readonly contentCommitment: string;
  readonly time: string;
  readonly amends?: string;
  readonly reason?: string;
}

export interface ReportDoc {
  readonly id: string;
  readonly index: number;
  readonly study: string;
  readonly patient: string;
  readonly status: "open" | "signed";
  readonly openedBy: string;
  readonly openedAt: string;
  readonly contributions: ContributionView[];
  readonly consults: {
    id: string;
    from: string;
    to: string;
    status: "open" | "answered";
    answer?: string;
    specialty?: string;
  }[];
  /** `enteredBy`: the system that entered a delegated sign-off (body `onBehalfOf`). */
  readonly signOff?: { id: string; by: string; enteredBy?: string; time: string; attestation: string };
  readonly amendments: ContributionView[];
  /** An attending's co-signature of a preliminary sign-off (report.cosigned). */
  readonly cosignature?: { id: string; by: string; time: string };
  /** Per-section verifications (report.section.verified); absent until the first. */
  readonly verifications?: { id: string; contribution: string; by: string; time: string }[];
  /** Radiologists' decisions on the AI findings, from ai.finding.disposition entries naming the report. */
  readonly aiDispositions?: AiDisposition[];
  readonly [key: string]: unknown;
}

export interface AiDisposition {
  readonly id: string;
  readonly inference: string;
  readonly model: string;
  readonly disposition: "accepted" | "modified" | "rejected";
  readonly findingId?: string;
  readonly by: string;
  readonly time: string;
}

export function getReport(state: ApplyContext<unknown>["state"], id: string): ReportDoc | undefined {
  return state.getDoc("report", id) as ReportDoc | undefined;
}
