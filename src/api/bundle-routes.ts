/**
 * Bundles over HTTP (docs/bundle-format.md):
 *
 * - `GET /verify`: the browser verifier, one self-contained HTML page (built into dist/web by
 *   scripts/build-verifier.mjs). Public: it holds no data and verifies in the visitor's browser.
 * - `GET /api/v1/bundles/{kind}/{id}[?version=N&disclose=false]`: a record's bundle as a ustar
 *   stream (application/x-tar). Bundles carry disclosed report text and access histories, so this
 *   route is mounted by the API's composition with its authentication and authorisation in front
 *   (`authorize` below decides per request); buildServer does not mount it on its own.
 */
import { existsSync, readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { RadledgerError } from "../core/errors.js";
import { BUNDLE_EXTENSION, BUNDLE_MEDIA_TYPE } from "../core/bundle/format.js";
import { tarChunks } from "../core/bundle/writer.js";
import { prepareBundle } from "../app/bundles.js";
import type { RadledgerNode } from "../app/node.js";

/** Where the built page is: next to dist/api in a build, or in dist/ when running from sources. */
function verifierPagePath(): string | undefined {
  for (const rel of ["../web/verifier.html", "../../dist/web/verifier.html"]) {
    const p = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function registerVerifierPage(app: FastifyInstance): void {
  let page: string | undefined;
  app.get("/verify", async (_req, reply) => {
    if (page === undefined) {
      const path = verifierPagePath();
      if (path === undefined)
        throw new RadledgerError("ROUTE_NOT_FOUND", "the verifier page is not built (npm run build)");
      page = readFileSync(path, "utf8");
    }
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(page);
  });
}

export interface BundleRouteOptions {
  /** Decides whether the caller may have this bundle (throw a coded error to refuse). */
  readonly authorize: (req: FastifyRequest, kind: string, id: string) => Promise<void> | void;
}

export function registerBundleRoutes(
  app: FastifyInstance,
  node: RadledgerNode,
  options: BundleRouteOptions,
): void {
  app.get("/api/v1/bundles/:kind/:id", async (req, reply) => {
    const { kind, id } = req.params as { kind: string; id: string };
    const q = req.query as Record<string, unknown>;
    let version: number | undefined;
    if (q.version !== undefined) {
      if (typeof q.version !== "string" || !/^[1-9][0-9]{0,8}$/.test(q.version))
        throw new RadledgerError("INPUT_INVALID", "version must be a positive integer", { at: "version" });
      version = Number(q.version);
    }
    if (q.disclose !== undefined && q.disclose !== "true" && q.disclose !== "false")
      throw new RadledgerError("INPUT_INVALID", "disclose is true or false", { at: "disclose" });
    await options.authorize(req, kind, id);
    // Selection and payload discovery happen here, before the first byte: a missing record is a 404.
    const { manifest, members } = prepareBundle(
      node,
      { kind, id, ...(version === undefined ? {} : { version }) },
      {
        disclose: q.disclose !== "false",
      },
    );
    const name = `${manifest.kind}-${id.slice(0, 16)}${manifest.subject.version === undefined ? "" : `-v${manifest.subject.version}`}${BUNDLE_EXTENSION}`;
    return reply
      .type(BUNDLE_MEDIA_TYPE)
      .header("content-disposition", `attachment; filename="${name}"`)
      .header("cache-control", "no-store")
      .send(Readable.from(tarChunks(members)));
  });
}
