/**
 * The log side's consortium state (DIR/consortium.sqlite): checkpoints as published with their
 * cosignatures (so a restart keeps serving them, and bundles can carry them), what the node knows
 * of each of its witnesses, and its anchoring transactions. Small rows, WAL, synchronous=FULL.
 */
import { openSqlite } from "./open.js";
import Database from "better-sqlite3";
import { RadledgerError } from "../../core/errors.js";
import type {
  AnchorRecord,
  AnchorStore,
  CosignatureStore,
  CosignedCheckpoint,
  WitnessStatus,
} from "../../ports/consortium.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cosigned (
  size INTEGER PRIMARY KEY, note TEXT NOT NULL, final INTEGER NOT NULL, witnesses TEXT NOT NULL,
  published_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS witness_status (name TEXT PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS anchors (
  tx_hash TEXT PRIMARY KEY, size INTEGER NOT NULL, root TEXT NOT NULL, gas_used INTEGER NOT NULL,
  block_number INTEGER NOT NULL, anchored_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS anchors_size ON anchors (size);
`;

interface CosignedRow {
  size: number;
  note: string;
  final: number;
  witnesses: string;
  published_at: number;
}

interface AnchorRow {
  tx_hash: string;
  size: number;
  root: string;
  gas_used: number;
  block_number: number;
  anchored_at: number;
}

const cosigned = (r: CosignedRow): CosignedCheckpoint => ({
  size: r.size,
  note: r.note,
  final: r.final === 1,
  witnesses: JSON.parse(r.witnesses) as string[],
  publishedAt: r.published_at,
});

const anchor = (r: AnchorRow): AnchorRecord => ({
  size: r.size,
  root: r.root,
  txHash: r.tx_hash,
  gasUsed: r.gas_used,
  blockNumber: r.block_number,
  anchoredAt: r.anchored_at,
});

export class SqliteConsortiumStore implements CosignatureStore, AnchorStore {
  readonly #db: Database.Database;
  readonly #readonly: boolean;

  constructor(path: string, options: { readonly?: boolean } = {}) {
    this.#readonly = options.readonly ?? false;
    this.#db = openSqlite(path, { what: "consortium", schema: SCHEMA, readonly: this.#readonly });
  }

  saveCosigned(r: CosignedCheckpoint): void {
    this.write(
      "INSERT INTO cosigned (size, note, final, witnesses, published_at) VALUES (?, ?, ?, ?, ?) " +
        "ON CONFLICT (size) DO UPDATE SET note = excluded.note, final = excluded.final, " +
        "witnesses = excluded.witnesses, published_at = excluded.published_at",
      r.size,
      r.note,
      r.final ? 1 : 0,
      JSON.stringify(r.witnesses),
      r.publishedAt,
    );
  }

  latestCosigned(): CosignedCheckpoint | undefined {
    const row = this.#db.prepare("SELECT * FROM cosigned ORDER BY size DESC LIMIT 1").get() as
      CosignedRow | undefined;
    return row ? cosigned(row) : undefined;
  }

  latestFinal(): CosignedCheckpoint | undefined {
    const row = this.#db
      .prepare("SELECT * FROM cosigned WHERE final = 1 ORDER BY size DESC LIMIT 1")
      .get() as CosignedRow | undefined;
    return row ? cosigned(row) : undefined;
  }

  cosignedAt(size: number): CosignedCheckpoint | undefined {
    const row = this.#db.prepare("SELECT * FROM cosigned WHERE size = ?").get(size) as
      CosignedRow | undefined;
    return row ? cosigned(row) : undefined;
  }

  cosignedBetween(low: number, high: number): CosignedCheckpoint[] {
    return (
      this.#db
        .prepare("SELECT * FROM cosigned WHERE size BETWEEN ? AND ? ORDER BY size")
        .all(low, high) as CosignedRow[]
    ).map(cosigned);
  }

  saveWitnessStatus(s: WitnessStatus): void {
    this.write(
      "INSERT INTO witness_status (name, status) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET status = excluded.status",
      s.name,
      JSON.stringify(s),
    );
  }

  witnessStatuses(): WitnessStatus[] {
    return (
      this.#db.prepare("SELECT status FROM witness_status ORDER BY name").pluck().all() as string[]
    ).map((t) => JSON.parse(t) as WitnessStatus);
  }

  saveAnchor(r: AnchorRecord): void {
    this.write(
      "INSERT OR REPLACE INTO anchors (tx_hash, size, root, gas_used, block_number, anchored_at) VALUES (?, ?, ?, ?, ?, ?)",
      r.txHash,
      r.size,
      r.root,
      r.gasUsed,
      r.blockNumber,
      r.anchoredAt,
    );
  }

  latestAnchor(): AnchorRecord | undefined {
    const row = this.#db
      .prepare("SELECT * FROM anchors ORDER BY size DESC, anchored_at DESC LIMIT 1")
      .get() as AnchorRow | undefined;
    return row ? anchor(row) : undefined;
  }

  anchors(limit = 100): AnchorRecord[] {
    return (
      this.#db
        .prepare("SELECT * FROM anchors ORDER BY size DESC, anchored_at DESC LIMIT ?")
        .all(limit) as AnchorRow[]
    ).map(anchor);
  }

  anchorsBetween(low: number, high: number): AnchorRecord[] {
    return (
      this.#db
        .prepare("SELECT * FROM anchors WHERE size BETWEEN ? AND ? ORDER BY size, anchored_at")
        .all(low, high) as AnchorRow[]
    ).map(anchor);
  }

  close(): void {
    this.#db.close();
  }

  private write(sql: string, ...params: unknown[]): void {
    if (this.#readonly) throw new RadledgerError("STORE_LOCKED", "the consortium store is open read-only");
    this.#db.prepare(sql).run(...params);
  }
}
