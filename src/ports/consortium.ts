/**
 * What the consortium domain (src/domain/consortium) needs from the outside: the witness's durable
 * state, the log side's record of collected cosignatures, an evidence sink, and HTTP. The SQLite
 * adapters live in src/adapters/sqlite/{witness-store,consortium-store}.ts; HTTP is fetch.
 */
import type { LogStore } from "./storage.js";

/** The latest checkpoint a witness cosigned for one log (tlog-witness: one per origin). */
export interface WitnessRecord {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** The signed checkpoint note as received (log signature included): kept as evidence material. */
  readonly note: string;
  /** Milliseconds since the epoch. */
  readonly updatedAt: number;
}

export type EvidenceKind = "two-roots-for-one-size" | "inconsistent-history" | "unproven";
export type EvidenceSource = "witness" | "mirror" | "anchor";

export interface EvidenceRecord {
  readonly id: number;
  readonly origin: string;
  readonly kind: EvidenceKind;
  readonly source: EvidenceSource;
  /** The evidence file (docs/consortium.md §Evidence); for "unproven", the observation in that format. */
  readonly text: string;
  readonly summary: string;
  readonly detectedAt: number;
}

export type NewEvidence = Omit<EvidenceRecord, "id">;

/** Where equivocation evidence and unproven observations go; both alarm, only proven ones block. */
export interface EvidenceSink {
  addEvidence(evidence: NewEvidence): EvidenceRecord;
  evidence(origin?: string): EvidenceRecord[];
  /** Whether proven evidence against the origin is held. */
  equivocated(origin: string): boolean;
}

export interface WitnessStore extends EvidenceSink {
  /**
   * Runs fn in one transaction that no other writer interleaves with (tlog-witness: checking the
   * old size and persisting the new checkpoint must be atomic). fn is synchronous; if it throws,
   * nothing it wrote is kept.
   */
  atomically<T>(fn: () => T): T;
  latest(origin: string): WitnessRecord | undefined;
  put(record: WitnessRecord): void;
  all(): WitnessRecord[];
}

/** A checkpoint of this node's log as published, with the cosignatures collected for it. */
export interface CosignedCheckpoint {
  readonly size: number;
  /** The signed note with cosignature lines appended. */
  readonly note: string;
  /** Whether the cosignatures satisfy the node's policy (C2SP tlog-policy quorum). */
  readonly final: boolean;
  readonly witnesses: readonly string[];
  readonly publishedAt: number;
}

/** What the log side knows about one of its witnesses, for status and the next request. */
export interface WitnessStatus {
  readonly name: string;
  readonly url: string;
  /** The size the witness last cosigned for this log, if known. */
  readonly cosignedSize?: number;
  readonly lastSuccessAt?: number;
  readonly failures: number;
  readonly retryAt?: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}

export interface CosignatureStore {
  saveCosigned(record: CosignedCheckpoint): void;
  latestCosigned(): CosignedCheckpoint | undefined;
  latestFinal(): CosignedCheckpoint | undefined;
  cosignedAt(size: number): CosignedCheckpoint | undefined;
  /** Published checkpoints of size low..high (inclusive), for the checkpoint history. */
  cosignedBetween(low: number, high: number): CosignedCheckpoint[];
  saveWitnessStatus(status: WitnessStatus): void;
  witnessStatuses(): WitnessStatus[];
}

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
}

/** HTTP as the consortium uses it; implementations enforce the timeout and never throw on a status. */
export interface HttpClient {
  /** `headers`: request header fields, e.g. credentials (a peer's signature, a bearer token). */
  get(url: string, timeoutMs: number, headers?: Readonly<Record<string, string>>): Promise<HttpResponse>;
  post(url: string, body: string, timeoutMs: number): Promise<HttpResponse>;
}

/** One anchoring transaction of this node's log (RadledgerConsortium.anchor). */
export interface AnchorRecord {
  readonly size: number;
  /** base64 root anchored. */
  readonly root: string;
  readonly txHash: string;
  readonly gasUsed: number;
  readonly blockNumber: number;
  readonly anchoredAt: number;
}

export interface AnchorStore {
  saveAnchor(record: AnchorRecord): void;
  latestAnchor(): AnchorRecord | undefined;
  anchors(limit?: number): AnchorRecord[];
  /** Anchoring transactions of checkpoints of size low..high (inclusive), in size order. */
  anchorsBetween(low: number, high: number): AnchorRecord[];
}

/**
 * Where the consortium's durable state lives (SQLite files under the data directory today): the
 * witness state and evidence register, the cosigned checkpoints and anchors, and one mirrored log per
 * peer. `readonly` opens a store beside a running node, for status and export.
 */
export interface ConsortiumStorage {
  openWitnessStore(path: string, options?: { readonly readonly?: boolean }): WitnessStore & { close(): void };
  openCosignatureStore(
    path: string,
    options?: { readonly readonly?: boolean },
  ): CosignatureStore & AnchorStore & { close(): void };
  /** A log store: a peer's mirror, or (read-only) this node's own log. */
  openLog(path: string, options?: { readonly readonly?: boolean }): LogStore;
}
