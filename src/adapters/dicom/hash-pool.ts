/**
 * A pool of worker threads that hash DICOM files (hash-worker.ts). Hashing an instance costs two
 * SHA-256 passes (file + pixel data); spreading files over the cores keeps a folder ingest at
 * well above `sha256sum` speed and keeps the main event loop free for the node's HTTP work.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
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

/**
 * Worker entry for running from TypeScript sources: register tsx's loader in the worker, then
 * import the .ts worker module (`--import tsx` in a Worker's execArgv does not apply to its entry
 * module on Node 20).
 */
function tsxBootstrap(workerUrl: URL): string {
  // The ESM build of tsx/esm/api (its CommonJS build cannot register hooks from a worker).
  const pkgPath = createRequire(import.meta.url).resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports["./esm/api"]!.import.default)).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); });`;
}

export class DicomHashPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** Number of worker threads. */
  readonly size: number;

  constructor(size: number = availableParallelism()) {
    // Compiled: dist/…/hash-worker.js. From sources (tests, tsx scripts): hash-worker.ts, loaded
    // through tsx in the worker.
    const fromSource = import.meta.url.endsWith(".ts");
    const url = new URL(fromSource ? "./hash-worker.ts" : "./hash-worker.js", import.meta.url);
    this.size = Math.max(1, size);
    for (let i = 0; i < this.size; i++) {
      const worker = fromSource ? new Worker(tsxBootstrap(url), { eval: true }) : new Worker(url);
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
