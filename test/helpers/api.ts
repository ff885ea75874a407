/**
 * A real node served on 127.0.0.1 (random port) over a temporary data directory, for API tests:
 * buildServer + listen, cheap scrypt parameters (the KDF's cost is not what these tests measure), and
 * small helpers to call it with a bearer token.
 */
import type { FastifyInstance } from "fastify";
import { Writable } from "node:stream";
import { buildServer, type ServerOptions } from "../../src/api/server.js";
import { makeNode, type TestNode } from "./node.js";
import { openAuthStore } from "../../src/wiring/auth.js";

export interface ApiResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly type: string;
  readonly body: T;
  readonly text: string;
  readonly headers: Headers;
}

export interface TestApi {
  readonly t: TestNode;
  readonly app: FastifyInstance;
  readonly url: string;
  /** Every JSON log line the server wrote. */
  readonly logs: string[];
  /** An API token for an enrolled actor, issued straight from the auth store. */
  token(actor: string, options?: { ttlMs?: number; now?: number }): Promise<string>;
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: {
      token?: string;
      body?: unknown;
      raw?: string | Uint8Array;
      contentType?: string;
      headers?: Record<string, string>;
    },
  ): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

export const CHEAP_SCRYPT = { passwordCost: { logN: 10, r: 8, p: 1 }, tokenCost: { logN: 10, r: 8, p: 1 } };

export const HIGH_LIMITS: NonNullable<ServerOptions["limits"]> = {
  anonymous: { perSecond: 1e6, burst: 1e6 },
  actor: { perSecond: 1e6, burst: 1e6 },
  login: { perSecond: 1e6, burst: 1e6 },
  authFailures: { perSecond: 1e6, burst: 1e6 },
};

export async function startApi(options: Partial<ServerOptions> = {}, existing?: TestNode): Promise<TestApi> {
  const t = existing ?? (await makeNode());
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n")) if (line.trim() !== "") logs.push(line);
      done();
    },
  });
  const app = buildServer(t.node, {
    auth: openAuthStore(t.dir, CHEAP_SCRYPT),
    logger: { stream },
    limits: HIGH_LIMITS,
    ...options,
  });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return {
    t,
    app,
    url,
    logs,
    async token(actor, o = {}) {
      const { token } = await app.radledger.auth.issueToken({
        actor,
        kind: "api",
        ttlMs: o.ttlMs ?? 3600_000,
        createdBy: "test",
        ...(o.now === undefined ? {} : { now: o.now }),
      });
      return token;
    },
    async call(method: string, path: string, o: Parameters<TestApi["call"]>[2] = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
      let body: string | Uint8Array<ArrayBuffer> | undefined;
      if (o.raw !== undefined) {
        body = typeof o.raw === "string" ? o.raw : new Uint8Array(o.raw);
        headers["content-type"] = o.contentType ?? "application/json";
      } else if (o.body !== undefined) {
        body = JSON.stringify(o.body);
        headers["content-type"] = "application/json";
      }
      const res = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      const type = res.headers.get("content-type") ?? "";
      const parsed: unknown = type.includes("json") && text !== "" ? JSON.parse(text) : undefined;
      return { status: res.status, type, body: parsed as never, text, headers: res.headers };
    },
    async close() {
      await app.close();
      if (!existing) await t.close();
    },
  };
}
