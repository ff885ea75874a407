/**
 * The log side of C2SP tlog-witness: after each commit, ask every configured witness for a
 * cosignature on the latest checkpoint, in parallel, and publish the checkpoint with the cosignature
 * lines collected (`/checkpoint` serves it). A checkpoint is *final* when its cosignatures satisfy
 * the node's C2SP tlog-policy quorum.
 *
 * Appends never wait for this: commits only mark the collector dirty; one round runs at a time and
 * always takes the newest checkpoint, so a burst of commits costs one round. Each request has a
 * timeout; a witness that fails is skipped by later rounds until its backoff expires (1 s, 2 s, 4 s …
 * up to a minute), then retried with the newest checkpoint. A witness's view is learnt from its
 * answers: unknown at first (and after a restart), so the first request says `old 0`; the 409
 * text/x.tlog.size answer names the size the witness holds, and the request is repeated once from
 * there with a consistency proof ("catch-up").
 *
 * Witness answers are untrusted: a cosignature is kept only if it verifies with the witness's
 * configured key on exactly the checkpoint sent.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { fromUtf8 } from "../../core/bytes.js";
import { parseCheckpointText, type Checkpoint } from "../../core/checkpoint.js";
import { checkCosignatures, type CosignatureVerifier } from "../../core/cosignature.js";
import { RadledgerError, toRadledgerError, type ErrorCode } from "../../core/errors.js";
import {
  addSignatures,
  formatSignedNote,
  parseSignedNote,
  type NoteSignature,
  type SignedNote,
} from "../../core/note.js";
import { evaluatePolicy, type Policy } from "../../core/policy.js";
import {
  ADD_CHECKPOINT_PATH,
  formatAddCheckpointRequest,
  parseCosignatureResponse,
  parseSizeResponse,
  TLOG_SIZE_CONTENT_TYPE,
} from "../../core/witness-protocol.js";
import type { Clock } from "../../ports/clock.js";
import type {
  CosignatureStore,
  CosignedCheckpoint,
  HttpClient,
  WitnessStatus,
} from "../../ports/consortium.js";

export interface CollectorWitness {
  /** The policy name of the witness (tlog-policy `witness <name> …`). */
  readonly name: string;
  /** Its submission prefix: requests go to `<url>/add-checkpoint`. */
  readonly url: string;
  readonly verifier: CosignatureVerifier;
}

export interface CollectorOptions {
  readonly crypto: CryptoSuite;
  readonly witnesses: readonly CollectorWitness[];
  readonly policy: Policy;
  /** The log's latest signed checkpoint note (log signature only). */
  readonly latestCheckpoint: () => string | undefined;
  /** RFC 9162 consistency proof of the log between two committed sizes. */
  readonly consistencyProof: (from: number, to: number) => Uint8Array[];
  readonly http: HttpClient;
  readonly store: CosignatureStore;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** Called after each round with what was published (metrics, tests). */
  readonly onPublished?: (record: CosignedCheckpoint) => void;
}

interface WitnessState {
  knownSize: number | undefined;
  failures: number;
  retryAt: number;
  lastSuccessAt?: number;
  lastError?: { code: string; message: string; at: number };
}

interface Current {
  readonly note: SignedNote;
  readonly text: string;
  readonly checkpoint: Checkpoint;
  readonly cosignatures: Map<string, NoteSignature>;
}

function failure(code: ErrorCode, message: string): RadledgerError {
  return new RadledgerError(code, message);
}

export class CosignatureCollector {
  readonly #o: CollectorOptions;
  readonly #state = new Map<string, WitnessState>();
  #current: Current | undefined;
  #published: CosignedCheckpoint | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #closed = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: CollectorOptions) {
    this.#o = options;
    const saved = new Map(options.store.witnessStatuses().map((s) => [s.name, s]));
    for (const w of options.witnesses) {
      const s = saved.get(w.name);
      this.#state.set(w.name, {
        // The size a witness holds is re-learnt after a restart (old 0, then 409): it may have moved.
        knownSize: undefined,
        failures: 0,
        retryAt: 0,
        ...(s?.lastSuccessAt === undefined ? {} : { lastSuccessAt: s.lastSuccessAt }),
        ...(s?.lastError === undefined ? {} : { lastError: s.lastError }),
      });
    }
    this.#published = options.store.latestCosigned();
  }

  /** The checkpoint to serve: the newest published one with its cosignatures, else the log's own. */
  served(): string | undefined {
    const latest = this.#o.latestCheckpoint();
    if (this.#o.witnesses.length === 0) return latest;
    return this.#published?.note ?? latest;
  }

  published(): CosignedCheckpoint | undefined {
    return this.#published;
  }

  statuses(): WitnessStatus[] {
    return this.#o.witnesses.map((w) => this.status(w));
  }

  /** Marks that a new checkpoint exists; starts a round unless one is running. Never waits. */
  notify(): void {
    if (this.#closed || this.#o.witnesses.length === 0) return;
    this.#dirty = true;
    if (!this.#running) {
      this.#running = this.loop().finally(() => {
        this.#running = undefined;
      });
    }
  }

  /** Resolves when no round is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    await this.idle();
  }

  private async loop(): Promise<void> {
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      try {
        await this.round();
      } catch {
        // A round never throws by design; if it did, the next commit or retry starts another.
      }
    }
    this.scheduleRetry();
  }

  private async round(): Promise<void> {
    const text = this.#o.latestCheckpoint();
    if (text === undefined) return;
    if (this.#current?.text !== text) {
      const note = parseSignedNote(text);
      this.#current = { note, text, checkpoint: parseCheckpointText(note.text), cosignatures: new Map() };
    }
    const current = this.#current;
    const now = this.#o.clock.now();
    const asked = this.#o.witnesses.filter(
      (w) => !current.cosignatures.has(w.name) && this.#state.get(w.name)!.retryAt <= now,
    );
    if (asked.length === 0 && this.#published?.size === current.checkpoint.size) return;
    await Promise.all(
      asked.map(async (w) => {
        const sig = await this.ask(w, current);
        if (sig) current.cosignatures.set(w.name, sig);
      }),
    );
    this.publish(current);
  }

  private publish(current: Current): void {
    const lines = this.#o.witnesses.flatMap((w) => {
      const s = current.cosignatures.get(w.name);
      return s ? [s] : [];
    });
    const note = addSignatures(current.note, lines);
    const verdict = evaluatePolicy(this.#o.policy, note);
    const record: CosignedCheckpoint = {
      size: current.checkpoint.size,
      note: formatSignedNote(note),
      final: verdict.ok,
      witnesses: verdict.cosignedBy,
      publishedAt: this.#o.clock.now(),
    };
    // Never go back: a round for an older checkpoint cannot replace a newer publication.
    if (this.#published && this.#published.size > record.size) return;
    this.#o.store.saveCosigned(record);
    this.#published = record;
    this.#o.onPublished?.(record);
  }

  /** One witness, one checkpoint: returns its verified cosignature line, or records the failure. */
  private async ask(w: CollectorWitness, current: Current): Promise<NoteSignature | undefined> {
    const state = this.#state.get(w.name)!;
    const size = current.checkpoint.size;
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const old = state.knownSize ?? 0;
        if (old > size)
          throw failure(
            "WITNESS_SIZE_CONFLICT",
            `the witness cosigned size ${old} of this log, larger than its size ${size}`,
          );
        const proof = old > 0 && old < size ? this.#o.consistencyProof(old, size) : [];
        const body = formatAddCheckpointRequest({ oldSize: old, proof, checkpoint: current.text });
        let res;
        try {
          res = await this.#o.http.post(`${w.url}${ADD_CHECKPOINT_PATH}`, body, this.#o.timeoutMs ?? 5000);
        } catch (e) {
          throw failure("WITNESS_UNREACHABLE", `no answer: ${toRadledgerError(e).message}`);
        }
        if (res.status === 200) {
          const lines = parseCosignatureResponse(fromUtf8(res.body));
          const { valid } = checkCosignatures({ text: current.note.text, signatures: lines }, [w.verifier]);
          const sig = valid[0];
          if (!sig)
            throw failure(
              "COSIGNATURE_INVALID",
              "the answer holds no valid cosignature by the witness's key",
            );
          state.knownSize = size;
          state.failures = 0;
          state.retryAt = 0;
          state.lastSuccessAt = this.#o.clock.now();
          this.save(w);
          return sig.line;
        }
        if (res.status === 409 && res.contentType.startsWith(TLOG_SIZE_CONTENT_TYPE)) {
          const held = parseSizeResponse(fromUtf8(res.body));
          if (held === state.knownSize)
            throw failure("WITNESS_SIZE_CONFLICT", `the witness insists on size ${held}`);
          state.knownSize = held; // catch-up: repeat once from the size the witness holds
          continue;
        }
        // The status is what tlog-witness defines; a radledger witness also names its reason.
        const named = problemCode(res.body);
        throw failure(
          named ??
            (res.status === 409
              ? "WITNESS_ROOT_CONFLICT"
              : res.status === 403
                ? "WITNESS_UNTRUSTED_SIGNATURE"
                : res.status === 404
                  ? "WITNESS_UNKNOWN_LOG"
                  : res.status === 422
                    ? "WITNESS_PROOF_INVALID"
                    : "WITNESS_UNREACHABLE"),
          `the witness answered ${res.status}${named ? ` (${named})` : ""}`,
        );
      }
      throw failure("WITNESS_SIZE_CONFLICT", "the witness's size kept changing");
    } catch (e) {
      const err = toRadledgerError(e);
      state.failures++;
      const initial = this.#o.backoffInitialMs ?? 1000;
      const delay = Math.min(this.#o.backoffMaxMs ?? 60_000, initial * 2 ** Math.min(state.failures - 1, 20));
      state.retryAt = this.#o.clock.now() + delay;
      state.knownSize = undefined; // re-learn with old 0 next time
      state.lastError = { code: err.code, message: err.message, at: this.#o.clock.now() };
      this.save(w);
      return undefined;
    }
  }

  /** After a round, if some witness is backing off and the newest checkpoint lacks its cosignature. */
  private scheduleRetry(): void {
    if (this.#closed || !this.#current) return;
    const missing = this.#o.witnesses.filter((w) => !this.#current!.cosignatures.has(w.name));
    if (missing.length === 0) return;
    const next = Math.min(...missing.map((w) => this.#state.get(w.name)!.retryAt));
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(
      () => {
        this.#retryTimer = undefined;
        this.notify();
      },
      Math.max(10, next - this.#o.clock.now()),
    );
    // A pending retry must not keep a process alive that is otherwise done.
    (this.#retryTimer as { unref?: () => void }).unref?.();
  }

  private status(w: CollectorWitness): WitnessStatus {
    const s = this.#state.get(w.name)!;
    return {
      name: w.name,
      url: w.url,
      ...(s.knownSize === undefined ? {} : { cosignedSize: s.knownSize }),
      ...(s.lastSuccessAt === undefined ? {} : { lastSuccessAt: s.lastSuccessAt }),
      failures: s.failures,
      ...(s.retryAt > this.#o.clock.now() ? { retryAt: s.retryAt } : {}),
      ...(s.lastError ? { lastError: s.lastError } : {}),
    };
  }

  private save(w: CollectorWitness): void {
    try {
      this.#o.store.saveWitnessStatus(this.status(w));
    } catch {
      // status is informational; a full disk shows up elsewhere
    }
  }
}

/** The witness-refusal code of a problem+json body, if it names one this protocol defines. */
const WITNESS_CODES: readonly ErrorCode[] = [
  "WITNESS_REQUEST_MALFORMED",
  "WITNESS_UNKNOWN_LOG",
  "WITNESS_UNTRUSTED_SIGNATURE",
  "WITNESS_OLD_SIZE_INVALID",
  "WITNESS_ROOT_CONFLICT",
  "WITNESS_PROOF_INVALID",
  "LOG_EQUIVOCATED",
];

function problemCode(body: Uint8Array): ErrorCode | undefined {
  try {
    const parsed = JSON.parse(fromUtf8(body)) as { code?: unknown };
    return WITNESS_CODES.find((c) => c === parsed.code);
  } catch {
    return undefined;
  }
}
