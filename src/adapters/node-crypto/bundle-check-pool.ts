/**
 * Bundle entry checks on worker threads (node:crypto): each worker hashes leaves and verifies the
 * Ed25519 signatures, so that the verifier's main thread only decodes the archive and follows the
 * log order. A batch crosses threads as one transferred buffer; verdicts come back as packed leaf
 * hashes plus the (rare) positions of bad signatures. Batches go to the least busy worker.
 */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "./worker-start.js";
import { RadledgerError } from "../../core/errors.js";
import {
  packTasks,
  type EntryChecker,
  type EntryTask,
  type EntryVerdicts,
} from "../../core/bundle/entry-check.js";

export interface BundleCheckJob {
  readonly id: number;
  readonly data: ArrayBuffer;
  readonly offsets: Uint32Array;
  readonly indexes: Float64Array;
}

export interface BundleCheckResult extends EntryVerdicts {
  readonly id: number;
}

interface Slot {
  readonly worker: Worker;
  outstanding: number;
}

export class BundleCheckPool implements EntryChecker {
  readonly #slots: Slot[] = [];
  readonly #jobs = new Map<
    number,
    { slot: Slot; n: number; resolve: (v: EntryVerdicts) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;
  #closed = false;

  constructor(threads = availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const worker = startModuleWorker("bundle-check-worker", import.meta.url);
      const slot: Slot = { worker, outstanding: 0 };
      worker.on("message", (r: BundleCheckResult) => {
        const job = this.#jobs.get(r.id);
        if (!job) return;
        this.#jobs.delete(r.id);
        slot.outstanding -= job.n;
        job.resolve({ leafHashes: r.leafHashes, badSignatures: r.badSignatures });
      });
      worker.on("error", (e) => this.failSlot(slot, e));
      worker.on("exit", (code) => {
        if (!this.#closed) this.failSlot(slot, new Error(`bundle check worker exited with code ${code}`));
      });
      this.#slots.push(slot);
    }
  }

  get parallelism(): number {
    return this.#slots.length;
  }

  async check(tasks: readonly EntryTask[]): Promise<EntryVerdicts> {
    if (this.#closed) throw new RadledgerError("NODE_CLOSED", "the bundle check pool is closed");
    const { data, offsets, indexes } = packTasks(tasks);
    const slot = this.#slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    const id = this.#nextId++;
    const job: BundleCheckJob = { id, data: data.buffer as ArrayBuffer, offsets, indexes };
    return new Promise<EntryVerdicts>((resolve, reject) => {
      this.#jobs.set(id, { slot, n: tasks.length, resolve, reject });
      slot.outstanding += tasks.length;
      slot.worker.postMessage(job, [job.data]);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  private failSlot(slot: Slot, e: Error): void {
    for (const [id, job] of this.#jobs) {
      if (job.slot !== slot) continue;
      this.#jobs.delete(id);
      job.reject(new RadledgerError("INTERNAL", `bundle check worker failed: ${e.message}`));
    }
  }
}
