/**
 * The web application on the API's origin (docs/web.md):
 *
 * - `GET /assets/<name>-<hash>.<ext>`: the app's code and styles, built by scripts/build-web.mjs
 *   with content hashes in their names, so they are cached for a year as immutable;
 * - every other GET for an HTML page outside the API (`/`, `/verify`, `/patient/…`) answers the
 *   app's index.html, never cached, and the app routes in the browser (unknown pages included);
 * - `GET /verifier.html`: the standalone verifier as a download, to verify offline from disk;
 * - security headers on every answer (below).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { RadledgerError } from "../core/errors.js";

/**
 * The app's Content-Security-Policy (CSP Level 3): only this origin's own scripts, styles, workers
 * and requests; no inline script or style, no plugins, no framing, no <base> rewriting, forms only
 * to this origin. An injected string can show as text but never run.
 */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Every other answer (JSON, tiles, problem documents) may load nothing and be framed by no one. */
const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

const ASSET_NAME = /^[A-Za-z0-9_-]{1,64}\.(js|css)$/;
const ASSET_TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};
/** Paths that are never app pages: an unknown one there stays a JSON 404. */
const NOT_APP = /^\/(api|tile|assets|dicom-web|checkpoint|add-checkpoint|healthz|readyz|metrics)(\/|$)/;

/** dist/web next to dist/api in a build, or dist/web when running from sources. */
function webDir(): string | undefined {
  for (const rel of ["../web", "../../dist/web"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    // The built app has assets/ (src/web/app, next to src/api when running from sources, has not).
    if (existsSync(join(p, "app/assets"))) return p;
  }
  return undefined;
}

function notBuilt(): never {
  throw new RadledgerError("ROUTE_NOT_FOUND", "the web app is not built (npm run build)");
}

export interface WebApp {
  /** Answers the app's page for a browser's GET of a page path, or returns false. */
  servePage(req: FastifyRequest, reply: FastifyReply): boolean;
}

export function registerWebApp(app: FastifyInstance): WebApp {
  const dir = webDir();
  const cache = new Map<string, Buffer>();
  const read = (path: string): Buffer => {
    let bytes = cache.get(path);
    if (bytes === undefined) {
      bytes = readFileSync(path);
      cache.set(path, bytes);
    }
    return bytes;
  };

  app.addHook("onSend", async (_req, reply) => {
    void reply.header("x-content-type-options", "nosniff");
    void reply.header("referrer-policy", "no-referrer");
    void reply.header("x-frame-options", "DENY");
    void reply.header("cross-origin-opener-policy", "same-origin");
    void reply.header("cross-origin-resource-policy", "same-origin");
    if (!reply.hasHeader("content-security-policy"))
      void reply.header("content-security-policy", DEFAULT_CSP);
  });

  app.get<{ Params: { name: string } }>(
    "/assets/:name",
    { config: { access: "public" } },
    async (req, reply) => {
      const m = ASSET_NAME.exec(req.params.name);
      if (!m || dir === undefined) throw new RadledgerError("ROUTE_NOT_FOUND", "no such asset");
      const path = join(dir, "app/assets", req.params.name);
      if (!existsSync(path)) throw new RadledgerError("ROUTE_NOT_FOUND", "no such asset");
      return reply
        .type(ASSET_TYPES[m[1]!]!)
        .header("cache-control", "public, max-age=31536000, immutable")
        .send(read(path));
    },
  );

  app.get("/verifier.html", { config: { access: "public" } }, async (_req, reply) => {
    if (dir === undefined || !existsSync(join(dir, "verifier.html"))) notBuilt();
    // A download, never a page of this origin: it runs inline script (it must work from file://),
    // which this origin's policy forbids.
    return reply
      .type("text/html; charset=utf-8")
      .header("content-disposition", 'attachment; filename="radledger-verifier.html"')
      .header("cache-control", "no-cache")
      .send(read(join(dir, "verifier.html")));
  });

  return {
    servePage(req, reply) {
      if (req.method !== "GET" && req.method !== "HEAD") return false;
      const path = req.url.split("?")[0]!;
      if (NOT_APP.test(path)) return false;
      if (!(req.headers.accept ?? "").includes("text/html")) return false;
      if (dir === undefined) return false;
      void reply
        .code(200)
        .type("text/html; charset=utf-8")
        .header("cache-control", "no-cache")
        .header("content-security-policy", APP_CSP)
        .send(read(join(dir, "app/index.html")));
      return true;
    },
  };
}
