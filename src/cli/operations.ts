/**
 * Runs a writing verb's operation (src/app/operations.ts) where the data directory is: in this
 * process when it is free, or in the serving node — over its local socket (src/api/local-socket.ts)
 * — while `radledger serve` holds the writer lock. The caller gets the same JSON result either way,
 * and progress events as they happen.
 */
import { request } from "node:http";
import { createInterface } from "node:readline";
import {
  ERROR_CODES,
  isRadledgerError,
  RadledgerError,
  type ErrorCode,
  type ErrorDetails,
} from "../core/errors.js";
import { localSocketPath } from "../app/data-dir.js";
import {
  runOperation,
  type OperationArgs,
  type OperationName,
  type OperationProgress,
  type OperationResult,
} from "../app/operations.js";
import { openNode } from "../wiring/node.js";
import { operationEnv } from "../wiring/operations.js";

export interface RunOptions<N extends OperationName> {
  readonly onProgress?: (p: OperationProgress<N>) => void;
}

export async function runWritingOperation<N extends OperationName>(
  dir: string,
  name: N,
  args: OperationArgs<N>,
  options: RunOptions<N> = {},
): Promise<OperationResult<N>> {
  let node;
  try {
    node = openNode(dir);
  } catch (e) {
    if (!(isRadledgerError(e) && e.code === "STORE_LOCKED")) throw e;
    return viaSocket(localSocketPath(dir), name, args, options.onProgress, e);
  }
  try {
    return await runOperation(node, operationEnv, name, args, options.onProgress);
  } finally {
    await node.close();
  }
}

interface Line {
  progress?: unknown;
  result?: unknown;
  error?: { code: ErrorCode; message: string; details?: ErrorDetails };
}

function viaSocket<N extends OperationName>(
  socketPath: string,
  name: N,
  args: OperationArgs<N>,
  onProgress: ((p: OperationProgress<N>) => void) | undefined,
  locked: RadledgerError,
): Promise<OperationResult<N>> {
  const body = JSON.stringify(args);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method: "POST",
        path: `/v1/operations/${name}`,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let settled = false;
        const lines = createInterface({ input: res, crlfDelay: Infinity });
        lines.on("line", (text) => {
          if (text.trim() === "") return;
          let value: Line;
          try {
            value = JSON.parse(text) as Line;
          } catch {
            settled = true;
            reject(
              new RadledgerError("NODE_BUSY", "the serving node answered with something that is not JSON"),
            );
            return;
          }
          if (value.progress !== undefined) onProgress?.(value.progress as OperationProgress<N>);
          else if (value.error !== undefined) {
            settled = true;
            const { code, message, details } = value.error;
            reject(new RadledgerError(code in ERROR_CODES ? code : "INTERNAL", message, details ?? {}));
          } else if ("result" in value) {
            settled = true;
            resolve(value.result as OperationResult<N>);
          }
        });
        lines.on("close", () => {
          if (!settled)
            reject(new RadledgerError("NODE_CLOSED", "the serving node closed before the operation ended"));
        });
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => {
      // No socket answers: the lock is held by something other than a serving node (another verb).
      if (e.code === "ENOENT" || e.code === "ECONNREFUSED") reject(locked);
      else reject(new RadledgerError("NODE_BUSY", `the serving node's socket: ${e.code ?? e.message}`));
    });
    req.end(body);
  });
}
