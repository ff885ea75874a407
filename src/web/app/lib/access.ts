/**
 * Access records as the app shows them (docs/families/access.md "Projection and queries"): the
 * shape the API answers, the purposes of use in words and the parts of a record — one vocabulary
 * for the auditor's and the patient's pages.
 */
export interface AccessRow {
  readonly id: string;
  readonly index: number;
  readonly time: string;
  readonly patient: string;
  readonly part: {
    readonly kind: string;
    readonly id?: string;
    readonly study?: string;
    readonly section?: string;
  };
  readonly action: string;
  readonly purpose: string;
  readonly decision: "permit" | "deny";
  readonly basis?: { readonly kind: string; readonly reason?: string };
  readonly reason?: string;
  readonly review?: { readonly open: boolean; readonly outcome?: string; readonly by?: string };
  readonly who: { readonly actor: string; readonly displayName?: string; readonly kind?: string };
  readonly justification?: string;
  readonly justificationStatus?: string;
}

/** HL7 v3 PurposeOfUse codes (docs/families/consent.md) in words. */
export const PURPOSES: Readonly<Record<string, string>> = {
  TREAT: "treatment",
  ETREAT: "emergency treatment (break-glass)",
  COC: "coordination of care",
  CAREMGT: "care management",
  CLINTRL: "clinical trial",
  CLINTRCH: "clinical trial research",
  HRESCH: "healthcare research",
  PATRQT: "patient request",
  FAMRQT: "family request",
  PWATRNY: "power of attorney",
  HOPERAT: "healthcare operations",
  HPAYMT: "payment",
  PUBHLTH: "public health",
  HQUALIMP: "quality improvement",
  TRAIN: "training",
  RECORDMGT: "records management",
  HLEGAL: "legal",
};

export const PART_KINDS = ["record", "study", "series", "instance", "report", "report-section", "dataset"];

export function partText(a: AccessRow): string {
  const p = a.part;
  return [p.kind, p.section, p.id].filter((x) => x !== undefined).join(" ");
}

/**
 * An access another hospital system reported (IHE ATNA, access.reported; src/domain/access/history.ts
 * ReportedAccessView): the node did not decide it, it recorded the system's signed statement.
 */
export interface ReportedRow {
  readonly origin: "reported";
  readonly id: string;
  readonly index: number;
  /** When the event happened in the reporting system. */
  readonly time: string;
  /** When the node recorded the report. */
  readonly recordedAt: string;
  readonly patient: string;
  readonly reportedBy: { readonly actor: string; readonly displayName?: string };
  readonly transport: string;
  readonly authenticatedBy: "certificate" | "credential" | "network-address";
  readonly source: { readonly id: string; readonly site?: string };
  readonly event: {
    readonly id: { readonly code: string; readonly display?: string };
    readonly purposes?: readonly { readonly code: string; readonly display?: string }[];
  };
  readonly outcome: string;
  readonly participants: readonly { readonly userId: string; readonly requestor: boolean }[];
  readonly studies: readonly { readonly key: string; readonly study?: string }[];
}

/** An item of the merged access history: decided by this node, or reported by another system. */
export type HistoryRow = (AccessRow & { readonly origin?: "decided" }) | ReportedRow;

export const isReported = (a: HistoryRow): a is ReportedRow => a.origin === "reported";

export const reporterName = (r: ReportedRow): string => r.reportedBy.displayName ?? r.reportedBy.actor;

/** The label every reported row carries (issue 21 §2): whose statement it is, and that the node did not decide. */
export const reportedLabel = (r: ReportedRow): string =>
  `Reported by ${reporterName(r)} — the node did not decide this access`;

/**
 * How far the reporting system is authenticated (docs/audit.md): over TLS by the certificate an
 * admin bound to it; over plain TCP or UDP only by its network address, which anyone on that path
 * can use.
 */
export const authenticityText = (r: ReportedRow): string =>
  r.authenticatedBy === "certificate"
    ? "sent over TLS, the sender authenticated by its certificate"
    : r.authenticatedBy === "credential"
      ? "sent to the node's FHIR audit feed, the sender authenticated by its token or certificate"
      : `sent over ${r.transport === "syslog-udp" ? "UDP" : "TCP"} without TLS: the sender is known only by its network address, not authenticated`;

/** Who the report names: the participants' user ids in that system, the requestor first. */
export const reportedWho = (r: ReportedRow): string =>
  r.participants
    .filter((p) => p.requestor)
    .concat(r.participants.filter((p) => !p.requestor))
    .map((p) => p.userId)
    .join(", ");

export const reportedWhat = (r: ReportedRow): string => {
  const studies = r.studies.length
    ? ` (${r.studies.length} stud${r.studies.length === 1 ? "y" : "ies"})`
    : "";
  return `${r.event.id.display ?? `event ${r.event.id.code}`}${studies}`;
};

export const reportedWhy = (r: ReportedRow): string =>
  (r.event.purposes ?? []).map((p) => PURPOSES[p.code] ?? p.display ?? p.code).join(", ") || "not stated";

/** EventOutcomeIndicator (DICOM PS3.15 A.5.1) in words. */
export const OUTCOME_WORDS: Readonly<Record<string, string>> = {
  success: "succeeded",
  "minor-failure": "failed (minor failure)",
  "serious-failure": "failed (serious failure)",
  "major-failure": "failed (major failure)",
};
