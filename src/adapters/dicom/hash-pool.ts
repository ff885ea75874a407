/**
 * A pool of worker threads that hash DICOM files (hash-worker.ts). Hashing an instance costs two
 * SHA-256 passes (file + pixel data); spreading files over the cores keeps a folder ingest at
 * well above `sha256sum` speed and keeps the main event loop free for the node's HTTP work.
 * Files go to the worker with the fewest files in hand (WorkerPool).
 */
import { availableParallelism } from "node:os";
import { WorkerPool } from "../threads/worker-pool.js";
import { DicomError } from "./errors.js";
import type { HashReply, HashRequest } from "./hash-worker.js";
import type { DicomInstanceHashes, HashOptions } from "./hasher.js";

export class DicomHashPool {
  readonly #pool: WorkerPool<HashRequest, HashReply, DicomInstanceHashes>;
  /** Number of worker threads. */
  readonly size: number;

  constructor(size: number = availableParallelism()) {
    this.#pool = new WorkerPool({
      // hash-worker.js when built; hash-worker.ts through tsx when running from sources.
      module: "hash-worker",
      callerUrl: import.meta.url,
      workers: size,
      name: "hash worker",
      closedMessage: "DicomHashPool is closed",
      answer: unpack,
    });
    this.size = this.#pool.size;
  }

  /** Hashes one file on the least busy worker. Rejects with DicomError like hashDicomFile. */
  hash(path: string, options: HashOptions = {}): Promise<DicomInstanceHashes> {
    const req: HashRequest = {
      id: 0,
      path,
      ...(options.highWaterMark !== undefined ? { highWaterMark: options.highWaterMark } : {}),
    };
    return this.#pool.post(req);
  }

  /** Ends the workers; files still out are refused (NODE_CLOSED). Again is a no-op. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** The worker's reply as hashDicomFile would have settled: its result, or its DicomError. */
function unpack(m: HashReply): DicomInstanceHashes {
  if ("result" in m) return m.result;
  if ("error" in m)
    throw new DicomError(
      m.error.code,
      m.error.message,
      m.error.offset === undefined ? {} : { offset: m.error.offset },
    );
  throw new Error(`hash worker failed: ${m.crash}`);
}
