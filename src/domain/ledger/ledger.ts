/**
 * The append path (docs/design.md §4.4): submitted entries are verified on worker threads in
 * chunks, then admitted one by one in log order against the projection state (enrolment, roles,
 * references, family rules), sequenced, hashed into the tree, and committed in one transaction with
 * their projection changes and a newly signed checkpoint. Only after the commit returns — the batch
 * is durable — and the checkpoint is recorded as the high-water mark outside the database (port
 * CheckpointMark, docs/security.md §High-water mark) are the submitters told their index. A checkpoint
 * is therefore never published for a tree that a crash could lose, the next start continues the same
 * tree, and a store that later loses an acknowledged tail (a damaged WAL, an older copy) is refused
 * by the next open instead of silently serving fewer entries.
 *
 * Verification of chunk k+1 overlaps the commit of chunk k, so signature checks keep every core busy
 * while the main thread does the sequential part.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { fromBase64, fromHex, fromUtf8, toHex } from "../../core/bytes.js";
import { formatSignedCheckpoint, signCheckpoint } from "../../core/checkpoint.js";
import { verifyEntrySignature, type Entry } from "../../core/entry.js";
import { RadledgerError, toRadledgerError, type ErrorCode, type ErrorDetails } from "../../core/errors.js";
import type { NoteSigner } from "../../core/note.js";
import type { Clock } from "../../ports/clock.js";
import type { CheckpointMark, EntryRef, LogStore, NewEntry, StateReader } from "../../ports/storage.js";
import type { EntryVerifier, VerifyOutcome, VerifyRequest } from "../../ports/verifier.js";
import {
  INSTITUTION_ACTOR,
  type ActorDoc,
  type AdmissionPolicy,
  type ApplyContext,
  type EnrolmentReader,
  type EntryTypeRegistry,
  type ResolvedRef,
} from "./entry-types.js";
import { DocCache, StateLayer } from "./state.js";
import { TreeReader, TreeWriter } from "./tree.js";

export type AppendResult =
  | { readonly ok: true; readonly index: number; readonly leafHash: string }
  | { readonly ok: false; readonly error: RadledgerError };

export interface CommitInfo {
  readonly size: number;
  readonly admitted: number;
  readonly refused: number;
  readonly commitMillis: number;
}

export interface LedgerOptions {
  readonly origin: string;
  readonly crypto: CryptoSuite;
  readonly store: LogStore;
  readonly verifier: EntryVerifier;
  readonly registry: EntryTypeRegistry;
  /** Who may sign: the identity family's enrolled keys and actors (src/domain/identity/state.ts). */
  readonly enrolment: EnrolmentReader;
  /** The log key's public half: genesis must be signed by it. */
  readonly logPublicKey: Uint8Array;
  /** Signs checkpoints; absent when replaying a log into a scratch store (verify). */
  readonly logSigner?: NoteSigner;
  /**
   * Where each signed checkpoint is recorded, durably, after its batch commits and before the batch
   * is acknowledged (the writing node's DIR/checkpoint.mark); absent for scratch stores and mirrors.
   */
  readonly mark?: CheckpointMark;
  /**
   * The entries are stored history admitted again (the audit's replay, a mirror of a peer's log),
   * not new statements: families accept values that were valid when the entry was appended
   * (legacy codes outside today's value sets, the break-glass role policy of the time).
   */
  readonly replay?: boolean;
  /** The node's admission policy (break-glass roles); absent: the defaults. */
  readonly policy?: AdmissionPolicy;
  readonly clock: Clock;
  /** Entries per transaction at most. */
  readonly maxBatch?: number;
  /** Entries per verification request to the worker pool. */
  readonly chunkSize?: number;
  /**
   * Entries accepted but not yet committed before append() waits (back-pressure). Each pending entry
   * is held three times (its bytes, its parse here, the worker's copy), so this bounds memory; the
   * default (8,192, about 16 mean batches) keeps the verifiers busy: 65,536 cost ≈ 100 MB more RSS
   * in the append benchmark for no throughput.
   */
  readonly maxPending?: number;
  /** How old an entry's time may be at admission; undefined disables the window (replay). */
  readonly maxEntryAgeMs?: number;
  readonly maxFutureSkewMs?: number;
  readonly onCommit?: (info: CommitInfo) => void;
}

interface PendingItem {
  readonly bytes: Uint8Array;
  readonly entry: Entry | undefined;
  resolve(result: AppendResult): void;
}

interface PendingChunk {
  readonly items: PendingItem[];
  outcomes?: VerifyOutcome[];
  failure?: RadledgerError;
  readonly settled: Promise<void>;
}

const DEFAULT_MAX_AGE = 15 * 60_000;
const DEFAULT_FUTURE_SKEW = 2 * 60_000;

/** A parsed value that can be admitted once verified: an object with a key id. */
function asEntry(value: unknown): Entry | undefined {
  return typeof value === "object" && value !== null && typeof (value as Entry).key === "string"
    ? (value as Entry)
    : undefined;
}

function refusal(code: ErrorCode, message: string, details?: ErrorDetails): never {
  throw new RadledgerError(code, message, details);
}

/**
 * The log as its readers see it: committed size, the latest checkpoint, the tree and the projection
 * state. It has no append: writers go through the node's Appender (./appender.ts).
 */
export interface LedgerView {
  readonly origin: string;
  readonly size: number;
  readonly latestCheckpoint: string | undefined;
  readonly tree: TreeReader;
  readonly state: StateReader;
  /** Entries accepted but not yet committed or refused. */
  readonly pending: number;
  /** Resolves when everything submitted so far is committed or refused. */
  idle(): Promise<void>;
}

export class Ledger implements LedgerView {
  readonly tree: TreeReader;
  readonly #o: LedgerOptions;
  readonly #writer: TreeWriter;
  readonly #logKeyId: string;
  readonly #keyCache = new Map<string, Uint8Array>();
  /** Committed state with keys and actors cached: both are read for every admission. */
  readonly #state: DocCache;
  readonly #chunks: PendingChunk[] = [];
  #pendingCount = 0;
  #pumping = false;
  #closed = false;
  #latestCheckpoint: string | undefined;
  #logSigners: readonly NoteSigner[];
  #drainWaiters: (() => void)[] = [];
  #idleWaiters: (() => void)[] = [];

  constructor(options: LedgerOptions) {
    this.#o = options;
    this.#writer = new TreeWriter(options.crypto, options.store);
    this.#state = new DocCache(options.store, new Set(["key", "actor"]));
    this.tree = new TreeReader(options.crypto, options.store);
    this.#logKeyId = toHex(options.crypto.sha256(options.logPublicKey).slice(0, 16));
    this.#latestCheckpoint = options.store.latestCheckpoint()?.note;
    this.#logSigners = options.logSigner ? [options.logSigner] : [];
    if (this.#writer.size !== options.store.size())
      throw new RadledgerError("STORE_CORRUPT", "tree and entries disagree on the log size");
  }

  get origin(): string {
    return this.#o.origin;
  }

  /** Committed size. */
  get size(): number {
    return this.#o.store.size();
  }

  /** The latest signed checkpoint (note text), covering every acknowledged entry. */
  get latestCheckpoint(): string | undefined {
    return this.#latestCheckpoint;
  }

  /**
   * Committed projection state, with keys and actors cached (they change only through commits of
   * this ledger): for readers on every request, such as the API's bearer authentication.
   */
  get state(): StateReader {
    return this.#state;
  }

  get pending(): number {
    return this.#pendingCount;
  }

  /**
   * The keys that sign the next checkpoints: during a log key rotation the old and the new key, so
   * that the checkpoint covering the rotation entry carries both signatures; afterwards the new one
   * (docs/log-format.md §Log key rotation).
   */
  useLogSigners(signers: readonly NoteSigner[]): void {
    if (signers.length === 0) throw new RadledgerError("INTERNAL", "a writing ledger needs a log key");
    this.#logSigners = [...signers];
  }

  /**
   * Appends entries (their exact signed bytes); resolves per entry once durable or refused. Writers
   * call this only through an Appender (./appender.ts), the node's one append door.
   * `parsed[i]`, when given, must be JSON.parse of entries[i] (a caller that parsed them already,
   * such as the API, saves the parse here; the verifier still checks the bytes themselves).
   */
  async append(entries: readonly Uint8Array[], parsed?: readonly unknown[]): Promise<AppendResult[]> {
    if (this.#closed) throw new RadledgerError("NODE_CLOSED", "the ledger is closed");
    const maxPending = this.#o.maxPending ?? 8192;
    while (this.#pendingCount > 0 && this.#pendingCount + entries.length > maxPending) {
      await new Promise<void>((resolve) => this.#drainWaiters.push(resolve));
      if (this.isClosed()) throw new RadledgerError("NODE_CLOSED", "the ledger is closed");
    }
    const chunkSize = this.#o.chunkSize ?? 256;
    const results: Promise<AppendResult>[] = [];
    for (let start = 0; start < entries.length; start += chunkSize) {
      const slice = entries.slice(start, start + chunkSize);
      const items: PendingItem[] = [];
      const requests: VerifyRequest[] = [];
      for (let i = 0; i < slice.length; i++) {
        const bytes = slice[i]!;
        const given = parsed?.[start + i];
        const entry = given === undefined ? this.preParse(bytes) : asEntry(given);
        const publicKey = entry ? this.knownKey(entry.key) : undefined;
        requests.push(publicKey ? { bytes, publicKey } : { bytes });
        results.push(new Promise<AppendResult>((resolve) => items.push({ bytes, entry, resolve })));
      }
      const chunk: PendingChunk = {
        items,
        settled: this.#o.verifier.verify(requests).then(
          (outcomes) => {
            chunk.outcomes = outcomes;
          },
          (e: unknown) => {
            chunk.failure = toRadledgerError(e);
          },
        ),
      };
      this.#chunks.push(chunk);
      this.#pendingCount += items.length;
    }
    void this.pump();
    return Promise.all(results);
  }

  /** Resolves when everything submitted so far is committed or refused. */
  async idle(): Promise<void> {
    if (this.#pendingCount === 0 && !this.#pumping) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.idle();
    this.#closed = true;
    for (const w of this.#drainWaiters.splice(0)) w();
    await this.#o.verifier.close();
  }

  private isClosed(): boolean {
    return this.#closed;
  }

  private preParse(bytes: Uint8Array): Entry | undefined {
    try {
      return asEntry(JSON.parse(fromUtf8(bytes)));
    } catch {
      return undefined; // the verifier reports the precise decoding error
    }
  }

  /** The enrolled public key for a key id, if committed; keys never change, so they are cached. */
  private knownKey(keyId: string): Uint8Array | undefined {
    if (keyId === this.#logKeyId) return this.#o.logPublicKey;
    const hit = this.#keyCache.get(keyId);
    if (hit) return hit;
    const doc = this.#o.enrolment.key(this.#state, keyId);
    if (!doc) return undefined;
    const key = fromBase64(doc.publicKey);
    if (this.#keyCache.size >= 100_000) this.#keyCache.clear();
    this.#keyCache.set(keyId, key);
    return key;
  }

  private async pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      const maxBatch = this.#o.maxBatch ?? 4096;
      while (this.#chunks.length > 0) {
        await this.#chunks[0]!.settled;
        // Take every chunk already verified, up to maxBatch entries, into one transaction.
        const batch: PendingChunk[] = [];
        let count = 0;
        while (this.#chunks.length > 0) {
          const next = this.#chunks[0]!;
          if (next.outcomes === undefined && next.failure === undefined) break;
          if (batch.length > 0 && count + next.items.length > maxBatch) break;
          batch.push(this.#chunks.shift()!);
          count += next.items.length;
        }
        this.processBatch(batch);
        this.#pendingCount -= count;
        for (const w of this.#drainWaiters.splice(0)) w();
      }
    } finally {
      this.#pumping = false;
      if (this.#pendingCount === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
  }

  private processBatch(chunks: readonly PendingChunk[]): void {
    const started = this.#o.clock.now();
    const store = this.#o.store;
    const layer = new StateLayer(this.#state);
    const admittedHere = new Map<string, { index: number; type: string }>();
    const newEntries: NewEntry[] = [];
    const results: [PendingItem, AppendResult][] = [];
    const now = this.#o.clock.now();
    let refused = 0;

    for (const chunk of chunks) {
      for (let i = 0; i < chunk.items.length; i++) {
        const item = chunk.items[i]!;
        const outcome: VerifyOutcome = chunk.failure
          ? { ok: false, code: chunk.failure.code, message: chunk.failure.message }
          : chunk.outcomes![i]!;
        try {
          if (!outcome.ok)
            refusal(outcome.code, outcome.message, outcome.at === undefined ? {} : { at: outcome.at });
          const admitted = this.admit(item, outcome, layer, admittedHere, now);
          newEntries.push(admitted);
          admittedHere.set(toHex(admitted.leafHash), { index: admitted.index, type: admitted.type });
          results.push([item, { ok: true, index: admitted.index, leafHash: toHex(admitted.leafHash) }]);
        } catch (e) {
          refused++;
          results.push([item, { ok: false, error: toRadledgerError(e) }]);
        }
      }
    }

    if (newEntries.length > 0) {
      const size = this.#writer.size;
      let checkpoint: { size: number; note: string } | undefined;
      try {
        if (this.#logSigners.length > 0) {
          const signed = signCheckpoint(
            { origin: this.#o.origin, size, root: this.#writer.root() },
            this.#logSigners,
          );
          checkpoint = { size, note: formatSignedCheckpoint(signed) };
        }
        const mutations = layer.mutations();
        store.commit({
          entries: newEntries,
          tiles: this.#writer.takeDirtyTiles(),
          mutations,
          ...(checkpoint ? { checkpoint } : {}),
        });
        this.#state.committed(mutations);
      } catch (e) {
        // Nothing of this batch is durable: forget the uncommitted tree and tell every submitter.
        // A full or read-only disk keeps its own code (STORE_FULL, STORE_IO: 503, the cause named),
        // so that a client and the operator see why, not only that the batch failed.
        this.#writer.reset();
        const error =
          e instanceof RadledgerError && (e.code === "STORE_FULL" || e.code === "STORE_IO")
            ? e
            : new RadledgerError("NODE_BUSY", "the batch could not be committed; resubmit", {}, { cause: e });
        for (const r of results) if (r[1].ok) r[1] = { ok: false, error };
        for (const [item, result] of results) item.resolve(result);
        return;
      }
      if (checkpoint) {
        this.#latestCheckpoint = checkpoint.note;
        try {
          // Before anyone is told: an acknowledged entry is then always below a mark kept outside
          // the database, so losing it later cannot go unseen (docs/security.md §High-water mark).
          this.#o.mark?.write(checkpoint.note);
        } catch (e) {
          // The batch is committed (a retry would be a duplicate) but not covered by the mark: its
          // submitters get the coded failure instead of an acknowledgement; the next batch's mark
          // covers these entries too.
          const error = toRadledgerError(e);
          const failed = new RadledgerError(
            error.code,
            `entries ${newEntries[0]!.index}..${checkpoint.size - 1} were committed, but their checkpoint could not be recorded as the high-water mark: ${error.message}`,
            error.details,
            { cause: e },
          );
          for (const r of results) if (r[1].ok) r[1] = { ok: false, error: failed };
        }
      }
    }
    for (const [item, result] of results) item.resolve(result);
    this.#o.onCommit?.({
      size: this.#writer.size,
      admitted: newEntries.length,
      refused,
      commitMillis: this.#o.clock.now() - started,
    });
  }

  /** Admission of one verified entry at the next index; throws a coded refusal and then leaves no trace. */
  private admit(
    item: PendingItem,
    outcome: Extract<VerifyOutcome, { ok: true }>,
    layer: StateLayer,
    admittedHere: ReadonlyMap<string, { index: number; type: string }>,
    now: number,
  ): NewEntry {
    const store = this.#o.store;
    const entry = item.entry ?? refusal("ENTRY_MALFORMED", "entry could not be parsed");
    const leafHex = toHex(outcome.leafHash);
    const index = this.#writer.size;

    const existing = admittedHere.get(leafHex)?.index ?? store.indexOfLeafHash(outcome.leafHash);
    if (existing !== undefined)
      refusal("ENTRY_DUPLICATE", `the same entry is already in the log at index ${existing}`, {
        index: existing,
      });
    if (entry.origin !== this.#o.origin)
      refusal("ENTRY_WRONG_ORIGIN", `entry is for log ${entry.origin}, this log is ${this.#o.origin}`);
    if (this.#o.maxEntryAgeMs !== undefined || this.#o.maxFutureSkewMs !== undefined) {
      const t = Date.parse(entry.time);
      const maxAge = this.#o.maxEntryAgeMs ?? DEFAULT_MAX_AGE;
      const maxFuture = this.#o.maxFutureSkewMs ?? DEFAULT_FUTURE_SKEW;
      if (t < now - maxAge || t > now + maxFuture) {
        refusal(
          "ENTRY_TIME_OUT_OF_WINDOW",
          `entry time must lie within ${Math.round(maxAge / 60_000)} min before and ${Math.round(maxFuture / 60_000)} min after the node's clock`,
        );
      }
    }

    const def =
      this.#o.registry.get(entry.type) ?? refusal("ENTRY_UNKNOWN_TYPE", `unknown entry type ${entry.type}`);
    const entryLayer = new StateLayer(layer);

    // Who signed: genesis by the log key; everything else by an enrolled, active key of the actor.
    let actor: ActorDoc;
    if (index === 0) {
      if (entry.type !== "institution.genesis")
        refusal("GENESIS_REQUIRED", "the first entry of a log must be institution.genesis");
      if (entry.key !== this.#logKeyId) refusal("KEY_UNKNOWN", "genesis must be signed by this log's key");
      actor = {
        id: INSTITUTION_ACTOR,
        kind: "institution",
        roles: ["institution", "admin"],
        status: "active",
      };
      if (!outcome.signatureChecked && !verifyEntrySignature(this.#o.crypto, entry, this.#o.logPublicKey))
        refusal("ENTRY_BAD_SIGNATURE", "signature does not verify with the log key");
    } else {
      const key = this.#o.enrolment.key(entryLayer, entry.key);
      if (!key || key.actor !== entry.actor)
        refusal("KEY_UNKNOWN", `key ${entry.key} is not enrolled for actor ${entry.actor}`);
      if (key.status !== "active")
        refusal("KEY_REVOKED", `key ${entry.key} was ${key.status} at index ${key.endedAt ?? "?"}`);
      const doc = this.#o.enrolment.actor(entryLayer, entry.actor);
      if (!doc || doc.status !== "active")
        refusal("ACTOR_UNKNOWN", `actor ${entry.actor} is not an active enrolled actor`);
      actor = doc;
      if (
        !outcome.signatureChecked &&
        !verifyEntrySignature(this.#o.crypto, entry, fromBase64(key.publicKey))
      ) {
        refusal("ENTRY_BAD_SIGNATURE", "signature does not verify with the enrolled key");
      }
    }
    if (def.signers.length > 0 && !def.signers.some((r) => actor.roles.includes(r))) {
      refusal(
        "ROLE_NOT_PERMITTED",
        `${entry.type} must be signed by an actor with role ${def.signers.join(" or ")}`,
      );
    }

    // References must name earlier entries of the expected types.
    const resolved = new Map<string, ResolvedRef[]>();
    const refs: EntryRef[] = [];
    for (const [name, spec] of Object.entries(def.refs)) {
      const raw = entry.refs?.[name];
      if (raw === undefined) continue;
      const list: ResolvedRef[] = [];
      for (const hash of Array.isArray(raw) ? raw : [raw]) {
        const target = admittedHere.get(hash) ?? this.storedRef(hash);
        if (!target)
          refusal("ENTRY_REF_NOT_FOUND", `reference ${name} names no entry of this log`, {
            at: `refs.${name}`,
          });
        if (!spec.types.includes(target.type))
          refusal(
            "ENTRY_REF_WRONG_TYPE",
            `reference ${name} must name a ${spec.types.join(" or ")} entry, not ${target.type}`,
            { at: `refs.${name}` },
          );
        list.push({ name, index: target.index, leafHash: hash, type: target.type });
        refs.push({ name, target: target.index });
      }
      resolved.set(name, list);
    }

    const ctx: ApplyContext<unknown> = {
      entry,
      body: entry.body,
      index,
      leafHash: leafHex,
      actor,
      origin: this.#o.origin,
      crypto: this.#o.crypto,
      state: entryLayer,
      ...(this.#o.replay === true ? { replay: true } : {}),
      ...(this.#o.policy === undefined ? {} : { policy: this.#o.policy }),
      ref: (name) =>
        resolved.get(name)?.[0] ??
        refusal("ENTRY_SCHEMA_INVALID", `reference ${name} is required`, { at: `refs.${name}` }),
      refs: (name) => resolved.get(name) ?? [],
      reject: refusal,
    };
    def.apply(ctx);

    // Admitted: its projection changes join the batch, its leaf joins the tree, and later entries of
    // the batch can read it as they could a committed one.
    entryLayer.mergeInto(layer);
    layer.addEntry(leafHex, { index, type: entry.type, bytes: item.bytes });
    this.#writer.append(outcome.leafHash);
    return { index, leafHash: outcome.leafHash, type: entry.type, bytes: item.bytes, refs };
  }

  private storedRef(hash: string): { index: number; type: string } | undefined {
    const index = this.#o.store.indexOfLeafHash(fromHex(hash));
    if (index === undefined) return undefined;
    const stored = this.#o.store.readEntry(index);
    return stored ? { index, type: stored.type } : undefined;
  }
}
