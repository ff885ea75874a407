/**
 * EntryVerifier on worker threads, one per core by default: Ed25519 verification is the append
 * path's dominant cost (docs/performance.md), so it runs beside the main thread, which sequences and commits.
 * Jobs go to the worker with the fewest outstanding entries (WorkerPool, weighted by entries).
 */
import { availableParallelism } from "node:os";
import { WorkerPool } from "../threads/worker-pool.js";
import type { ErrorCode } from "../../core/errors.js";
import type { EntryVerifier, VerifyOutcome, VerifyRequest } from "../../ports/verifier.js";

export interface VerifyJob {
  /** Numbered by WorkerPool.post. */
  id: number;
  readonly data: ArrayBuffer;
  readonly offsets: Uint32Array;
  /** Per entry its 32-byte enrolled key, where `known[i]` is 1 (zeros otherwise). */
  readonly keys: Uint8Array;
  readonly known: Uint8Array;
}

export interface VerifyJobResult {
  readonly id: number;
  /** Per entry: 0 refused, 1 admitted without signature check (key unknown yet), 2 signature checked. */
  readonly status: Uint8Array;
  readonly leafHashes: Uint8Array;
  readonly errors: { i: number; code: ErrorCode; message: string; at?: string }[];
}

/** Fewest entries worth a job of their own: below it, a message costs more than it shares out. */
const MIN_PART = 4;

export class WorkerVerifier implements EntryVerifier {
  readonly #pool: WorkerPool<VerifyJob, VerifyJobResult, VerifyOutcome[]>;

  constructor(threads = availableParallelism()) {
    this.#pool = new WorkerPool({
      module: "verify-worker",
      callerUrl: import.meta.url,
      workers: threads,
      name: "verification worker",
      closedMessage: "the verifier is closed",
      answer: outcomes,
    });
  }

  get threads(): number {
    return this.#pool.size;
  }

  async verify(requests: readonly VerifyRequest[]): Promise<VerifyOutcome[]> {
    if (this.#pool.closed) throw this.#pool.closedError();
    if (requests.length === 0) return [];
    // A small request (the entries of one wave of API calls) is shared out between the workers:
    // sent whole to one of them, it would verify on one core while the other waits, and every
    // caller of the wave would wait for the slower half.
    const parts = Math.min(this.#pool.size, Math.ceil(requests.length / MIN_PART));
    if (parts <= 1) return this.verifyOn(requests);
    const size = Math.ceil(requests.length / parts);
    const answers = await Promise.all(
      Array.from({ length: parts }, (_, k) => this.verifyOn(requests.slice(k * size, (k + 1) * size))),
    );
    return answers.flat();
  }

  /** One job to the worker with the fewest outstanding entries. */
  private verifyOn(requests: readonly VerifyRequest[]): Promise<VerifyOutcome[]> {
    let total = 0;
    for (const r of requests) total += r.bytes.length;
    const data = new Uint8Array(total);
    const offsets = new Uint32Array(requests.length + 1);
    let o = 0;
    requests.forEach((r, i) => {
      offsets[i] = o;
      data.set(r.bytes, o);
      o += r.bytes.length;
    });
    offsets[requests.length] = o;
    // Keys packed into one buffer: a list of small typed arrays costs a structured clone each.
    const keys = new Uint8Array(32 * requests.length);
    const known = new Uint8Array(requests.length);
    requests.forEach((r, i) => {
      // A key of another length cannot verify: the worker is told there is none, and the entry
      // is then checked at admission against the enrolled key, which refuses it.
      if (r.publicKey?.length === 32) {
        keys.set(r.publicKey, 32 * i);
        known[i] = 1;
      }
    });
    const job: VerifyJob = { id: 0, data: data.buffer, offsets, keys, known };
    return this.#pool.post(job, requests.length, [data.buffer, keys.buffer, known.buffer]);
  }

  /** Ends the workers; jobs still out are refused (NODE_CLOSED). Again is a no-op. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** A job's outcomes, one per entry in order, from the worker's typed arrays. */
function outcomes(result: VerifyJobResult): VerifyOutcome[] {
  const n = result.status.length;
  const list: VerifyOutcome[] = new Array<VerifyOutcome>(n);
  for (let i = 0; i < n; i++) {
    if (result.status[i] !== 0)
      list[i] = {
        ok: true,
        leafHash: result.leafHashes.subarray(32 * i, 32 * i + 32),
        signatureChecked: result.status[i] === 2,
      };
  }
  for (const e of result.errors)
    list[e.i] = {
      ok: false,
      code: e.code,
      message: e.message,
      ...(e.at === undefined ? {} : { at: e.at }),
    };
  return list;
}
