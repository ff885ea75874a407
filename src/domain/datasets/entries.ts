/**
 * Datasets family (docs/families/datasets.md, area 6): de-identified datasets built from items (a de-identified image
 * set's manifest root and source institution) and annotations (annotator, label schema, tool and
 * version, content hash), with vendor contributions, sealed versions, sharing under a data-use
 * agreement, and model validations against a sealed version.
 *
 * Versions are cumulative and numbered from 1: everything added goes into the open version; sealing
 * version N fixes its manifest root (over every item and annotation added so far) and contributor
 * list, both recomputed from the projection and refused on mismatch, and opens N+1. Nothing can be
 * added to a sealed version afterwards, so "a sealed version never changes" holds by construction and
 * can be checked by anyone holding the content hashes.
 */
import { z } from "zod";
import { defineEntryType, type ApplyContext } from "../ledger/entry-types.js";
import { modality } from "../imaging/entries.js";
import { getModel } from "../ai/state.js";
import { actorId, code, label, positiveInt, sha256Hex, timestamp } from "../schemas.js";
import type { Role } from "../identity/roles.js";
import {
  bump,
  contentHashes,
  creditId,
  creditUpTo,
  datasetManifestRoot,
  emptyCreditRow,
  getCredit,
  getDataset,
  getDatasetItem,
  getDatasetSeal,
  type CreditRow,
  type DatasetDoc,
} from "./state.js";

const CURATORS: Role[] = ["curator", "admin"];
const ANNOTATORS: Role[] = ["annotator", "radiologist", "curator"];
const VALIDATORS: Role[] = ["researcher", "vendor", "curator"];

/** A product or model version string, as the AI family writes it (e.g. "5.6.2", "2.1.0+cu121"). */
const versionString = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/, "expected a version string");
const product = z.strictObject({ name: label, version: versionString });

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The dataset named by refs.dataset. */
const datasetOf = (ctx: ApplyContext<unknown>): DatasetDoc =>
  getDataset(ctx.state, ctx.ref("dataset").leafHash)!;

/** Records a contribution to the open version: credit for the signer and the dataset's counters. */
function credit(
  ctx: ApplyContext<unknown>,
  dataset: DatasetDoc,
  update: (row: CreditRow) => CreditRow,
  counters: Partial<Pick<DatasetDoc, "items" | "annotations" | "vendorContributions">>,
): number {
  const version = dataset.openVersion;
  const doc = getCredit(ctx.state, dataset.id, version);
  const rows = doc?.contributors ?? [];
  const actor = ctx.entry.actor;
  const row = update(rows.find((r) => r.actor === actor) ?? emptyCreditRow(actor));
  const contributors = [...rows.filter((r) => r.actor !== actor), row].sort((a, b) =>
    a.actor < b.actor ? -1 : 1,
  );
  ctx.state.putDoc("dataset.credit", creditId(dataset.id, version), {
    dataset: dataset.id,
    version,
    contributors,
  });
  ctx.state.putDoc("dataset", dataset.id, { ...dataset, ...counters });
  return version;
}

/** Item manifest roots and annotation content hashes are unique within a dataset (they are its leaves). */
function addContent(ctx: ApplyContext<unknown>, dataset: string, hash: string, at: string): void {
  const key = `${dataset}:${hash}`;
  const existing = ctx.state.lookup("dataset.hash", key, { limit: 1 })[0];
  if (existing)
    ctx.reject("DATASET_CONTENT_EXISTS", `this content is already in the dataset as ${existing.value}`, {
      at,
      existing: existing.value,
    });
  ctx.state.addIndex("dataset.hash", key, ctx.index, ctx.leafHash);
  ctx.state.addIndex("dataset.content", dataset, ctx.index, hash);
}

export const datasetCreated = defineEntryType({
  type: "dataset.created",
  summary: "Creates a de-identified dataset; version 1 is open.",
  body: z.strictObject({
    name: label,
    /** e.g. "training", "validation", "test", "benchmark". */
    purpose: code.optional(),
  }),
  refs: {},
  signers: CURATORS,
  apply(ctx) {
    const doc: DatasetDoc = withoutUndefined({
      id: ctx.leafHash,
      index: ctx.index,
      name: ctx.body.name,
      purpose: ctx.body.purpose,
      createdBy: ctx.entry.actor,
      createdAt: ctx.entry.time,
      openVersion: 1,
      items: 0,
      annotations: 0,
      vendorContributions: 0,
      versions: [],
    }) as DatasetDoc;
    ctx.state.putDoc("dataset", ctx.leafHash, doc);
    ctx.state.addIndex("dataset.all", "", ctx.index, ctx.leafHash);
  },
});

export const datasetItemAdded = defineEntryType({
  type: "dataset.item.added",
  summary:
    "Adds a de-identified image set to the dataset's open version: its manifest root and source institution.",
  body: z.strictObject({
    /** RFC 9162 Merkle root over the de-identified instance hashes sorted bytewise. */
    manifestRoot: sha256Hex,
    instanceCount: positiveInt.min(1),
    modality: modality.optional(),
    /** The institution the images came from: its log origin or name. */
    sourceInstitution: label,
    /** De-identification profile applied, e.g. "PS3.15-E-basic". */
    deidentification: code.optional(),
  }),
  refs: { dataset: { types: ["dataset.created"] } },
  signers: CURATORS,
  apply(ctx) {
    const b = ctx.body;
    const dataset = datasetOf(ctx);
    addContent(ctx, dataset.id, b.manifestRoot, "body.manifestRoot");
    const version = credit(
      ctx,
      dataset,
      (r) => ({
        ...r,
        items: r.items + 1,
        itemsByInstitution: bump(r.itemsByInstitution, b.sourceInstitution),
      }),
      { items: dataset.items + 1 },
    );
    ctx.state.putDoc(
      "dataset.item",
      ctx.leafHash,
      withoutUndefined({
        id: ctx.leafHash,
        index: ctx.index,
        dataset: dataset.id,
        version,
        ...b,
        addedBy: ctx.entry.actor,
        addedAt: ctx.entry.time,
      }),
    );
    ctx.state.addIndex("dataset.items", dataset.id, ctx.index, ctx.leafHash);
  },
});

export const datasetAnnotationAdded = defineEntryType({
  type: "dataset.annotation.added",
  summary:
    "Adds an annotation of an item to the dataset's open version: annotator (the signer), label schema, tool and version, content hash.",
  body: z.strictObject({
    /** The label schema or ontology version, e.g. "lung-nodule-v2", "RadLex-4.1". */
    labelSchema: code,
    /** e.g. "segmentation", "bbox", "classification", "measurement". */
    kind: code.optional(),
    tool: product,
    /** SHA-256 of the annotation file (e.g. DICOM SEG or JSON), the leaf it contributes. */
    contentHash: sha256Hex,
  }),
  refs: { dataset: { types: ["dataset.created"] }, item: { types: ["dataset.item.added"] } },
  signers: ANNOTATORS,
  apply(ctx) {
    const b = ctx.body;
    const dataset = datasetOf(ctx);
    const item = getDatasetItem(ctx.state, ctx.ref("item").leafHash)!;
    if (item.dataset !== dataset.id)
      ctx.reject("DATASET_REF_MISMATCH", "the annotated item belongs to another dataset", {
        at: "refs.item",
      });
    addContent(ctx, dataset.id, b.contentHash, "body.contentHash");
    const version = credit(
      ctx,
      dataset,
      (r) => ({
        ...r,
        annotations: r.annotations + 1,
        annotationsBySchema: bump(r.annotationsBySchema, b.labelSchema),
      }),
      { annotations: dataset.annotations + 1 },
    );
    ctx.state.putDoc(
      "dataset.annotation",
      ctx.leafHash,
      withoutUndefined({
        id: ctx.leafHash,
        index: ctx.index,
        dataset: dataset.id,
        version,
        item: item.id,
        ...b,
        annotator: ctx.entry.actor,
        addedAt: ctx.entry.time,
      }),
    );
    ctx.state.addIndex("dataset.annotations", dataset.id, ctx.index, ctx.leafHash);
    ctx.state.addIndex("dataset.item.annotations", item.id, ctx.index, ctx.leafHash);
  },
});

export const datasetVendorContribution = defineEntryType({
  type: "dataset.contribution.vendor",
  summary:
    "Records a vendor's contribution to the dataset's open version (e.g. pre-annotation, quality control, tooling), credited to the signing vendor.",
  body: z.strictObject({
    /** e.g. "pre-annotation", "quality-control", "tooling", "compute", "curation". */
    kind: code,
    product: product.optional(),
    /** Commitment to what was contributed (a report, a package), kept off-ledger. */
    contentHash: sha256Hex.optional(),
  }),
  refs: { dataset: { types: ["dataset.created"] } },
  signers: ["vendor"],
  apply(ctx) {
    const b = ctx.body;
    const dataset = datasetOf(ctx);
    const version = credit(
      ctx,
      dataset,
      (r) => ({
        ...r,
        vendorContributions: r.vendorContributions + 1,
        vendorContributionsByKind: bump(r.vendorContributionsByKind, b.kind),
      }),
      { vendorContributions: dataset.vendorContributions + 1 },
    );
    ctx.state.putDoc(
      "dataset.vendor",
      ctx.leafHash,
      withoutUndefined({
        id: ctx.leafHash,
        index: ctx.index,
        dataset: dataset.id,
        version,
        ...b,
        vendor: ctx.entry.actor,
        at: ctx.entry.time,
      }),
    );
    ctx.state.addIndex("dataset.vendor", dataset.id, ctx.index, ctx.leafHash);
  },
});

const sortedUnique = (a: readonly string[]): boolean => a.every((x, i) => i === 0 || a[i - 1]! < x);

export const datasetVersionSealed = defineEntryType({
  type: "dataset.version.sealed",
  summary:
    "Seals the dataset's open version: its manifest root over all items and annotations and its contributor list; the next version opens.",
  body: z.strictObject({
    version: positiveInt.min(1),
    /** datasetManifestRoot over the content hashes of every item and annotation (docs/families/datasets.md). */
    manifestRoot: sha256Hex,
    /** Items and annotations in the version (cumulative). */
    items: positiveInt,
    annotations: positiveInt,
    /** Actor ids of everyone who added items, annotations or vendor contributions, sorted, unique. */
    contributors: z
      .array(actorId)
      .min(1)
      .max(500)
      .refine(sortedUnique, "contributors must be sorted and unique"),
  }),
  refs: { dataset: { types: ["dataset.created"] } },
  signers: CURATORS,
  apply(ctx) {
    const b = ctx.body;
    const dataset = datasetOf(ctx);
    const version = dataset.openVersion;
    if (b.version !== version)
      ctx.reject(
        "DATASET_VERSION_NOT_OPEN",
        b.version < version
          ? `version ${b.version} is already sealed; the open version is ${version}`
          : `version ${b.version} is not open yet; the open version is ${version}`,
        { at: "body.version", open: version },
      );
    if (!getCredit(ctx.state, dataset.id, version))
      ctx.reject("DATASET_VERSION_EMPTY", `nothing was added to version ${version}`, { at: "body.version" });
    if (b.items !== dataset.items || b.annotations !== dataset.annotations)
      ctx.reject(
        "DATASET_ROOT_MISMATCH",
        `version ${version} has ${dataset.items} items and ${dataset.annotations} annotations`,
        { at: b.items !== dataset.items ? "body.items" : "body.annotations" },
      );
    const root = datasetManifestRoot(ctx.crypto, contentHashes(ctx.state, dataset.id));
    if (b.manifestRoot !== root)
      ctx.reject(
        "DATASET_ROOT_MISMATCH",
        `the manifest root is not the root over version ${version}'s items and annotations`,
        { at: "body.manifestRoot" },
      );
    const contributors = creditUpTo(ctx.state, dataset.id, version).map((r) => r.actor);
    if (contributors.join("\n") !== b.contributors.join("\n"))
      ctx.reject(
        "DATASET_CONTRIB_MISMATCH",
        `version ${version} has ${contributors.length} contributors: ${contributors.slice(0, 20).join(", ")}${contributors.length > 20 ? ", …" : ""}`,
        { at: "body.contributors" },
      );
    ctx.state.putDoc("dataset.seal", ctx.leafHash, {
      id: ctx.leafHash,
      index: ctx.index,
      dataset: dataset.id,
      ...b,
      sealedBy: ctx.entry.actor,
      sealedAt: ctx.entry.time,
    });
    ctx.state.putDoc("dataset", dataset.id, {
      ...dataset,
      openVersion: version + 1,
      versions: [
        ...dataset.versions,
        {
          version,
          seal: ctx.leafHash,
          index: ctx.index,
          manifestRoot: root,
          items: b.items,
          annotations: b.annotations,
          contributors: contributors.length,
          sealedAt: ctx.entry.time,
        },
      ],
    });
    ctx.state.addIndex("dataset.version", creditId(dataset.id, version), ctx.index, ctx.leafHash);
  },
});

/** refs.version must be a seal of refs.dataset. */
function sealOf(ctx: ApplyContext<unknown>, dataset: DatasetDoc): { id: string; version: number } {
  const seal = getDatasetSeal(ctx.state, ctx.ref("version").leafHash)!;
  if (seal.dataset !== dataset.id)
    ctx.reject("DATASET_REF_MISMATCH", "the sealed version belongs to another dataset", {
      at: "refs.version",
    });
  return { id: seal.id, version: seal.version };
}

export const datasetShared = defineEntryType({
  type: "dataset.shared",
  summary: "Shares a sealed dataset version with another institution under a data-use agreement.",
  body: z.strictObject({
    /** The grantee institution: its log origin or name. */
    grantee: label,
    /** SHA-256 of the signed data-use agreement document. */
    dataUseAgreement: sha256Hex,
    /** HL7 PurposeOfUse code, e.g. "HRESCH". */
    purpose: code.optional(),
    expires: timestamp.optional(),
  }),
  refs: { dataset: { types: ["dataset.created"] }, version: { types: ["dataset.version.sealed"] } },
  signers: CURATORS,
  apply(ctx) {
    const b = ctx.body;
    const dataset = datasetOf(ctx);
    const seal = sealOf(ctx, dataset);
    if (b.expires !== undefined && b.expires <= ctx.entry.time)
      ctx.reject("ENTRY_SCHEMA_INVALID", "the share expires before it is recorded", { at: "body.expires" });
    ctx.state.putDoc(
      "dataset.share",
      ctx.leafHash,
      withoutUndefined({
        id: ctx.leafHash,
        index: ctx.index,
        dataset: dataset.id,
        version: seal.version,
        seal: seal.id,
        ...b,
        sharedBy: ctx.entry.actor,
        sharedAt: ctx.entry.time,
      }),
    );
    ctx.state.addIndex("dataset.shares", dataset.id, ctx.index, ctx.leafHash);
  },
});

const metricValue = z.union([
  z.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
  z
    .string()
    .min(1)
    .max(64)
    .refine((s) => !Array.from(s).some((c) => c.charCodeAt(0) < 0x20), "control characters are not allowed"),
]);

export const modelValidationRecorded = defineEntryType({
  type: "model.validation.recorded",
  summary:
    "Records a model version's validation on a sealed dataset version at a site, with metrics as integers or strings.",
  body: z.strictObject({
    model: z.strictObject({ name: label, version: versionString, vendor: label.optional() }),
    /** Where the validation ran: an institution's log origin or name. */
    site: label,
    /** e.g. { "auc_permille": 912, "sensitivity": "0.91", "n_cases": 480 } (no floats on the ledger). */
    metrics: z
      .record(code, metricValue)
      .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= 64, "1 to 64 metrics"),
    /** Commitment to the full validation report. */
    reportCommitment: sha256Hex.optional(),
  }),
  refs: {
    dataset: { types: ["dataset.created"] },
    version: { types: ["dataset.version.sealed"] },
    /** The registered model version (when it is registered in this log): must match body.model. */
    model: { types: ["ai.model.registered"], optional: true },
  },
  signers: VALIDATORS,
  apply(ctx) {
    const b = ctx.body;
    const dataset = datasetOf(ctx);
    const seal = sealOf(ctx, dataset);
    const model = ctx.refs("model")[0];
    if (model) {
      const m = getModel(ctx.state, model.leafHash)!;
      if (
        m.name !== b.model.name ||
        m.version !== b.model.version ||
        (b.model.vendor ?? m.vendor) !== m.vendor
      )
        ctx.reject(
          "DATASET_MODEL_MISMATCH",
          `the referenced model is ${m.vendor} ${m.name} ${m.version}, not the one named in body.model`,
          { at: "refs.model" },
        );
    }
    ctx.state.putDoc(
      "dataset.validation",
      ctx.leafHash,
      withoutUndefined({
        id: ctx.leafHash,
        index: ctx.index,
        dataset: dataset.id,
        version: seal.version,
        seal: seal.id,
        ...b,
        modelEntry: model?.leafHash,
        recordedBy: ctx.entry.actor,
        recordedAt: ctx.entry.time,
      }),
    );
    ctx.state.addIndex("dataset.validations", dataset.id, ctx.index, ctx.leafHash);
  },
});

export const datasetEntryTypes = [
  datasetCreated,
  datasetItemAdded,
  datasetAnnotationAdded,
  datasetVendorContribution,
  datasetVersionSealed,
  datasetShared,
  modelValidationRecorded,
];
