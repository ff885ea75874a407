/**
 * Who may read the log's entries (docs/privacy.md, docs/design.md §2.9 "Permissioned, not public").
 * Checkpoints, hash tiles and proofs are public: they carry hashes only. Entries are pseudonymous
 * personal data, so the routes that return entry bytes (/tile/entries/…, /api/v1/log/entries/:ref)
 * answer only
 *
 *  - a consortium peer: a request signed with RFC 9421 HTTP Message Signatures (alg ed25519) by the
 *    log key of a peer configured in this node's consortium.json — keyid = the peer's log origin —
 *    covering @method and the whole target (@target-uri, or @authority, @path and, with a query,
 *    @query), `created` at most 60 s old (10 s of clock skew tolerated), each signature accepted
 *    once (replays within the window are refused);
 *  - an actor whose role reads every record: admin or auditor (roles.ts ENTRY_READERS), with a
 *    bearer token.
 *
 * Anyone else gets 401 with `WWW-Authenticate: Bearer` and `Accept-Signature` naming what to sign;
 * an actor of another role 403.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { CryptoSuite } from "../core/crypto.js";
import { ERROR_CODES, RadledgerError } from "../core/errors.js";
import { toBase64 } from "../core/bytes.js";
import { PEER_SIGNED_COMPONENTS, verifyRequest, type HttpRequestParts } from "../core/http-signature.js";
import { authenticate, requireRole, type Api, type Caller, type RouteGate } from "./route.js";
import { ENTRY_READERS } from "./roles.js";

export const SIGNATURE_MAX_AGE_SECONDS = 60;
export const SIGNATURE_SKEW_SECONDS = 10;
/** Signatures remembered at most (the window's worth); beyond, new signatures wait (429). */
const REPLAY_CAPACITY = 100_000;

declare module "fastify" {
  interface FastifyRequest {
    /** The consortium peer (its log origin) whose signature authenticated the request. */
    peer?: string;
  }
}

/** Looks up a peer's Ed25519 public key by keyid (its log origin). */
export type PeerKeys = (keyid: string) => Uint8Array | undefined;

export const NO_PEERS: PeerKeys = () => undefined;

/** What a 401 asks for: a bearer token, or a signature over these components (RFC 9421 §5.1). */
export const WWW_AUTHENTICATE = 'Bearer realm="radledger"';
export const ACCEPT_SIGNATURE = `sig1=(${PEER_SIGNED_COMPONENTS.map((c) => `"${c}"`).join(" ")});created;alg="ed25519"`;

/** Signatures already accepted, kept until their `created` leaves the window. */
export class ReplayCache {
  readonly #seen = new Map<string, number>();

  /** false when `id` was seen; throws RATE_LIMITED when full of live signatures. */
  remember(id: string, until: number, now: number): boolean {
    if (this.#seen.has(id)) return false;
    if (this.#seen.size >= REPLAY_CAPACITY)
      for (const [k, t] of this.#seen) if (t < now) this.#seen.delete(k);
    if (this.#seen.size >= REPLAY_CAPACITY)
      throw new RadledgerError("RATE_LIMITED", "too many signed requests in the window; retry shortly", {
        retryAfter: 1,
      });
    this.#seen.set(id, until);
    return true;
  }
}

/** The request as RFC 9421 sees it: its method, target as received, and header fields. */
export function requestParts(req: FastifyRequest): HttpRequestParts {
  const target = req.raw.url ?? req.url;
  const q = target.indexOf("?");
  const authority = req.headers[":authority"] ?? req.headers.host ?? "";
  return {
    method: req.method,
    scheme: req.protocol,
    authority: Array.isArray(authority) ? authority.join(",") : authority,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? undefined : target.slice(q + 1),
    field: (name) => {
      const v = req.headers[name];
      return v === undefined ? undefined : Array.isArray(v) ? v : [v];
    },
  };
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(", ") : v;
}

function limited(api: Api, reply: FastifyReply, seconds: number, what: string): never {
  api.metrics.rateLimited.inc();
  void reply.header("retry-after", String(seconds));
  throw new RadledgerError("RATE_LIMITED", `${what}; retry in ${seconds} s`, { retryAfter: seconds });
}

/** The gate of the entry routes: consortium peers by signature, or admins and auditors by token. */
export function entryReaderGate(api: Api, crypto: CryptoSuite, peers: PeerKeys): RouteGate {
  const replays = new ReplayCache();

  const peer = (req: FastifyRequest, reply: FastifyReply): string => {
    const signatureInput = header(req, "signature-input");
    const signature = header(req, "signature");
    if (signatureInput === undefined || signature === undefined)
      throw new RadledgerError(
        "AUTH_SIGNATURE_INVALID",
        "a signed request has both Signature-Input and Signature",
      );
    const wait = api.buckets.authFailures.peek(req.ip);
    if (wait > 0) limited(api, reply, wait, "too many failed signatures");
    const now = Math.floor(api.node.clock.now() / 1000);
    try {
      const ok = verifyRequest(
        crypto,
        requestParts(req),
        { signatureInput, signature },
        {
          key: peers,
          now,
          maxAgeSeconds: SIGNATURE_MAX_AGE_SECONDS,
          skewSeconds: SIGNATURE_SKEW_SECONDS,
        },
      );
      if (!replays.remember(toBase64(ok.signature), ok.created + SIGNATURE_MAX_AGE_SECONDS, now))
        throw new RadledgerError(
          "AUTH_SIGNATURE_REPLAYED",
          `signature ${ok.label} was already used; sign each request afresh`,
        );
      return ok.keyid;
    } catch (e) {
      if (e instanceof RadledgerError && ERROR_CODES[e.code] === "unauthenticated")
        api.buckets.authFailures.take(req.ip);
      throw e;
    }
  };

  return {
    roles: ENTRY_READERS,
    description: `consortium peers (an RFC 9421 signature by a configured peer's log key) or roles: ${ENTRY_READERS.join(", ")} (docs/privacy.md)`,
    async check(req, reply): Promise<Caller | undefined> {
      try {
        if (req.headers["signature-input"] !== undefined || req.headers.signature !== undefined) {
          const origin = peer(req, reply);
          req.peer = origin;
          const wait = api.buckets.actor.take(`peer:${origin}`);
          if (wait > 0) limited(api, reply, wait, "too many requests");
          return undefined;
        }
        const caller = await authenticate(api, req, reply);
        if (!caller)
          throw new RadledgerError(
            "AUTH_REQUIRED",
            "entries are served to consortium peers (signed requests) and to admins and auditors (bearer token); see docs/privacy.md",
          );
        const wait = api.buckets.actor.take(caller.actor.id);
        if (wait > 0) limited(api, reply, wait, "too many requests");
        req.caller = caller;
        requireRole(caller, ENTRY_READERS);
        return caller;
      } catch (e) {
        if (e instanceof RadledgerError && ERROR_CODES[e.code] === "unauthenticated")
          void reply
            .header("www-authenticate", WWW_AUTHENTICATE)
            .header("accept-signature", ACCEPT_SIGNATURE);
        throw e;
      }
    },
  };
}
