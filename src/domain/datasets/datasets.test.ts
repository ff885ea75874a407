import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { JsonObject } from "../../core/canonical-json.js";
import type { EntryRefs } from "../../core/entry.js";
import { fromHex, toHex } from "../../core/bytes.js";
import type { HeldKey } from "../../app/keys.js";
import { auditDataDir } from "../../wiring/audit.js";
import { nodeCrypto } from "../../adapters/node-crypto/crypto.js";
import { makeNode, type TestNode } from "../../../test/helpers/node.js";
import { fakeHash } from "../../../test/helpers/fixtures.js";
import { refMth } from "../../../test/helpers/reference-merkle.js";
import {
  annotationsOfItem,
  creditReport,
  datasetItems,
  datasetShares,
  datasetValidations,
  listDatasets,
  proposeSeal,
  versionContents,
} from "./queries.js";
import { getDataset, getDatasetItem } from "./state.js";

let t: TestNode;
let cur: HeldKey;
let ann: HeldKey;
let rad: HeldKey;
let ven: HeldKey;
let res: HeldKey;

beforeEach(async () => {
  t = await makeNode();
  cur = await t.enrol("cur-1", ["curator"], { displayName: "Curator One" });
  ann = await t.enrol("ann-1", ["annotator"], { displayName: "Annotator One" });
  rad = await t.enrol("rad-1", ["radiologist"], { displayName: "Dr Rad" });
  ven = await t.enrol("ven-1", ["vendor"], { displayName: "LabelCo" });
  res = await t.enrol("res-1", ["researcher"]);
});
afterEach(async () => t.close());

async function ok(key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs): Promise<string> {
  return (await t.node.appender.append(t.sign(key, type, body, refs))).leafHash;
}

async function refused(key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs): Promise<string> {
  return t.refusal(t.sign(key, type, body, refs));
}

const item = (overrides: JsonObject = {}): JsonObject => ({
  manifestRoot: fakeHash(),
  instanceCount: 64,
  modality: "CT",
  sourceInstitution: "hospital-a.example/log",
  deidentification: "PS3.15-E-basic",
  ...overrides,
});
const annotation = (overrides: JsonObject = {}): JsonObject => ({
  labelSchema: "lung-nodule-v2",
  kind: "segmentation",
  tool: { name: "3D Slicer", version: "5.6.2" },
  contentHash: fakeHash(),
  ...overrides,
});
const newDataset = (name = "Lung nodules"): Promise<string> =>
  ok(cur, "dataset.created", { name, purpose: "training" });
const seal = async (dataset: string, overrides: JsonObject = {}): Promise<string> =>
  ok(
    cur,
    "dataset.version.sealed",
    { ...proposeSeal(t.node.store, nodeCrypto, dataset), ...overrides },
    { dataset },
  );
const refusedSeal = (dataset: string, overrides: JsonObject = {}, key = cur): Promise<string> =>
  refused(
    key,
    "dataset.version.sealed",
    { ...proposeSeal(t.node.store, nodeCrypto, dataset), ...overrides },
    { dataset },
  );

describe("datasets: dataset.created and dataset.item.added", () => {
  test("a curator or admin creates datasets; listDatasets pages them; version 1 is open", async () => {
    const a = await newDataset();
    const b = await ok(t.admin, "dataset.created", { name: "Brain MR" });
    const first = listDatasets(t.node.store, { limit: 1 });
    expect(first.items).toMatchObject([{ id: a, name: "Lung nodules", purpose: "training", openVersion: 1 }]);
    expect(listDatasets(t.node.store, { after: first.next! }).items.map((d) => d.id)).toEqual([b]);
    expect(await refused(rad, "dataset.created", { name: "x" })).toBe("ROLE_NOT_PERMITTED");
    expect(await refused(cur, "dataset.created", { name: "x", patient: "MRN-1" })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
  });

  test("a curator adds items to the open version; the same content twice, other roles, bad refs: refused", async () => {
    const dataset = await newDataset();
    const body = item();
    const i1 = await ok(cur, "dataset.item.added", body, { dataset });
    expect(getDatasetItem(t.node.store, i1)).toMatchObject({ dataset, version: 1, addedBy: "cur-1" });
    expect(datasetItems(t.node.store, dataset).items.map((i) => i.id)).toEqual([i1]);
    expect(
      await refused(cur, "dataset.item.added", { ...body, sourceInstitution: "other" }, { dataset }),
    ).toBe("DATASET_CONTENT_EXISTS");
    expect(await refused(ann, "dataset.item.added", item(), { dataset })).toBe("ROLE_NOT_PERMITTED");
    expect(await refused(cur, "dataset.item.added", item())).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refused(cur, "dataset.item.added", item(), { dataset: i1 })).toBe("ENTRY_REF_WRONG_TYPE");
    expect(await refused(cur, "dataset.item.added", item({ instanceCount: 0 }), { dataset })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    // The same image set may be an item of another dataset.
    await ok(cur, "dataset.item.added", body, { dataset: await newDataset("Other") });
  });
});

describe("datasets: annotations and vendor contributions", () => {
  test("annotators, radiologists and curators annotate an item of the same dataset", async () => {
    const dataset = await newDataset();
    const i1 = await ok(cur, "dataset.item.added", item(), { dataset });
    const a1 = await ok(ann, "dataset.annotation.added", annotation(), { dataset, item: i1 });
    const a2 = await ok(rad, "dataset.annotation.added", annotation({ labelSchema: "lung-rads-1.1" }), {
      dataset,
      item: i1,
    });
    await ok(cur, "dataset.annotation.added", annotation(), { dataset, item: i1 });
    expect(annotationsOfItem(t.node.store, i1, { limit: 2 }).items).toMatchObject([
      { id: a1, annotator: "ann-1", version: 1, tool: { name: "3D Slicer", version: "5.6.2" } },
      { id: a2, annotator: "rad-1" },
    ]);
  });

  test("an item of another dataset, repeated content, a vendor annotating, no item ref: refused", async () => {
    const dataset = await newDataset();
    const other = await newDataset("Other");
    const mine = item();
    const i1 = await ok(cur, "dataset.item.added", mine, { dataset });
    const foreign = await ok(cur, "dataset.item.added", item(), { dataset: other });
    expect(await refused(ann, "dataset.annotation.added", annotation(), { dataset, item: foreign })).toBe(
      "DATASET_REF_MISMATCH",
    );
    const body = annotation();
    await ok(ann, "dataset.annotation.added", body, { dataset, item: i1 });
    expect(await refused(rad, "dataset.annotation.added", body, { dataset, item: i1 })).toBe(
      "DATASET_CONTENT_EXISTS",
    );
    expect(
      await refused(rad, "dataset.annotation.added", annotation({ contentHash: mine.manifestRoot! }), {
        dataset,
        item: i1,
      }),
    ).toBe("DATASET_CONTENT_EXISTS");
    expect(await refused(ven, "dataset.annotation.added", annotation(), { dataset, item: i1 })).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(await refused(ann, "dataset.annotation.added", annotation(), { dataset })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
  });

  test("a vendor records a contribution; no one else may", async () => {
    const dataset = await newDataset();
    await ok(
      ven,
      "dataset.contribution.vendor",
      { kind: "pre-annotation", product: { name: "AutoSeg", version: "2.1" } },
      { dataset },
    );
    expect(getDataset(t.node.store, dataset)).toMatchObject({ vendorContributions: 1 });
    expect(await refused(cur, "dataset.contribution.vendor", { kind: "qa" }, { dataset })).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(
      await refused(ven, "dataset.contribution.vendor", { kind: "qa", note: "free text" }, { dataset }),
    ).toBe("ENTRY_SCHEMA_INVALID");
  });
});

describe("datasets: dataset.version.sealed", () => {
  async function populated(): Promise<{ dataset: string; hashes: string[]; i1: string }> {
    const dataset = await newDataset();
    const i = [item(), item()];
    const i1 = await ok(cur, "dataset.item.added", i[0]!, { dataset });
    await ok(cur, "dataset.item.added", i[1]!, { dataset });
    const a = annotation();
    await ok(ann, "dataset.annotation.added", a, { dataset, item: i1 });
    await ok(ven, "dataset.contribution.vendor", { kind: "quality-control" }, { dataset });
    return {
      dataset,
      hashes: [i[0]!.manifestRoot as string, i[1]!.manifestRoot as string, a.contentHash as string],
      i1,
    };
  }

  test("the seal's root is the RFC 9162 root over the sorted content hashes; the next version opens", async () => {
    const { dataset, hashes, i1 } = await populated();
    const body = proposeSeal(t.node.store, nodeCrypto, dataset);
    const expected = toHex(refMth([...hashes].sort().map((h) => fromHex(h))));
    expect(body).toEqual({
      version: 1,
      manifestRoot: expected,
      items: 2,
      annotations: 1,
      contributors: ["ann-1", "cur-1", "ven-1"],
    });
    const s1 = await seal(dataset);
    expect(getDataset(t.node.store, dataset)).toMatchObject({
      openVersion: 2,
      versions: [{ version: 1, seal: s1, manifestRoot: expected, items: 2, annotations: 1, contributors: 3 }],
    });
    // Items and annotations after sealing go into version 2; version 1 does not change.
    const i3 = await ok(cur, "dataset.item.added", item(), { dataset });
    await ok(rad, "dataset.annotation.added", annotation(), { dataset, item: i1 });
    expect(getDatasetItem(t.node.store, i3)).toMatchObject({ version: 2 });
    expect(versionContents(t.node.store, dataset, 1)).toEqual({
      version: 1,
      sealed: true,
      hashes: [...hashes].sort(),
      manifestRoot: expected,
    });
    expect(versionContents(t.node.store, dataset, 2)).toMatchObject({
      sealed: false,
    });
    expect(versionContents(t.node.store, dataset, 2).hashes).toHaveLength(5);
    await seal(dataset);
    expect(getDataset(t.node.store, dataset)).toMatchObject({
      openVersion: 3,
      versions: [{}, { version: 2, items: 3 }],
    });
  });

  test("a sealed or future version, an empty version, a wrong root, counts or contributors: refused", async () => {
    const { dataset } = await populated();
    expect(await refusedSeal(dataset, { version: 2 })).toBe("DATASET_VERSION_NOT_OPEN");
    expect(await refusedSeal(dataset, { manifestRoot: fakeHash() })).toBe("DATASET_ROOT_MISMATCH");
    expect(await refusedSeal(dataset, { items: 1 })).toBe("DATASET_ROOT_MISMATCH");
    expect(await refusedSeal(dataset, { annotations: 2 })).toBe("DATASET_ROOT_MISMATCH");
    expect(await refusedSeal(dataset, { contributors: ["ann-1", "cur-1"] })).toBe("DATASET_CONTRIB_MISMATCH");
    expect(await refusedSeal(dataset, { contributors: ["ann-1", "cur-1", "rad-1", "ven-1"] })).toBe(
      "DATASET_CONTRIB_MISMATCH",
    );
    expect(await refusedSeal(dataset, { contributors: ["cur-1", "ann-1", "ven-1"] })).toBe(
      "ENTRY_SCHEMA_INVALID",
    );
    expect(await refusedSeal(dataset, {}, ann)).toBe("ROLE_NOT_PERMITTED");
    await seal(dataset);
    expect(await refusedSeal(dataset, { version: 1 })).toBe("DATASET_VERSION_NOT_OPEN");
    expect(await refusedSeal(dataset, { contributors: ["cur-1"] })).toBe("DATASET_VERSION_EMPTY");
    expect(await refusedSeal(await newDataset("Empty"), { contributors: ["cur-1"] })).toBe(
      "DATASET_VERSION_EMPTY",
    );
  });
});

describe("datasets: dataset.shared and model.validation.recorded", () => {
  async function sealed(): Promise<{ dataset: string; s1: string }> {
    const dataset = await newDataset();
    const i1 = await ok(cur, "dataset.item.added", item(), { dataset });
    await ok(ann, "dataset.annotation.added", annotation(), { dataset, item: i1 });
    return { dataset, s1: await seal(dataset) };
  }

  test("a curator shares a sealed version under a data-use agreement", async () => {
    const { dataset, s1 } = await sealed();
    const dua = fakeHash();
    const sh = await ok(
      cur,
      "dataset.shared",
      { grantee: "university-b.example/log", dataUseAgreement: dua, purpose: "HRESCH" },
      { dataset, version: s1 },
    );
    expect(datasetShares(t.node.store, dataset).items).toMatchObject([
      { id: sh, version: 1, seal: s1, grantee: "university-b.example/log", dataUseAgreement: dua },
    ]);
  });

  test("a seal of another dataset, an open version, an expired share, a non-curator: refused", async () => {
    const { dataset, s1 } = await sealed();
    const other = await sealed();
    const body = { grantee: "university-b.example/log", dataUseAgreement: fakeHash() };
    expect(await refused(cur, "dataset.shared", body, { dataset, version: other.s1 })).toBe(
      "DATASET_REF_MISMATCH",
    );
    expect(await refused(cur, "dataset.shared", body, { dataset, version: dataset })).toBe(
      "ENTRY_REF_WRONG_TYPE",
    );
    expect(
      await refused(
        cur,
        "dataset.shared",
        { ...body, expires: "2000-01-01T00:00:00.000Z" },
        { dataset, version: s1 },
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refused(ann, "dataset.shared", body, { dataset, version: s1 })).toBe("ROLE_NOT_PERMITTED");
  });

  test("researchers and vendors record validations with integer or string metrics", async () => {
    const { dataset, s1 } = await sealed();
    const v = {
      model: { name: "NoduleNet", version: "3.2.0", vendor: "LabelCo" },
      site: "hospital-a.example/log",
      metrics: { auc_permille: 912, sensitivity: "0.91", n_cases: 480 },
    };
    const v1 = await ok(res, "model.validation.recorded", v, { dataset, version: s1 });
    await ok(
      ven,
      "model.validation.recorded",
      { ...v, reportCommitment: fakeHash() },
      { dataset, version: s1 },
    );
    expect(datasetValidations(t.node.store, dataset).items).toMatchObject([
      {
        id: v1,
        version: 1,
        seal: s1,
        metrics: { auc_permille: 912, sensitivity: "0.91" },
        recordedBy: "res-1",
      },
      { recordedBy: "ven-1" },
    ]);
    const other = await sealed();
    expect(await refused(res, "model.validation.recorded", v, { dataset, version: other.s1 })).toBe(
      "DATASET_REF_MISMATCH",
    );
    expect(await refused(rad, "model.validation.recorded", v, { dataset, version: s1 })).toBe(
      "ROLE_NOT_PERMITTED",
    );
    expect(
      await refused(res, "model.validation.recorded", { ...v, metrics: {} }, { dataset, version: s1 }),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(
      await refused(
        res,
        "model.validation.recorded",
        { ...v, metrics: { auc: { v: 1 } } },
        { dataset, version: s1 },
      ),
    ).toBe("ENTRY_SCHEMA_INVALID");
    expect(await refused(res, "model.validation.recorded", v, { dataset, version: s1, model: s1 })).toBe(
      "ENTRY_REF_WRONG_TYPE",
    );

    // With the model registered in this log (AI family), the reference must name the same model.
    const model = await ok(ven, "ai.model.registered", {
      vendor: "LabelCo",
      name: "NoduleNet",
      version: "3.2.0",
      artifactHash: fakeHash(),
      intendedUse: "lung nodule detection on chest CT",
    });
    const vm = await ok(res, "model.validation.recorded", v, { dataset, version: s1, model });
    expect(datasetValidations(t.node.store, dataset).items.find((x) => x.id === vm)).toMatchObject({
      modelEntry: model,
    });
    const wrong = { ...v, model: { name: "NoduleNet", version: "3.3.0" } };
    expect(await refused(res, "model.validation.recorded", wrong, { dataset, version: s1, model })).toBe(
      "DATASET_MODEL_MISMATCH",
    );
    const otherVendor = { ...v, model: { ...v.model, vendor: "Other Inc" } };
    expect(
      await refused(res, "model.validation.recorded", otherVendor, { dataset, version: s1, model }),
    ).toBe("DATASET_MODEL_MISMATCH");
  });
});

describe("datasets: credit report", () => {
  test("who contributed what to a version, counted, with totals and the seal's root", async () => {
    const dataset = await newDataset();
    const i1 = await ok(cur, "dataset.item.added", item(), { dataset });
    const i2 = await ok(cur, "dataset.item.added", item({ sourceInstitution: "hospital-b.example/log" }), {
      dataset,
    });
    await ok(t.admin, "dataset.item.added", item(), { dataset });
    await ok(ann, "dataset.annotation.added", annotation(), { dataset, item: i1 });
    await ok(ann, "dataset.annotation.added", annotation(), { dataset, item: i2 });
    await ok(ann, "dataset.annotation.added", annotation({ labelSchema: "lung-rads-1.1" }), {
      dataset,
      item: i2,
    });
    await ok(rad, "dataset.annotation.added", annotation(), { dataset, item: i1 });
    await ok(ven, "dataset.contribution.vendor", { kind: "pre-annotation" }, { dataset });
    await ok(ven, "dataset.contribution.vendor", { kind: "pre-annotation" }, { dataset });
    await ok(ven, "dataset.contribution.vendor", { kind: "quality-control" }, { dataset });
    const s1 = await seal(dataset);
    // Version 2 adds to version 1.
    await ok(rad, "dataset.annotation.added", annotation({ labelSchema: "lung-rads-1.1" }), {
      dataset,
      item: i2,
    });

    const r1 = creditReport(t.node.store, dataset, 1);
    expect(creditReport(t.node.store, dataset)).toEqual(r1); // default: the latest sealed version
    expect(r1).toMatchObject({
      dataset: { id: dataset, name: "Lung nodules" },
      version: 1,
      sealed: true,
      seal: {
        id: s1,
        manifestRoot: getDataset(t.node.store, dataset)!.versions[0]!.manifestRoot,
        sealedBy: "cur-1",
      },
      totals: {
        contributors: 5,
        items: 3,
        annotations: 4,
        vendorContributions: 3,
        itemsByInstitution: [
          { name: "hospital-a.example/log", count: 2 },
          { name: "hospital-b.example/log", count: 1 },
        ],
        annotationsBySchema: [
          { name: "lung-nodule-v2", count: 3 },
          { name: "lung-rads-1.1", count: 1 },
        ],
        vendorContributionsByKind: [
          { name: "pre-annotation", count: 2 },
          { name: "quality-control", count: 1 },
        ],
      },
    });
    expect(
      r1.contributors.map((c) => [c.actor, c.displayName, c.items, c.annotations, c.vendorContributions]),
    ).toEqual([
      ["admin", expect.anything(), 1, 0, 0],
      ["ann-1", "Annotator One", 0, 3, 0],
      ["cur-1", "Curator One", 2, 0, 0],
      ["rad-1", "Dr Rad", 0, 1, 0],
      ["ven-1", "LabelCo", 0, 0, 3],
    ]);
    expect(r1.contributors[1]).toMatchObject({
      roles: ["annotator"],
      annotationsBySchema: [
        { name: "lung-nodule-v2", count: 2 },
        { name: "lung-rads-1.1", count: 1 },
      ],
    });
    expect(r1.contributors[2]).toMatchObject({
      itemsByInstitution: [
        { name: "hospital-a.example/log", count: 1 },
        { name: "hospital-b.example/log", count: 1 },
      ],
    });

    const r2 = creditReport(t.node.store, dataset, 2);
    expect(r2).toMatchObject({ version: 2, sealed: false, totals: { annotations: 5, items: 3 } });
    expect(r2.seal).toBeUndefined();
    expect(r2.contributors.find((c) => c.actor === "rad-1")).toMatchObject({
      annotations: 2,
      annotationsBySchema: [
        { name: "lung-nodule-v2", count: 1 },
        { name: "lung-rads-1.1", count: 1 },
      ],
    });
    expect(() => creditReport(t.node.store, dataset, 3)).toThrow(
      expect.objectContaining({ code: "RECORD_NOT_FOUND" }),
    );

    // The projection is a pure function of the log: a replay from scratch reproduces it.
    expect(await auditDataDir(t.dir, { threads: 0 })).toMatchObject({ ok: true });
  });
});
