/**
 * DICOMweb through the gatekeeper (docs/design.md §6.6, issue 5 §4): QIDO-RS and WADO-RS requests to the
 * node under `/dicom-web/...` are decided against consent and recorded as access entries before
 * anything is served, then proxied to the archive's DICOMweb service (Orthanc's DICOMweb plugin).
 * A denied request never reaches the archive. A standard DICOMweb client pointed at
 * `http://node/dicom-web` works unchanged (PS3.18 paths, media types and query parameters are
 * passed through).
 *
 * Which part is accessed (PS3.18 §10.4 resource paths):
 *   /studies/{study}[/…]                               part study
 *   /studies/{study}/series/{series}[/…]                part series (the study when the series is
 *                                                      not in the registered study)
 *   /studies/{study}/series/{series}/instances/{sop}[/…] part instance
 * Action: retrieving DICOM objects (study, series, instance) is `download`; metadata, frames,
 * bulk data, rendered, thumbnails and QIDO searches inside a study are `read`.
 *
 * Searches at the root (`/studies?…`, `/series?…`, `/instances?…`) name no study in advance: the
 * node runs them at the archive and answers only the matches the actor may see, each match decided
 * and recorded like a request for it (denied matches are recorded and left out). Nothing else of the
 * archive's answer is returned.
 *
 * URLs the archive puts in its JSON answers (Retrieve URL (0008,1190), BulkDataURI) are rewritten
 * to the node, so a client that follows them comes back through the gatekeeper.
 *
 * The authenticated actor comes from a DicomwebAuthenticator and the decision from a
 * DicomwebAuthorizer (both injected; the authorizer's contract is in src/app/dicomweb-access.ts):
 * this module knows HTTP and DICOMweb, not consent.
 * Who controls what: the client controls the path, query, Accept and the purpose/break-glass
 * headers; UIDs are validated (PS3.5 §9.1) before use and never echoed into errors.
 */
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RadledgerError } from "../core/errors.js";
import { sendProblem } from "./problem.js";
import {
  PURPOSES_OF_USE,
  type AccessAction,
  type AccessContext,
  type PurposeOfUse,
} from "../domain/consent/entries.js";
import type { DicomwebAccessRequest, DicomwebAuthorizer, DicomwebTarget } from "../app/dicomweb-access.js";
import {
  breakGlassJustification,
  breakGlassReasons,
  type BreakGlassReason,
} from "../domain/access/break-glass.js";

/** The authenticated actor of a request, or undefined when it carries no valid credentials. */
export type DicomwebAuthenticator = (
  req: FastifyRequest,
  reply: FastifyReply,
) => Promise<{ actor: string } | undefined>;

export interface DicomwebProxyOptions {
  /** The archive's DICOMweb root, e.g. http://127.0.0.1:8042/dicom-web */
  readonly upstream: string;
  readonly username?: string;
  readonly password?: string;
  readonly authorizer: DicomwebAuthorizer;
  readonly authenticate: DicomwebAuthenticator;
  /** Largest JSON answer buffered for rewriting (default 256 MiB). */
  readonly maxJsonBytes?: number;
}

/** Headers a client may use to state why it accesses (docs/design.md §8.4 codes). */
export const PURPOSE_HEADER = "x-radledger-purpose-of-use";
export const BREAK_GLASS_HEADER = "x-radledger-break-glass";
/** The break-glass justification: UTF-8 text, percent-encoded (RFC 3986) since headers are ASCII. */
export const BREAK_GLASS_JUSTIFICATION_HEADER = "x-radledger-break-glass-justification";
export const CONTEXT_HEADER = "x-radledger-context";

/** PS3.5 §9.1: UIDs are dot-separated numeric components, at most 64 characters. */
const UID = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
const ENTRY_ID = /^[0-9a-f]{64}$/;

type Parsed =
  | { kind: "search"; level: "studies" | "series" | "instances" }
  | { kind: "target"; target: DicomwebTarget; action: AccessAction };

function uid(s: string | undefined): string {
  if (s === undefined || s.length > 64 || !UID.test(s))
    throw new RadledgerError("INPUT_INVALID", "a path segment is not a DICOM UID (PS3.5 §9.1)");
  return s;
}

const notFound = (): RadledgerError => new RadledgerError("ROUTE_NOT_FOUND", "no such DICOMweb resource");

/** PS3.18 §10.4 (WADO-RS) and §10.6 (QIDO-RS) resource paths relative to the DICOMweb root. */
export function parseDicomwebPath(path: string): Parsed {
  const seg = path.split("/").filter((s) => s !== "");
  const [top, st, s2, se, s4, sop, ...rest] = seg;
  if (seg.length === 1 && (top === "studies" || top === "series" || top === "instances"))
    return { kind: "search", level: top };
  if (top !== "studies") throw notFound();
  const studyUid = uid(st);
  const read = (target: DicomwebTarget): Parsed => ({ kind: "target", target, action: "read" });
  const sub = (r: readonly string[]): boolean =>
    r.length === 1 && (r[0] === "metadata" || r[0] === "rendered" || r[0] === "thumbnail");
  if (s2 === undefined) return { kind: "target", target: { studyUid }, action: "download" };
  if (seg.length === 3 && (sub([s2]) || s2 === "series" || s2 === "instances")) return read({ studyUid });
  if (s2 !== "series") throw notFound();
  const seriesUid = uid(se);
  if (s4 === undefined) return { kind: "target", target: { studyUid, seriesUid }, action: "download" };
  if (seg.length === 5 && (sub([s4]) || s4 === "instances")) return read({ studyUid, seriesUid });
  if (s4 !== "instances") throw notFound();
  const instanceUid = uid(sop);
  const target = { studyUid, seriesUid, instanceUid };
  if (rest.length === 0) return { kind: "target", target, action: "download" };
  if (sub(rest) || ((rest[0] === "frames" || rest[0] === "bulk") && rest.length >= 2)) return read(target);
  throw notFound();
}

/**
 * Query parameters per PS3.18 (2024): every request may carry `accept` and `charset` (§8.3.3);
 * searches (QIDO-RS, §8.3.4, resources ending in studies, series or instances) match on attributes
 * named by keyword or tag — `{attributeID}={value}`, an attributeID being a keyword such as
 * `PatientID`, a tag such as `00100020`, or a dotted sequence path — and take `includefield`,
 * `fuzzymatching`, `limit` and `offset`; rendered resources and thumbnails take the rendering
 * parameters (§8.3.5: `annotation`, `quality`, `viewport`, `window`, `iccprofile`). Anything else is
 * a 400 naming the parameter, before any decision or archive request.
 */
const COMMON_QUERY = ["accept", "charset"];
const SEARCH_QUERY = ["includefield", "fuzzymatching", "limit", "offset"];
const RENDERED_QUERY = ["annotation", "quality", "viewport", "window", "iccprofile"];
/** A DICOM attribute keyword (PS3.6: starts upper case) or tag (8 hex digits), dotted for sequences. */
const ATTRIBUTE_ID =
  /^(?:[A-Z][A-Za-z0-9]{0,63}|[0-9A-Fa-f]{8})(?:\.(?:[A-Z][A-Za-z0-9]{0,63}|[0-9A-Fa-f]{8})){0,7}$/;

export function checkDicomwebQuery(path: string, query: string): void {
  const last =
    path
      .split("/")
      .filter((s) => s !== "")
      .at(-1) ?? "";
  const search = last === "studies" || last === "series" || last === "instances";
  const rendered = last === "rendered" || last === "thumbnail";
  const allowed = (name: string): boolean =>
    COMMON_QUERY.includes(name) ||
    (search && (SEARCH_QUERY.includes(name) || ATTRIBUTE_ID.test(name))) ||
    (rendered && RENDERED_QUERY.includes(name));
  for (const name of new URLSearchParams(query).keys())
    if (!allowed(name))
      throw new RadledgerError(
        "INPUT_INVALID",
        `query.${name}: not a DICOMweb query parameter of this resource (PS3.18 §8.3)`,
        { at: `query.${name}` },
      );
}

export interface Why {
  purpose: PurposeOfUse;
  breakGlass?: { reason: BreakGlassReason; justification: string };
  context?: AccessContext;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Purpose of use, break-glass reason and trial/dataset context from the request headers. */
function why(req: FastifyRequest): Why {
  return whyOf((name) => header(req, name));
}

/**
 * Purpose of use, break-glass reason and context from headers looked up by lower-case name (shared
 * with the Orthanc authorization route, which receives the headers the Orthanc plugin forwards).
 */
export function whyOf(header: (name: string) => string | undefined): Why {
  const p = header(PURPOSE_HEADER) ?? "TREAT";
  if (!(PURPOSES_OF_USE as readonly string[]).includes(p))
    throw new RadledgerError("INPUT_INVALID", `${PURPOSE_HEADER} is not an accepted HL7 PurposeOfUse code`, {
      at: PURPOSE_HEADER,
    });
  const out: Why = { purpose: p as PurposeOfUse };
  const bg = header(BREAK_GLASS_HEADER);
  if (bg !== undefined) {
    if (!breakGlassReasons.has(bg))
      throw new RadledgerError(
        "INPUT_INVALID",
        `${BREAK_GLASS_HEADER} must be a break-glass reason code (${breakGlassReasons.values.join(", ")})`,
        { at: BREAK_GLASS_HEADER },
      );
    const raw = header(BREAK_GLASS_JUSTIFICATION_HEADER);
    let justification: string | undefined;
    try {
      justification = raw === undefined ? undefined : decodeURIComponent(raw);
    } catch {
      justification = undefined;
    }
    if (justification === undefined || !breakGlassJustification.safeParse(justification).success)
      throw new RadledgerError(
        "INPUT_INVALID",
        `break-glass needs ${BREAK_GLASS_JUSTIFICATION_HEADER}: a justification of at least 10 characters, percent-encoded UTF-8`,
        { at: BREAK_GLASS_JUSTIFICATION_HEADER },
      );
    out.breakGlass = { reason: bg, justification };
  }
  const ctx = header(CONTEXT_HEADER);
  if (ctx !== undefined) {
    const [kind, id] = ctx.split(":");
    if ((kind !== "trial" && kind !== "dataset") || id === undefined || !ENTRY_ID.test(id))
      throw new RadledgerError("INPUT_INVALID", `${CONTEXT_HEADER} must be trial:<id> or dataset:<id>`, {
        at: CONTEXT_HEADER,
      });
    out.context = { kind, id };
  }
  return out;
}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "proxy-authenticate",
  "trailer",
  "te",
  "www-authenticate",
]);

/** One client request: its reply, and its path and query below /dicom-web. */
interface Exchange {
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  readonly path: string;
  readonly query: string;
}

/** The archive's DICOMweb service, as the node (not the client) talks to it. */
interface Archive {
  /** GETs the exchange's path and query at the archive, with the client's Accept. */
  get(x: Exchange): Promise<IncomingMessage>;
  /** A JSON answer's text; one larger than maxJsonBytes is refused. */
  readJson(res: IncomingMessage): Promise<string>;
  /** The archive's absolute URLs in `text` made to point at the node that `req` reached. */
  toNode(text: string, req: FastifyRequest): string;
  close(): void;
}

function openArchive(options: DicomwebProxyOptions): Archive {
  const upstream = new URL(options.upstream.replace(/\/+$/, "") + "/");
  const lib = upstream.protocol === "https:" ? https : http;
  // Keep-alive: a viewer issues many small WADO requests; a new TCP connection each would dominate.
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 32 });
  const authorization =
    options.username === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64")}`;
  const maxJson = options.maxJsonBytes ?? 256 * 1024 * 1024;
  // Absolute URLs under the archive's DICOMweb root, whatever host it believes it has.
  const upstreamUrls = new RegExp(`https?://[^"\\s/]+${escapeRegExp(upstream.pathname)}`, "g");
  return {
    get(x) {
      const url = new URL(x.path.replace(/^\/+/, "") + x.query, upstream);
      const headers: Record<string, string> = {
        // Identity: JSON answers are rewritten, and compressed bodies would have to be inflated.
        "accept-encoding": "identity",
      };
      const accept = header(x.req, "accept");
      if (accept !== undefined) headers.accept = accept;
      if (authorization !== undefined) headers.authorization = authorization;
      return new Promise((resolve, reject) => {
        const r = lib.request(url, { method: "GET", headers, agent }, resolve);
        r.on("error", (e) =>
          reject(
            new RadledgerError(
              "ORTHANC_UNAVAILABLE",
              "the DICOMweb archive did not answer",
              {},
              { cause: e },
            ),
          ),
        );
        r.end();
      });
    },
    async readJson(res) {
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of res) {
        n += (c as Buffer).length;
        if (n > maxJson) {
          res.destroy();
          throw new RadledgerError("ORTHANC_BAD_RESPONSE", "the archive's JSON answer is too large to relay");
        }
        chunks.push(c as Buffer);
      }
      return Buffer.concat(chunks).toString("utf8");
    },
    toNode: (text, req) =>
      text.replace(upstreamUrls, `${req.protocol}://${req.headers.host ?? "localhost"}${upstream.pathname}`),
    close: () => {
      agent.destroy();
    },
  };
}

/** Archive errors as problems: its statuses are not the client's to see verbatim. */
function upstreamError(status: number): RadledgerError {
  if (status === 404) return new RadledgerError("RECORD_NOT_FOUND", "the archive has no such resource");
  if (status === 401 || status === 403)
    return new RadledgerError("ORTHANC_AUTH_FAILED", "the archive refused the node's credentials");
  if (status >= 500) return new RadledgerError("ORTHANC_UNAVAILABLE", `the archive answered ${status}`);
  if (status === 406)
    return new RadledgerError(
      "MEDIA_TYPE_UNSUPPORTED",
      "the archive cannot answer in the accepted media type",
    );
  return new RadledgerError("INPUT_INVALID", `the archive refused the request (${status})`);
}

/** The archive's status; an error status is thrown as its problem, and its body dropped. */
function successStatus(res: IncomingMessage): number {
  const status = res.statusCode ?? 502;
  if (status >= 400) {
    res.resume();
    throw upstreamError(status);
  }
  return status;
}

const isJson = (ct: string | undefined): boolean =>
  ct !== undefined && /^application\/(dicom\+)?json\b/i.test(ct);

/** A request for one study, series or instance: decided and recorded, then asked of the archive. */
async function retrieve(
  authorizer: DicomwebAuthorizer,
  archive: Archive,
  x: Exchange,
  request: DicomwebAccessRequest,
): Promise<FastifyReply> {
  const d = await authorizer.authorize(request);
  if (d.decision === "unknown-study")
    throw new RadledgerError("RECORD_NOT_FOUND", "no registered study with that Study Instance UID");
  if (d.decision === "deny")
    throw new RadledgerError("ACCESS_DENIED", `access denied (${d.reason}); the decision is recorded`, {
      reason: d.reason,
    });
  // A rejected record must not leave an unhandled rejection while the archive answers.
  d.recorded?.catch(() => undefined);
  let res: IncomingMessage;
  try {
    res = await archive.get(x);
  } catch (e) {
    await d.recorded; // a failed record is the error to report, if there is one
    throw e;
  }
  return relay(archive, x, res, d.recorded);
}

/** The archive's answer to the client, once the access is recorded: JSON with URLs to the node, or bytes. */
async function relay(
  archive: Archive,
  x: Exchange,
  res: IncomingMessage,
  recorded: Promise<void> | undefined,
): Promise<FastifyReply> {
  try {
    // Decided, and now recorded: only from here on may anything reach the client (docs/design.md §6.1).
    await recorded;
  } catch (e) {
    res.destroy();
    throw e;
  }
  const status = successStatus(res);
  const ct = res.headers["content-type"];
  if (isJson(ct)) {
    const text = archive.toNode(await archive.readJson(res), x.req);
    return x.reply.code(status).type(ct!).send(text);
  }
  return pipeToClient(x.reply, res, status);
}

/**
 * Bulk bytes (DICOM files, frames): piped straight to the socket, without fastify's stream handling
 * in between — the proxy should cost little next to the archive itself.
 */
async function pipeToClient(
  reply: FastifyReply,
  res: IncomingMessage,
  status: number,
): Promise<FastifyReply> {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  reply.hijack();
  reply.raw.writeHead(status, headers);
  await new Promise<void>((resolve) => {
    res.on("error", () => {
      reply.raw.destroy();
      resolve();
    });
    reply.raw.on("close", () => {
      res.destroy();
      resolve();
    });
    res.pipe(reply.raw);
  });
  return reply;
}

/** A QIDO-RS match in the DICOM JSON model (PS3.18 §F.2): attributes by tag. */
type Match = Record<string, { Value?: unknown[] }>;

/** The first value of a UID attribute, if it is a valid UID. */
function uidOf(item: Match, tag: string): string | undefined {
  const v = item[tag]?.Value?.[0];
  return typeof v === "string" && v.length <= 64 && UID.test(v) ? v : undefined;
}

/** A root search: run at the archive, answered with only the matches the actor may see. */
async function search(
  authorizer: DicomwebAuthorizer,
  archive: Archive,
  x: Exchange,
  level: "studies" | "series" | "instances",
  actor: string,
  w: Why,
): Promise<FastifyReply> {
  const res = await archive.get(x);
  const status = successStatus(res);
  if (!isJson(res.headers["content-type"])) {
    res.resume();
    if (status === 204) return await x.reply.code(204).send();
    throw new RadledgerError(
      "MEDIA_TYPE_UNSUPPORTED",
      "root searches are answered as application/dicom+json only",
    );
  }
  const body = await archive.readJson(res);
  const items = body.trim() === "" ? [] : (JSON.parse(body) as Match[]);
  if (!Array.isArray(items))
    throw new RadledgerError("ORTHANC_BAD_RESPONSE", "a QIDO answer is not an array");
  // Each match is decided and recorded like a request for it.
  const decisions = await Promise.all(
    items.map(async (item) => {
      const studyUid = uidOf(item, "0020000D");
      if (studyUid === undefined) return false; // cannot be attributed: never shown
      const seriesUid = level === "studies" ? undefined : uidOf(item, "0020000E");
      const instanceUid = level === "instances" ? uidOf(item, "00080018") : undefined;
      const target: DicomwebTarget = {
        studyUid,
        ...(seriesUid === undefined ? {} : { seriesUid }),
        ...(instanceUid === undefined ? {} : { instanceUid }),
      };
      const d = await authorizer.authorize({ actor, target, action: "read", ...w });
      if (d.decision !== "permit") return false;
      await d.recorded;
      return true;
    }),
  );
  const kept = items.filter((_, i) => decisions[i]);
  return await x.reply
    .code(200)
    .type("application/dicom+json")
    .send(archive.toNode(JSON.stringify(kept), x.req));
}

/** Coded errors as problems; a SyntaxError can only be the archive's malformed JSON. Others are rethrown. */
function sendError(x: Exchange, e: unknown): FastifyReply {
  const instance = x.req.url.split("?")[0];
  if (e instanceof RadledgerError) return sendProblem(x.reply, e, instance);
  if (e instanceof SyntaxError)
    return sendProblem(
      x.reply,
      new RadledgerError("ORTHANC_BAD_RESPONSE", "the archive answered malformed JSON"),
      instance,
    );
  throw e;
}

export function registerDicomwebRoutes(app: FastifyInstance, options: DicomwebProxyOptions): void {
  const archive = openArchive(options);
  app.get("/dicom-web/*", async (req, reply) => {
    const raw = req.url;
    const q = raw.indexOf("?");
    const x: Exchange = {
      req,
      reply,
      path: (q < 0 ? raw : raw.slice(0, q)).slice("/dicom-web".length),
      query: q < 0 ? "" : raw.slice(q),
    };
    try {
      const who = await options.authenticate(req, reply);
      if (who === undefined) throw new RadledgerError("AUTH_REQUIRED", "DICOMweb requests need credentials");
      const parsed = parseDicomwebPath(x.path);
      checkDicomwebQuery(x.path, x.query);
      const w = why(req);
      if (parsed.kind === "target") {
        const request = { actor: who.actor, target: parsed.target, action: parsed.action, ...w };
        return await retrieve(options.authorizer, archive, x, request);
      }
      return await search(options.authorizer, archive, x, parsed.level, who.actor, w);
    } catch (e) {
      return sendError(x, e);
    }
  });

  app.addHook("onClose", async () => {
    archive.close();
  });
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
