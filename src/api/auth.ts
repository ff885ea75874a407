/**
 * Authentication and actor management endpoints: password login (a session token), API tokens,
 * revocation, passwords, and enrolment of new actors by an admin. Tokens are bearer tokens (RFC 6750)
 * shown once; the node keeps only scrypt hashes (src/adapters/sqlite/auth-store.ts).
 *
 * Who may obtain a token for whom (docs/security.md "Tokens and delegation"): a person (staff or
 * patient) only for themself — a session from their own password sign-in, and API tokens minted
 * with that session; an admin only for system actors. Every issuance, revocation and password set
 * is an entry on the log (token.issued, token.revoked, password.set; src/domain/identity/entries.ts)
 * signed by the institution and naming both the actor concerned and the actor who asked.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { RadledgerError } from "../core/errors.js";
import { GRANTABLE_ROLES } from "../domain/identity/roles.js";
import { getActor, INSTITUTION_ACTOR, keyCustodyOf } from "../domain/identity/state.js";
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
  type TokenKind,
  type TokenRecord,
} from "../ports/auth.js";
import * as credentials from "../app/credentials.js";
import { changePassword, enrolActor } from "../app/actors.js";
import { heldKey } from "./entries.js";
import {
  defineRoute,
  hasRole,
  pageOptions,
  pageOut,
  pageQuery,
  pageSchema,
  SESSION_COOKIE,
  sessionCookie,
  type Api,
  type Caller,
} from "./route.js";

/**
 * Set-Cookie for the web app's session (RFC 6265bis): HttpOnly (no script reads it), SameSite=Strict
 * (no other site's request carries it), Path=/, Secure whenever the node serves HTTPS, and a
 * Max-Age equal to the session's lifetime (0 clears it).
 */
function sessionCookieHeader(req: FastifyRequest, token: string, maxAgeSeconds: number): string {
  const secure = req.protocol === "https" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${token}; Max-Age=${maxAgeSeconds}; Path=/; HttpOnly; SameSite=Strict${secure}`;
}

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
  /** Never usable: its issuance did not reach the log (the issuing request failed). */
  pending: z.literal(true).optional(),
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
    ...(r.pending === undefined ? {} : { pending: r.pending }),
  };
}

/**
 * An actor as the API shows it, with `keyCustody`: "self" when the node holds no key of theirs (a
 * patient's browser key, key.self-enrolled; or an actor enrolled with a publicKey of their own),
 * "node" when the node signs with a key it holds for them (docs/security.md "Key custody").
 */
export function actorView(a: ActorDoc, api?: Api): Record<string, unknown> {
  if (api === undefined) return a;
  const node = a.id === INSTITUTION_ACTOR || (keyCustodyOf(a) !== "self" && api.node.heldKeys.has(a.id));
  return { ...a, keyCustody: node ? "node" : "self" };
}

function requireIssuable(api: Api, id: string): ActorDoc {
  const actor = getActor(api.node.store, id);
  if (!actor || actor.status !== "active" || id === INSTITUTION_ACTOR)
    throw new RadledgerError("ACTOR_UNKNOWN", `no active enrolled actor ${id}`, { at: "actor" });
  return actor;
}

const ownOrAdmin = (caller: Caller, actor: string): boolean =>
  caller.actor.id === actor || hasRole(caller, ["admin"]);

const issueToken = async (
  api: Api,
  target: ActorDoc,
  issuer: ActorDoc,
  kind: TokenKind,
  ttlSeconds: number,
  label?: string,
): Promise<z.infer<typeof issuedToken>> => {
  const { token, record } = await credentials.issueToken(api.node, api.auth, {
    target,
    issuer,
    kind,
    ttlSeconds,
    label,
  });
  return { token, record: tokenView(record) };
};

const revokeToken = (
  api: Api,
  record: TokenRecord,
  by: string,
  reason: credentials.RevocationReason,
): Promise<TokenRecord> => credentials.revokeToken(api.node, api.auth, record, by, reason);

const setPassword = (api: Api, actor: string, password: string, by: string): Promise<void> =>
  credentials.setPassword(api.node, api.auth, actor, password, by);

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
      /** Required when an admin set the password: the actor's own new one, set before the session. */
      newPassword: password.optional(),
      ttlSeconds: z.number().int().min(MIN_TOKEN_TTL_SECONDS).max(MAX_SESSION_TTL_SECONDS).optional(),
      /**
       * The web app's sign-in: the token goes into an HttpOnly, SameSite=Strict cookie instead of
       * the answer, so no page script can ever read it (docs/web.md "Sign-in").
       */
      cookie: z.boolean().optional(),
    }),
    status: 201,
    response: {
      description: "the session token (omitted with cookie: true) and its record",
      schema: issuedToken.extend({ token: z.string().optional() }),
    },
    errors: ["AUTH_CREDENTIALS_INVALID", "PASSWORD_CHANGE_REQUIRED", "RATE_LIMITED"],
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
      // A password someone else set (an admin, at enrolment or a reset) opens no session: whoever
      // signs in with it chooses the actor's own password first, which the log records.
      if (api.auth.passwordSetBy(actor.id) !== actor.id) {
        if (body.newPassword === undefined)
          throw new RadledgerError(
            "PASSWORD_CHANGE_REQUIRED",
            "this password was set by an admin: sign in again with newPassword to choose your own",
            { at: "newPassword" },
          );
        await setPassword(api, actor.id, body.newPassword, actor.id);
      }
      const ttl = body.ttlSeconds ?? SESSION_TTL_SECONDS;
      const issued = await issueToken(api, actor, actor, "session", ttl);
      if (body.cookie !== true) return issued;
      void reply.header("set-cookie", sessionCookieHeader(req, issued.token, ttl));
      return { record: issued.record };
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/auth/logout",
    tag: "auth",
    summary: "Revokes the token this request carries.",
    auth: "any",
    response: { description: "the revoked token's record", schema: tokenRecord },
    async handler({ req, reply, caller }) {
      const token = caller!.token;
      // Whatever authenticated this request, a browser's session cookie is cleared too.
      if (sessionCookie(req) !== undefined) void reply.header("set-cookie", sessionCookieHeader(req, "", 0));
      if (token === undefined)
        throw new RadledgerError(
          "AUTH_REQUIRED",
          "logout revokes the bearer token a request carries; this one has none",
        );
      return tokenView(await revokeToken(api, token, caller!.actor.id, "logout"));
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/auth/me",
    tag: "auth",
    summary:
      "The authenticated actor (roles, kind) and the credential in use: the token, or the pin of a system actor's client certificate (mutual TLS).",
    auth: "any",
    response: {
      description: "actor and token",
      schema: z.object({
        actor: z.record(z.string(), z.unknown()),
        token: tokenRecord.optional(),
        certificate: z.string().optional(),
      }),
    },
    async handler({ caller }) {
      return {
        actor: actorView(caller!.actor, api),
        ...(caller!.token ? { token: tokenView(caller!.token) } : {}),
        ...(caller!.certificate ? { certificate: caller!.certificate } : {}),
      };
    },
  });
}

/**
 * API tokens: a person mints their own with the session of their own sign-in, an admin issues them
 * for system actors; an admin or the owner lists and revokes them.
 */
function registerTokenRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/auth/tokens",
    tag: "auth",
    summary:
      "Issues an API token, shown once, and records its issuance on the log (token.issued): for yourself (a person needs the session of their own sign-in), or, by an admin, for a system actor. Never for another person.",
    auth: "any",
    body: z.strictObject({
      actor: actorId.optional(),
      ttlSeconds: z.number().int().min(MIN_TOKEN_TTL_SECONDS).max(MAX_API_TOKEN_TTL_SECONDS).optional(),
      label: label.optional(),
    }),
    status: 201,
    response: { description: "the token and its record", schema: issuedToken },
    errors: ["ACTOR_UNKNOWN", "TOKEN_NOT_ISSUABLE"],
    async handler({ body, caller }) {
      const target = requireIssuable(api, body.actor ?? caller!.actor.id);
      if (target.id === caller!.actor.id && target.kind !== "system" && caller!.token?.kind !== "session")
        throw new RadledgerError(
          "TOKEN_NOT_ISSUABLE",
          "a person mints their own API token with the session of their own password sign-in",
          { at: "actor" },
        );
      return issueToken(
        api,
        target,
        caller!.actor,
        "api",
        body.ttlSeconds ?? API_TOKEN_TTL_SECONDS,
        body.label,
      );
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
    summary:
      "Revokes a token at once (an admin any token, an actor their own) and records the revocation on the log (token.revoked).",
    auth: "any",
    params: z.strictObject({ id: tokenId }),
    response: { description: "the revoked token's record", schema: tokenRecord },
    errors: ["RECORD_NOT_FOUND"],
    async handler({ params, caller }) {
      const record = api.auth.getToken(params.id);
      if (!record || !ownOrAdmin(caller!, record.actor))
        throw new RadledgerError("RECORD_NOT_FOUND", `no token ${params.id} of yours`);
      return tokenView(await revokeToken(api, record, caller!.actor.id, "revoked"));
    },
  });
}

/**
 * Setting a password: an actor for themself, or an admin for anyone (a reset). Either way the log
 * records who set it (password.set). A reset revokes every token of the actor (on the log too) and
 * opens no session until the actor has chosen their own password at sign-in, so an admin cannot
 * quietly become someone: the takeover would lock the person out and stand on the log.
 */
function registerPasswordRoutes(app: FastifyInstance, api: Api): void {
  defineRoute(app, api, {
    method: "PUT",
    url: "/api/v1/actors/:id/password",
    tag: "actors",
    summary:
      "Sets an actor's password: an actor for themself with the current password (revokes their other sessions), or an admin for any actor (a reset: revokes all the actor's tokens, and the actor must choose a new password at the next sign-in). On the log as password.set.",
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
      // The same change and revocations as the command line's `actor passwd` (src/app/actors.ts).
      await changePassword(api.node, api.auth, {
        actor: params.id,
        password: body.password,
        by: caller!.actor.id,
        keep: caller!.token?.id,
      });
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
      return pageOut(page(rows, o.limit, (r) => actorView(getActor(api.node.store, r.value)!, api)));
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
      return actorView(actor, api);
    },
  });

  defineRoute(app, api, {
    method: "POST",
    url: "/api/v1/actors",
    tag: "actors",
    summary:
      "An admin enrols an actor (actor.enrolled signed with the admin's key). Without publicKey the node creates and holds the actor's key; optionally sets a first password (the actor replaces it at the first sign-in) and, for a system actor only, issues an API token.",
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
      organisation: label.optional(),
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
    errors: ["ACTOR_ALREADY_ENROLLED", "ENTRY_SCHEMA_INVALID", "SIGNING_KEY_NOT_HELD", "TOKEN_NOT_ISSUABLE"],
    async handler({ body, caller }) {
      if (body.token !== undefined && body.kind !== "system")
        throw new RadledgerError(
          "TOKEN_NOT_ISSUABLE",
          "an admin issues tokens for system actors only: a person signs in and obtains their own",
          { at: "token" },
        );
      const admin = heldKey(api, caller!);
      // The same enrolment as the command line's `actor add` (src/app/actors.ts), signed by the admin.
      const result = await enrolActor(api.node, admin, body);
      if (body.password !== undefined) await setPassword(api, body.actorId, body.password, caller!.actor.id);
      const enrolled = result.actor;
      const token =
        body.token === undefined
          ? undefined
          : await issueToken(
              api,
              enrolled,
              caller!.actor,
              "api",
              body.token.ttlSeconds ?? API_TOKEN_TTL_SECONDS,
              body.token.label,
            );
      return {
        index: result.index,
        leafHash: result.leafHash,
        actor: actorView(enrolled, api),
        keyHeld: result.keyHeld,
        ...(token ? { token } : {}),
      };
    },
  });
}
