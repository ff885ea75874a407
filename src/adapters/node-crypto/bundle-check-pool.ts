/**
 * Bundle entry checks on worker threads (node:crypto): each worker verifies the Ed25519 signatures
 * of a batch while the verifier's main thread decodes the archive, hashes the leaves and follows the
 * log order. A batch crosses threads as one transferred buffer; verdicts come back as the (rare)
 * positions of bad signatures. Batches go to the least busy worker (WorkerPool: each worker counts
 * the jobs it has finished itself).
 *
 * The main thread is a lane too: with `threads` lanes there are threads − 1 workers, and a batch
 * that finds every worker with three batches runs on the calling thread at once. Of the closing tree
 * hashing, the multi-leaf inclusion root goes to a worker, and a manifest root is shared out in
 * aligned blocks, the calling thread taking the last run. One more worker than cores only makes the operating system
 * share the cores among three threads: measured on two cores, the same verification took ~0.6 s
 * more CPU that way (docs/performance.md). */
import { availableParallelism } from "node:os";
import { WorkerPool } from "../threads/worker-pool.js";
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

/** Each kind's `id` is numbered by WorkerPool.post. */
export type BundleCheckJob =
  | {
      readonly kind: "entries";
      id: number;
      readonly data: ArrayBuffer;
      readonly offsets: Uint32Array;
      readonly indexes: Float64Array;
    }
  | {
      readonly kind: "multi-inclusion-root";
      id: number;
      readonly indexes: Float64Array;
      readonly size: number;
      readonly leafHashes: Uint8Array;
      readonly proof: Uint8Array;
    }
  | {
      /** Claim blocks from the front (claims[b] 0 → 1, claims[blocks] the next one) and write their roots. */
      readonly kind: "merkle-blocks";
      id: number;
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

export class BundleCheckPool implements EntryChecker {
  readonly #pool: WorkerPool<BundleCheckJob, BundleCheckResult, BundleCheckResult>;
  readonly #inlineTrees = inlineTreeHasher(nodeCrypto);

  /** `threads` lanes, the calling thread included: at least one worker. */
  constructor(threads = availableParallelism()) {
    this.#pool = new WorkerPool({
      module: "bundle-check-worker",
      callerUrl: import.meta.url,
      workers: threads - 1,
      name: "bundle check worker",
      closedMessage: "the bundle check pool is closed",
      countedByWorker: true,
      answer: (r) => r,
    });
  }

  get parallelism(): number {
    return this.#pool.size + 1;
  }

  // Not an async function: its frame would keep `tasks` (and the entries they view) alive until the
  // worker answers; packed, they are garbage at once.
  check(tasks: readonly EntryTask[]): Promise<EntryVerdicts> {
    if (this.#pool.closed) return Promise.reject(this.#pool.closedError());
    // Three batches per worker keep it busy while this thread runs one.
    if (this.#pool.busy(2)) {
      // The calling thread's lane: the same checks as a worker's.
      return Promise.resolve({
        badSignatures: badSignatures(tasks, ed25519Verify),
      });
    }
    const { data, offsets, indexes } = packTasks(tasks);
    const buffer = data.buffer as ArrayBuffer;
    return this.#pool
      .post({ kind: "entries", id: 0, data: buffer, offsets, indexes }, 1, [buffer])
      .then((r) => {
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
      return this.root(
        await this.#pool.post({
          kind: "multi-inclusion-root",
          id: 0,
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
      const posted = Array.from({ length: this.#pool.size }, () =>
        this.#pool.post({ kind: "merkle-blocks", id: 0, hashes: shared, blockLeaves, claims, roots }),
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
  close(): Promise<void> {
    return this.#pool.close();
  }

  private root(r: BundleCheckResult): Uint8Array {
    if ("error" in r) throw new RadledgerError(r.error.code, r.error.message);
    if (!("root" in r)) throw new RadledgerError("INTERNAL", "bundle check worker answered out of turn");
    return r.root;
  }
}
