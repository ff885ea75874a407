/**
 * The witness's durable state (DIR/witness.sqlite): the latest checkpoint cosigned per log origin,
 * and the node's register of equivocation evidence (from its witness, its mirrors and anchoring).
 * WAL with synchronous=FULL: a cosignature is only returned after its checkpoint is durable, and
 * `atomically` is a BEGIN IMMEDIATE transaction, so two requests (or two processes) can never
 * interleave between the old-size check and the update (tlog-witness §add-checkpoint).
 */
import { openSqlite } from "./open.js";
import Database from "better-sqlite3";
import { RadledgerError } from "../../core/errors.js";
import type {
  EvidenceKind,
  EvidenceRecord,
  EvidenceSource,
  NewEvidence,
  WitnessRecord,
  WitnessStore,
} from "../../ports/consortium.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS witness_logs (
  origin TEXT PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, note TEXT NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (
  id INTEGER PRIMARY KEY, origin TEXT NOT NULL, kind TEXT NOT NULL, source TEXT NOT NULL,
  text TEXT NOT NULL UNIQUE, summary TEXT NOT NULL, detected_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS evidence_origin ON evidence (origin, kind);
`;

interface LogRow {
  origin: string;
  size: number;
  root: Buffer;
  note: string;
  updated_at: number;
}

interface EvidenceRow {
  id: number;
  origin: string;
  kind: string;
  source: string;
  text: string;
  summary: string;
  detected_at: number;
}

const toRecord = (r: LogRow): WitnessRecord => ({
  origin: r.origin,
  size: r.size,
  root: new Uint8Array(r.root),
  note: r.note,
  updatedAt: r.updated_at,
});

const toEvidence = (r: EvidenceRow): EvidenceRecord => ({
  id: r.id,
  origin: r.origin,
  kind: r.kind as EvidenceKind,
  source: r.source as EvidenceSource,
  text: r.text,
  summary: r.summary,
  detectedAt: r.detected_at,
});

export class SqliteWitnessStore implements WitnessStore {
  readonly #db: Database.Database;
  readonly #s;

  constructor(path: string, options: { readonly?: boolean } = {}) {
    this.#db = openSqlite(path, {
      what: "witness",
      schema: SCHEMA,
      ...(options.readonly === undefined ? {} : { readonly: options.readonly }),
    });
    const db = this.#db;
    this.#s = {
      latest: db.prepare("SELECT * FROM witness_logs WHERE origin = ?"),
      all: db.prepare("SELECT * FROM witness_logs ORDER BY origin"),
      put: options.readonly
        ? undefined
        : db.prepare(
            "INSERT INTO witness_logs (origin, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?) " +
              "ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root, " +
              "note = excluded.note, updated_at = excluded.updated_at",
          ),
      addEvidence: options.readonly
        ? undefined
        : db.prepare(
            "INSERT INTO evidence (origin, kind, source, text, summary, detected_at) VALUES (?, ?, ?, ?, ?, ?) " +
              "ON CONFLICT (text) DO NOTHING",
          ),
      evidenceByText: db.prepare("SELECT * FROM evidence WHERE text = ?"),
      evidenceAll: db.prepare("SELECT * FROM evidence ORDER BY id"),
      evidenceOf: db.prepare("SELECT * FROM evidence WHERE origin = ? ORDER BY id"),
      equivocated: db
        .prepare("SELECT 1 FROM evidence WHERE origin = ? AND kind != 'unproven' LIMIT 1")
        .pluck(),
    };
  }

  atomically<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  latest(origin: string): WitnessRecord | undefined {
    const row = this.#s.latest.get(origin) as LogRow | undefined;
    return row ? toRecord(row) : undefined;
  }

  put(r: WitnessRecord): void {
    this.writable(this.#s.put).run(r.origin, r.size, Buffer.from(r.root), r.note, r.updatedAt);
  }

  all(): WitnessRecord[] {
    return (this.#s.all.all() as LogRow[]).map(toRecord);
  }

  /** Stores evidence once: the same evidence text seen again returns the first record. */
  addEvidence(e: NewEvidence): EvidenceRecord {
    this.writable(this.#s.addEvidence).run(e.origin, e.kind, e.source, e.text, e.summary, e.detectedAt);
    return toEvidence(this.#s.evidenceByText.get(e.text) as EvidenceRow);
  }

  evidence(origin?: string): EvidenceRecord[] {
    const rows = (
      origin === undefined ? this.#s.evidenceAll.all() : this.#s.evidenceOf.all(origin)
    ) as EvidenceRow[];
    return rows.map(toEvidence);
  }

  equivocated(origin: string): boolean {
    return this.#s.equivocated.get(origin) !== undefined;
  }

  close(): void {
    this.#db.close();
  }

  private writable<S>(statement: S | undefined): S {
    if (!statement) throw new RadledgerError("STORE_LOCKED", "the witness store is open read-only");
    return statement;
  }
}
