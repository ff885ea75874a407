/**
 * Worker-thread side of DicomHashPool: hashes the files it is sent with hashDicomFile and posts
 * back the result or the coded error. Runs off the main thread so that SHA-256 over gigabytes
 * neither blocks the node's event loop nor stays on one core.
 */
import { parentPort } from "node:worker_threads";
import { DicomError } from "./errors.js";
import { hashDicomFile } from "./hasher.js";

export interface HashRequest {
  /** Numbered by WorkerPool.post. */
  id: number;
  path: string;
  highWaterMark?: number;
}

export type HashReply =
  | { id: number; result: Awaited<ReturnType<typeof hashDicomFile>> }
  | { id: number; error: { code: DicomError["code"]; message: string; offset?: number } }
  | { id: number; crash: string };

const port = parentPort;
if (port !== null) {
  port.on("message", (req: HashRequest) => {
    hashDicomFile(req.path, req.highWaterMark === undefined ? {} : { highWaterMark: req.highWaterMark }).then(
      (result) => {
        port.postMessage({ id: req.id, result } satisfies HashReply);
      },
      (err: unknown) => {
        const reply: HashReply =
          err instanceof DicomError
            ? {
                id: req.id,
                error: {
                  code: err.code,
                  message: err.message,
                  ...(err.offset !== undefined ? { offset: err.offset } : {}),
                },
              }
            : { id: req.id, crash: err instanceof Error ? err.message : String(err) };
        port.postMessage(reply);
      },
    );
  });
}
