/**
 * What a dataset version's credit report becomes outside the app: a CSV (one row per contributor,
 * lib/csv.ts: RFC 4180, formula-safe) and a citation text naming every contributor with their
 * roles, the dataset, the version, the log it is sealed in and the manifest root a recipient checks
 * the files against (docs/families/datasets.md "Manifest root").
 */
import type { Cell } from "../../lib/csv.js";
import { counts, type CreditReport } from "./types.js";

export const CREDIT_CSV_HEADER = [
  "dataset",
  "dataset id",
  "version",
  "sealed",
  "manifest root",
  "actor",
  "name",
  "roles",
  "items",
  "items by institution",
  "annotations",
  "annotations by label schema",
  "vendor contributions",
  "vendor contributions by kind",
] as const;

export function creditRows(r: CreditReport): Cell[][] {
  return r.contributors.map((c) => [
    r.dataset.name,
    r.dataset.id,
    r.version,
    r.sealed ? "yes" : "no (provisional)",
    r.seal?.manifestRoot ?? "",
    c.actor,
    c.displayName ?? "",
    c.roles.join(" "),
    c.items,
    counts(c.itemsByInstitution),
    c.annotations,
    counts(c.annotationsBySchema),
    c.vendorContributions,
    counts(c.vendorContributionsByKind),
  ]);
}

/**
 * "Contributors: Gia Data (curator); Hal Labels (annotator). Dataset Demo stroke MR dataset,
 * version 1, radledger <origin>, manifest root <hex>." — an unsealed version says so instead of a
 * root, since its contents can still grow.
 */
export function citationText(r: CreditReport, origin: string): string {
  const people = r.contributors
    .map((c) => `${c.displayName ?? c.actor} (${c.roles.length > 0 ? c.roles.join(", ") : "contributor"})`)
    .join("; ");
  const root = r.seal ? `manifest root ${r.seal.manifestRoot}` : "not sealed (provisional)";
  return `Contributors: ${people || "none"}. Dataset ${r.dataset.name}, version ${r.version}, radledger ${origin}, ${root}.`;
}
