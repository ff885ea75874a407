/**
 * The node's manifest store (DIR/manifests.sqlite): what stands behind the manifest roots on the
 * ledger, kept off-ledger and on the node (docs/families/imaging.md).
 *
 *   studies            one row per study key (st_ pseudonym): its manifest root and, once the
 *                      study.registered entry is durable, the entry id; where the study lives
 *                      (a folder: per-instance paths; Orthanc: the Orthanc study id)
 *   instances          per instance (in_ pseudonym of the SOP Instance UID): whole-file SHA-256 (the
 *                      manifest leaf), pixel-data SHA-256 and per-frame hashes with the transfer
 *                      syntax they were taken in, so a de-identified copy can be matched to its
 *                      original; bundles (docs/families/imaging.md) carry these rows
 *   staging            instances hashed during one ingest run, before their study is registered
 *   derived(_instances) de-identified copies made for a trial or a dataset: their manifest root,
 *                      the entry that records it, and per copy the original instance it came from
 *   cursors            position in a change feed (Orthanc /changes `Seq`), advanced only after the
 *                      entries for the changes before it are durable
 *   accessions         accession number pseudonym (st_, scope "accession") → study key: how the RIS
 *                      intake finds the study an HL7 report is about (docs/intake.md)
 *   hl7_acks           per sender and message control id (MSH-10), the ACK of a recorded message:
 *                      a resent message gets the same ACK and records nothing twice
 *
 * PRIVACY: nothing here goes on the ledger. Keys are pseudonyms; but file paths and Orthanc ids are
 * node-local addresses that may identify a patient (Orthanc ids are SHA-1 of Patient ID and UIDs):
 * they never leave the node. No raw UID or Patient ID is stored.
 */
import type {
  DerivedInstanceRow,
  DerivedRow,
  InstanceRow,
  ManifestStore,
  StagedInstance,
  StudyRow,
} from "../../ports/imaging.js";
import { openSqlite } from "./open.js";
import Database from "better-sqlite3";

interface RawInstance {
  study_key: string;
  series_key: string;
  instance_key: string;
  file_sha256: string;
  pixel_sha256: string | null;
  frame_sha256: string | null;
  transfer_syntax: string;
  sop_class: string;
  modality: string | null;
  body_part: string | null;
  bytes: number;
  frames: number;
  path: string | null;
}

const INSTANCE_COLUMNS = `study_key TEXT NOT NULL, series_key TEXT NOT NULL, instance_key TEXT NOT NULL,
  file_sha256 TEXT NOT NULL, pixel_sha256 TEXT, frame_sha256 TEXT, transfer_syntax TEXT NOT NULL,
  sop_class TEXT NOT NULL, modality TEXT, body_part TEXT, bytes INTEGER NOT NULL, frames INTEGER NOT NULL,
  path TEXT`;

function toInstance(r: RawInstance): InstanceRow {
  return {
    studyKey: r.study_key,
    seriesKey: r.series_key,
    instanceKey: r.instance_key,
    fileSha256: r.file_sha256,
    pixelSha256: r.pixel_sha256,
    frameSha256: r.frame_sha256 === null ? null : (JSON.parse(r.frame_sha256) as string[]),
    transferSyntax: r.transfer_syntax,
    sopClass: r.sop_class,
    modality: r.modality,
    bodyPart: r.body_part,
    bytes: r.bytes,
    frames: r.frames,
    path: r.path,
  };
}

function instanceParams(i: InstanceRow): unknown[] {
  return [
    i.studyKey,
    i.seriesKey,
    i.instanceKey,
    i.fileSha256,
    i.pixelSha256,
    i.frameSha256 === null ? null : JSON.stringify(i.frameSha256),
    i.transferSyntax,
    i.sopClass,
    i.modality,
    i.bodyPart,
    i.bytes,
    i.frames,
    i.path,
  ];
}

export class SqliteManifestStore implements ManifestStore {
  readonly #db: Database.Database;
  /** HL7 ACKs not yet written (putHl7Ack): sender NUL control id → row. */
  readonly #pendingAcks = new Map<string, [string, string, string]>();

  constructor(path: string) {
    // FULL: a cursor or a manifest row must be durable before the feed moves on (see cursors).
    this.#db = openSqlite(path, {
      what: "manifest",
      schema: `
      CREATE TABLE IF NOT EXISTS studies (
        study_key TEXT PRIMARY KEY, study_id TEXT, patient TEXT NOT NULL, manifest_root TEXT NOT NULL,
        instance_count INTEGER NOT NULL, source_kind TEXT NOT NULL, source_name TEXT NOT NULL,
        orthanc_id TEXT) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS studies_id ON studies (study_id);
      CREATE TABLE IF NOT EXISTS instances (${INSTANCE_COLUMNS},
        PRIMARY KEY (study_key, instance_key)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS staging (${INSTANCE_COLUMNS}, patient TEXT NOT NULL,
        PRIMARY KEY (study_key, instance_key)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS derived (
        id TEXT PRIMARY KEY, study_key TEXT NOT NULL, purpose TEXT NOT NULL, target TEXT NOT NULL,
        entry_id TEXT, manifest_root TEXT NOT NULL, instance_count INTEGER NOT NULL, method TEXT NOT NULL,
        created_at TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS derived_study ON derived (study_key);
      CREATE TABLE IF NOT EXISTS derived_instances (
        derived_id TEXT NOT NULL, instance_key TEXT NOT NULL, file_sha256 TEXT NOT NULL,
        pixel_sha256 TEXT, frame_sha256 TEXT, transfer_syntax TEXT NOT NULL, bytes INTEGER NOT NULL,
        path TEXT, PRIMARY KEY (derived_id, instance_key)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS cursors (source TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS accessions (accession_key TEXT PRIMARY KEY, study_key TEXT NOT NULL)
        WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS hl7_acks (sender TEXT NOT NULL, control_id TEXT NOT NULL, ack TEXT NOT NULL,
        PRIMARY KEY (sender, control_id)) WITHOUT ROWID;
    `,
    });
  }

  close(): void {
    if (this.#db.open) this.#flushAcks();
    this.#db.close();
  }

  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn)();
  }

  // --- staging (one ingest run) ----------------------------------------------------------------

  clearStaging(): void {
    this.#db.exec("DELETE FROM staging");
  }

  /**
   * Stages one hashed instance. Returns "added", "duplicate" (the same instance with the same bytes
   * was already staged: a copy of the file) or "conflict" (same SOP Instance UID, other bytes).
   */
  stage(i: StagedInstance): "added" | "duplicate" | "conflict" {
    const prev = this.#db
      .prepare("SELECT file_sha256 FROM staging WHERE study_key = ? AND instance_key = ?")
      .get(i.studyKey, i.instanceKey) as { file_sha256: string } | undefined;
    if (prev !== undefined) return prev.file_sha256 === i.fileSha256 ? "duplicate" : "conflict";
    this.#db
      .prepare(`INSERT INTO staging VALUES (${"?, ".repeat(13)}?)`)
      .run(...instanceParams(i), i.patient);
    return "added";
  }

  /** stage() for many instances in one transaction (one fsync). */
  stageMany(items: readonly StagedInstance[]): ("added" | "duplicate" | "conflict")[] {
    return this.transaction(() => items.map((i) => this.stage(i)));
  }

  stagedStudyKeys(): string[] {
    return (
      this.#db.prepare("SELECT DISTINCT study_key FROM staging ORDER BY study_key").all() as {
        study_key: string;
      }[]
    ).map((r) => r.study_key);
  }

  stagedPatients(studyKey: string): string[] {
    return (
      this.#db.prepare("SELECT DISTINCT patient FROM staging WHERE study_key = ?").all(studyKey) as {
        patient: string;
      }[]
    ).map((r) => r.patient);
  }

  /** Staged instances of a study, by series then instance key (streamed from SQLite). */
  *staged(studyKey: string): Generator<InstanceRow> {
    const it = this.#db
      .prepare("SELECT * FROM staging WHERE study_key = ? ORDER BY series_key, instance_key")
      .iterate(studyKey) as IterableIterator<RawInstance>;
    for (const r of it) yield toInstance(r);
  }

  /**
   * Makes the staged instances of a study its manifest (replacing rows of an earlier attempt that
   * never got registered) and records the study row; studyId stays null until the entry is durable.
   */
  commitStaged(study: Omit<StudyRow, "studyId">): void {
    this.transaction(() => {
      this.#db.prepare("DELETE FROM instances WHERE study_key = ?").run(study.studyKey);
      this.#db
        .prepare("INSERT INTO instances SELECT " + STAGING_TO_INSTANCE + " FROM staging WHERE study_key = ?")
        .run(study.studyKey);
      this.#db.prepare("DELETE FROM staging WHERE study_key = ?").run(study.studyKey);
      this.#db
        .prepare(
          `INSERT INTO studies VALUES (?, NULL, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (study_key) DO UPDATE SET study_id = NULL, patient = excluded.patient,
             manifest_root = excluded.manifest_root, instance_count = excluded.instance_count,
             source_kind = excluded.source_kind, source_name = excluded.source_name,
             orthanc_id = excluded.orthanc_id`,
        )
        .run(
          study.studyKey,
          study.patient,
          study.manifestRoot,
          study.instanceCount,
          study.sourceKind,
          study.sourceName,
          study.orthancId,
        );
    });
  }

  dropStaged(studyKey: string): void {
    this.#db.prepare("DELETE FROM staging WHERE study_key = ?").run(studyKey);
  }

  // --- registered studies ----------------------------------------------------------------------

  setStudyId(studyKey: string, studyId: string): void {
    this.#db.prepare("UPDATE studies SET study_id = ? WHERE study_key = ?").run(studyId, studyKey);
  }

  /** A location the study is also available from (e.g. Orthanc after a folder ingest). */
  setOrthancId(studyKey: string, orthancId: string): void {
    this.#db.prepare("UPDATE studies SET orthanc_id = ? WHERE study_key = ?").run(orthancId, studyKey);
  }

  study(studyKey: string): StudyRow | undefined {
    const r = this.#db.prepare("SELECT * FROM studies WHERE study_key = ?").get(studyKey) as
      Record<string, unknown> | undefined;
    return r === undefined ? undefined : toStudy(r);
  }

  studyById(studyId: string): StudyRow | undefined {
    const r = this.#db.prepare("SELECT * FROM studies WHERE study_id = ?").get(studyId) as
      Record<string, unknown> | undefined;
    return r === undefined ? undefined : toStudy(r);
  }

  instances(studyKey: string): InstanceRow[] {
    return (
      this.#db
        .prepare("SELECT * FROM instances WHERE study_key = ? ORDER BY series_key, instance_key")
        .all(studyKey) as RawInstance[]
    ).map(toInstance);
  }

  // --- de-identified copies ----------------------------------------------------------------------

  putDerived(d: DerivedRow, instances: readonly DerivedInstanceRow[]): void {
    this.transaction(() => {
      this.#db
        .prepare(
          `INSERT INTO derived VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET entry_id = excluded.entry_id`,
        )
        .run(
          d.id,
          d.studyKey,
          d.purpose,
          d.target,
          d.entryId,
          d.manifestRoot,
          d.instanceCount,
          d.method,
          d.createdAt,
        );
      this.#db.prepare("DELETE FROM derived_instances WHERE derived_id = ?").run(d.id);
      const ins = this.#db.prepare("INSERT INTO derived_instances VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      for (const i of instances) {
        ins.run(
          i.derivedId,
          i.instanceKey,
          i.fileSha256,
          i.pixelSha256,
          i.frameSha256 === null ? null : JSON.stringify(i.frameSha256),
          i.transferSyntax,
          i.bytes,
          i.path,
        );
      }
    });
  }

  setDerivedEntry(id: string, entryId: string): void {
    this.#db.prepare("UPDATE derived SET entry_id = ? WHERE id = ?").run(entryId, id);
  }

  derived(id: string): DerivedRow | undefined {
    const r = this.#db.prepare("SELECT * FROM derived WHERE id = ?").get(id) as
      Record<string, unknown> | undefined;
    if (r === undefined) return undefined;
    return {
      id: r.id as string,
      studyKey: r.study_key as string,
      purpose: r.purpose as "trial" | "dataset",
      target: r.target as string,
      entryId: r.entry_id as string | null,
      manifestRoot: r.manifest_root as string,
      instanceCount: r.instance_count as number,
      method: r.method as string,
      createdAt: r.created_at as string,
    };
  }

  derivedInstances(id: string): DerivedInstanceRow[] {
    return (
      this.#db
        .prepare("SELECT * FROM derived_instances WHERE derived_id = ? ORDER BY instance_key")
        .all(id) as Record<string, unknown>[]
    ).map((r) => ({
      derivedId: r.derived_id as string,
      instanceKey: r.instance_key as string,
      fileSha256: r.file_sha256 as string,
      pixelSha256: r.pixel_sha256 as string | null,
      frameSha256: r.frame_sha256 === null ? null : (JSON.parse(r.frame_sha256 as string) as string[]),
      transferSyntax: r.transfer_syntax as string,
      bytes: r.bytes as number,
      path: r.path as string | null,
    }));
  }

  // --- feed cursors ------------------------------------------------------------------------------

  cursor(source: string): number | undefined {
    const r = this.#db.prepare("SELECT seq FROM cursors WHERE source = ?").get(source) as
      { seq: number } | undefined;
    return r?.seq;
  }

  /** Durable once this returns (synchronous = FULL). */
  setCursor(source: string, seq: number): void {
    this.#db
      .prepare("INSERT INTO cursors VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET seq = excluded.seq")
      .run(source, seq);
  }

  noteAccession(accessionKey: string, studyKey: string): void {
    this.#db
      .prepare("INSERT OR REPLACE INTO accessions (accession_key, study_key) VALUES (?, ?)")
      .run(accessionKey, studyKey);
  }

  studyKeyOfAccession(accessionKey: string): string | undefined {
    const row = this.#db
      .prepare("SELECT study_key FROM accessions WHERE accession_key = ?")
      .get(accessionKey) as { study_key: string } | undefined;
    return row?.study_key;
  }

  hl7Ack(sender: string, controlId: string): string | undefined {
    const pending = this.#pendingAcks.get(`${sender}\u0000${controlId}`);
    if (pending !== undefined) return pending[2];
    const row = this.#db
      .prepare("SELECT ack FROM hl7_acks WHERE sender = ? AND control_id = ?")
      .get(sender, controlId) as { ack: string } | undefined;
    return row?.ack;
  }

  /**
   * Kept at once for hl7Ack, written with the others of this turn of the event loop in one
   * transaction (one fsync for a burst of messages rather than one each). A crash before the write
   * forgets those ACKs: their messages, resent, are recorded again (docs/intake.md).
   */
  putHl7Ack(sender: string, controlId: string, ack: string): void {
    const key = `${sender}\u0000${controlId}`;
    if (this.#pendingAcks.has(key)) return;
    this.#pendingAcks.set(key, [sender, controlId, ack]);
    if (this.#pendingAcks.size === 1) setImmediate(() => this.#flushAcks());
  }

  #flushAcks(): void {
    if (this.#pendingAcks.size === 0 || !this.#db.open) return;
    const rows = [...this.#pendingAcks.values()];
    const insert = this.#db.prepare(
      "INSERT OR IGNORE INTO hl7_acks (sender, control_id, ack) VALUES (?, ?, ?)",
    );
    this.#db.transaction(() => {
      for (const r of rows) insert.run(...r);
    })();
    this.#pendingAcks.clear();
  }
}

const STAGING_TO_INSTANCE =
  "study_key, series_key, instance_key, file_sha256, pixel_sha256, frame_sha256, transfer_syntax, sop_class, modality, body_part, bytes, frames, path";

function toStudy(r: Record<string, unknown>): StudyRow {
  return {
    studyKey: r.study_key as string,
    studyId: r.study_id as string | null,
    patient: r.patient as string,
    manifestRoot: r.manifest_root as string,
    instanceCount: r.instance_count as number,
    sourceKind: r.source_kind as string,
    sourceName: r.source_name as string,
    orthancId: r.orthanc_id as string | null,
  };
}
