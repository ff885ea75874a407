/**
 * Datasets projection documents (docs/families/datasets.md) and the two derivations a seal is checked
 * against: the version's manifest root (RFC 9162 root over the sorted content hashes of its items and
 * annotations) and its contributors (from per-version credit documents).
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { fromHex, toHex } from "../../core/bytes.js";
import { CompactRange } from "../../core/merkle/compact-range.js";
import { leafHash } from "../../core/merkle/hash.js";
import type { StateReader } from "../../ports/storage.js";

export interface DatasetVersionSummary {
  readonly version: number;
  /** Id of the dataset.version.sealed entry. */
  readonly seal: string;
  readonly index: number;
  readonly manifestRoot: string;
  readonly items: number;
  readonly annotations: number;
  readonly contributors: number;
  readonly sealedAt: string;
}

export interface DatasetDoc {
  readonly id: string;
  readonly index: number;
  readonly name: string;
  readonly purpose?: string;
  readonly createdBy: string;
  readonly createdAt: string;
  /** The version that items, annotations and vendor contributions go into now. */
  readonly openVersion: number;
  /** Cumulative counts over all versions, the open one included. */
  readonly items: number;
  readonly annotations: number;
  readonly vendorContributions: number;
  /** Sealed versions, oldest first. */
  readonly versions: DatasetVersionSummary[];
}

export interface DatasetItemDoc {
  readonly id: string;
  readonly index: number;
  readonly dataset: string;
  /** The version the item was added to (it belongs to that version and every later one). */
  readonly version: number;
  readonly manifestRoot: string;
  readonly instanceCount: number;
  readonly modality?: string;
  readonly sourceInstitution: string;
  readonly deidentification?: string;
  readonly addedBy: string;
  readonly addedAt: string;
}

export interface DatasetAnnotationDoc {
  readonly id: string;
  readonly index: number;
  readonly dataset: string;
  readonly version: number;
  readonly item: string;
  readonly labelSchema: string;
  readonly kind?: string;
  readonly tool: { readonly name: string; readonly version: string };
  readonly contentHash: string;
  readonly annotator: string;
  readonly addedAt: string;
}

export interface DatasetSealDoc {
  readonly id: string;
  readonly index: number;
  readonly dataset: string;
  readonly version: number;
  readonly manifestRoot: string;
  readonly items: number;
  readonly annotations: number;
  readonly contributors: string[];
  readonly sealedBy: string;
  readonly sealedAt: string;
}

export interface Count {
  readonly name: string;
  readonly count: number;
}

/** What one actor contributed (to one version, or summed over versions). */
export interface CreditRow {
  readonly actor: string;
  readonly items: number;
  readonly annotations: number;
  readonly vendorContributions: number;
  readonly itemsByInstitution: Count[];
  readonly annotationsBySchema: Count[];
  readonly vendorContributionsByKind: Count[];
}

/** `dataset.credit/<dataset>:<version>`: contributions made while that version was open. */
export interface CreditDoc {
  readonly dataset: string;
  readonly version: number;
  /** Sorted by actor id. */
  readonly contributors: CreditRow[];
}

export const getDataset = (s: StateReader, id: string): DatasetDoc | undefined =>
  s.getDoc("dataset", id) as DatasetDoc | undefined;
export const getDatasetItem = (s: StateReader, id: string): DatasetItemDoc | undefined =>
  s.getDoc("dataset.item", id) as DatasetItemDoc | undefined;
export const getDatasetAnnotation = (s: StateReader, id: string): DatasetAnnotationDoc | undefined =>
  s.getDoc("dataset.annotation", id) as DatasetAnnotationDoc | undefined;
export const getDatasetSeal = (s: StateReader, id: string): DatasetSealDoc | undefined =>
  s.getDoc("dataset.seal", id) as DatasetSealDoc | undefined;
export const creditId = (dataset: string, version: number): string => `${dataset}:${version}`;
export const getCredit = (s: StateReader, dataset: string, version: number): CreditDoc | undefined =>
  s.getDoc("dataset.credit", creditId(dataset, version)) as CreditDoc | undefined;

export const emptyCreditRow = (actor: string): CreditRow => ({
  actor,
  items: 0,
  annotations: 0,
  vendorContributions: 0,
  itemsByInstitution: [],
  annotationsBySchema: [],
  vendorContributionsByKind: [],
});

/** Adds `n` to the count called `name`, keeping the list sorted by name. */
export function bump(counts: readonly Count[], name: string, n = 1): Count[] {
  const out = counts.map((c) => (c.name === name ? { name, count: c.count + n } : c));
  if (!counts.some((c) => c.name === name)) out.push({ name, count: n });
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function addRows(a: CreditRow, b: CreditRow): CreditRow {
  const merge = (x: readonly Count[], y: readonly Count[]): Count[] =>
    y.reduce((acc, c) => bump(acc, c.name, c.count), [...x]);
  return {
    actor: a.actor,
    items: a.items + b.items,
    annotations: a.annotations + b.annotations,
    vendorContributions: a.vendorContributions + b.vendorContributions,
    itemsByInstitution: merge(a.itemsByInstitution, b.itemsByInstitution),
    annotationsBySchema: merge(a.annotationsBySchema, b.annotationsBySchema),
    vendorContributionsByKind: merge(a.vendorContributionsByKind, b.vendorContributionsByKind),
  };
}

/** Credit summed over versions 1..`version` (a version contains everything added up to its seal). */
export function creditUpTo(s: StateReader, dataset: string, version: number): CreditRow[] {
  const rows = new Map<string, CreditRow>();
  for (let v = 1; v <= version; v++) {
    for (const row of getCredit(s, dataset, v)?.contributors ?? []) {
      rows.set(row.actor, addRows(rows.get(row.actor) ?? emptyCreditRow(row.actor), row));
    }
  }
  return [...rows.values()].sort((a, b) => (a.actor < b.actor ? -1 : 1));
}

/**
 * The manifest root of a dataset version: the RFC 9162 Merkle tree hash over the 32-byte content
 * hashes (item manifest roots and annotation content hashes) sorted bytewise, each as one leaf
 * (leaf hash = SHA-256(0x00 || hash)). Content hashes are unique within a dataset.
 */
export function datasetManifestRoot(crypto: CryptoSuite, hashes: readonly string[]): string {
  const range = new CompactRange(crypto);
  for (const h of [...hashes].sort()) range.append(leafHash(crypto, fromHex(h)));
  return toHex(range.root());
}

/**
 * The content hashes of version `version` in log order: every item and annotation added before its
 * seal (`beforeIndex`), or all of them for the open version.
 */
export function contentHashes(s: StateReader, dataset: string, beforeIndex?: number): string[] {
  const rows =
    beforeIndex === undefined
      ? s.lookup("dataset.content", dataset)
      : s.lookup("dataset.content", dataset, { after: beforeIndex, reverse: true }).reverse();
  return rows.map((r) => r.value);
}
