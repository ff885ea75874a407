/**
 * Study registration shared by folder ingest and the Orthanc feed: hashed instances are staged in
 * the manifest store under pseudonymous keys, then each study becomes one `study.registered` entry
 * signed by the institution (docs/families/imaging.md).
 *
 * Which hash enters the manifest: the whole-file SHA-256 of each instance (what an archive stores
 * and serves byte for byte), for the study's and each series' manifest root. The pixel-data and
 * per-frame hashes stay in the manifest store beside it; they survive de-identification, which is
 * how a de-identified copy is matched to its original (src/app/deidentify.ts).
 *
 * Raw identifiers (Patient ID, UIDs) are turned into keyed pseudonyms here, as soon as they leave
 * the hasher, and are never stored, logged or put in an error.
 */
import type { JsonObject } from "../core/canonical-json.js";
import { RadledgerError, toRadledgerError } from "../core/errors.js";
import { manifestRootOf } from "../core/merkle/manifest.js";
import type { DicomInstanceHashes, ManifestStore, StagedInstance } from "../ports/imaging.js";
import { getStudy } from "../domain/imaging/state.js";
import { signAsInstitution } from "./institution.js";
import type { RadledgerNode } from "./node.js";

export interface StudySource {
  readonly kind: "folder" | "pacs" | "modality";
  /** A label for the archive (never a path or URL: those may carry names). */
  readonly name: string;
  /** The study's Orthanc id, when it came from Orthanc (node-local). */
  readonly orthancId?: string;
}

/** Body part codes as the ledger's `code` schema accepts them (CS values may hold spaces). */
function codeOf(v: string | null): string | undefined {
  if (v === null) return undefined;
  const c = v.trim().replace(/\s+/g, "_");
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(c) ? c : undefined;
}

/** DICOM Modality (0008,0060) as the imaging schema wants it; OT ("other") when absent or odd. */
function modalityOf(v: string | null): string {
  const m = (v ?? "").trim().toUpperCase();
  return /^[A-Z]{2,4}$/.test(m) ? m : "OT";
}

/**
 * Pseudonymises one hashed instance for staging. Throws DICOM_MISSING_ATTRIBUTE (no Patient ID) or
 * DICOM_DEIDENTIFIED (a de-identified copy is not a clinical study).
 */
export function toStaged(node: RadledgerNode, h: DicomInstanceHashes, path: string | null): StagedInstance {
  if (h.patientIdentityRemoved)
    throw new RadledgerError("DICOM_DEIDENTIFIED", "the instance is a de-identified copy (0012,0062 = YES)");
  if (h.patientId === null)
    throw new RadledgerError("DICOM_MISSING_ATTRIBUTE", "missing Patient ID (0010,0020)");
  const studyKey = node.pseudonym("study", h.studyInstanceUid);
  // The accession number, keyed like the UIDs, names the study for the RIS intake (docs/intake.md):
  // an HL7 result names the order's accession, not the Study Instance UID.
  const accession = h.accessionNumber?.trim();
  if (accession) {
    // Read first: a write per instance would cost a study of 1,000 files 1,000 fsyncs.
    const key = accessionKey(node, accession);
    if (node.manifests.studyKeyOfAccession(key) !== studyKey) node.manifests.noteAccession(key, studyKey);
  }
  return {
    studyKey,
    seriesKey: node.pseudonym("series", h.seriesInstanceUid),
    instanceKey: node.pseudonym("instance", h.sopInstanceUid),
    patient: node.pseudonym("patient", h.patientId),
    fileSha256: h.fileSha256,
    pixelSha256: h.pixelDataSha256,
    frameSha256: h.frameSha256,
    transferSyntax: h.transferSyntaxUid,
    sopClass: h.sopClassUid,
    modality: h.modality,
    bodyPart: h.bodyPartExamined,
    bytes: h.bytes,
    frames: h.numberOfFrames,
    path,
  };
}

/**
 * The keyed pseudonym of an accession number: the study kind's key, domain-separated by the scope
 * "accession" (docs/design.md §5.1), so an accession and a Study Instance UID never collide.
 */
export function accessionKey(node: RadledgerNode, accession: string): string {
  return node.pseudonym("study", accession, "accession");
}

/** The error for a staged instance whose SOP Instance UID was seen before with other bytes. */
export const duplicateConflict = (): RadledgerError =>
  new RadledgerError(
    "DICOM_INCONSISTENT_STUDY",
    "two files carry the same SOP Instance UID with different bytes; the first was kept",
  );

export interface StudyOutcome {
  readonly studyKey: string;
  readonly status: "registered" | "already-registered" | "failed";
  readonly studyId?: string;
  readonly index?: number;
  readonly instanceCount: number;
  readonly manifestRoot?: string;
  /** already-registered: the registered manifest differs from the instances seen now. */
  readonly differs?: boolean;
  readonly error?: RadledgerError;
}

interface Built {
  body: JsonObject;
  patient: string;
  manifestRoot: string;
  instanceCount: number;
}

function buildBody(node: RadledgerNode, store: ManifestStore, studyKey: string, source: StudySource): Built {
  const patients = store.stagedPatients(studyKey);
  if (patients.length !== 1)
    throw new RadledgerError(
      "DICOM_INCONSISTENT_STUDY",
      `the study's instances carry ${patients.length} different Patient IDs`,
    );
  const patient = patients[0]!;
  const series = new Map<string, { modality: string; bodyPart?: string; hashes: string[] }>();
  const all: string[] = [];
  for (const r of store.staged(studyKey)) {
    let s = series.get(r.seriesKey);
    if (s === undefined) {
      const bodyPart = codeOf(r.bodyPart);
      s = { modality: modalityOf(r.modality), ...(bodyPart === undefined ? {} : { bodyPart }), hashes: [] };
      series.set(r.seriesKey, s);
    }
    s.hashes.push(r.fileSha256);
    all.push(r.fileSha256);
  }
  if (series.size > 200)
    throw new RadledgerError("DICOM_LIMIT_EXCEEDED", `the study has ${series.size} series (at most 200)`);
  const modalities = [...new Set([...series.values()].map((s) => s.modality))].sort().slice(0, 16);
  const bodyParts = [...series.values()].map((s) => s.bodyPart).filter((b) => b !== undefined);
  const manifestRoot = manifestRootOf(node.crypto, all);
  const body: JsonObject = {
    studyKey,
    patient,
    modalities,
    ...(bodyParts.length > 0 ? { bodyPart: bodyParts[0]! } : {}),
    series: [...series].map(([seriesKey, s]) => ({
      seriesKey,
      modality: s.modality,
      ...(s.bodyPart === undefined ? {} : { bodyPart: s.bodyPart }),
      instanceCount: s.hashes.length,
      manifestRoot: manifestRootOf(node.crypto, s.hashes),
    })),
    instanceCount: all.length,
    manifestRoot,
    source: { kind: source.kind, name: source.name },
  };
  return { body, patient, manifestRoot, instanceCount: all.length };
}

const stagingRuns = new WeakMap<RadledgerNode, Promise<unknown>>();

/**
 * Runs one staging run (hash, stage, register) of the node's manifest store at a time: the staging
 * area holds one run (ManifestStore), and a folder ingest sent to a serving node must not clear or
 * register the Orthanc feed's half-staged study, nor the other way round.
 */
export function withStaging<T>(node: RadledgerNode, run: (store: ManifestStore) => Promise<T>): Promise<T> {
  const previous = stagingRuns.get(node) ?? Promise.resolve();
  const mine = previous.then(
    () => run(node.manifests),
    () => run(node.manifests),
  );
  stagingRuns.set(
    node,
    mine.catch(() => undefined),
  );
  return mine;
}

/** The ledger's study id for a study key, if registered. */
export function registeredStudyId(node: RadledgerNode, studyKey: string): string | undefined {
  return node.store.lookup("study.key", studyKey, { limit: 1 })[0]?.value;
}

/**
 * Registers the staged instances of one study. Idempotent: a study key already on the ledger is
 * "already-registered" (not an error); if the manifest store lost its rows (a crash between the
 * append and the store update), they are restored when the manifest is the same.
 *
 * Order (crash safety): manifest rows are written first (study id unset), then the entry is
 * appended (durable when the appender resolves), then the study id is set. A crash in between leaves
 * rows that the next run of the same study overwrites or completes.
 */
export async function registerStaged(
  node: RadledgerNode,
  store: ManifestStore,
  studyKey: string,
  source: StudySource,
): Promise<StudyOutcome> {
  let built: Built;
  try {
    built = buildBody(node, store, studyKey, source);
  } catch (e) {
    store.dropStaged(studyKey);
    return { studyKey, status: "failed", instanceCount: 0, error: toRadledgerError(e) };
  }
  const row = {
    studyKey,
    patient: built.patient,
    manifestRoot: built.manifestRoot,
    instanceCount: built.instanceCount,
    sourceKind: source.kind,
    sourceName: source.name,
    orthancId: source.orthancId ?? null,
  };
  const existing = registeredStudyId(node, studyKey);
  if (existing !== undefined) return alreadyRegistered(node, store, existing, row);
  store.commitStaged(row);
  try {
    const entry = signAsInstitution(node, "study.registered", built.body);
    const { index, leafHash } = await node.appender.append(entry);
    store.setStudyId(studyKey, leafHash);
    return {
      studyKey,
      status: "registered",
      studyId: leafHash,
      index,
      instanceCount: built.instanceCount,
      manifestRoot: built.manifestRoot,
    };
  } catch (e) {
    const err = toRadledgerError(e);
    // Registered meanwhile by another path (e.g. the same study from Orthanc and a folder).
    const id = registeredStudyId(node, studyKey);
    if (err.code === "STUDY_ALREADY_REGISTERED" && id !== undefined)
      return alreadyRegistered(node, store, id, row);
    return { studyKey, status: "failed", instanceCount: built.instanceCount, error: err };
  }
}

function alreadyRegistered(
  node: RadledgerNode,
  store: ManifestStore,
  studyId: string,
  row: Parameters<ManifestStore["commitStaged"]>[0],
): StudyOutcome {
  const doc = getStudy(node.store, studyId);
  const differs = doc?.manifestRoot !== row.manifestRoot;
  const stored = store.study(row.studyKey);
  if (
    !differs &&
    (stored === undefined || stored.studyId === null || stored.manifestRoot !== row.manifestRoot)
  ) {
    // The store lost or never finished its rows for this registered study: restore them.
    store.commitStaged(row);
    store.setStudyId(row.studyKey, studyId);
  } else {
    if (row.orthancId !== null && stored !== undefined && stored.orthancId === null)
      store.setOrthancId(row.studyKey, row.orthancId);
    store.dropStaged(row.studyKey);
  }
  return {
    studyKey: row.studyKey,
    status: "already-registered",
    studyId,
    instanceCount: row.instanceCount,
    manifestRoot: doc?.manifestRoot ?? row.manifestRoot,
    differs,
  };
}
