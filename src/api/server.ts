/**
 * The node's HTTP server (fastify): tlog-tiles at the spec's paths, the JSON API under /api/v1,
 * health endpoints. Every error becomes an RFC 9457 problem; nothing hostile reaches a 5xx.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { isRadledgerError, RadledgerError } from "../core/errors.js";
import type { RadledgerNode } from "../app/node.js";
import { sendProblem } from "./problem.js";
import { registerTileRoutes } from "./tiles.js";
import { registerLogRoutes } from "./log-routes.js";
import { registerVerifierPage } from "./bundle-routes.js";

export interface ServerOptions {
  readonly logger?: boolean;
  readonly bodyLimit?: number;
}

export function buildServer(node: RadledgerNode, options: ServerOptions = {}): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    maxParamLength: 200,
    return503OnClosing: true,
  });

  app.setErrorHandler((error, req, reply) => {
    if (isRadledgerError(error)) return sendProblem(reply, error, req.url);
    const status =
      typeof (error as { statusCode?: unknown }).statusCode === "number"
        ? (error as { statusCode: number }).statusCode
        : 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, body too large, unsupported media type).
      const code =
        status === 413
          ? "BODY_TOO_LARGE"
          : status === 415
            ? "MEDIA_TYPE_UNSUPPORTED"
            : status === 404
              ? "ROUTE_NOT_FOUND"
              : "INPUT_INVALID";
      return sendProblem(reply, new RadledgerError(code, (error as Error).message), req.url);
    }
    req.log.error({ err: error }, "unhandled error");
    return sendProblem(reply, new RadledgerError("INTERNAL", "internal error"), req.url);
  });

  app.setNotFoundHandler((req, reply) =>
    sendProblem(reply, new RadledgerError("ROUTE_NOT_FOUND", "no such resource"), req.url),
  );

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    if (node.ledger.latestCheckpoint === undefined) return reply.code(503).send({ status: "starting" });
    return { status: "ready", size: node.ledger.size };
  });

  registerTileRoutes(app, node);
  registerLogRoutes(app, node);
  registerVerifierPage(app);
  return app;
}
