/**
 * The OpenAPI 3.1 document (GET /api/v1/openapi.json) and a human-readable API page
 * (GET /api/v1/docs), both generated from the RouteSpecs — the very zod schemas that validate each
 * request (route.ts) become the JSON Schemas (draft 2020-12, which OpenAPI 3.1 uses) of parameters
 * and bodies. Errors are RFC 9457 problem details with a stable `code` (docs/errors.md).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ERROR_CODES } from "../core/errors.js";
import { statusOf } from "./problem.js";
import { FHIR_ATNA_PATHS } from "./fhir-atna-openapi.js";
import { defineRoute, isGate, type Api, type RouteSpec } from "./route.js";

type JsonSchema = Record<string, unknown>;

function schemaOf(s: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as JsonSchema;
  delete out.$schema;
  return out;
}

const PROBLEM: JsonSchema = {
  type: "object",
  description: "RFC 9457 problem details",
  required: ["type", "title", "status", "code", "detail"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    code: { type: "string", enum: Object.keys(ERROR_CODES) },
    detail: { type: "string" },
    instance: { type: "string" },
    at: { type: "string", description: "the field or parameter concerned" },
    index: { type: "integer", description: "a log index concerned" },
    reason: { type: "string", description: "a decision's reason code (denials)" },
    access: { type: "string", description: "the access.recorded entry of a recorded denial" },
  },
};

function parameters(spec: RouteSpec): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ["path", spec.params],
    ["query", spec.query],
  ] as const) {
    if (!schema) continue;
    const js = schemaOf(schema);
    const props = (js.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set((js.required ?? []) as string[]);
    for (const [name, s] of Object.entries(props))
      out.push({ name, in: where, required: where === "path" || required.has(name), schema: s });
  }
  return out;
}

function roleText(spec: RouteSpec): string {
  if (spec.auth === "public") return "public (no token)";
  if (spec.auth === "any") return "any authenticated actor (relationship rules apply)";
  if (isGate(spec.auth)) return spec.auth.description;
  return `roles: ${spec.auth.join(", ")}`;
}

export function openApiDocument(api: Api): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of api.routes) {
    const path = spec.url.replace(/:([A-Za-z]+)/g, "{$1}");
    const problemCodes = new Set<string>([
      "INPUT_INVALID",
      ...(spec.body ? ["JSON_INVALID", "BODY_TOO_LARGE", "MEDIA_TYPE_UNSUPPORTED"] : []),
      ...(spec.auth === "public"
        ? []
        : ["AUTH_REQUIRED", "AUTH_TOKEN_INVALID", "AUTH_TOKEN_EXPIRED", "AUTH_TOKEN_REVOKED"]),
      ...(Array.isArray(spec.auth) || isGate(spec.auth) ? ["FORBIDDEN_ROLE"] : []),
      "RATE_LIMITED",
      ...(spec.errors ?? []),
    ]);
    const byStatus = new Map<number, string[]>();
    for (const c of problemCodes) {
      const status = statusOf(c as keyof typeof ERROR_CODES);
      byStatus.set(status, [...(byStatus.get(status) ?? []), c]);
    }
    const ok = spec.status ?? 200;
    const responses: Record<string, unknown> = {
      [String(ok)]: {
        description: spec.response?.description ?? "success",
        ...(ok === 204
          ? {}
          : {
              content: {
                [spec.response?.contentType ?? "application/json"]: {
                  schema: spec.response?.schema ? schemaOf(spec.response.schema) : {},
                },
              },
            }),
      },
    };
    for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0]))
      responses[String(status)] = {
        description: `problem: ${codes.join(", ")}`,
        content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
      };
    const operation: Record<string, unknown> = {
      operationId: `${spec.method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      tags: [spec.tag],
      summary: spec.summary,
      description: [spec.description, `Who: ${roleText(spec)}.`].filter(Boolean).join("\n\n"),
      ...(spec.auth === "public" ? { security: [] } : {}),
      parameters: parameters(spec),
      responses,
    };
    if (spec.body) {
      const content: Record<string, unknown> = { "application/json": { schema: schemaOf(spec.body) } };
      if (spec.rawBody)
        content[spec.rawBody.contentType] = {
          schema: { type: "string", format: "binary", description: spec.rawBody.description },
        };
      operation.requestBody = { required: true, content };
    }
    (paths[path] ??= {})[spec.method.toLowerCase()] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "radledger node API",
      version: "1",
      description:
        "The HTTP API of a radledger node: create and read signed entries of every record family, query them, and read protected content through the gatekeeper. Errors are RFC 9457 application/problem+json with a stable `code`. Limits: see docs/api.md.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description:
            "A session token from your own sign-in (POST /api/v1/auth/login), an API token you minted with it (POST /api/v1/auth/tokens), or, for a system actor, one an admin issued (POST /api/v1/auth/tokens, `radledger token create`).",
        },
      },
      schemas: { Problem: PROBLEM },
    },
    // The standard edges that speak FHIR (IHE RESTful ATNA) are described by hand.
    paths: { ...paths, ...FHIR_ATNA_PATHS },
  };
}

const escape = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A self-contained HTML page: every endpoint with who may call it and its parameters and body schema. */
export function apiPage(api: Api): string {
  const tags = [...new Set(api.routes.map((r) => r.tag))];
  const sections = tags.map((tag) => {
    const rows = api.routes
      .filter((r) => r.tag === tag)
      .map((r) => {
        const params = parameters(r)
          .map(
            (p) =>
              `<code>${escape(String(p.name))}</code> (${String(p.in)}${p.required ? ", required" : ""})`,
          )
          .join(", ");
        const body = r.body
          ? `<details><summary>request body schema</summary><pre>${escape(JSON.stringify(schemaOf(r.body), null, 2))}</pre></details>`
          : "";
        return `<div class="op"><h3><span class="m ${r.method}">${r.method}</span> <code>${escape(r.url)}</code></h3>
<p>${escape(r.summary)}</p>${r.description ? `<p>${escape(r.description)}</p>` : ""}
<p class="who">Who: ${escape(roleText(r))}${params ? ` · Parameters: ${params}` : ""}${r.errors?.length ? ` · Problems: ${r.errors.map((e) => `<code>${e}</code>`).join(" ")}` : ""}</p>${body}</div>`;
      })
      .join("\n");
    return `<section id="${escape(tag)}"><h2>${escape(tag)}</h2>${rows}</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>radledger API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:70em;margin:2em auto;padding:0 1em;color:#222}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:30em}
.op{border-top:1px solid #ddd;padding:.3em 0}.m{display:inline-block;min-width:4.2em;font-size:12px;color:#fff;border-radius:3px;text-align:center;padding:1px 4px}
.GET{background:#2b6cb0}.POST{background:#2f855a}.PUT{background:#b7791f}.DELETE{background:#c53030}.who{color:#555;font-size:13px}h3{margin:.4em 0;font-size:15px}</style></head>
<body><h1>radledger node API</h1>
<p>Authenticate with <code>Authorization: Bearer &lt;token&gt;</code> (an API token from an admin or <code>radledger token create</code>, or a session token from <code>POST /api/v1/auth/login</code>). Errors are RFC 9457 <code>application/problem+json</code> with a stable <code>code</code>. The machine-readable description is <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
<nav>${tags.map((t) => `<a href="#${escape(t)}">${escape(t)}</a>`).join(" · ")}</nav>
${sections.join("\n")}
</body></html>`;
}

export function registerOpenApiRoutes(app: FastifyInstance, api: Api): void {
  let doc: JsonSchema | undefined;
  let page: string | undefined;
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/openapi.json",
    tag: "meta",
    summary: "This API as an OpenAPI 3.1 document, generated from the schemas that validate requests.",
    auth: "public",
    response: { description: "the OpenAPI document", schema: z.record(z.string(), z.unknown()) },
    async handler() {
      return (doc ??= openApiDocument(api));
    },
  });
  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/docs",
    tag: "meta",
    summary: "This API as a human-readable page.",
    auth: "public",
    response: { description: "HTML", contentType: "text/html" },
    async handler({ reply }) {
      // The page's one inline stylesheet is all it loads (no script).
      return reply
        .type("text/html; charset=utf-8")
        .header(
          "content-security-policy",
          "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        )
        .send((page ??= apiPage(api)));
    },
  });
}
