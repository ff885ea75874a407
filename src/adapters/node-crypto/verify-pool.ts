/**
 * EntryVerifier on worker threads, one per core by default: Ed25519 verification is the append
 * path's dominant cost (docs/performance.md), so it runs beside the main thread, which sequences and commits.
 * Jobs go to the worker with the fewest outstanding entries.
 */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "./worker-start.js";
import { RadledgerError, type ErrorCode } from "../../core/errors.js";
import type { EntryVerifier, VerifyOutcome, VerifyRequest } from "../../ports/verifier.js";

export interface VerifyJob {
  readonly id: number;
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

interface WorkerSlot {
  readonly worker: Worker;
  outstanding: number;
}

export class WorkerVerifier implements EntryVerifier {
  readonly #slots: WorkerSlot[] = [];
  readonly #jobs = new Map<
    number,
    { slot: WorkerSlot; n: number; resolve: (r: VerifyJobResult) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;
  #closed = false;

  constructor(threads = availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const worker = startModuleWorker("verify-worker", import.meta.url);
      const slot: WorkerSlot = { worker, outstanding: 0 };
      worker.on("message", (r: VerifyJobResult) => {
        const job = this.#jobs.get(r.id);
        if (!job) return;
        this.#jobs.delete(r.id);
        slot.outstanding -= job.n;
        job.resolve(r);
      });
      worker.on("error", (e) => this.failSlot(slot, e));
      worker.on("exit", (code) => {
        if (!this.#closed) this.failSlot(slot, new Error(`verification worker exited with code ${code}`));
      });
      this.#slots.push(slot);
    }
  }

  get threads(): number {
    return this.#slots.length;
  }

  async verify(requests: readonly VerifyRequest[]): Promise<VerifyOutcome[]> {
    if (this.#closed) throw new RadledgerError("NODE_CLOSED", "the verifier is closed");
    if (requests.length === 0) return [];
    // A small request (the entries of one wave of API calls) is shared out between the workers:
    // sent whole to one of them, it would verify on one core while the other waits, and every
    // caller of the wave would wait for the slower half.
    const parts = Math.min(this.#slots.length, Math.ceil(requests.length / MIN_PART));
    if (parts <= 1) return this.verifyOn(requests);
    const size = Math.ceil(requests.length / parts);
    const answers = await Promise.all(
      Array.from({ length: parts }, (_, k) => this.verifyOn(requests.slice(k * size, (k + 1) * size))),
    );
    return answers.flat();
  }

  /** One job to the worker with the fewest outstanding entries. */
  private async verifyOn(requests: readonly VerifyRequest[]): Promise<VerifyOutcome[]> {
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
    const slot = this.#slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    const id = this.#nextId++;
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
    const job: VerifyJob = { id, data: data.buffer, offsets, keys, known };
    const result = await new Promise<VerifyJobResult>((resolve, reject) => {
      this.#jobs.set(id, { slot, n: requests.length, resolve, reject });
      slot.outstanding += requests.length;
      slot.worker.postMessage(job, [data.buffer, keys.buffer, known.buffer]);
    });
    const outcomes: VerifyOutcome[] = new Array<VerifyOutcome>(requests.length);
    for (let i = 0; i < requests.length; i++) {
      if (result.status[i] !== 0)
        outcomes[i] = {
          ok: true,
          leafHash: result.leafHashes.subarray(32 * i, 32 * i + 32),
          signatureChecked: result.status[i] === 2,
        };
    }
    for (const e of result.errors)
      outcomes[e.i] = {
        ok: false,
        code: e.code,
        message: e.message,
        ...(e.at === undefined ? {} : { at: e.at }),
      };
    return outcomes;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  private failSlot(slot: WorkerSlot, e: Error): void {
    for (const [id, job] of this.#jobs) {
      if (job.slot === slot) {
        this.#jobs.delete(id);
        job.reject(new RadledgerError("INTERNAL", `verification worker failed: ${e.message}`));
      }
    }
  }
}
