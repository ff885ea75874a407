/**
 * Bundle entry checks on worker threads (node:crypto): each worker verifies the Ed25519 signatures
 * of a batch while the verifier's main thread decodes the archive, hashes the leaves and follows the
 * log order. A batch crosses threads as one transferred buffer; verdicts come back as the (rare)
 * positions of bad signatures. Batches go to the least busy worker.
 *
 * The main thread is a lane too: with `threads` lanes there are threads − 1 workers, and a batch
 * that finds every worker with three batches runs on the calling thread at once. Of the closing tree
 * hashing, the multi-leaf inclusion root goes to a worker, and a manifest root is shared out in
 * aligned blocks, the calling thread taking the last run. One more worker than cores only makes the operating system
 * share the cores among three threads: measured on two cores, the same verification took ~0.6 s
 * more CPU that way (docs/performance.md). */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "./worker-start.js";
import { RadledgerError, type ErrorCode } from "../../core/errors.js";
import { ed25519Verify, nodeCrypto } from "./crypto.js";
import { merkleBlockRoots, merkleRootFromBlocks } from "../../core/merkle/manifest.js";
import {
  inlineTreeHasher,
  packTasks,
  badSignatures,
  type EntryChecker,
  type EntryTask,
  type EntryVerdicts,
  type TreeHasher,
} from "../../core/bundle/entry-check.js";

/** Below this many leaves a manifest root is hashed on the calling thread alone (a few ms). */
const MIN_SPLIT_LEAVES = 8192;
/** A manifest root is shared out in this many aligned blocks or more (finer: better balance). */
const BLOCKS_PER_ROOT = 32;

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
  | {
      /** Claim blocks from the front (claims[b] 0 → 1, claims[blocks] the next one) and write their roots. */
      readonly kind: "merkle-blocks";
      readonly id: number;
      readonly hashes: Uint8Array;
      readonly blockLeaves: number;
      readonly claims: Int32Array;
      readonly roots: Uint8Array;
    };

export type BundleCheckResult =
  | { readonly id: number; readonly verdicts: EntryVerdicts }
  | { readonly id: number; readonly root: Uint8Array }
  | { readonly id: number; readonly done: true }
  | { readonly id: number; readonly error: { readonly code: ErrorCode; readonly message: string } };

interface Slot {
  readonly worker: Worker;
  /** Jobs posted to the worker. */
  posted: number;
  /** Jobs the worker has finished, counted by the worker itself (Atomics) so that it is current even
   * while this thread is busy and the answers wait in its event queue. */
  readonly finished: Int32Array;
}

export interface BundleCheckWorkerData {
  readonly finished: SharedArrayBuffer;
}

interface Pending {
  readonly slot: Slot;
  resolve(r: BundleCheckResult): void;
  reject(e: Error): void;
}

export class BundleCheckPool implements EntryChecker {
  readonly #slots: Slot[] = [];
  readonly #jobs = new Map<number, Pending>();
  #nextId = 1;
  #closed = false;

  readonly #inlineTrees = inlineTreeHasher(nodeCrypto);

  /** `threads` lanes, the calling thread included: at least one worker. */
  constructor(threads = availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads - 1); i++) {
      const finished = new SharedArrayBuffer(4);
      const workerData: BundleCheckWorkerData = { finished };
      const worker = startModuleWorker("bundle-check-worker", import.meta.url, workerData);
      const slot: Slot = { worker, posted: 0, finished: new Int32Array(finished) };
      worker.on("message", (r: BundleCheckResult) => {
        const job = this.#jobs.get(r.id);
        if (!job) return;
        this.#jobs.delete(r.id);
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
    return this.#slots.length + 1;
  }

  /** Whether every worker already has more than `depth` jobs (the one it runs and those queued behind it). */
  #busy(depth: number): boolean {
    return this.#slots.every((s) => this.#queued(s) > depth);
  }

  #queued(slot: Slot): number {
    return slot.posted - Atomics.load(slot.finished, 0);
  }

  // Not an async function: its frame would keep `tasks` (and the entries they view) alive until the
  // worker answers; packed, they are garbage at once.
  check(tasks: readonly EntryTask[]): Promise<EntryVerdicts> {
    if (this.#closed)
      return Promise.reject(new RadledgerError("NODE_CLOSED", "the bundle check pool is closed"));
    // Three batches per worker keep it busy while this thread runs one.
    if (this.#busy(2)) {
      // The calling thread's lane: the same checks as a worker's.
      return Promise.resolve({
        badSignatures: badSignatures(tasks, ed25519Verify),
      });
    }
    const { data, offsets, indexes } = packTasks(tasks);
    const id = this.#nextId++;
    return this.post({ kind: "entries", id, data: data.buffer as ArrayBuffer, offsets, indexes }, [
      data.buffer as ArrayBuffer,
    ]).then((r) => {
      if (!("verdicts" in r))
        throw new RadledgerError("INTERNAL", "bundle check worker answered out of turn");
      return r.verdicts;
    });
  }

  readonly trees: TreeHasher = {
    multiInclusionRoot: async (indexes, size, leafHashes, proof) => {
      // Asked once the last entries are read: a worker has at most three small signature batches
      // left, and this thread has the kind's checks and its share of a manifest root to do.
      const joined = new Uint8Array(32 * proof.length);
      proof.forEach((h, i) => joined.set(h, 32 * i));
      const id = this.#nextId++;
      return this.root(
        await this.post({
          kind: "multi-inclusion-root",
          id,
          indexes: Float64Array.from(indexes),
          size,
          leafHashes,
          proof: joined,
        }),
      );
    },
    merkleRootOfHashes: async (hashes) => {
      // Aligned blocks of leaves (perfect subtrees) are claimed one at a time from a shared list:
      // the workers from the front, this thread from the back, so that a worker still busy with the
      // last signatures or the proof's root takes fewer. Then the block roots merge.
      const leaves = hashes.length / 32;
      if (leaves < MIN_SPLIT_LEAVES) return this.#inlineTrees.merkleRootOfHashes(hashes);
      let blockLeaves = 1;
      while (blockLeaves * 2 * BLOCKS_PER_ROOT <= leaves) blockLeaves *= 2;
      const blocks = Math.floor(leaves / blockLeaves);
      const shared = new Uint8Array(new SharedArrayBuffer(32 * blocks * blockLeaves));
      shared.set(hashes.subarray(0, shared.length));
      // One claim per block (0 free, 1 taken), then the next block the workers take from the front.
      const claims = new Int32Array(new SharedArrayBuffer(4 * (blocks + 1)));
      const roots = new Uint8Array(new SharedArrayBuffer(32 * blocks));
      const posted = this.#slots.map(() =>
        this.post({ kind: "merkle-blocks", id: this.#nextId++, hashes: shared, blockLeaves, claims, roots }),
      );
      for (let b = blocks - 1; b >= 0; b--) {
        // A claim lost at the back is a worker's: every block before it is the workers' too.
        if (Atomics.compareExchange(claims, b, 0, 1) !== 0) break;
        const at = 32 * b * blockLeaves;
        roots.set(
          merkleBlockRoots(nodeCrypto, shared.subarray(at, at + 32 * blockLeaves), blockLeaves),
          32 * b,
        );
      }
      for (const r of await Promise.all(posted))
        if ("error" in r) throw new RadledgerError(r.error.code, r.error.message);
      const list: Uint8Array[] = [];
      for (let b = 0; b < blocks; b++) list.push(roots.slice(32 * b, 32 * b + 32));
      return merkleRootFromBlocks(nodeCrypto, list, hashes.subarray(shared.length));
    },
  };

  /** Ends the workers; again is a no-op (the verifier and its caller may both close the pool). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  private root(r: BundleCheckResult): Uint8Array {
    if ("error" in r) throw new RadledgerError(r.error.code, r.error.message);
    if (!("root" in r)) throw new RadledgerError("INTERNAL", "bundle check worker answered out of turn");
    return r.root;
  }

  /** Sends a job to the worker with the fewest jobs unfinished. */
  private post(job: BundleCheckJob, transfer: ArrayBuffer[] = []): Promise<BundleCheckResult> {
    if (this.#closed)
      return Promise.reject(new RadledgerError("NODE_CLOSED", "the bundle check pool is closed"));
    const slot = this.#slots.reduce((a, b) => (this.#queued(b) < this.#queued(a) ? b : a));
    return new Promise<BundleCheckResult>((resolve, reject) => {
      this.#jobs.set(job.id, { slot, resolve, reject });
      slot.posted++;
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
