/**
 * The node's one append door. Every writer — the JSON API, the gatekeeper's access records, study
 * registration from folders and Orthanc, de-identification, erasure, init, the demo, the local
 * operator socket, mirrors and the audit's replay — hands its signed entries to an Appender, never to
 * the Ledger itself, so that every entry passes the same limits and is counted in the same metrics.
 *
 * As in Tessera, the appender is one function (`AppendFn`: a batch of submissions in, one result per
 * entry out, once durable or refused) with the cross-cutting concerns stacked around it as small
 * decorators, each testable alone; `createAppender` is the one place where the stack is built and its
 * order can be read:
 *
 *   observe (timing, outcome counts) → limitEntrySize (ENTRY_TOO_LARGE) → coalesce (a turn's single
 *   entries as one batch) → Ledger.append (verify, admit, commit)
 *
 * Coalescing is what lets many concurrent API requests share one verification message to the worker
 * threads and one durable commit, as a bulk append does; each submitter still gets its own result.
 */
import { RadledgerError } from "../../core/errors.js";
import { MAX_ENTRY_SIZE } from "../../core/tiles.js";
import type { AppendResult } from "./ledger.js";

export interface Submission {
  /** The entry's exact signed bytes (canonical JSON). */
  readonly bytes: Uint8Array;
  /** JSON.parse of bytes when the submitter has it already (saves the append path a parse). */
  readonly parsed?: unknown;
}

/** Appends a batch; resolves with one result per submission, in order, once each is durable or refused. */
export type AppendFn = (batch: readonly Submission[]) => Promise<AppendResult[]>;

/** Where an entry landed: its log index and leaf hash (lowercase hex, the entry's id). */
export interface Appended {
  readonly index: number;
  readonly leafHash: string;
}

/** What `observe` reports per call: how many entries went in, how many were admitted, how long it took. */
export interface AppendObservation {
  readonly submitted: number;
  readonly admitted: number;
  readonly seconds: number;
}

export interface Appender {
  /** Appends one entry; resolves once it is durable, or rejects with its coded refusal. */
  append(bytes: Uint8Array, parsed?: unknown): Promise<Appended>;
  /** Appends many entries; one result per entry, in order (a refusal is a result, not a rejection). */
  appendAll(entries: readonly Uint8Array[]): Promise<AppendResult[]>;
  /** Subscribes to every append call's observation (metrics); returns the unsubscribe function. */
  onAppend(listener: (observation: AppendObservation) => void): () => void;
}

/** Refuses entries longer than one tlog-tiles entry bundle may hold, before any work is spent on them. */
export function limitEntrySize(next: AppendFn, maxBytes = MAX_ENTRY_SIZE): AppendFn {
  return async (batch) => {
    if (batch.every((s) => s.bytes.length <= maxBytes)) return next(batch);
    const passed = batch.filter((s) => s.bytes.length <= maxBytes);
    const answers = passed.length > 0 ? await next(passed) : [];
    let k = 0;
    return batch.map((s) =>
      s.bytes.length <= maxBytes
        ? answers[k++]!
        : {
            ok: false,
            error: new RadledgerError(
              "ENTRY_TOO_LARGE",
              `entry is ${s.bytes.length} bytes; at most ${maxBytes}`,
            ),
          },
    );
  };
}

/**
 * Gathers the single entries submitted during one turn of the event loop (concurrent API requests,
 * gatekeeper records) into one call of `next`, their answers handed back by position. A batch of
 * several entries is a batch already and goes on at once: joining bulk batches would only make them
 * wait for one another (a joined batch larger than the ledger's pending window waits for the ledger
 * to drain completely, which empties its verification pipeline).
 */
export function coalesce(
  next: AppendFn,
  schedule: (task: () => void) => void = (task) => setImmediate(task),
): AppendFn {
  interface Waiting {
    readonly submission: Submission;
    resolve(results: AppendResult[]): void;
    reject(error: unknown): void;
  }
  let queue: Waiting[] = [];
  const flush = (): void => {
    const waiting = queue;
    queue = [];
    next(waiting.map((w) => w.submission)).then(
      (results) => {
        waiting.forEach((w, i) => w.resolve([results[i]!]));
      },
      (e: unknown) => {
        for (const w of waiting) w.reject(e);
      },
    );
  };
  return (batch) => {
    if (batch.length !== 1) return next(batch);
    return new Promise((resolve, reject) => {
      if (queue.length === 0) schedule(flush);
      queue.push({ submission: batch[0]!, resolve, reject });
    });
  };
}

/** Times each call and counts what it admitted, for every subscriber. */
export function observe(
  next: AppendFn,
  report: (observation: AppendObservation) => void,
  now: () => number = () => performance.now(),
): AppendFn {
  return async (batch) => {
    const started = now();
    const results = await next(batch);
    let admitted = 0;
    for (const r of results) if (r.ok) admitted++;
    report({ submitted: batch.length, admitted, seconds: (now() - started) / 1000 });
    return results;
  };
}

export interface AppenderOptions {
  /** Largest entry accepted (default: MAX_ENTRY_SIZE, the tlog-tiles limit). */
  readonly maxEntryBytes?: number;
  /** Runs a task after the current event-loop turn (default setImmediate); tests may drive it. */
  readonly schedule?: (task: () => void) => void;
}

/**
 * The appender of one ledger: the decorator stack around `Ledger.append` (pass the ledger's append,
 * bound). The node builds exactly one, in its wiring (src/wiring/node.ts).
 */
export function createAppender(
  ledgerAppend: (entries: readonly Uint8Array[], parsed?: readonly unknown[]) => Promise<AppendResult[]>,
  options: AppenderOptions = {},
): Appender {
  const listeners = new Set<(observation: AppendObservation) => void>();
  const core: AppendFn = (batch) =>
    ledgerAppend(
      batch.map((s) => s.bytes),
      batch.some((s) => s.parsed !== undefined) ? batch.map((s) => s.parsed) : undefined,
    );
  const stack = observe(limitEntrySize(coalesce(core, options.schedule), options.maxEntryBytes), (o) => {
    for (const listener of listeners) listener(o);
  });
  return {
    async append(bytes, parsed) {
      const [result] = await stack([parsed === undefined ? { bytes } : { bytes, parsed }]);
      if (!result!.ok) throw result!.error;
      return { index: result!.index, leafHash: result!.leafHash };
    },
    appendAll: (entries) => stack(entries.map((bytes) => ({ bytes }))),
    onAppend(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
