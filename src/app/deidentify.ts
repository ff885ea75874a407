/**
 * De-identified copies of a registered study for a trial or a dataset (issue 5 §5, docs/design.md §8.3):
 * DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile (2021b),
 *   - through Orthanc's /studies/{id}/anonymize (DicomVersion 2021b, KeepPrivateTags false) when
 *     Orthanc holds the study (or when asked), the copies downloaded as Orthanc wrote them;
 *   - or by our own streaming rewriter over the registered files (src/adapters/dicom/deidentify.ts).
 * Either way each copy's pixel-data hash must equal its original's (kept in the manifest store at
 * registration): the copy is matched to its original by it, and a mismatch (a transcoded or
 * altered image) fails the run with DEID_PIXEL_MISMATCH before anything is recorded.
 *
 * The de-identified manifest root — RFC 9162 Merkle root over the copies' whole-file SHA-256, as for
 * studies — is recorded by `trial.timepoint.imaged` (signed by the institution) or
 * `dataset.item.added` (signed by a curator or admin whose key the node holds), and the copies'
 * hashes and their originals are kept in the manifest store (table derived_instances).
 *
 * Patient ID and Patient's Name (action Z) are replaced by a pseudonym, never by anything from the
 * original: for a trial the subject's trial pseudonym (ts_…), for a dataset a pseudonym of the
 * patient scoped to the dataset (stable within it, unlinkable across datasets). New UIDs (action U)
 * are keyed with a random per-run key: consistent within the copy, unlinkable to the originals.
 */
import { createHmac, randomBytes } from "node:crypto";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { JsonObject } from "../core/canonical-json.js";
import { RadledgerError } from "../core/errors.js";
import { manifestRootOf } from "../core/merkle/manifest.js";
import { getDataset } from "../domain/datasets/state.js";
import { getStudy } from "../domain/imaging/state.js";
import { getTrialSubject } from "../domain/trials/state.js";
import type { DerivedInstanceRow, DicomToolkit, ImagingArchive, InstanceRow } from "../ports/imaging.js";
import { signAsInstitution } from "./institution.js";
import { signAs } from "./keys.js";
import type { RadledgerNode } from "./node.js";

/** The profile code recorded in the trial / dataset entry. */
export const DEID_PROFILE = "PS3.15-E-basic-2021b";
/** De-identification Method (0012,0063) written by our own rewriter (LO, ≤ 64 characters). */
export const DEID_METHOD = "PS3.15-2021b E.1-1 Basic Profile; radledger";
const ORTHANC_METHOD = "Orthanc /anonymize PS3.15-2021b E.1-1 Basic Profile";

export type DeidTarget =
  | {
      readonly kind: "trial";
      /** trial.subject.enrolled entry id. */
      readonly subject: string;
      readonly timepoint: string;
      readonly modality?: string | undefined;
      /** Reference the source study.registered entry (links the subject to the patient pseudonym). */
      readonly linkStudy?: boolean | undefined;
    }
  | {
      readonly kind: "dataset";
      /** dataset.created entry id. */
      readonly dataset: string;
      readonly modality?: string | undefined;
      /** Actor whose held key signs (a curator or admin; default "admin"). */
      readonly signer?: string | undefined;
    };

export interface DeidentifyStudyOptions {
  /** The study.registered entry id. */
  readonly study: string;
  /** Output directory (created; must be empty or absent). */
  readonly out: string;
  readonly target: DeidTarget;
  /** "orthanc" when Orthanc holds the study, else "files"; default: files if they are all on disk. */
  readonly via?: "files" | "orthanc" | undefined;
  /** The archive holding the study (Orthanc), for via "orthanc". */
  readonly archive?: ImagingArchive;
  /** Keep Orthanc's de-identified copy in the archive (default: deleted once downloaded). */
  readonly keepInArchive?: boolean | undefined;
}

export interface DeidentifyStudyResult {
  readonly via: "files" | "orthanc";
  readonly instanceCount: number;
  readonly manifestRoot: string;
  readonly entryType: "trial.timepoint.imaged" | "dataset.item.added";
  readonly entryId: string;
  readonly index: number;
  readonly files: string[];
}

interface Copy {
  path: string;
  original: InstanceRow;
  fileSha256: string;
  pixelSha256: string | null;
  frameSha256: string[] | null;
  transferSyntax: string;
  bytes: number;
}

export async function deidentifyStudy(
  node: RadledgerNode,
  o: DeidentifyStudyOptions,
): Promise<DeidentifyStudyResult> {
  const doc = getStudy(node.store, o.study);
  if (doc === undefined) throw new RadledgerError("RECORD_NOT_FOUND", `no study ${o.study}`);
  const store = node.manifests;
  const row = store.studyById(o.study);
  if (row === undefined)
    throw new RadledgerError(
      "RECORD_NOT_FOUND",
      "this node holds no manifest for the study (registered elsewhere?)",
    );
  const originals = store.instances(row.studyKey);

  // Who the copy is about, as a pseudonym only.
  let label: string;
  if (o.target.kind === "trial") {
    const subject = getTrialSubject(node.store, o.target.subject);
    if (subject === undefined)
      throw new RadledgerError("RECORD_NOT_FOUND", `no trial subject ${o.target.subject}`);
    label = subject.subject;
  } else {
    if (getDataset(node.store, o.target.dataset) === undefined)
      throw new RadledgerError("RECORD_NOT_FOUND", `no dataset ${o.target.dataset}`);
    label = node.pseudonym("patient", doc.patient, `dataset:${o.target.dataset}`);
  }

  const onDisk = originals.every((i) => i.path !== null && existsSync(i.path));
  const via = o.via ?? (onDisk ? "files" : "orthanc");
  if (via === "files" && !onDisk)
    throw new RadledgerError(
      "RECORD_NOT_FOUND",
      "the study's registered files are not all on disk; use Orthanc",
    );
  if (via === "orthanc" && (o.archive === undefined || row.orthancId === null))
    throw new RadledgerError(
      "ORTHANC_NOT_CONFIGURED",
      row.orthancId === null ? "the study was not registered from Orthanc" : "no Orthanc configured",
    );

  if (existsSync(o.out) && (await readdir(o.out)).length > 0)
    throw new RadledgerError("INPUT_INVALID", "the output directory exists and is not empty", {
      at: "out",
    });
  await mkdir(o.out, { recursive: true });

  let copies: Copy[];
  try {
    copies =
      via === "files"
        ? await viaFiles(node.dicom, originals, o.out, label)
        : await viaArchive(
            node.dicom,
            o.archive!,
            row.orthancId!,
            originals,
            o.out,
            label,
            o.keepInArchive === true,
          );
  } catch (e) {
    await rm(o.out, { recursive: true, force: true });
    throw e;
  }
  const manifestRoot = manifestRootOf(
    node.crypto,
    copies.map((c) => c.fileSha256),
  );
  const modality = o.target.modality ?? doc.modalities[0]!;
  const derived = {
    id: manifestRoot,
    studyKey: row.studyKey,
    purpose: o.target.kind,
    target: o.target.kind === "trial" ? o.target.subject : o.target.dataset,
    entryId: null,
    manifestRoot,
    instanceCount: copies.length,
    method: via === "files" ? DEID_METHOD : ORTHANC_METHOD,
    createdAt: new Date(node.clock.now()).toISOString(),
  };
  const rows: DerivedInstanceRow[] = copies.map((c) => ({
    derivedId: manifestRoot,
    instanceKey: c.original.instanceKey,
    fileSha256: c.fileSha256,
    pixelSha256: c.pixelSha256,
    frameSha256: c.frameSha256,
    transferSyntax: c.transferSyntax,
    bytes: c.bytes,
    path: c.path,
  }));
  // Rows first, entry second: a crash in between leaves rows without an entry id, never an entry
  // whose per-instance hashes are missing.
  store.putDerived(derived, rows);
  let entry: Uint8Array;
  let entryType: DeidentifyStudyResult["entryType"];
  if (o.target.kind === "trial") {
    entryType = "trial.timepoint.imaged";
    const body: JsonObject = {
      timepoint: o.target.timepoint,
      modality,
      instanceCount: copies.length,
      manifestRoot,
      deidentification: DEID_PROFILE,
    };
    entry = signAsInstitution(node, entryType, body, {
      subject: o.target.subject,
      ...(o.target.linkStudy === true ? { study: o.study } : {}),
    });
  } else {
    entryType = "dataset.item.added";
    const signer = o.target.signer ?? "admin";
    const key = node.heldKeys.get(signer);
    if (key === undefined)
      throw new RadledgerError("ACTOR_UNKNOWN", `the node holds no key for actor ${signer}`, {
        at: "signer",
      });
    entry = signAs(
      node.crypto,
      key,
      node.config.origin,
      entryType,
      {
        manifestRoot,
        instanceCount: copies.length,
        modality,
        sourceInstitution: node.config.origin,
        deidentification: DEID_PROFILE,
      },
      { refs: { dataset: o.target.dataset } },
    );
  }
  const { index, leafHash } = await node.appender.append(entry);
  store.setDerivedEntry(manifestRoot, leafHash);
  return {
    via,
    instanceCount: copies.length,
    manifestRoot,
    entryType,
    entryId: leafHash,
    index,
    files: copies.map((c) => c.path),
  };
}

/** A UID mapper keyed by a random per-run key (PS3.15 E.3.1 action U, "internally consistent"). */
function uidMapper(): (uid: string) => string {
  const key = randomBytes(32);
  const cache = new Map<string, string>();
  return (uid) => {
    let v = cache.get(uid);
    if (v === undefined) {
      // 2.25 + a 128-bit integer (PS3.5 §B.2): at most 44 characters.
      const h = createHmac("sha256", key).update(uid).digest().subarray(0, 16);
      v = `2.25.${BigInt("0x" + h.toString("hex")).toString()}`;
      cache.set(uid, v);
    }
    return v;
  };
}

function checkPixels(copy: Omit<Copy, "original">, original: InstanceRow | undefined): InstanceRow {
  if (original === undefined || copy.pixelSha256 !== original.pixelSha256)
    throw new RadledgerError(
      "DEID_PIXEL_MISMATCH",
      "a de-identified instance's pixel data differs from every original's (transcoded or altered)",
    );
  return original;
}

async function viaFiles(
  dicom: DicomToolkit,
  originals: readonly InstanceRow[],
  out: string,
  label: string,
): Promise<Copy[]> {
  const uid = uidMapper();
  const replace = new Map([
    [0x00100010, label], // Patient's Name (Z → dummy allowed)
    [0x00100020, label], // Patient ID
  ]);
  const copies: Copy[] = [];
  for (const [n, original] of originals.entries()) {
    const dst = join(out, `IMG${String(n + 1).padStart(5, "0")}.dcm`);
    await dicom.deidentifyFile(original.path!, dst, { uid, replace, method: DEID_METHOD });
    const c = await describeCopy(dicom, dst);
    copies.push({ ...c, original: checkPixels(c, original) });
  }
  return copies;
}

/** A written de-identified copy's hashes, as compared with its original and recorded. */
async function describeCopy(dicom: DicomToolkit, path: string): Promise<Omit<Copy, "original">> {
  const h = await dicom.hashFile(path);
  return {
    path,
    fileSha256: h.fileSha256,
    pixelSha256: h.pixelDataSha256,
    frameSha256: h.frameSha256,
    transferSyntax: h.transferSyntaxUid,
    bytes: h.bytes,
  };
}

async function viaArchive(
  dicom: DicomToolkit,
  archive: ImagingArchive,
  orthancId: string,
  originals: readonly InstanceRow[],
  out: string,
  label: string,
  keep: boolean,
): Promise<Copy[]> {
  // Orthanc replaces the protected PatientID only when forced, and then no longer writes
  // De-identification Method (0012,0063), which PS3.15 E.1.1 requires beside Patient Identity
  // Removed: so we give it.
  const copyId = await archive.anonymizeStudy(orthancId, {
    replace: { PatientID: label, PatientName: label, DeidentificationMethod: ORTHANC_METHOD },
  });
  try {
    const byPixel = new Map<string | null, InstanceRow[]>();
    for (const i of originals) byPixel.set(i.pixelSha256, [...(byPixel.get(i.pixelSha256) ?? []), i]);
    const copies: Copy[] = [];
    const instances = await archive.studyInstances(copyId);
    if (instances.length !== originals.length)
      throw new RadledgerError(
        "DEID_PIXEL_MISMATCH",
        `Orthanc's copy has ${instances.length} instances, the registered study ${originals.length}`,
      );
    for (const [n, instance] of instances.entries()) {
      const dst = join(out, `IMG${String(n + 1).padStart(5, "0")}.dcm`);
      await pipeline(await archive.instanceFile(instance), createWriteStream(dst, { flags: "wx" }));
      const c = await describeCopy(dicom, dst);
      // Matched by pixel hash: Orthanc lists the copies in its own order.
      const candidates = byPixel.get(c.pixelSha256) ?? [];
      copies.push({ ...c, original: checkPixels(c, candidates.shift()) });
    }
    return copies;
  } finally {
    if (!keep) await archive.deleteStudy(copyId).catch(() => undefined);
  }
}
