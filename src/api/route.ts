/**
 * How every /api/v1 endpoint is declared: one RouteSpec with zod schemas for path parameters, query
 * and body. The same schemas validate each request (a failure is a 400 problem naming the field) and
 * generate the OpenAPI 3.1 document (openapi.ts), so the document cannot drift from what the server
 * enforces. The wrapper also authenticates the bearer token, checks roles, applies the per-actor rate
 * limit and counts the request.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { RadledgerError, type ErrorCode } from "../core/errors.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import type { PurposeOfUse } from "../domain/consent/entries.js";
import { certBindingOf, getActor, INSTITUTION_ACTOR } from "../domain/identity/state.js";
import { certBindable } from "../domain/identity/credentials.js";
import { clientCertificatePin } from "./client-cert.js";
import type { AuthStore, TokenRecord } from "../ports/auth.js";
import type { RadledgerNode } from "../app/node.js";
import type { Gatekeeper } from "../app/gatekeeper.js";
import type { Metrics } from "./metrics.js";
import type { TokenBuckets } from "./rate-limit.js";

/**
 * An authenticated actor and the credential it used: a bearer token, or (a system actor over mutual
 * TLS, src/api/client-cert.ts) the pin of its client certificate's key.
 */
export interface Caller {
  readonly actor: ActorDoc;
  readonly token?: TokenRecord;
  /** RFC 7469 pin-sha256 of the client certificate's key, when the caller authenticated by it. */
  readonly certificate?: string;
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** "public" routes skip authentication and are rate-limited per client address. */
    access?: "public" | "authenticated";
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

/** Who may call: anyone, any authenticated actor, actors holding one of these roles, or a gate. */
export type RouteAuth = "public" | "any" | readonly string[] | RouteGate;

/**
 * Authentication other than a bearer token alone, e.g. consortium peers by HTTP message signature or
 * actors with `roles` (src/api/entry-access.ts). `check` throws the 401/403 itself; it answers the
 * caller when one is an actor.
 */
export interface RouteGate {
  readonly roles: readonly string[];
  /** For the OpenAPI document and the API page. */
  readonly description: string;
  check(req: FastifyRequest, reply: FastifyReply): Promise<Caller | undefined>;
}

export const isGate = (auth: RouteAuth): auth is RouteGate => typeof auth === "object" && "check" in auth;

export interface ApiLimits {
  readonly bodyBytes: number;
  readonly headerBytes: number;
  readonly anonymous: { perSecond: number; burst: number };
  readonly actor: { perSecond: number; burst: number };
  readonly login: { perSecond: number; burst: number };
  readonly authFailures: { perSecond: number; burst: number };
}

export interface Api {
  readonly node: RadledgerNode;
  readonly auth: AuthStore;
  readonly gatekeeper: Gatekeeper;
  readonly metrics: Metrics;
  readonly limits: ApiLimits;
  readonly buckets: {
    readonly anonymous: TokenBuckets;
    readonly actor: TokenBuckets;
    readonly login: TokenBuckets;
    readonly authFailures: TokenBuckets;
  };
  /** Every declared route, for the OpenAPI document and the API page. */
  readonly routes: RouteSpec[];
  /** Every mounted route (method, fastify URL), standard edges included. */
  readonly served?: readonly { readonly method: string; readonly url: string }[];
}

export interface HandlerContext<P, Q, B> {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** The authenticated caller (undefined only on public routes). */
  readonly caller: Caller | undefined;
}

export interface RouteSpec<P = unknown, Q = unknown, B = unknown> {
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** Fastify path, `:name` for parameters. */
  readonly url: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly auth: RouteAuth;
  readonly params?: z.ZodType<P>;
  readonly query?: z.ZodType<Q>;
  readonly body?: z.ZodType<B>;
  /** Extra request content types besides application/json (raw bodies). */
  readonly rawBody?: { readonly contentType: string; readonly description: string };
  /** Code for a body that fails its schema (default INPUT_INVALID). */
  readonly bodyErrorCode?: ErrorCode;
  readonly status?: number;
  readonly response?: {
    readonly description: string;
    readonly schema?: z.ZodType;
    readonly contentType?: string;
  };
  /** Problem codes this endpoint may answer with, besides the common ones (documentation). */
  readonly errors?: readonly ErrorCode[];
  /**
   * The node's own audit event this route records, once per request, before it answers (issue 21
   * §3; docs/audit.md "What is recorded when"): `query` (DICOM 110112) for lists across patients,
   * `audit-log-used` (110101) for reads of the access records. A caller refused by the route's
   * roles is recorded with outcome `denied`.
   */
  readonly audit?: "query" | "audit-log-used";
  handler(ctx: HandlerContext<P, Q, B>): Promise<unknown>;
}

/** Zod issues → one coded 400 naming the first failing field. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, code: ErrorCode, prefix: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
  if (issue.code === "unrecognized_keys") {
    // Name the first unknown field or parameter itself, so a client sees which one to drop.
    const at = `${prefix}${path}.${issue.keys[0] ?? ""}`;
    const what = prefix === "query" && path === "" ? "query parameter" : "field";
    throw new RadledgerError(code, `${at}: unknown ${what} ${JSON.stringify(issue.keys[0])}`, { at });
  }
  const at = `${prefix}${path}`;
  throw new RadledgerError(code, `${at}: ${issue.message}`, { at });
}

/** The query of a route that declares none: no parameter at all is accepted. */
const NO_QUERY = z.strictObject({});

/**
 * For routes outside defineRoute (FHIR, bundles, DICOMweb): a query parameter not in `allowed` is a
 * 400 INPUT_INVALID naming it (docs/api.md, "Query parameters").
 */
export function rejectUnknownQuery(
  query: unknown,
  allowed: readonly string[] | ((name: string) => boolean),
): void {
  if (typeof query !== "object" || query === null) return;
  const ok = typeof allowed === "function" ? allowed : (name: string) => allowed.includes(name);
  for (const name of Object.keys(query))
    if (!ok(name))
      throw new RadledgerError(
        "INPUT_INVALID",
        `query.${name}: unknown query parameter ${JSON.stringify(name)}`,
        {
          at: `query.${name}`,
        },
      );
}

/** The web app's session cookie (docs/web.md "Sign-in"): HttpOnly, SameSite=Strict, Path=/. */
export const SESSION_COOKIE = "radledger_session";
/** The header the web app sends on every unsafe request made with the session cookie. */
export const CSRF_HEADER = "x-radledger-csrf";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The session cookie's value, if the request carries one (RFC 6265 §5.4 cookie-string). */
export function sessionCookie(req: FastifyRequest): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq > 0 && pair.slice(0, eq).trim() === SESSION_COOKIE) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The token a request carries: the Authorization header (RFC 6750), or else the web app's session
 * cookie. A cookie is sent by the browser on its own, so a request authenticated by it and able to
 * change something must prove it comes from the app: SameSite=Strict keeps other sites' requests
 * from carrying it, and the custom header below — which no other origin can add without a CORS
 * preflight this node never grants — also stops same-site sibling origins (OWASP CSRF cheat sheet,
 * "Custom Request Headers"); an Origin header, when present, must be this host.
 */
function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) {
    const cookie = sessionCookie(req);
    if (cookie === undefined || cookie === "") return undefined;
    if (!SAFE_METHODS.has(req.method)) {
      const origin = req.headers.origin;
      const sameOrigin = origin === undefined || hostOf(origin) === req.headers.host;
      if (req.headers[CSRF_HEADER] !== "1" || !sameOrigin)
        throw new RadledgerError(
          "CSRF_REJECTED",
          `a request authenticated by the session cookie that changes something must come from this node's web app (header ${CSRF_HEADER}: 1, same origin)`,
        );
    }
    if (!/^[!-~]{1,200}$/.test(cookie))
      throw new RadledgerError("AUTH_TOKEN_INVALID", "the session cookie is not a token");
    return cookie;
  }
  const m = /^Bearer ([!-~]{1,200})$/i.exec(h);
  if (!m) throw new RadledgerError("AUTH_TOKEN_INVALID", "the Authorization header must be 'Bearer <token>'");
  return m[1];
}

/** host[:port] of an Origin header value, or undefined when it is not a URL ("null", garbage). */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function limited(api: Api, seconds: number, reply: FastifyReply): never {
  api.metrics.rateLimited.inc();
  void reply.header("retry-after", String(seconds));
  throw new RadledgerError("RATE_LIMITED", `too many requests; retry in ${seconds} s`, {
    retryAfter: seconds,
  });
}

/**
 * The system actor a verified client certificate's key is bound to (cert.bound, on the log), or a
 * coded 401: AUTH_CERT_UNTRUSTED (it does not verify against the client CA), AUTH_CERT_UNBOUND
 * (bound to no active system actor). Undefined when the connection presented no certificate.
 */
function certificateCaller(api: Api, req: FastifyRequest): Caller | undefined {
  const pin = clientCertificatePin(req);
  if (pin === undefined) return undefined;
  const binding = certBindingOf(api.node.ledger.state, pin);
  const actor = binding && getActor(api.node.ledger.state, binding.actor);
  if (!actor || !certBindable(actor))
    throw new RadledgerError(
      "AUTH_CERT_UNBOUND",
      "the client certificate's key is bound to no active system actor (radledger token bind-cert)",
    );
  return { actor, certificate: pin };
}

/**
 * Authenticates the bearer token, or else a client certificate (mutual TLS); failures count against
 * the client address. A bearer token, when sent, decides: a person with a token on a connection
 * that also carries some certificate is that person.
 */
export async function authenticate(
  api: Api,
  req: FastifyRequest,
  reply: FastifyReply,
): Promise<Caller | undefined> {
  let token: string | undefined;
  try {
    token = bearer(req);
    if (token === undefined) {
      // A connection's certificate that authenticates nobody fails the same way a bad token does.
      const wait = api.buckets.authFailures.peek(req.ip);
      if (wait > 0) limited(api, wait, reply);
      return certificateCaller(api, req);
    }
  } catch (e) {
    const wait = api.buckets.authFailures.take(req.ip);
    if (wait > 0) limited(api, wait, reply);
    throw e;
  }
  // A client that keeps presenting bad tokens is slowed down before any scrypt work is done.
  const wait = api.buckets.authFailures.peek(req.ip);
  if (wait > 0) limited(api, wait, reply);
  let record: TokenRecord;
  try {
    record = await api.auth.verifyToken(token, api.node.clock.now());
  } catch (e) {
    api.buckets.authFailures.take(req.ip);
    throw e;
  }
  const actor = getActor(api.node.ledger.state, record.actor);
  if (!actor || actor.status !== "active" || actor.id === INSTITUTION_ACTOR)
    throw new RadledgerError("AUTH_ACTOR_INACTIVE", `actor ${record.actor} is not an active enrolled actor`);
  return { actor, token: record };
}

/**
 * The API's bearer authentication for edges that are not /api/v1 routes (DICOMweb, FHIR): the
 * caller's actor id, or undefined without an Authorization header. Invalid, expired or revoked
 * tokens, inactive actors and rate limits answer the same coded errors as the API; the caller is
 * kept on the request so logs and metrics name it.
 */
export function bearerActor(
  api: Api,
): (req: FastifyRequest, reply: FastifyReply) => Promise<{ actor: string } | undefined> {
  return async (req, reply) => {
    const caller = await authenticate(api, req, reply);
    if (!caller) return undefined;
    req.caller = caller;
    const wait = api.buckets.actor.take(caller.actor.id);
    if (wait > 0) limited(api, wait, reply);
    return { actor: caller.actor.id };
  };
}

/** The purpose recorded when a read does not name one: the patient's request, operations, treatment. */
export function purposeOf(caller: Caller): PurposeOfUse {
  if (caller.actor.kind === "patient") return "PATRQT";
  if (hasRole(caller, ["auditor", "admin"])) return "HOPERAT";
  return "TREAT";
}

/** `/a/:id` → `/a/{id}`: a route as the OpenAPI document names it (no parameter values). */
export const routeTemplate = (url: string): string => url.replace(/:([A-Za-z]+)/g, "{$1}");

/**
 * Records one audit.recorded event of a request (docs/audit.md): who, why (the default purpose of
 * the caller), under which role (the first of the caller's that `roles` admits; "patient" for a
 * patient about their own record), which route, and the patient when the request names one.
 */
export async function recordRequestAudit(
  api: Api,
  caller: Caller,
  event: "query" | "audit-log-used",
  route: { readonly method: string; readonly url: string },
  options: { roles?: readonly string[] | "any"; patient?: string; outcome?: "success" | "denied" } = {},
): Promise<void> {
  const roles = options.roles;
  const role =
    caller.actor.kind === "patient"
      ? "patient"
      : caller.actor.roles.find((r) => roles === undefined || roles === "any" || roles.includes(r));
  await api.gatekeeper.recordAudit({
    event,
    outcome: options.outcome ?? "success",
    actor: caller.actor.id,
    purpose: purposeOf(caller),
    ...(role === undefined ? {} : { role }),
    query: `${route.method === "POST" ? "POST" : "GET"} ${routeTemplate(route.url)}`,
    ...(options.patient === undefined ? {} : { patient: options.patient }),
  });
}

export function hasRole(caller: Caller, roles: readonly string[]): boolean {
  return roles.some((r) => caller.actor.roles.includes(r));
}

export function requireRole(caller: Caller, roles: readonly string[]): void {
  if (!hasRole(caller, roles))
    throw new RadledgerError("FORBIDDEN_ROLE", `this needs one of the roles ${roles.join(", ")}`);
}

export function defineRoute<P, Q, B>(app: FastifyInstance, api: Api, spec: RouteSpec<P, Q, B>): void {
  api.routes.push(spec);
  // Every query object schema is strict, whichever way the route declared it.
  const querySchema: z.ZodType<Q> | undefined =
    spec.query instanceof z.ZodObject ? (spec.query.strict() as unknown as z.ZodType<Q>) : spec.query;
  const isPublic = spec.auth === "public";
  app.route({
    method: spec.method,
    url: spec.url,
    config: { access: isPublic ? "public" : "authenticated" },
    // Authentication runs before the body is even parsed: an unauthenticated or unauthorised
    // caller costs no parsing and gets its 401/403 whatever it sent.
    ...(isPublic
      ? {}
      : {
          onRequest: async (req: FastifyRequest, reply: FastifyReply) => {
            if (isGate(spec.auth)) {
              const gated = await spec.auth.check(req, reply);
              if (gated) req.caller = gated;
              return;
            }
            const caller = await authenticate(api, req, reply);
            if (!caller) {
              void reply.header("www-authenticate", 'Bearer realm="radledger"');
              throw new RadledgerError(
                "AUTH_REQUIRED",
                "this endpoint needs a bearer token (or, for a system actor, a bound client certificate)",
              );
            }
            req.caller = caller;
            const wait = api.buckets.actor.take(caller.actor.id);
            if (wait > 0) limited(api, wait, reply);
            if (spec.auth !== "any") {
              const roles = spec.auth as readonly string[];
              // A refused attempt at an audited route is on the log too (outcome denied).
              if (spec.audit !== undefined && !hasRole(caller, roles))
                await recordRequestAudit(api, caller, spec.audit, spec, { outcome: "denied" });
              requireRole(caller, roles);
            }
          },
        }),
    handler: async (req, reply) => {
      const caller = req.caller;
      const params = spec.params
        ? parseWith(spec.params, req.params, "INPUT_INVALID", "path")
        : (undefined as P);
      // Query schemas are strict (docs/api.md): an unknown parameter is a 400 naming it, also on
      // routes that take no query at all — a misspelt filter must not silently widen an answer.
      const query = querySchema
        ? parseWith(querySchema, req.query ?? {}, "INPUT_INVALID", "query")
        : (parseWith(NO_QUERY, req.query ?? {}, "INPUT_INVALID", "query"), undefined as Q);
      let body = undefined as B;
      if (spec.body && !(spec.rawBody && Buffer.isBuffer(req.body))) {
        if (req.body === undefined)
          throw new RadledgerError("INPUT_INVALID", "this endpoint needs a JSON request body", {
            at: "body",
          });
        body = parseWith(spec.body, req.body, spec.bodyErrorCode ?? "INPUT_INVALID", "");
      } else if (spec.rawBody) {
        body = req.body as B;
      }
      if (spec.audit !== undefined && caller !== undefined) {
        // Recorded before the answer is computed; the patient when the query names one.
        const named = (query as { patient?: unknown } | undefined)?.patient;
        await recordRequestAudit(api, caller, spec.audit, spec, {
          roles: isGate(spec.auth) ? spec.auth.roles : (spec.auth as readonly string[] | "any"),
          ...(typeof named === "string" ? { patient: named } : {}),
        });
      }
      const result = await spec.handler({ req, reply, params, query, body, caller });
      if (result === reply) return reply;
      if (spec.status !== undefined) void reply.code(spec.status);
      return result;
    },
  });
}

/** Shared query pieces. */
export const cursor = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "expected a cursor (the `next` of the previous page)");
export const pageLimit = z.string().regex(/^[1-9][0-9]{0,3}$/, "expected a page size 1..1000");
export const pageQuery = z.strictObject({ after: cursor.optional(), limit: pageLimit.optional() });
export type PageQuery = z.infer<typeof pageQuery>;

/** A numeric cursor (a log index) and a page size from the query. */
export function pageOptions(q: PageQuery | undefined): { after?: number; limit?: number } {
  const out: { after?: number; limit?: number } = {};
  if (q?.after !== undefined) {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(q.after) || !Number.isSafeInteger(Number(q.after)))
      throw new RadledgerError("INPUT_INVALID", "query.after: not a cursor of this list", {
        at: "query.after",
      });
    out.after = Number(q.after);
  }
  if (q?.limit !== undefined) out.limit = Math.min(Number(q.limit), 1000);
  return out;
}

/** A page with its cursor as an opaque string, the form every list endpoint answers with. */
export function pageOut<T>(p: { items: T[]; next?: number | string }): { items: T[]; next?: string } {
  return p.next === undefined ? { items: p.items } : { items: p.items, next: String(p.next) };
}

export const pageSchema = (item: z.ZodType = z.record(z.string(), z.unknown())) =>
  z.object({ items: z.array(item), next: z.string().optional() });
