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
