/**
 * Batched Ed25519 verification on worker threads (node:crypto), for the bundle verifier: a batch is
 * packed into one buffer (keys, signatures, messages) and transferred, so that results cross threads
 * as one typed array rather than an object per signature. Batches go to the least busy worker.
 */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "./worker-start.js";
import { RadledgerError } from "../../core/errors.js";
import type { BatchSignatureVerifier, SignatureCheck } from "../../core/bundle/signatures.js";

export interface SignatureJob {
  readonly id: number;
  /** Per check: 32-byte key, 64-byte signature, message; offsets[i]..offsets[i+1] is check i. */
  readonly data: ArrayBuffer;
  readonly offsets: Uint32Array;
}

export interface SignatureJobResult {
  readonly id: number;
  readonly verdicts: Uint8Array;
}

interface Slot {
  readonly worker: Worker;
  outstanding: number;
}

export class SignaturePool implements BatchSignatureVerifier {
  readonly #slots: Slot[] = [];
  readonly #jobs = new Map<
    number,
    { slot: Slot; n: number; resolve: (v: boolean[]) => void; reject: (e: Error) => void }
  >();
  #nextId = 1;
  #closed = false;

  constructor(threads = availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const worker = startModuleWorker("signature-worker", import.meta.url);
      const slot: Slot = { worker, outstanding: 0 };
      worker.on("message", (r: SignatureJobResult) => {
        const job = this.#jobs.get(r.id);
        if (!job) return;
        this.#jobs.delete(r.id);
        slot.outstanding -= job.n;
        job.resolve(Array.from(r.verdicts, (v) => v === 1));
      });
      worker.on("error", (e) => this.failSlot(slot, e));
      worker.on("exit", (code) => {
        if (!this.#closed) this.failSlot(slot, new Error(`signature worker exited with code ${code}`));
      });
      this.#slots.push(slot);
    }
  }

  get parallelism(): number {
    return this.#slots.length;
  }

  async verifyBatch(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    if (this.#closed) throw new RadledgerError("NODE_CLOSED", "the signature pool is closed");
    if (checks.length === 0) return [];
    let total = 0;
    for (const c of checks) total += 96 + c.message.length;
    const data = new Uint8Array(total);
    const offsets = new Uint32Array(checks.length + 1);
    let o = 0;
    checks.forEach((c, i) => {
      offsets[i] = o;
      // Malformed lengths cannot verify: write zeros, the worker's length check fails them.
      if (c.publicKey.length === 32) data.set(c.publicKey, o);
      if (c.signature.length === 64) data.set(c.signature, o + 32);
      data.set(c.message, o + 96);
      o += 96 + c.message.length;
    });
    offsets[checks.length] = o;
    const bad = checks.map((c) => c.publicKey.length !== 32 || c.signature.length !== 64);
    const slot = this.#slots.reduce((a, b) => (b.outstanding < a.outstanding ? b : a));
    const id = this.#nextId++;
    const job: SignatureJob = { id, data: data.buffer, offsets };
    const verdicts = await new Promise<boolean[]>((resolve, reject) => {
      this.#jobs.set(id, { slot, n: checks.length, resolve, reject });
      slot.outstanding += checks.length;
      slot.worker.postMessage(job, [data.buffer]);
    });
    return verdicts.map((v, i) => v && !bad[i]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }

  private failSlot(slot: Slot, e: Error): void {
    for (const [id, job] of this.#jobs) {
      if (job.slot !== slot) continue;
      this.#jobs.delete(id);
      job.reject(new RadledgerError("INTERNAL", `signature worker failed: ${e.message}`));
    }
  }
}
