/**
 * Bundle entry checks on worker threads (node:crypto): each worker hashes leaves and verifies the
 * Ed25519 signatures, so that the verifier's main thread only decodes the archive and follows the
 * log order. A batch crosses threads as one transferred buffer; verdicts come back as packed leaf
 * hashes plus the (rare) positions of bad signatures. Batches go to the least busy worker. The
 * verifier's closing tree hashing (the inclusion proof's root, manifest roots) runs here too, one
 * job per worker, beside the main thread's reference checks.
 */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "./worker-start.js";
import { RadledgerError, type ErrorCode } from "../../core/errors.js";
import {
  packTasks,
  type EntryChecker,
  type EntryTask,
  type EntryVerdicts,
  type TreeHasher,
} from "../../core/bundle/entry-check.js";

export type BundleCheckJob =
  | {
      readonly kind: "entries";
      readonly id: number;
      readonly data: ArrayBuffer;
      readonly offsets: Uint32Array;
      readonly indexes: Float64Array;
    }
  | {
      readonly kind: "multi-inclusion-root";
      readonly id: number;
      readonly indexes: Float64Array;
      readonly size: number;
      readonly leafHashes: Uint8Array;
      readonly proof: Uint8Array;
    }
  | { readonly kind: "merkle-root"; readonly id: number; readonly hashes: Uint8Array };

export type BundleCheckResult =
  | { readonly id: number; readonly verdicts: EntryVerdicts }
  | { readonly id: number; readonly root: Uint8Array }
  | { readonly id: number; readonly error: { readonly code: ErrorCode; readonly message: string } };

interface Slot {
  readonly worker: Worker;
  outstanding: number;
}

interface Pending {
  readonly slot: Slot;
  readonly n: number;
  resolve(r: BundleCheckResult): void;
  reject(e: Error): void;
}

export class BundleCheckPool implements EntryChecker {
  readonly #slots: Slot[] = [];
  readonly #jobs = new Map<number, Pending>();
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
        job.resolve(r);
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
    const { data, offsets, indexes } = packTasks(tasks);
    const id = this.#nextId++;
    const r = await this.post(
      { kind: "entries", id, data: data.buffer as ArrayBuffer, offsets, indexes },
      tasks.length,
      [data.buffer as ArrayBuffer],
    );
    if (!("verdicts" in r)) throw new RadledgerError("INTERNAL", "bundle check worker answered out of turn");
    return r.verdicts;
  }

  readonly trees: TreeHasher = {
    multiInclusionRoot: async (indexes, size, leafHashes, proof) => {
      const joined = new Uint8Array(32 * proof.length);
      proof.forEach((h, i) => joined.set(h, 32 * i));
      const id = this.#nextId++;
      return this.root(
        await this.post(
          { kind: "multi-inclusion-root", id, indexes: Float64Array.from(indexes), size, leafHashes, proof: joined },
          indexes.length,
        ),
      );
    },
    merkleRootOfHashes: async (hashes) => {
      const id = this.#nextId++;
      return this.root(await this.post({ kind: "merkle-root", id, hashes }, hashes.length / 32));
    },
  };

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  private root(r: BundleCheckResult): Uint8Array {
    if ("error" in r) throw new RadledgerError(r.error.code, r.error.message);
    if (!("root" in r)) throw new RadledgerError("INTERNAL", "bundle check worker answered out of turn");
    return r.root;
  }

  /** Sends a job to the least busy worker (by entries outstanding). */
  private post(job: BundleCheckJob, n: number, transfer: ArrayBuffer[] = []): Promise<BundleCheckResult> {
    if (this.#closed) return Promise.reject(new RadledgerError("NODE_CLOSED", "the bundle check pool is closed"));
    const slot = this.#slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    return new Promise<BundleCheckResult>((resolve, reject) => {
      this.#jobs.set(job.id, { slot, n, resolve, reject });
      slot.outstanding += n;
      slot.worker.postMessage(job, transfer);
    });
  }

  private failSlot(slot: Slot, e: Error): void {
    for (const [id, job] of this.#jobs) {
      if (job.slot !== slot) continue;
      this.#jobs.delete(id);
      job.reject(new RadledgerError("INTERNAL", `bundle check worker failed: ${e.message}`));
    }
  }
}
