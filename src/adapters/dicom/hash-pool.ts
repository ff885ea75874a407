/**
 * A pool of worker threads that hash DICOM files (hash-worker.ts). Hashing an instance costs two
 * SHA-256 passes (file + pixel data); spreading files over the cores keeps a folder ingest at
 * well above `sha256sum` speed and keeps the main event loop free for the node's HTTP work.
 */
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { startModuleWorker } from "../node-crypto/worker-start.js";
import { DicomError } from "./errors.js";
import type { HashReply, HashRequest } from "./hash-worker.js";
import type { DicomInstanceHashes, HashOptions } from "./hasher.js";

interface Slot {
  worker: Worker;
  inflight: Set<number>;
}

interface Pending {
  resolve: (r: DicomInstanceHashes) => void;
  reject: (e: Error) => void;
}

export class DicomHashPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** Number of worker threads. */
  readonly size: number;

  constructor(size: number = availableParallelism()) {
    this.size = Math.max(1, size);
    for (let i = 0; i < this.size; i++) {
      // hash-worker.js when built; hash-worker.ts through tsx when running from sources.
      const worker = startModuleWorker("hash-worker", import.meta.url);
      const slot: Slot = { worker, inflight: new Set() };
      worker.on("message", (m: HashReply) => {
        slot.inflight.delete(m.id);
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        if ("result" in m) p.resolve(m.result);
        else if ("error" in m) {
          p.reject(
            new DicomError(
              m.error.code,
              m.error.message,
              m.error.offset === undefined ? {} : { offset: m.error.offset },
            ),
          );
        } else p.reject(new Error(`hash worker failed: ${m.crash}`));
      });
      worker.on("error", (err) => {
        this.failAll(slot, err);
      });
      worker.on("exit", (code) => {
        if (!this.closed) this.failAll(slot, new Error(`hash worker exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  private failAll(slot: Slot, err: Error): void {
    for (const id of slot.inflight) {
      this.pending.get(id)?.reject(err);
      this.pending.delete(id);
    }
    slot.inflight.clear();
  }

  /** Hashes one file on the least busy worker. Rejects with DicomError like hashDicomFile. */
  hash(path: string, options: HashOptions = {}): Promise<DicomInstanceHashes> {
    if (this.closed) return Promise.reject(new Error("DicomHashPool is closed"));
    const slot = this.slots.reduce((a, b) => (b.inflight.size < a.inflight.size ? b : a));
    const id = this.nextId++;
    return new Promise<DicomInstanceHashes>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.inflight.add(id);
      const req: HashRequest = {
        id,
        path,
        ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
      };
      slot.worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const p of this.pending.values()) p.reject(new Error("DicomHashPool closed"));
    this.pending.clear();
  }
}
