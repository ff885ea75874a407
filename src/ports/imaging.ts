/**
 * The imaging ports: what study registration, the archive feed and de-identification (src/app) need
 * from DICOM code, from an image archive and from the node-local manifest store. Adapters:
 * src/adapters/dicom (streaming Part 10 hasher, hashing threads, PS3.15 Annex E rewriter),
 * src/adapters/orthanc (Orthanc's REST API as an ImagingArchive), src/adapters/sqlite/manifest-store.ts.
 * Another archive (a DICOMweb PACS with a change feed) is another ImagingArchive adapter.
 *
 * PRIVACY: the raw identifiers below (Patient ID, UIDs, an archive's resource ids, file paths) stay
 * on the node; study registration turns them into keyed pseudonyms before anything reaches the log
 * (docs/families/imaging.md).
 */

/** What the hasher reads from one DICOM Part 10 instance (docs/families/imaging.md "Hashes"). */
export interface DicomInstanceHashes {
  /** SHA-256 (hex) of the whole file. */
  fileSha256: string;
  /** File size in bytes. */
  bytes: number;
  /**
   * SHA-256 (hex) of the Pixel Data value as stored: the value bytes for native pixel data;
   * for encapsulated pixel data the concatenation of all fragments' bytes (without the Basic
   * Offset Table and without item headers), i.e. one hash over all frames. null when the
   * instance has no top-level Pixel Data (SR, KOS, …).
   */
  pixelDataSha256: string | null;
  /**
   * SHA-256 (hex) per frame, in frame order: for encapsulated data the concatenated fragments of
   * each frame; for native data the frame's slice of the value. null when frame boundaries
   * cannot be determined from the file alone (e.g. multi-fragment frames without any offset
   * table in a codec whose frames have no start marker) or there is no Pixel Data.
   */
  frameSha256: string[] | null;
  /** Number of Pixel Data value bytes hashed into pixelDataSha256. */
  pixelDataBytes: number;
  pixelDataEncapsulated: boolean;
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  modality: string | null;
  bodyPartExamined: string | null;
  /**
   * RAW Patient ID (0010,0020). PHI: the caller must pseudonymise it and it must never leave the
   * node.
   */
  patientId: string | null;
  /**
   * RAW Accession Number (0008,0050), the RIS's id of the order (PHI-adjacent: pseudonymised before it
   * is kept, src/app/register-study.ts). Absent from hashers that do not read it.
   */
  accessionNumber?: string | null;
  /** Number of Frames (0028,0008), 1 when absent. */
  numberOfFrames: number;
  /**
   * Patient Identity Removed (0012,0062) is "YES": the instance is a de-identified copy (PS3.15
   * E.1.1), e.g. one made for a trial or dataset, and is not registered as a clinical study.
   */
  patientIdentityRemoved: boolean;
}

/** Hashing threads for many files (a folder ingest); close() ends them. */
export interface DicomHashPool {
  /** Number of threads: callers keep about two files in flight per thread. */
  readonly size: number;
  /** Hashes one file; rejects with a DICOM_* coded error for files that are not valid Part 10. */
  hash(path: string): Promise<DicomInstanceHashes>;
  close(): Promise<void>;
}

export interface DeidentifyOptions {
  /** The replacement of an original UID, the same for the same original within the set (U). */
  uid(original: string): string;
  /** Values for top-level attributes (tag → text), e.g. Patient ID := a subject pseudonym. */
  replace?: ReadonlyMap<number, string>;
  /** De-identification Method (0012,0063), at most 64 characters (LO). */
  method: string;
}

/**
 * What the node reads from an AI result object (docs/intake.md "AI results from DICOM"): a TID 1500
 * Measurement Report SR, a Segmentation or a Parametric Map made by an algorithm. The identifiers are
 * RAW (PHI-adjacent UIDs): the caller pseudonymises them before anything reaches the log.
 */
export interface AiResultObject {
  readonly kind: "sr" | "seg" | "pm";
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  /** The study of the images the result was made from (the object's own study unless its evidence names another). */
  readonly sourceStudyInstanceUid: string;
  /** Where the model identification came from (TID 4019, the SR's device observer, SEG attributes, equipment). */
  readonly identifiedBy: "algorithm-identification" | "device-observer" | "segment-algorithm" | "equipment";
  /** As the object names them; any may be missing (then the result is unidentified). */
  readonly vendor?: string;
  readonly name?: string;
  readonly version?: string;
  /** More than one algorithm (name + version) named: the result cannot be attributed to one model. */
  readonly ambiguous: boolean;
  /** Measurement groups (SR), AI segments (SEG); 0 for a Parametric Map. */
  readonly findingCount: number;
  /** The UPS workitem (IHE AIW-I) that produced it, when the object references one. */
  readonly workitemUid?: string;
}

/** The node's DICOM capabilities. Every failure about the input is a DICOM_* coded error. */
export interface DicomToolkit {
  /** Hashes one instance read from a stream (an archive's download), never whole in memory. */
  hashStream(source: AsyncIterable<Uint8Array>): Promise<DicomInstanceHashes>;
  hashFile(path: string): Promise<DicomInstanceHashes>;
  /** Starts hashing threads (default: one per core). */
  hashPool(threads?: number): DicomHashPool;
  /** Writes a PS3.15 Annex E Basic Profile de-identified copy of `input` to `output` (created, never overwritten). */
  deidentifyFile(input: string, output: string, options: DeidentifyOptions): Promise<void>;
  /** Whether instances of this SOP class can be AI results (SR, SEG, Parametric Map): read them whole. */
  mayBeAiResult(sopClassUid: string): boolean;
  /**
   * The AI result an object holds (at most a few MB: the caller bounds it), or null when it is not
   * one (a clinician's SR, a manual segmentation, any other class). Malformed input: DICOM_* codes.
   */
  readAiResult(bytes: Uint8Array): AiResultObject | null;
}

/** One event of an archive's change feed, in the archive's order. */
export interface ArchiveChange {
  /** Position in the feed: the follower's cursor moves past it once it is handled. */
  readonly seq: number;
  /** "study-stable": nothing arrived for the study for the archive's settle time; ready to register. */
  readonly kind: "study-stable" | "other";
  /** The archive's own id of the resource (node-local: it may be derived from patient data). */
  readonly resourceId: string;
}

export interface ArchiveChangePage {
  readonly changes: readonly ArchiveChange[];
  /** The feed has nothing after this page for now. */
  readonly done: boolean;
  /** The feed's last position (may lie past the page when older changes were pruned). */
  readonly last: number;
}

export interface ArchiveAnonymizeOptions {
  /** Attribute keywords to replace (e.g. PatientID := a pseudonym). */
  readonly replace: Readonly<Record<string, string>>;
}

/**
 * An image archive the node registers studies from (Orthanc's REST API today). Errors carry coded
 * categories: "unavailable" for a transient failure (retried), others for the resource itself.
 */
export interface ImagingArchive {
  /** A stable name of this archive for the follower's cursor (e.g. "orthanc <base URL>"). */
  readonly feedKey: string;
  changes(since: number, limit: number): Promise<ArchiveChangePage>;
  lastChangeSeq(): Promise<number>;
  /** The archive's ids of a study's instances. */
  studyInstances(studyId: string): Promise<string[]>;
  /** One instance's Part 10 bytes as the archive stores them. */
  instanceFile(instanceId: string): Promise<AsyncIterable<Uint8Array>>;
  /**
   * A PS3.15 Annex E (2021b Basic Profile, no private tags) de-identified copy of a study made by the
   * archive itself; resolves with the copy's study id.
   */
  anonymizeStudy(studyId: string, options: ArchiveAnonymizeOptions): Promise<string>;
  deleteStudy(studyId: string): Promise<void>;
}

/**
 * What the RIS intake (src/app/ris-intake) keeps on the node beside the manifests: which study an
 * accession number names, and the ACK of each HL7 message already recorded (idempotency by MSH-10).
 */
export interface RisIndex {
  /** Notes that the accession number's keyed pseudonym names this study key (the last one wins). */
  noteAccession(accessionKey: string, studyKey: string): void;
  studyKeyOfAccession(accessionKey: string): string | undefined;
  /** The ACK sent for a recorded message of this sender and control id (MSH-10), if any. */
  hl7Ack(sender: string, controlId: string): string | undefined;
  putHl7Ack(sender: string, controlId: string, ack: string): void;
}

/** A hashed instance as the manifest store keeps it: pseudonymous keys, hashes, and where its file is. */
export interface InstanceRow {
  readonly studyKey: string;
  readonly seriesKey: string;
  readonly instanceKey: string;
  readonly fileSha256: string;
  readonly pixelSha256: string | null;
  readonly frameSha256: readonly string[] | null;
  readonly transferSyntax: string;
  readonly sopClass: string;
  readonly modality: string | null;
  readonly bodyPart: string | null;
  readonly bytes: number;
  readonly frames: number;
  readonly path: string | null;
}

export interface StagedInstance extends InstanceRow {
  readonly patient: string;
}

export interface StudyRow {
  readonly studyKey: string;
  readonly studyId: string | null;
  readonly patient: string;
  readonly manifestRoot: string;
  readonly instanceCount: number;
  readonly sourceKind: string;
  readonly sourceName: string;
  readonly orthancId: string | null;
}

export interface DerivedRow {
  readonly id: string;
  readonly studyKey: string;
  readonly purpose: "trial" | "dataset";
  readonly target: string;
  readonly entryId: string | null;
  readonly manifestRoot: string;
  readonly instanceCount: number;
  readonly method: string;
  readonly createdAt: string;
}

export interface DerivedInstanceRow {
  readonly derivedId: string;
  readonly instanceKey: string;
  readonly fileSha256: string;
  readonly pixelSha256: string | null;
  readonly frameSha256: readonly string[] | null;
  readonly transferSyntax: string;
  readonly bytes: number;
  readonly path: string | null;
}

/**
 * The node-local manifest store: per-instance hashes behind each study's manifest root, the
 * de-identified copies made from studies, and archive feed cursors. Never on the ledger. Every write
 * is durable when the call returns (a cursor must not move before the study's rows are kept).
 * Staging holds one registration run at a time: callers serialise runs (src/app/register-study.ts).
 */
export interface ManifestStore extends RisIndex {
  /** Empties the staging area (a new run). */
  clearStaging(): void;
  /**
   * Stages hashed instances in one transaction. Per instance: "added", "duplicate" (the same
   * instance with the same bytes was staged already) or "conflict" (same instance key, other bytes).
   */
  stageMany(items: readonly StagedInstance[]): ("added" | "duplicate" | "conflict")[];
  stagedStudyKeys(): string[];
  stagedPatients(studyKey: string): string[];
  /** Staged instances of a study, by series then instance key (streamed). */
  staged(studyKey: string): Iterable<InstanceRow>;
  /** Makes a study's staged instances its manifest and records the study row (studyId still null). */
  commitStaged(study: Omit<StudyRow, "studyId">): void;
  dropStaged(studyKey: string): void;
  setStudyId(studyKey: string, studyId: string): void;
  setOrthancId(studyKey: string, orthancId: string): void;
  study(studyKey: string): StudyRow | undefined;
  studyById(studyId: string): StudyRow | undefined;
  instances(studyKey: string): InstanceRow[];
  putDerived(derived: DerivedRow, instances: readonly DerivedInstanceRow[]): void;
  setDerivedEntry(id: string, entryId: string): void;
  derived(id: string): DerivedRow | undefined;
  derivedInstances(id: string): DerivedInstanceRow[];
  cursor(source: string): number | undefined;
  setCursor(source: string, seq: number): void;
  close(): void;
}
