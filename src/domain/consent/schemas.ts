/**
 * Building blocks shared by the consent and access families: HL7 v3 PurposeOfUse codes, the parts
 * of a patient's imaging record an access or a grant is about, validity periods, grantees and
 * scopes. Ids are opaque and patterned: entry ids (lowercase hex leaf hashes) for studies, reports,
 * report sections, trials and datasets; keyed pseudonyms for series and instances — never DICOM UIDs.
 */
import { z } from "zod";
import { actorId, code, entryId, keyedId, sha256Hex, timestamp } from "../schemas.js";

/**
 * HL7 v3 PurposeOfUse (2.16.840.1.113883.1.11.20448) codes radledger accepts. ETREAT (emergency
 * treatment) is the break-glass purpose; CLINTRL covers clinical-trial care, CLINTRCH and HRESCH
 * research.
 */
export const PURPOSES_OF_USE = [
  "TREAT",
  "ETREAT",
  "COC",
  "CAREMGT",
  "CLINTRL",
  "CLINTRCH",
  "HRESCH",
  "PATRQT",
  "FAMRQT",
  "PWATRNY",
  "HOPERAT",
  "HPAYMT",
  "PUBHLTH",
  "HQUALIMP",
  "TRAIN",
  "RECORDMGT",
  "HLEGAL",
] as const;
export type PurposeOfUse = (typeof PURPOSES_OF_USE)[number];
export const purposeOfUse = z.enum(PURPOSES_OF_USE);

/** The break-glass purpose, and the purpose a care relationship permits. */
export const BREAK_GLASS_PURPOSE: PurposeOfUse = "ETREAT";
export const CARE_PURPOSE: PurposeOfUse = "TREAT";

/** A log origin (checkpoint origin line): printable ASCII without spaces or "+". */
export const logOrigin = z.string().regex(/^[!-*,-~]{1,255}$/, "expected a log origin");

/** Validity period, RFC 3339 UTC with milliseconds; `end` is exclusive and absent when open-ended. */
export const period = z
  .strictObject({ start: timestamp, end: timestamp.optional() })
  .refine((p) => p.end === undefined || p.end > p.start, "period end must be after its start");
export type Period = z.infer<typeof period>;

/**
 * A part of a patient's imaging record. Sub-parts name the study they belong to (the gatekeeper
 * knows it), so that study scopes are decided without reading other families' records.
 */
export const part = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("study"), id: entryId }),
  z.strictObject({ kind: z.literal("series"), id: keyedId("se_"), study: entryId }),
  z.strictObject({ kind: z.literal("instance"), id: keyedId("in_"), study: entryId }),
  z.strictObject({ kind: z.literal("report"), id: entryId, study: entryId }),
  z.strictObject({ kind: z.literal("report-section"), id: entryId, report: entryId, study: entryId }),
  z.strictObject({ kind: z.literal("dataset"), id: entryId }),
  /**
   * The patient's record as a whole: its index of studies and reports, grants, care relationships
   * and access history (what the API's patient-scoped queries read). Only the patient's own actor
   * and an all-imaging grant cover it; it is not a clinical part.
   */
  z.strictObject({ kind: z.literal("record") }),
]);
export type Part = z.infer<typeof part>;
export type PartKind = Part["kind"];

/** Parts of the clinical record: what a care relationship and break-glass may open (not datasets). */
export const CLINICAL_PARTS: readonly PartKind[] = [
  "study",
  "series",
  "instance",
  "report",
  "report-section",
];
export const REPORT_PARTS: readonly PartKind[] = ["report", "report-section"];

/** The study a part belongs to (undefined for datasets and the whole record). */
export function studyOfPart(p: Part): string | undefined {
  if (p.kind === "study") return p.id;
  if (p.kind === "dataset" || p.kind === "record") return undefined;
  return p.study;
}

/** Who a grant is to: an actor of this log, an institution (log origin), a trial or a dataset (entry id). */
export const grantee = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("actor"), id: actorId }),
  z.strictObject({ kind: z.literal("institution"), id: logOrigin }),
  z.strictObject({ kind: z.literal("trial"), id: entryId }),
  z.strictObject({ kind: z.literal("dataset"), id: entryId }),
]);
export type Grantee = z.infer<typeof grantee>;

/**
 * What a grant covers. `study` and `study-reports` name their study through `refs.study`:
 * - all-imaging: every part of the patient's imaging record, datasets included;
 * - study: one study — its series, instances, reports and report sections;
 * - reports-only: every report and report section, no images;
 * - study-reports: the reports and report sections of one study.
 */
export const SCOPE_KINDS = ["all-imaging", "study", "reports-only", "study-reports"] as const;
export type ScopeKind = (typeof SCOPE_KINDS)[number];
export const STUDY_SCOPES: readonly ScopeKind[] = ["study", "study-reports"];
export const scope = z.strictObject({ kind: z.enum(SCOPE_KINDS) });

/** The institution acting on a patient's documented request: the document's commitment and a reason code. */
export const onBehalf = z.strictObject({ documentCommitment: sha256Hex, reason: code });

/** The context an actor acts in when a grant is to a trial or a dataset. */
export const accessContext = z.strictObject({ kind: z.enum(["trial", "dataset"]), id: entryId });
export type AccessContext = z.infer<typeof accessContext>;

/** What the gatekeeper does with a part once permitted. */
export const ACCESS_ACTIONS = ["read", "export", "download", "print"] as const;
export type AccessAction = (typeof ACCESS_ACTIONS)[number];
export const accessAction = z.enum(ACCESS_ACTIONS);

export const uniqueList = (items: readonly unknown[]): boolean => new Set(items).size === items.length;
