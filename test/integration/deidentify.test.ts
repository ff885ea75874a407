/**
 * De-identified copies of a registered study for a trial (our Annex E rewriter over the registered
 * files, through the CLI) and for a dataset (Orthanc's /anonymize 2021b): no Annex E identifying
 * attribute left (dcmdump, tag by tag), pixel-data hashes equal to the originals', and the trial /
 * dataset entry recording the de-identified manifest root.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { annexEAction } from "../../src/adapters/dicom/annex-e.js";
import { hashDicomFile } from "../../src/adapters/dicom/hasher.js";
import { manifestRootOf } from "../../src/core/merkle/manifest.js";
import { nodeCrypto } from "../../src/adapters/node-crypto/crypto.js";
import { OrthancClient } from "../../src/adapters/orthanc/client.js";
import { deidentifyStudy } from "../../src/app/deidentify.js";
import { ingestPaths } from "../../src/app/ingest.js";
import { ArchiveFollower } from "../../src/app/archive-follower.js";
import { OrthancArchive } from "../../src/adapters/orthanc/archive.js";
import { fromUtf8 } from "../../src/core/bytes.js";
import { getTrialTimepoint } from "../../src/domain/trials/state.js";
import { getDatasetItem } from "../../src/domain/datasets/state.js";
import { writeStudy, type SyntheticStudy } from "../fixtures/dicom/make-study.js";
import { ensureDicomTools } from "../fixtures/dicom/tools.js";
import { runCli } from "../helpers/cli.js";
import { makeNode, tempDir, type TestNode } from "../helpers/node.js";
import { dcmdump } from "./dcmdump.js";
import { orthancForTests, type OrthancService } from "./orthanc-service.js";

let service: OrthancService;
let orthanc: OrthancClient;
let t: TestNode;
let study: SyntheticStudy;
let studyId = "";
let orthancStudy = "";
let subject = "";
let dataset = "";
const dir = tempDir("radledger-deid-");

beforeAll(async () => {
  ensureDicomTools();
  service = await orthancForTests();
  orthanc = new OrthancClient({
    baseUrl: service.url,
    username: service.username,
    password: service.password,
  });
  t = await makeNode();
  study = await writeStudy(join(dir.path, "study"), {
    seed: `deid-${randomUUID()}`,
    series: 2,
    instancesPerSeries: 2,
    rle: true,
  });
  studyId = (await ingestPaths(t.node, [join(dir.path, "study")], { workers: 1 })).studies[0]!.studyId!;
  const trial = await t.node.appender.append(
    t.sign(t.admin, "trial.registered", {
      sponsor: "Synthetic Pharma",
      protocolId: "SYN-001",
      timepoints: ["baseline", "week-12"],
    }),
  );
  subject = (
    await t.node.appender.append(
      t.sign(
        t.institution,
        "trial.subject.enrolled",
        { subject: t.node.pseudonym("trial-subject", "SUBJ-001", trial.leafHash) },
        { trial: trial.leafHash },
      ),
    )
  ).leafHash;
  dataset = (await t.node.appender.append(t.sign(t.admin, "dataset.created", { name: "Synthetic chest CT" })))
    .leafHash;
});

afterAll(async () => {
  if (orthancStudy !== "") await orthanc.deleteStudy(orthancStudy).catch(() => undefined);
  await t.close();
  await service.stop();
  dir.remove();
});

/** Every de-identified file: no PHI of the study, Annex E X attributes absent, pixels unchanged. */
async function checkCopies(files: string[]): Promise<string[]> {
  const pixels = study.instances.map((i) => i.expectedPixelSha256).sort();
  const seen: string[] = [];
  const hashes: string[] = [];
  for (const f of files) {
    const h = await hashDicomFile(f);
    hashes.push(h.fileSha256);
    seen.push(h.pixelDataSha256!);
    expect(h.patientIdentityRemoved).toBe(true);
    const d = await dcmdump(f);
    for (const phi of [
      study.patient.name,
      study.patient.id,
      study.patient.otherId,
      study.patient.birthDate,
      study.accessionNumber,
      study.institutionName,
      study.referringPhysicianName,
      study.studyInstanceUid,
      ...study.instances.flatMap((i) => [i.sopInstanceUid, i.seriesInstanceUid]),
      "Nowhere Lane",
      "PRIVATE NOTE",
      "OPERATOR^SYNTH",
      "PERFORMER^SYNTH",
    ])
      expect(d.text, `${f} still holds ${phi}`).not.toContain(phi);
    for (const tag of d.top.keys()) expect(annexEAction(tag), `${tag} must have been removed`).not.toBe("X");
  }
  expect(seen.sort()).toEqual(pixels);
  return hashes;
}

describe("de-identification for trials and datasets", () => {
  it("trial, from the registered files (CLI): Annex E copy, pixel hashes kept, trial.timepoint.imaged with its manifest root", async () => {
    await t.node.close();
    const out = join(dir.path, "trial-out");
    const r = await runCli([
      "deidentify",
      "--data",
      t.dir,
      "--study",
      studyId,
      "--for",
      "trial",
      "--subject",
      subject,
      "--timepoint",
      "baseline",
      "--out",
      out,
      "--json",
    ]);
    await t.reopen();
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as {
      via: string;
      files: string[];
      manifestRoot: string;
      entryId: string;
      entryType: string;
    };
    expect(res.via).toBe("files");
    expect(res.entryType).toBe("trial.timepoint.imaged");
    const hashes = await checkCopies(res.files);
    expect(res.manifestRoot).toBe(manifestRootOf(nodeCrypto, hashes));
    const tp = getTrialTimepoint(t.node.store, res.entryId)!;
    expect(tp).toMatchObject({
      manifestRoot: res.manifestRoot,
      modality: "CT",
      instanceCount: study.instances.length,
      deidentification: "PS3.15-E-basic-2021b",
    });
    expect(tp.study).toBeUndefined(); // no link to the patient's study unless asked
    const entry = fromUtf8(
      t.node.store.readEntry(getTrialTimepoint(t.node.store, res.entryId)!.index)!.bytes,
    );
    expect(entry).toContain('"actor":"institution"');
    // The copies and their originals are kept off-ledger for bundles.
    const store = t.node.manifests;
    const rows = store.derivedInstances(res.manifestRoot);
    expect(rows).toHaveLength(study.instances.length);
    expect(store.derived(res.manifestRoot)?.entryId).toBe(res.entryId);
    // A second timepoint copy of the same label is refused by the trial rules, not duplicated.
    const again = await deidentifyStudy(t.node, {
      study: studyId,
      out: join(dir.path, "trial-again"),
      target: { kind: "trial", subject, timepoint: "baseline" },
    }).catch((e: unknown) => (e as { code: string }).code);
    expect(again).toBe("TRIAL_TIMEPOINT_EXISTS");
  });

  it("dataset, through Orthanc's /anonymize: same guarantees, dataset.item.added signed by a curator", async () => {
    for (const i of study.instances) orthancStudy = (await orthanc.uploadInstance(i.bytes)).ParentStudy;
    // The follower finds the study already registered (from the folder) and learns its Orthanc id.
    const store = t.node.manifests;
    const archive = new OrthancArchive(orthanc, service.url);
    const f = new ArchiveFollower(t.node, archive, { fromNow: false, cursorKey: `deid-${randomUUID()}` });
    const deadline = Date.now() + 30_000;
    while (store.studyById(studyId)?.orthancId == null && Date.now() < deadline) {
      await f.pass();
      await new Promise((r) => setTimeout(r, 100)); // bounded poll for StableStudy
    }
    expect(store.studyById(studyId)?.orthancId).toBe(orthancStudy);
    const r = await deidentifyStudy(t.node, {
      study: studyId,
      out: join(dir.path, "dataset-out"),
      target: { kind: "dataset", dataset },
      via: "orthanc",
      archive,
    });
    expect(r.via).toBe("orthanc");
    const hashes = await checkCopies(r.files);
    expect(r.manifestRoot).toBe(manifestRootOf(nodeCrypto, hashes));
    expect(getDatasetItem(t.node.store, r.entryId)).toMatchObject({
      manifestRoot: r.manifestRoot,
      instanceCount: study.instances.length,
    });
    const d = await dcmdump(r.files[0]!);
    expect(d.top.get("(0012,0063)")).toContain("2021b");
    expect(d.top.get("(0010,0020)")).toBe(
      t.node.pseudonym("patient", t.node.pseudonym("patient", study.patient.id), `dataset:${dataset}`),
    );
    // The original stays in the archive (KeepSource); the de-identified copy was deleted after download.
    expect((await orthanc.study(orthancStudy)).ID).toBe(orthancStudy);
  });
});
