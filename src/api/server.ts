/**
 * The node's HTTP server (fastify), the assembly point of the API: tlog-tiles at the spec's paths, the
 * JSON API under /api/v1 (auth, entries, queries, gatekeeper content, OpenAPI), health and metrics.
 * Every error becomes an RFC 9457 problem; nothing hostile reaches a 5xx. Limits (body, headers,
 * rates) are set here and documented in docs/api.md. Logs are structured JSON with request ids and the
 * authenticated actor id; they carry no headers, bodies or query strings, hence no secrets or PHI.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import Fastify, { LogController, type FastifyInstance } from "fastify";
import { randomUUID } from "node:crypto";
import { isRadledgerError, RadledgerError } from "../core/errors.js";
import { strictJsonBody } from "./json-body.js";
import type { RadledgerNode } from "../app/node.js";
import { createGatekeeper, type Gatekeeper, type Transaction } from "../app/gatekeeper.js";
import type { AuthStore } from "../ports/auth.js";
import { problemOf, sendProblem } from "./problem.js";
import type { Socket } from "node:net";
import type { SecureContextOptions, TlsOptions } from "node:tls";
import { registerTileRoutes } from "./tiles.js";
import { registerLogRoutes } from "./log-routes.js";
import { entryReaderGate, NO_PEERS } from "./entry-access.js";
import { registerWitnessRoutes } from "./witness.js";
import { registerAlarmRoutes } from "./alarm-routes.js";
import { registerConsortiumRoutes } from "./consortium-routes.js";
import type { ConsortiumService } from "../app/consortium/service.js";
import { registerAuthRoutes } from "./auth.js";
import { registerEnrolmentRoutes } from "./enrolment.js";
import { registerEntryRoutes } from "./entries.js";
import { registerQueryRoutes } from "./queries/index.js";
import { registerContentRoutes } from "./content.js";
import { registerErasureRoutes } from "./erasure.js";
import { registerOpenApiRoutes } from "./openapi.js";
import { Metrics } from "./metrics.js";
import { TokenBuckets } from "./rate-limit.js";
import { bearerActor, type Api, type ApiLimits } from "./route.js";

export const DEFAULT_LIMITS: ApiLimits = {
  bodyBytes: 1024 * 1024,
  headerBytes: 16 * 1024,
  anonymous: { perSecond: 2000, burst: 4000 },
  actor: { perSecond: 200, burst: 1000 },
  login: { perSecond: 0.1, burst: 10 },
  authFailures: { perSecond: 1, burst: 20 },
};
import { registerDicomwebRoutes, type DicomwebProxyOptions } from "./dicomweb.js";
import { registerOrthancAuthzRoutes } from "./orthanc-authz.js";
import type { DicomwebAuthorizer } from "../app/dicomweb-access.js";
import { registerFhirRoutes } from "./fhir-routes.js";
import { registerFhirReportIntake } from "./fhir-report-intake.js";
import { registerFhirAtnaRoutes } from "./fhir-atna-routes.js";
import { AuditIntake, type RawMessagePolicy } from "../app/audit-intake.js";
import { apiBundleAuthorizer, apiBundleRecorder, registerBundleRoutes } from "./bundle-routes.js";
import { registerWebApp } from "./web-routes.js";

export interface ServerOptions {
  /** true: JSON logs to stdout; or a destination stream (tests read it). */
  readonly logger?: boolean | { readonly level?: string; readonly stream?: NodeJS.WritableStream };
  readonly bodyLimit?: number;
  /** The node's consortium side: witness endpoint, cosigned /checkpoint, consortium API. */
  readonly consortium?: ConsortiumService;
  readonly limits?: Partial<ApiLimits>;
  /** The credentials store (src/wiring/auth.ts); the server owns it and closes it when it closes. */
  readonly auth: AuthStore;
  readonly metrics?: Metrics;
  /** What the FHIR audit feed (ITI-20) keeps of a raw event: the patient's vault (default) or nothing. */
  readonly auditRawMessages?: RawMessagePolicy;
  /**
   * DICOMweb through the gatekeeper (src/api/dicomweb.ts), when the node fronts an archive. Callers
   * authenticate with the API's bearer tokens.
   */
  readonly dicomweb?: Omit<DicomwebProxyOptions, "authenticate">;
  /**
   * Orthanc asks the node (src/api/orthanc-authz.ts): POST /api/v1/orthanc/authorize for the
   * Orthanc authorization plugin, deciding and recording with this authorizer.
   */
  readonly orthancAuthz?: DicomwebAuthorizer;
  /**
   * Serve HTTPS with these TLS options (certificate, key, minimum version, client CA for mutual TLS;
   * src/cli/tls.ts builds them from files). Every response then carries Strict-Transport-Security.
   */
  readonly https?: TlsOptions & SecureContextOptions;
}

/**
 * HSTS on every HTTPS response (RFC 6797 §7.1; one year, the commonly preloaded minimum). Not
 * includeSubDomains: the node does not know what else runs under its host's parent domain.
 */
export const HSTS = "max-age=31536000";

/** How long `close()` lets in-flight requests finish before it closes their connections. */
export const DRAIN_MILLIS = 10_000;

declare module "fastify" {
  interface FastifyInstance {
    /** The API's parts, e.g. the gatekeeper for other HTTP edges (DICOMweb). */
    radledger: Api;
  }
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Requests Node's HTTP parser rejects before fastify sees them (oversized headers, malformed request
 * lines, timeouts) still get a problem document, then the connection is closed.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const error =
    err.code === "HPE_HEADER_OVERFLOW"
      ? new RadledgerError("HEADERS_TOO_LARGE", "the request headers exceed the limit")
      : new RadledgerError(
          "INPUT_INVALID",
          err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "the request took too long" : "malformed HTTP request",
        );
  const problem = problemOf(error);
  const body = JSON.stringify(problem);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  socket.destroy(err);
}

/** An oversized body the server still reads (and drops) after refusing it, so the client reads the 413. */
export const DRAIN_MAX_BYTES = 32 * 1024 * 1024;

function drainsAfterRefusal(contentLength: string | undefined): boolean {
  if (contentLength === undefined || !/^[0-9]{1,15}$/.test(contentLength)) return false;
  return Number(contentLength) <= DRAIN_MAX_BYTES;
}

function checkpointSize(note: string | undefined): number {
  return note === undefined ? 0 : Number(note.split("\n")[1] ?? 0);
}

export function buildServer(node: RadledgerNode, options: ServerOptions): FastifyInstance {
  const limits: ApiLimits = {
    ...DEFAULT_LIMITS,
    ...(options.bodyLimit === undefined ? {} : { bodyBytes: options.bodyLimit }),
    ...options.limits,
  };
  const logger =
    options.logger === undefined || options.logger === false
      ? false
      : {
          level: options.logger === true ? "info" : (options.logger.level ?? "info"),
          ...(options.logger !== true && options.logger.stream ? { stream: options.logger.stream } : {}),
          // Only what identifies a request; never headers (Authorization), bodies or query strings.
          serializers: {
            req: (r: { method: string; url: string; id: string }) => ({
              method: r.method,
              path: r.url.split("?")[0],
              id: r.id,
            }),
            res: (r: { statusCode: number }) => ({ status: r.statusCode }),
          },
          redact: ["req.headers", "headers.authorization"],
        };
  const app = Fastify({
    logger,
    // Our own onResponse line (route template, actor, duration) replaces fastify's request logs.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: limits.bodyBytes,
    routerOptions: { maxParamLength: 200 },
    // While the node drains (close()), new requests get a NODE_CLOSED problem with Connection:
    // close from the hook below instead of fastify's bare 503 body.
    return503OnClosing: false,
    ...(options.https === undefined
      ? { http: { maxHeaderSize: limits.headerBytes } }
      : { https: { ...options.https, maxHeaderSize: limits.headerBytes } }),
    requestTimeout: 30_000,
    clientErrorHandler,
    // URLs the router cannot decode (bad percent-encoding) or whose parameters are too long.
    frameworkErrors: (error, req, reply) => {
      const message = error.code === "FST_ERR_BAD_URL" ? "the URL is not validly encoded" : error.message;
      void sendProblem(reply, new RadledgerError("INPUT_INVALID", message), req.url.split("?")[0]);
    },
    connectionTimeout: 60_000,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });

  // Every route the server mounts, standard edges (FHIR, bundles, tiles, DICOMweb) included: the
  // audit coverage test (test/integration/every-read.test.ts) classifies each one.
  const served: { method: string; url: string }[] = [];
  app.addHook("onRoute", (r) => {
    for (const method of [r.method].flat()) if (method !== "HEAD") served.push({ method, url: r.url });
  });

  const auth = options.auth;
  const metrics =
    options.metrics ??
    new Metrics({
      logSize: () => node.ledger.size,
      checkpointSize: () => checkpointSize(node.ledger.latestCheckpoint),
    });
  const unsubscribe = node.onCommit((info) => metrics.commit(info));
  const unobserve = node.appender.onAppend((o) => metrics.append(o));
  // The request each decision is made in (IHE BALP transaction and client address, docs/audit.md),
  // carried through the request's async work rather than through every route's arguments.
  const transactions = new AsyncLocalStorage<Transaction>();
  const gatekeeper: Gatekeeper = createGatekeeper(node, {
    onDecision: (decision, basisOrReason) => metrics.accessDecisions.inc({ decision, basis: basisOrReason }),
    transaction: () => transactions.getStore(),
  });
  const api: Api = {
    node,
    auth,
    gatekeeper,
    metrics,
    limits,
    buckets: {
      anonymous: new TokenBuckets(limits.anonymous),
      actor: new TokenBuckets(limits.actor),
      login: new TokenBuckets(limits.login),
      authFailures: new TokenBuckets(limits.authFailures),
    },
    routes: [],
    served,
  };
  app.decorate("radledger", api);

  // Graceful close (docs/operations.md "Stopping"): from the moment close() is called no new request
  // is served; requests in flight finish, and every response from then on says Connection: close so
  // that keep-alive clients reconnect elsewhere (or later) instead of having their next request
  // reset. After DRAIN_MILLIS the remaining connections are closed regardless.
  let draining = false;
  app.addHook("preClose", async () => {
    draining = true;
    setTimeout(() => app.server.closeAllConnections(), DRAIN_MILLIS).unref();
  });
  app.addHook("onRequest", async (_req, reply) => {
    if (!draining) return;
    void reply.header("connection", "close");
    throw new RadledgerError("NODE_CLOSED", "the node is shutting down; retry shortly");
  });
  app.addHook("onSend", async (_req, reply) => {
    if (draining) void reply.header("connection", "close");
    if (options.https !== undefined) void reply.header("strict-transport-security", HSTS);
  });
  app.addHook("onClose", async () => {
    unsubscribe();
    unobserve();
    auth.close();
  });

  // One JSON parser for every body: strict RFC 8259 (no duplicate names, depth ≤ 32, no floats) over
  // strict UTF-8 (RFC 8259 §8.1: a body that is not valid UTF-8 is refused, never silently repaired
  // with U+FFFD), so hostile nesting, broken encodings or ambiguous documents are a 400 before any
  // handler runs. Fastify's default text/plain parser is removed: a JSON route answers any other
  // content type with 415 (docs/api.md); routes that take raw bodies register their own parser.
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, strictJsonBody);

  app.setErrorHandler((error, req, reply) => {
    if (isRadledgerError(error)) {
      if (error.category === "internal") req.log.error({ err: error }, "internal error");
      return sendProblem(reply, error, req.url.split("?")[0]);
    }
    const status =
      typeof (error as { statusCode?: unknown }).statusCode === "number"
        ? (error as { statusCode: number }).statusCode
        : 500;
    if (status === 413 && drainsAfterRefusal(req.headers["content-length"])) {
      // Fastify asks to close the connection because the client may still be sending its body; closing
      // with that body unread makes the kernel reset the connection, and the client often loses the
      // 413 to an EPIPE. A declared length up to DRAIN_MAX_BYTES is instead read and dropped (Node
      // dumps an unread request body once the answer is sent; requestTimeout bounds the time) and the
      // connection stays open.
      void reply.removeHeader("connection");
    }
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, body too large, unsupported media type).
      const code =
        status === 413
          ? "BODY_TOO_LARGE"
          : status === 415
            ? "MEDIA_TYPE_UNSUPPORTED"
            : status === 404
              ? "ROUTE_NOT_FOUND"
              : status === 429
                ? "RATE_LIMITED"
                : "INPUT_INVALID";
      const message =
        status === 415
          ? // The content type is the caller's: quoted, and cut short, in the problem it gets back.
            `this endpoint takes application/json, not ${JSON.stringify((req.headers["content-type"] ?? "none").slice(0, 100))}`
          : (error as Error).message;
      return sendProblem(reply, new RadledgerError(code, message), req.url.split("?")[0]);
    }
    req.log.error({ err: error }, "unhandled error");
    return sendProblem(reply, new RadledgerError("INTERNAL", "internal error"), req.url.split("?")[0]);
  });

  const web = registerWebApp(app);
  // A browser asking for a page the app routes gets the app; anything else unknown is a JSON 404.
  app.setNotFoundHandler((req, reply) => {
    if (web.servePage(req, reply)) return reply;
    return sendProblem(
      reply,
      new RadledgerError("ROUTE_NOT_FOUND", "no such resource"),
      req.url.split("?")[0],
    );
  });

  // Anonymous traffic (public routes, unknown routes) is limited per client address; authenticated
  // routes are limited per actor once the token is checked (route.ts).
  app.addHook("onRequest", (req, _reply, done) => {
    transactions.run({ request: req.id, address: req.ip }, done);
  });
  app.addHook("onRequest", async (req, reply) => {
    void reply.header("x-request-id", req.id);
    if (req.routeOptions.config.access === "authenticated") return;
    const wait = api.buckets.anonymous.take(req.ip);
    if (wait > 0) {
      metrics.rateLimited.inc();
      void reply.header("retry-after", String(wait));
      throw new RadledgerError("RATE_LIMITED", `too many requests; retry in ${wait} s`);
    }
  });

  app.addHook("onResponse", async (req, reply) => {
    const route = req.routeOptions.url ?? "unmatched";
    const seconds = reply.elapsedTime / 1000;
    metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    metrics.requestSeconds.observe(seconds, { route });
    req.log.info(
      {
        req,
        res: reply,
        route,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(req.caller ? { actor: req.caller.actor.id } : {}),
        ...(req.caller?.token ? { token: req.caller.token.id } : {}),
        ...(req.caller?.certificate ? { certificate: req.caller.certificate } : {}),
        ...(req.peer ? { peer: req.peer } : {}),
      },
      "request",
    );
  });

  app.get("/healthz", { config: { access: "public" } }, async () => ({ status: "ok" }));
  app.get("/readyz", { config: { access: "public" } }, async (_req, reply) => {
    if (node.ledger.latestCheckpoint === undefined) return reply.code(503).send({ status: "starting" });
    // A full or read-only disk: not ready until a probe or a write succeeds (src/app/storage-health.ts).
    const storage = node.storage.status();
    if (!storage.ready)
      return reply
        .code(503)
        .send({ status: "storage", code: storage.code, cause: storage.cause, reason: storage.reason });
    return { status: "ready", size: node.ledger.size };
  });
  app.get("/metrics", { config: { access: "public" } }, async (_req, reply) =>
    reply.type("text/plain; version=0.0.4; charset=utf-8").send(metrics.text()),
  );

  const consortium = options.consortium;
  // Entries are served to consortium peers (signed with a configured peer's log key) and to admins
  // and auditors; checkpoints, hash tiles and proofs to anyone (docs/privacy.md).
  const entryReaders = entryReaderGate(api, node.crypto, consortium ? consortium.peerKey : NO_PEERS);
  registerTileRoutes(app, node, entryReaders, consortium ? () => consortium.servedCheckpoint() : undefined);
  registerLogRoutes(app, api, entryReaders, consortium?.store);
  registerOpenApiRoutes(app, api);
  registerAuthRoutes(app, api);
  registerEnrolmentRoutes(app, api);
  registerEntryRoutes(app, api);
  registerQueryRoutes(app, api);
  registerContentRoutes(app, api);
  registerErasureRoutes(app, api);
  registerAlarmRoutes(app, api);
  if (consortium) {
    if (consortium.witness) registerWitnessRoutes(app, consortium.witness);
    registerConsortiumRoutes(app, api, consortium);
  }
  // DICOMweb, FHIR and bundles speak their own standards' paths and media types, so they are plain
  // routes that authenticate with the same bearer tokens (route.ts bearerActor).
  const bearer = bearerActor(api);
  if (options.dicomweb !== undefined)
    registerDicomwebRoutes(app, { ...options.dicomweb, authenticate: bearer });
  if (options.orthancAuthz !== undefined) registerOrthancAuthzRoutes(app, api, options.orthancAuthz);
  registerFhirRoutes(app, node, {
    authenticate: bearer,
    recordDenial: (r) => api.gatekeeper.recordDenial(r),
    recordAudit: (b) => api.gatekeeper.recordAudit(b),
  });
  // Reports from systems that speak FHIR, recorded as the RIS's HL7 v2 results are (docs/intake.md).
  registerFhirReportIntake(app, node, { authenticate: bearer });
  // IHE RESTful ATNA: the FHIR audit feed (ITI-20) and query (ITI-81), docs/audit.md.
  registerFhirAtnaRoutes(app, node, {
    authenticate: bearer,
    intake: new AuditIntake(node, {
      ...(options.auditRawMessages === undefined ? {} : { rawMessages: options.auditRawMessages }),
      onOutcome: (transport, outcome) => metrics.auditMessages.inc({ transport, outcome }),
    }),
    recordDenial: (r) => api.gatekeeper.recordDenial(r),
    recordAudit: (b) => api.gatekeeper.recordAudit(b),
  });
  registerBundleRoutes(app, node, {
    authorize: apiBundleAuthorizer(api),
    recorded: apiBundleRecorder(api),
  });
  return app;
}
