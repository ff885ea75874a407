/**
 * HTTP Message Signatures (RFC 9421) for requests, algorithm `ed25519` (§3.3.6): the signature base
 * (§2.5), the derived components of a request (§2.2: @method, @target-uri, @authority, @scheme,
 * @request-target, @path, @query) and HTTP fields (§2.1), the Signature-Input and Signature fields
 * (§4), written in Structured Field Values (src/core/structured-fields.ts), signing and verifying. Pure: the caller hands in the request's parts, the
 * signing function and the clock, and decides which keys and components it requires.
 *
 * How radledger uses it (docs/privacy.md, docs/consortium.md): a consortium peer signs its requests
 * for entry bundles with its institution's log key, keyid = its log origin, covering @method,
 * @authority, @path and @query with `created`, `nonce` and `alg`; the serving node looks the key up
 * among its configured peers and bounds the signature's age.
 *
 * Not supported (refused, never misread): component parameters (`sf`, `key`, `bs`, `req`, `tr`,
 * `name`), @query-param and @status, and algorithms other than ed25519.
 */
import { toBase64, utf8 } from "./bytes.js";
import type { CryptoSuite } from "./crypto.js";
import { RadledgerError } from "./errors.js";
import {
  isInnerList,
  malformed,
  parseSfDictionary,
  serializeBare,
  serializeInnerList,
  type BareItem,
  type Params,
} from "./structured-fields.js";

/** What the signature base is computed from: the request as sent (signer) or received (verifier). */
export interface HttpRequestParts {
  readonly method: string;
  /** "http" or "https". */
  readonly scheme: string;
  /** host[:port] of the target (the Host field on HTTP/1.1). */
  readonly authority: string;
  /** The target's path as sent, percent-encoding kept. */
  readonly path: string;
  /** The query as sent, without its "?"; undefined when the target has none. */
  readonly query?: string | undefined;
  /** The field lines of a header field (lowercase name), undefined when absent. */
  field(name: string): readonly string[] | undefined;
}

export const DERIVED_COMPONENTS = [
  "@method",
  "@target-uri",
  "@authority",
  "@scheme",
  "@request-target",
  "@path",
  "@query",
] as const;

/** §2.2.3: the authority lowercased, without the scheme's default port. */
function normalizedAuthority(scheme: string, authority: string): string {
  const a = authority.toLowerCase();
  const port = scheme.toLowerCase() === "https" ? ":443" : scheme.toLowerCase() === "http" ? ":80" : "";
  return port && a.endsWith(port) ? a.slice(0, -port.length) : a;
}

/** The value of one covered component (§2.1, §2.2); throws when the request lacks it. */
export function componentValue(req: HttpRequestParts, name: string): string {
  const path = req.path === "" ? "/" : req.path;
  const query = req.query === undefined ? "" : `?${req.query}`;
  const authority = normalizedAuthority(req.scheme, req.authority);
  switch (name) {
    case "@method":
      return req.method; // §2.2.1: as given, not normalised
    case "@target-uri":
      return `${req.scheme.toLowerCase()}://${authority}${path}${query}`;
    case "@authority":
      return authority;
    case "@scheme":
      return req.scheme.toLowerCase();
    case "@request-target":
      return `${path}${query}`;
    case "@path":
      return path;
    case "@query":
      return `?${req.query ?? ""}`; // §2.2.7: an absent or empty query is "?"
  }
  if (name.startsWith("@"))
    throw new RadledgerError("AUTH_SIGNATURE_INVALID", `unsupported derived component ${name}`);
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name))
    throw new RadledgerError("AUTH_SIGNATURE_INVALID", `invalid component name ${JSON.stringify(name)}`);
  const lines = req.field(name);
  if (lines === undefined)
    throw new RadledgerError("AUTH_SIGNATURE_INVALID", `the covered field ${name} is absent`);
  // §2.1: each field line's value trimmed, obs-fold replaced, lines joined with ", ".
  return lines.map((l) => l.replace(/\r?\n[ \t]+/g, " ").trim()).join(", ");
}

/** The covered components and signature parameters of one signature (§2.3), in their given order. */
export interface SignatureInput {
  readonly components: readonly string[];
  readonly params: Params;
}

/** The `@signature-params` value: the serialised inner list (§2.3). */
export function signatureParamsValue(input: SignatureInput): string {
  return serializeInnerList({
    items: input.components.map((c) => ({ value: c, params: [] })),
    params: input.params,
  });
}

/** §2.5: one line per covered component, then the @signature-params line (no trailing newline). */
export function signatureBase(req: HttpRequestParts, input: SignatureInput): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of input.components) {
    if (seen.has(c))
      throw new RadledgerError("AUTH_SIGNATURE_INVALID", `component ${c} is covered twice (§2.5)`);
    if (c === "@signature-params")
      throw new RadledgerError("AUTH_SIGNATURE_INVALID", "@signature-params cannot be covered (§2.3)");
    seen.add(c);
    const value = componentValue(req, c);
    if (/[^\x20-\x7e]/.test(value))
      throw new RadledgerError("AUTH_SIGNATURE_INVALID", `component ${c} is not printable ASCII`);
    lines.push(`${serializeBare(c)}: ${value}`);
  }
  lines.push(`"@signature-params": ${signatureParamsValue(input)}`);
  return lines.join("\n");
}

/** One signature read from a request's Signature-Input and Signature fields. */
export interface ReceivedSignature {
  readonly label: string;
  readonly input: SignatureInput;
  readonly signature: Uint8Array;
  readonly created?: number;
  readonly expires?: number;
  readonly nonce?: string;
  readonly keyid?: string;
  readonly alg?: string;
  readonly tag?: string;
}

const INTEGER_PARAMS = new Set(["created", "expires"]);
const STRING_PARAMS = new Set(["nonce", "keyid", "alg", "tag"]);

/**
 * §4: every label of Signature-Input with its Signature. A label without a signature (or the
 * reverse), a component identifier with parameters or that is not a string, or a signature
 * parameter of the wrong type is refused.
 */
export function parseSignatureFields(signatureInput: string, signature: string): ReceivedSignature[] {
  const inputs = parseSfDictionary(signatureInput);
  const sigs = parseSfDictionary(signature);
  const out: ReceivedSignature[] = [];
  for (const [label, member] of inputs) {
    if (!isInnerList(member)) malformed(`Signature-Input ${label} is not an inner list`);
    const sig = sigs.get(label);
    if (!sig || isInnerList(sig) || !(sig.value instanceof Uint8Array))
      malformed(`no Signature byte sequence for label ${label}`);
    const components = member.items.map((i) => {
      if (typeof i.value !== "string") malformed("a component identifier is a string");
      if (i.params.length > 0) malformed(`component parameters are not supported (${i.value})`);
      return i.value;
    });
    const fields: Record<string, number | string> = {};
    for (const [k, v] of member.params) {
      if (INTEGER_PARAMS.has(k)) {
        if (typeof v !== "number") malformed(`${k} is an integer`);
        fields[k] = v;
      } else if (STRING_PARAMS.has(k)) {
        if (typeof v !== "string") malformed(`${k} is a string`);
        fields[k] = v;
      }
      // Other parameters are covered by the signature (they are in @signature-params) and ignored.
    }
    out.push({
      label,
      input: { components, params: member.params },
      signature: sig.value,
      ...(fields as Pick<ReceivedSignature, "created" | "expires" | "nonce" | "keyid" | "alg" | "tag">),
    });
  }
  for (const label of sigs.keys())
    if (!inputs.has(label)) malformed(`Signature ${label} has no Signature-Input`);
  return out;
}

export interface SignOptions {
  /** The signature's label (default "sig1"). */
  readonly label?: string;
  readonly components: readonly string[];
  /** UNIX seconds. */
  readonly created: number;
  readonly expires?: number;
  readonly nonce?: string;
  readonly keyid: string;
  readonly tag?: string;
}

/** Signs a request with Ed25519 (§3.1, §3.3.6); answers the two fields to add. */
export function signRequest(
  req: HttpRequestParts,
  options: SignOptions,
  sign: (base: Uint8Array) => Uint8Array,
): { "signature-input": string; signature: string } {
  const params: [string, BareItem][] = [["created", options.created]];
  if (options.expires !== undefined) params.push(["expires", options.expires]);
  if (options.nonce !== undefined) params.push(["nonce", options.nonce]);
  params.push(["alg", "ed25519"], ["keyid", options.keyid]);
  if (options.tag !== undefined) params.push(["tag", options.tag]);
  const input: SignatureInput = { components: options.components, params };
  const label = options.label ?? "sig1";
  const signature = sign(utf8(signatureBase(req, input)));
  return {
    "signature-input": `${label}=${signatureParamsValue(input)}`,
    signature: `${label}=:${toBase64(signature)}:`,
  };
}

/** §3.2 steps 5–6 for Ed25519: re-creates the base and checks the signature with `publicKey`. */
export function verifySignature(
  crypto: CryptoSuite,
  req: HttpRequestParts,
  received: ReceivedSignature,
  publicKey: Uint8Array,
): boolean {
  if (received.alg !== undefined && received.alg !== "ed25519") return false;
  if (received.signature.length !== 64) return false;
  return crypto.ed25519Verify(publicKey, utf8(signatureBase(req, received.input)), received.signature);
}

/** What a verifier requires of a signature besides its cryptographic validity (§3.2 step 3, §7.2). */
export interface SignaturePolicy {
  /** The public key for a keyid, undefined when the keyid is unknown. */
  key(keyid: string): Uint8Array | undefined;
  /** Now, UNIX seconds. */
  readonly now: number;
  /** A signature older than this (by `created`) is refused. */
  readonly maxAgeSeconds: number;
  /** Tolerated clock skew for a `created` in the future. */
  readonly skewSeconds: number;
}

export interface VerifiedSignature {
  readonly keyid: string;
  readonly label: string;
  readonly created: number;
  /** The signature bytes: what a replay cache remembers. */
  readonly signature: Uint8Array;
}

/**
 * The components radledger requires: the method, and the whole target — @target-uri, or @authority
 * and @path with @query when the request has one.
 */
function coversTarget(req: HttpRequestParts, components: readonly string[]): boolean {
  const has = (c: string): boolean => components.includes(c);
  if (!has("@method")) return false;
  if (has("@target-uri")) return true;
  return has("@authority") && has("@path") && (req.query === undefined || has("@query"));
}

/**
 * Verifies the request's signatures against the policy: the first one that is by a known key,
 * covers the method and the target, has a `created` within the window and an unexpired `expires`,
 * and verifies. Throws AUTH_SIGNATURE_INVALID or AUTH_SIGNATURE_EXPIRED naming the failure when
 * none does.
 */
export function verifyRequest(
  crypto: CryptoSuite,
  req: HttpRequestParts,
  fields: { readonly signatureInput: string; readonly signature: string },
  policy: SignaturePolicy,
): VerifiedSignature {
  const received = parseSignatureFields(fields.signatureInput, fields.signature);
  if (received.length === 0) malformed("no signature");
  let failure: RadledgerError | undefined;
  for (const s of received) {
    const fail = (code: "AUTH_SIGNATURE_INVALID" | "AUTH_SIGNATURE_EXPIRED", why: string): void => {
      failure ??= new RadledgerError(code, `signature ${s.label}: ${why}`);
    };
    if (s.keyid === undefined) {
      fail("AUTH_SIGNATURE_INVALID", "no keyid");
      continue;
    }
    const key = policy.key(s.keyid);
    if (!key) {
      fail("AUTH_SIGNATURE_INVALID", `unknown keyid ${JSON.stringify(s.keyid)}`);
      continue;
    }
    if (!coversTarget(req, s.input.components)) {
      fail(
        "AUTH_SIGNATURE_INVALID",
        'it must cover "@method" and "@target-uri", or "@authority", "@path" and (with a query) "@query"',
      );
      continue;
    }
    if (s.created === undefined) {
      fail("AUTH_SIGNATURE_INVALID", "no created parameter");
      continue;
    }
    if (s.created > policy.now + policy.skewSeconds || s.created < policy.now - policy.maxAgeSeconds) {
      fail("AUTH_SIGNATURE_EXPIRED", `created ${s.created} is outside the accepted window`);
      continue;
    }
    if (s.expires !== undefined && s.expires < policy.now) {
      fail("AUTH_SIGNATURE_EXPIRED", `it expired at ${s.expires}`);
      continue;
    }
    let ok: boolean;
    try {
      ok = verifySignature(crypto, req, s, key);
    } catch (e) {
      if (!(e instanceof RadledgerError)) throw e;
      fail("AUTH_SIGNATURE_INVALID", e.message);
      continue;
    }
    if (!ok) {
      fail("AUTH_SIGNATURE_INVALID", "the signature does not verify");
      continue;
    }
    return { keyid: s.keyid, label: s.label, created: s.created, signature: s.signature };
  }
  throw failure ?? new RadledgerError("AUTH_SIGNATURE_INVALID", "no usable signature");
}

/** The parts of a request to an absolute URL, as fetch sends it (WHATWG URL serialisation). */
export function requestPartsOf(
  method: string,
  url: string,
  headers: Readonly<Record<string, string>> = {},
): HttpRequestParts {
  const u = new URL(url);
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method,
    scheme: u.protocol.slice(0, -1),
    authority: u.host,
    path: u.pathname,
    query: u.search === "" ? undefined : u.search.slice(1),
    field: (name) => {
      const v = lower.get(name);
      return v === undefined ? undefined : [v];
    },
  };
}

/** The components a radledger peer signs (and a node's 401 asks for in Accept-Signature). */
export const PEER_SIGNED_COMPONENTS = ["@method", "@authority", "@path", "@query"] as const;

/**
 * Credentials for reading a log's entry bundles (docs/privacy.md): a bearer token, or a consortium
 * peer's Ed25519 key that signs each request (RFC 9421), keyid = the peer's log origin.
 */
export type LogCredentials =
  | { readonly bearer: string }
  | {
      readonly keyid: string;
      sign(base: Uint8Array): Uint8Array;
      /** UNIX seconds. */
      now(): number;
      /** A fresh nonce per request (e.g. 16 random bytes in base64). */
      nonce(): string;
    };

/** The header fields that carry `credentials` on a GET of `url`. */
export function credentialHeaders(
  credentials: LogCredentials,
  method: string,
  url: string,
): Record<string, string> {
  if ("bearer" in credentials) return { authorization: `Bearer ${credentials.bearer}` };
  return signRequest(
    requestPartsOf(method, url),
    {
      components: PEER_SIGNED_COMPONENTS,
      created: credentials.now(),
      nonce: credentials.nonce(),
      keyid: credentials.keyid,
    },
    (base) => credentials.sign(base),
  );
}
