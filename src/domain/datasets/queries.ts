/** Datasets queries: datasets, their items, annotations, shares and validations, and the credit report. */
import type { CryptoSuite } from "../../core/crypto.js";
import { RadledgerError } from "../../core/errors.js";
import type { JsonObject } from "../../core/canonical-json.js";
import type { StateReader } from "../../ports/storage.js";
import { getActor } from "../identity/state.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import {
  bump,
  contentHashes,
  creditId,
  creditUpTo,
  datasetManifestRoot,
  getDataset,
  getDatasetItem,
  getDatasetSeal,
  type Count,
  type CreditRow,
  type DatasetAnnotationDoc,
  type DatasetDoc,
  type DatasetItemDoc,
  type DatasetSealDoc,
} from "./state.js";

function notFound(message: string): never {
  throw new RadledgerError("RECORD_NOT_FOUND", message);
}

export function requireDataset(state: StateReader, id: string): DatasetDoc {
  return getDataset(state, id) ?? notFound(`no dataset ${id}`);
}

/** The seal of version `version`, if it is sealed. */
export function sealOfVersion(
  state: StateReader,
  datasetId: string,
  version: number,
): DatasetSealDoc | undefined {
  const row = state.lookup("dataset.version", creditId(datasetId, version), { limit: 1 })[0];
  return row ? getDatasetSeal(state, row.value) : undefined;
}

function requireVersion(dataset: DatasetDoc, version: number): void {
  if (!Number.isSafeInteger(version) || version < 1 || version > dataset.openVersion)
    notFound(`dataset ${dataset.id} has no version ${version} (open: ${dataset.openVersion})`);
}

function listed<T>(
  state: StateReader,
  name: string,
  key: string,
  kind: string,
  options: PageOptions,
): Page<T> {
  const o = lookupOptions(options);
  return page(
    state.lookup(name, key, { ...o, limit: o.limit + 1 }),
    o.limit,
    (r) => state.getDoc(kind, r.value) as T,
  );
}

/** All datasets of this log, in log order. */
export function listDatasets(state: StateReader, options: PageOptions = {}): Page<DatasetDoc> {
  return listed(state, "dataset.all", "", "dataset", options);
}

export function datasetItems(
  state: StateReader,
  datasetId: string,
  options: PageOptions = {},
): Page<DatasetItemDoc> {
  requireDataset(state, datasetId);
  return listed(state, "dataset.items", datasetId, "dataset.item", options);
}

export function datasetAnnotations(
  state: StateReader,
  datasetId: string,
  options: PageOptions = {},
): Page<DatasetAnnotationDoc> {
  requireDataset(state, datasetId);
  return listed(state, "dataset.annotations", datasetId, "dataset.annotation", options);
}

export function annotationsOfItem(
  state: StateReader,
  itemId: string,
  options: PageOptions = {},
): Page<DatasetAnnotationDoc> {
  if (!getDatasetItem(state, itemId)) notFound(`no dataset item ${itemId}`);
  return listed(state, "dataset.item.annotations", itemId, "dataset.annotation", options);
}

export function datasetVendorContributions(state: StateReader, datasetId: string, options: PageOptions = {}) {
  requireDataset(state, datasetId);
  return listed<JsonObject>(state, "dataset.vendor", datasetId, "dataset.vendor", options);
}

export function datasetShares(state: StateReader, datasetId: string, options: PageOptions = {}) {
  requireDataset(state, datasetId);
  return listed<JsonObject>(state, "dataset.shares", datasetId, "dataset.share", options);
}

export function datasetValidations(state: StateReader, datasetId: string, options: PageOptions = {}) {
  requireDataset(state, datasetId);
  return listed<JsonObject>(state, "dataset.validations", datasetId, "dataset.validation", options);
}

/**
 * The content hashes of a version (item manifest roots and annotation content hashes), sorted: the
 * leaves of its manifest root. A recipient recomputes the root from the files it received and
 * compares it with the seal's.
 */
export function versionContents(
  state: StateReader,
  datasetId: string,
  version: number,
): { version: number; sealed: boolean; hashes: string[]; manifestRoot?: string } {
  const dataset = requireDataset(state, datasetId);
  requireVersion(dataset, version);
  const seal = sealOfVersion(state, datasetId, version);
  const hashes = contentHashes(state, datasetId, seal?.index).sort();
  return seal
    ? { version, sealed: true, hashes, manifestRoot: seal.manifestRoot }
    : { version, sealed: false, hashes };
}

/** The body a curator signs to seal the open version, derived from the projection. */
export function proposeSeal(
  state: StateReader,
  crypto: CryptoSuite,
  datasetId: string,
): { version: number; manifestRoot: string; items: number; annotations: number; contributors: string[] } {
  const dataset = requireDataset(state, datasetId);
  return {
    version: dataset.openVersion,
    manifestRoot: datasetManifestRoot(crypto, contentHashes(state, datasetId)),
    items: dataset.items,
    annotations: dataset.annotations,
    contributors: creditUpTo(state, datasetId, dataset.openVersion).map((r) => r.actor),
  };
}

export type ContributorCredit = CreditRow & {
  readonly displayName?: string;
  readonly roles: readonly string[];
};

export interface CreditReport {
  readonly dataset: { readonly id: string; readonly name: string };
  readonly version: number;
  readonly sealed: boolean;
  readonly seal?: {
    readonly id: string;
    readonly index: number;
    readonly manifestRoot: string;
    readonly sealedBy: string;
    readonly sealedAt: string;
  };
  readonly totals: {
    readonly contributors: number;
    readonly items: number;
    readonly annotations: number;
    readonly vendorContributions: number;
    readonly itemsByInstitution: Count[];
    readonly annotationsBySchema: Count[];
    readonly vendorContributionsByKind: Count[];
  };
  /** Sorted by actor id. */
  readonly contributors: ContributorCredit[];
}

/**
 * Who contributed what to a dataset version, counted: per contributor (actor id, display name and
 * roles as enrolled) the items added (by source institution), annotations added (by label schema)
 * and vendor contributions (by kind); totals; and the seal with its manifest root. A version includes
 * everything added up to its seal. Without `version`, the latest sealed version (or the open one if
 * none is sealed); the open version's report is provisional (`sealed: false`).
 */
export function creditReport(state: StateReader, datasetId: string, version?: number): CreditReport {
  const dataset = requireDataset(state, datasetId);
  const v = version ?? dataset.versions.at(-1)?.version ?? dataset.openVersion;
  requireVersion(dataset, v);
  const seal = sealOfVersion(state, datasetId, v);
  const rows = creditUpTo(state, datasetId, v);
  const sum = (f: (r: CreditRow) => number): number => rows.reduce((n, r) => n + f(r), 0);
  const merge = (f: (r: CreditRow) => readonly Count[]): Count[] =>
    rows.reduce<Count[]>((acc, r) => f(r).reduce((a, c) => bump(a, c.name, c.count), acc), []);
  return {
    dataset: { id: dataset.id, name: dataset.name },
    version: v,
    sealed: seal !== undefined,
    ...(seal
      ? {
          seal: {
            id: seal.id,
            index: seal.index,
            manifestRoot: seal.manifestRoot,
            sealedBy: seal.sealedBy,
            sealedAt: seal.sealedAt,
          },
        }
      : {}),
    totals: {
      contributors: rows.length,
      items: sum((r) => r.items),
      annotations: sum((r) => r.annotations),
      vendorContributions: sum((r) => r.vendorContributions),
      itemsByInstitution: merge((r) => r.itemsByInstitution),
      annotationsBySchema: merge((r) => r.annotationsBySchema),
      vendorContributionsByKind: merge((r) => r.vendorContributionsByKind),
    },
    contributors: rows.map((r) => {
      const actor = getActor(state, r.actor);
      const displayName = typeof actor?.displayName === "string" ? actor.displayName : undefined;
      return { ...r, ...(displayName === undefined ? {} : { displayName }), roles: actor?.roles ?? [] };
    }),
  };
}
