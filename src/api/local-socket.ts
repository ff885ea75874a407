/**
 * The serving node's local socket: how the command line's writing verbs (src/app/operations.ts) reach
 * a data directory that `radledger serve` holds. HTTP/1.1 over a Unix socket (DIR/node.sock, mode
 * 0600, in a 0700 directory), so only the data directory's owner — who could read its keys anyway —
 * can connect; nothing listens on the network for it.
 *
 *   POST /v1/operations/<name>   body: the operation's JSON arguments
 *   → 200, application/x-ndjson: {"progress": …} lines while it runs, then one {"result": …} or
 *     {"error": {code, message, details}} line.
 *
 * The operation runs on the serving node itself, so its entries go through the same appender,
 * gatekeeper and metrics as every other writer's.
 */
import { chmodSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { RadledgerError, toRadledgerError } from "../core/errors.js";
import { parseStrictJson } from "../core/canonical-json.js";
import { localSocketPath } from "../app/data-dir.js";
import type { RadledgerNode } from "../app/node.js";
import { isOperationName, runOperation, type OperationEnv } from "../app/operations.js";

/** Largest arguments document accepted (an ingest of many paths stays far below it). */
const MAX_BODY = 1024 * 1024;

export interface LocalSocket {
  readonly path: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Past the limit the rest is read and dropped, so that the caller gets the answer, not a reset.
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY) throw new RadledgerError("BODY_TOO_LARGE", `arguments larger than ${MAX_BODY} bytes`);
  return Buffer.concat(chunks).toString("utf8");
}

function line(res: ServerResponse, value: unknown): void {
  res.write(JSON.stringify(value) + "\n");
}

async function handle(
  node: RadledgerNode,
  env: OperationEnv,
  req: IncomingMessage,
  res: ServerResponse,
  onError: (e: RadledgerError) => void,
): Promise<void> {
  // The body is read first, whatever the request: an answer while the caller still writes would
  // reset its connection instead of telling it what was wrong.
  let body: string | RadledgerError;
  try {
    body = await readBody(req);
  } catch (e) {
    body = toRadledgerError(e);
  }
  const name = /^\/v1\/operations\/([a-z-]{1,32})$/.exec(req.url ?? "")?.[1];
  if (req.method !== "POST" || name === undefined || !isOperationName(name)) {
    res.writeHead(404, { "content-type": "application/x-ndjson" });
    line(res, { error: new RadledgerError("ROUTE_NOT_FOUND", "no such operation").toJSON() });
    res.end();
    return;
  }
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  try {
    if (body instanceof RadledgerError) throw body;
    const args = parseStrictJson(body);
    const result = await runOperation(node, env, name, args, (progress) => line(res, { progress }));
    line(res, { result });
  } catch (e) {
    const err = toRadledgerError(e);
    if (err.category === "internal") onError(err);
    line(res, { error: err.toJSON() });
  }
  res.end();
}

/** Listens on the node's local socket; a socket file left by a killed node is replaced. */
export async function listenLocalSocket(
  node: RadledgerNode,
  env: OperationEnv,
  options: { onError?: (e: RadledgerError) => void } = {},
): Promise<LocalSocket> {
  const path = localSocketPath(node.dir, true);
  // The caller holds the writer lock: no other node serves this directory, so a file there is stale.
  rmSync(path, { force: true });
  const onError = options.onError ?? (() => undefined);
  const server: Server = createServer((req, res) => {
    void handle(node, env, req, res, onError);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // A restrictive umask while the socket file is created: no window in which others could connect.
    const previous = process.umask(0o177);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(previous);
    }
  });
  chmodSync(path, 0o600);
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          rmSync(path, { force: true });
          resolve();
        });
        // In-flight operations finish (their entries are being appended); idle connections go now.
        server.closeIdleConnections();
      }),
  };
}
