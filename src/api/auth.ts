/**
 * Authentication and actor management endpoints: password login (a session token), API tokens issued
 * by an admin, revocation, passwords, and enrolment of new actors by an admin. Tokens are bearer
 * tokens (RFC 6750) shown once; the node keeps only scrypt hashes (src/adapters/sqlite/auth-store.ts).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { toBase64 } from "../core/bytes.js";
import { RadledgerError } from "../core/errors.js";
import { GRANTABLE_ROLES } from "../domain/identity/roles.js";
import { getActor, INSTITUTION_ACTOR } from "../domain/identity/state.js";
import type { ActorDoc } from "../domain/ledger/entry-types.js";
import { actorId, code, label, publicKey, pseudonym } from "../domain/schemas.js";
import { lookupOptions, page } from "../domain/paging.js";
import {
  API_TOKEN_TTL_SECONDS,
  MAX_API_TOKEN_TTL_SECONDS,
  MAX_PASSWORD_LENGTH,
  MAX_SESSION_TTL_SECONDS,
  MIN_PASSWORD_LENGTH,
  MIN_TOKEN_TTL_SECONDS,
  SESSION_TTL_SECONDS,
  type TokenRecord,
} from "../ports/auth.js";
import { appendSigned, heldKey } from "./entries.js";
import {
  defineRoute,
  hasRole,
  pageOptions,
  pageOut,
  pageQuery,
  pageSchema,
  type Api,
  type Caller,
} from "./route.js";

const password = z.string().min(MIN_PASSWORD_LENGTH).max(MAX_PASSWORD_LENGTH);
const tokenId = z.string().regex(/^[0-9a-f]{16}$/, "expected a token id");

const tokenRecord = z.object({
  id: z.string(),
  actor: z.string(),
  kind: z.enum(["api", "session"]),
  label: z.string().optional(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  revokedAt: z.string().optional(),
  revokedBy: z.string().optional(),
});
const issuedToken = z.object({ token: z.string(), record: tokenRecord });

/** Token records with times as RFC 3339 (the stored form is milliseconds). */
export function tokenView(r: TokenRecord): z.infer<typeof tokenRecord> {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return {
    id: r.id,
    actor: r.actor,
    kind: r.kind,
    ...(r.label === undefined ? {} : { label: r.label }),
    createdAt: iso(r.createdAt),
    createdBy: r.createdBy,
    expiresAt: iso(r.expiresAt),
    ...(r.revokedAt === undefined ? {} : { revokedAt: iso(r.revokedAt) }),
    ...(r.revokedBy === undefined ? {} : { revokedBy: r.revokedBy }),
  };
}

/** An actor as the API shows it. */
export function actorView(a: ActorDoc): Record<string, unknown> {
  return a;
}

function requireIssuable(api: Api, id: string): ActorDoc {
  const actor = getActor(api.node.store, id);
  if (!actor || actor.status !== "active" || id === INSTITUTION_ACTOR)
    throw new RadledgerError("ACTOR_UNKNOWN", `no active enrolled actor ${id}`, { at: "actor" });
  return actor;
}

const ownOrAdmin = (caller: Caller, actor: string): boolean =>
  caller.actor.id === actor || hasRole(caller, ["admin"]);

/** Issues an API token for `actor` (an enrolled, active one), shown once. */
async function issueApiToken(
  api: Api,
  actor: string,
  createdBy: string,
  options: { ttlSeconds?: number | undefined; label?: string | undefined },
): Promise<z.infer<typeof issuedToken>> {
  const { token, record } = await api.auth.issueToken({
    actor,
    kind: "api",
    ttlMs: (options.ttlSeconds ?? API_TOKEN_TTL_SECONDS) * 1000,
    createdBy,
    ...(options.label === undefined ? {} : { label: options.label }),
    now: api.node.clock.now(),
  });
  return { token, record: tokenView(record) };
}

export function registerAuthRoutes(app: FastifyInstance, api: Api): void {
  // In this order in the OpenAPI document.
  registerSessionRoutes(app, api);
  registerTokenRoutes(app, api);
  registerPasswordRoutes(app, api);
  registerActorRoutes(app, api);
}

/** Password login, logout, and who the caller is. */
function registerSessionRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/auth/login",
    tag: "auth",
    summary: "Log in with an actor id and password; answers a session bearer token (shown once).",
    auth: "public",
    body: z.strictObject({
      actor: actorId,
      password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
      ttlSeconds: z.number().int().min(MIN_TOKEN_TTL_SECONDS).max(MAX_SESSION_TTL_SECONDS).optional(),
    }),
    status: 201,
    response: { description: "the session token and its record", schema: issuedToken },
    errors: ["AUTH_CREDENTIALS_INVALID", "RATE_LIMITED"],
    async handler({ req, reply, body }) {
      const wait = api.buckets.login.take(req.ip);
      if (wait > 0) {
        api.metrics.rateLimited.inc();
        void reply.header("retry-after", String(wait));
        throw new RadledgerError("RATE_LIMITED", `too many logins; retry in ${wait} s`);
      }
      const ok = await api.auth.checkPassword(body.actor, body.password);
      const actor = getActor(api.node.store, body.actor);
      if (!ok || !actor || actor.status !== "active" || actor.id === INSTITUTION_ACTOR)
        throw new RadledgerError("AUTH_CREDENTIALS_INVALID", "wrong actor id or password");
      const { token, record } = await api.auth.issueToken({
        actor: actor.id,
        kind: "session",
        ttlMs: (body.ttlSeconds ?? SESSION_TTL_SECONDS) * 1000,
        createdBy: actor.id,
        now: api.node.clock.now(),
      });
      return { token, record: tokenView(record) };
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/auth/logout",
    tag: "auth",
    summary: "Revokes the token this request carries.",
    auth: "any",
    response: { description: "the revoked token's record", schema: tokenRecord },
    async handler({ caller }) {
      return tokenView(api.auth.revokeToken(caller!.token.id, caller!.actor.id, api.node.clock.now())!);
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/auth/me",
    tag: "auth",
    summary: "The authenticated actor (roles, kind) and the token in use.",
    auth: "any",
    response: {
      description: "actor and token",
      schema: z.object({ actor: z.record(z.string(), z.unknown()), token: tokenRecord }),
    },
    async handler({ caller }) {
      return { actor: actorView(caller!.actor), token: tokenView(caller!.token) };
    },
  });
}

/** API tokens: an admin issues them; an admin or the owner lists and revokes them. */
function registerTokenRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/auth/tokens",
    tag: "auth",
    summary:
      "An admin issues an API token for an enrolled actor (an integration, a patient portal user); shown once.",
    auth: ["admin"],
    body: z.strictObject({
      actor: actorId,
      ttlSeconds: z.number().int().min(MIN_TOKEN_TTL_SECONDS).max(MAX_API_TOKEN_TTL_SECONDS).optional(),
      label: label.optional(),
    }),
    status: 201,
    response: { description: "the token and its record", schema: issuedToken },
    errors: ["ACTOR_UNKNOWN"],
    async handler({ body, caller }) {
      const actor = requireIssuable(api, body.actor);
      return issueApiToken(api, actor.id, caller!.actor.id, body);
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/auth/tokens",
    tag: "auth",
    summary: "Token records (never secrets): an admin sees every actor's, others their own.",
    auth: "any",
    query: z.strictObject({ actor: actorId.optional() }),
    response: { description: "token records", schema: z.object({ items: z.array(tokenRecord) }) },
    async handler({ query, caller }) {
      const actor = query.actor ?? (hasRole(caller!, ["admin"]) ? undefined : caller!.actor.id);
      if (actor !== undefined && !ownOrAdmin(caller!, actor))
        throw new RadledgerError("FORBIDDEN_ROLE", "only an admin lists another actor's tokens");
      return { items: api.auth.listTokens(actor).map(tokenView) };
    },
  });

  defineRoute(app, api, {
    method: "DELETE",
    url: "/api/v1/auth/tokens/:id",
    tag: "auth",
    summary: "Revokes a token at once (an admin any token, an actor their own).",
    auth: "any",
    params: z.strictObject({ id: tokenId }),
    response: { description: "the revoked token's record", schema: tokenRecord },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      const record = api.auth.getToken(params.id);
      if (!record || !ownOrAdmin(caller!, record.actor))
        throw new RadledgerError("RECORD_NOT_FOUND", `no token ${params.id} of yours`);
      return tokenView(api.auth.revokeToken(params.id, caller!.actor.id, api.node.clock.now())!);
    },
  });
}

/** Setting a password: an admin for anyone, an actor for themself. */
function registerPasswordRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "PUT",
    url: "/api/v1/actors/:id/password",
    tag: "actors",
    summary:
      "Sets an actor's password: an admin for any actor, an actor for themself with the current password. Revokes the actor's session tokens.",
    auth: "any",
    params: z.strictObject({ id: actorId }),
    body: z.strictObject({ password, currentPassword: z.string().max(MAX_PASSWORD_LENGTH).optional() }),
    status: 204,
    errors: ["ACTOR_UNKNOWN", "AUTH_CREDENTIALS_INVALID"],
    async handler({ params, body, caller, reply }) {
      const admin = hasRole(caller!, ["admin"]);
      if (!admin) {
        if (caller!.actor.id !== params.id)
          throw new RadledgerError("FORBIDDEN_ROLE", "only an admin sets another actor's password");
        if (
          body.currentPassword === undefined ||
          !(await api.auth.checkPassword(params.id, body.currentPassword))
        )
          throw new RadledgerError("AUTH_CREDENTIALS_INVALID", "the current password is wrong");
      }
      requireIssuable(api, params.id);
      await api.auth.setPassword(params.id, body.password, caller!.actor.id, api.node.clock.now());
      for (const t of api.auth.listTokens(params.id))
        if (t.kind === "session" && t.revokedAt === undefined && t.id !== caller!.token.id)
          api.auth.revokeToken(t.id, caller!.actor.id, api.node.clock.now());
      return reply.code(204).send();
    },
  });
}

/** The enrolled actors: listing, one actor, and enrolment by an admin. */
function registerActorRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/actors",
    tag: "actors",
    summary: "Enrolled actors in enrolment order (admins and auditors).",
    auth: ["admin", "auditor"],
    query: pageQuery,
    response: { description: "a page of actors", schema: pageSchema() },
    async handler({ query }) {
      const o = lookupOptions(pageOptions(query));
      const rows = api.node.store.lookup("actor.all", "", { ...o, limit: o.limit + 1 });
      return pageOut(page(rows, o.limit, (r) => actorView(getActor(api.node.store, r.value)!)));
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/actors/:id",
    tag: "actors",
    summary: "One actor: admins and auditors see any, staff see staff and systems, everyone sees themself.",
    auth: "any",
    params: z.strictObject({ id: actorId }),
    response: { description: "the actor", schema: z.record(z.string(), z.unknown()) },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      const actor = getActor(api.node.store, params.id);
      const self = caller!.actor.id === params.id;
      const privileged = hasRole(caller!, ["admin", "auditor"]);
      const visible =
        actor !== undefined &&
        (self || privileged || (caller!.actor.kind !== "patient" && actor.kind !== "patient"));
      if (!visible) throw new RadledgerError("RECORD_NOT_FOUND", `no actor ${params.id}`);
      return actorView(actor);
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/actors",
    tag: "actors",
    summary:
      "An admin enrols an actor (actor.enrolled signed with the admin's key). Without publicKey the node creates and holds the actor's key; optionally sets a password and issues an API token.",
    auth: ["admin"],
    body: z.strictObject({
      actorId,
      kind: z.enum(["staff", "patient", "system"]),
      roles: z
        .array(z.enum(GRANTABLE_ROLES as [string, ...string[]]))
        .min(1)
        .max(8),
      displayName: label.optional(),
      specialty: code.optional(),
      patient: pseudonym.optional(),
      publicKey: publicKey.optional(),
      password: password.optional(),
      token: z
        .strictObject({
          ttlSeconds: z.number().int().min(MIN_TOKEN_TTL_SECONDS).max(MAX_API_TOKEN_TTL_SECONDS).optional(),
          label: label.optional(),
        })
        .optional(),
    }),
    status: 201,
    response: {
      description: "the enrolment entry, the actor, and the token when one was asked for",
      schema: z.object({
        index: z.number(),
        leafHash: z.string(),
        actor: z.record(z.string(), z.unknown()),
        keyHeld: z.boolean(),
        token: issuedToken.optional(),
      }),
    },
    errors: ["ACTOR_ALREADY_ENROLLED", "ENTRY_SCHEMA_INVALID", "SIGNING_KEY_NOT_HELD"],
    async handler({ body, caller }) {
      const admin = heldKey(api, caller!);
      if (getActor(api.node.store, body.actorId))
        throw new RadledgerError("ACTOR_ALREADY_ENROLLED", `actor ${body.actorId} is already enrolled`);
      if (body.publicKey === undefined && api.node.heldKeys.has(body.actorId))
        throw new RadledgerError(
          "ACTOR_ALREADY_ENROLLED",
          `the node already holds a key file for ${body.actorId}; enrol with a publicKey or remove the stale file`,
        );
      let seed: Uint8Array | undefined;
      let pub = body.publicKey;
      if (pub === undefined) {
        seed = api.node.crypto.randomBytes(32);
        pub = toBase64(api.node.crypto.ed25519PublicKey(seed));
      }
      const enrolment = {
        actorId: body.actorId,
        kind: body.kind,
        roles: body.roles,
        publicKey: pub,
        ...(body.displayName === undefined ? {} : { displayName: body.displayName }),
        ...(body.specialty === undefined ? {} : { specialty: body.specialty }),
        ...(body.patient === undefined ? {} : { patient: body.patient }),
      };
      const def = api.node.registry.get("actor.enrolled")!;
      const check = def.body.safeParse(enrolment);
      if (!check.success)
        throw new RadledgerError("ENTRY_SCHEMA_INVALID", `body: ${check.error.issues[0]!.message}`, {
          at: "body",
        });
      // The key file is written only once the enrolment is durable, and never overwritten.
      const result = await appendSigned(api, admin, "actor.enrolled", enrolment, {});
      if (seed) api.node.heldKeys.put(body.actorId, seed);
      if (body.password !== undefined)
        await api.auth.setPassword(body.actorId, body.password, caller!.actor.id, api.node.clock.now());
      const token =
        body.token === undefined
          ? undefined
          : await issueApiToken(api, body.actorId, caller!.actor.id, body.token);
      return {
        index: result.index,
        leafHash: result.leafHash,
        actor: actorView(getActor(api.node.store, body.actorId)!),
        keyHeld: seed !== undefined,
        ...(token ? { token } : {}),
      };
    },
  });
}
