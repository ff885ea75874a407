/**
 * An oversized body is answered with a 413 problem the client can read: the server reads (and drops)
 * the rest of the request before it closes the connection, so the client never sees a reset (EPIPE,
 * ECONNRESET) instead of the answer.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { request } from "node:http";
import { connect } from "node:net";
import { startApi, type TestApi } from "../helpers/api.js";

let api: TestApi;

beforeAll(async () => {
  api = await startApi();
});

afterAll(async () => {
  await api.close();
});

type Outcome = { status: number; type: string; text: string } | { error: string };

/** Posts the body with node's http client (a fresh connection each time) and reads the answer. */
function post(path: string, body: Buffer, chunked: boolean): Promise<Outcome> {
  const url = new URL(path, api.url);
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          ...(chunked ? {} : { "content-length": String(body.length) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers["content-type"] ?? "",
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    if (!chunked) {
      req.end(body);
      return;
    }
    // In pieces, each written once the previous one is flushed.
    const piece = 64 * 1024;
    const write = (at: number): void => {
      if (at >= body.length || req.destroyed) {
        req.end();
        return;
      }
      req.write(body.subarray(at, at + piece), () => write(at + piece));
    };
    write(0);
  });
}

test("2 MB posted to /api/v1/auth/login 20 times with http and 20 with fetch: every answer is a 413 problem, never a reset", async () => {
  const body = Buffer.from(JSON.stringify({ actor: "rad-1", password: "x".repeat(2 * 1024 * 1024) }));
  const outcomes: Outcome[] = [];
  for (let i = 0; i < 20; i++) outcomes.push(await post("/api/v1/auth/login", body, i % 2 === 1));
  for (let i = 0; i < 20; i++) {
    const res = await fetch(new URL("/api/v1/auth/login", api.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    }).then(
      async (r) => ({ status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() }),
      (e: unknown) => ({ error: String((e as { cause?: { code?: string } }).cause?.code ?? e) }),
    );
    outcomes.push(res);
  }
  for (const o of outcomes) {
    expect(o).not.toHaveProperty("error");
    if ("error" in o) continue;
    expect(o.status).toBe(413);
    expect(o.type).toContain("application/problem+json");
    expect(JSON.parse(o.text)).toMatchObject({ status: 413, code: "BODY_TOO_LARGE" });
  }
  // The server still answers afterwards.
  expect((await api.call("GET", "/healthz")).status).toBe(200);
});

test("after a 413 the connection reads the rest of the body and answers the next request", async () => {
  const url = new URL(api.url);
  const size = 2 * 1024 * 1024;
  const socket = connect(Number(url.port), url.hostname);
  const received: Buffer[] = [];
  const errors: string[] = [];
  let onData: (() => void) | undefined;
  socket.on("data", (c: Buffer) => {
    received.push(c);
    onData?.();
  });
  socket.on("error", (e: NodeJS.ErrnoException) => errors.push(e.code ?? e.message));
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  const until = (pattern: RegExp): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(Buffer.concat(received).toString("latin1"))) resolve();
      };
      onData = check;
      void closed.then(() => reject(new Error(`closed: ${Buffer.concat(received).toString("latin1")}`)));
      check();
    });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  // The headers alone: the declared length is over the limit, so the 413 comes before the body.
  socket.write(
    `POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
  );
  await until(/"code":"BODY_TOO_LARGE"/);
  expect(Buffer.concat(received).toString("latin1")).toMatch(/^HTTP\/1.1 413/);
  // Then the body, and a second request on the same connection.
  socket.write(Buffer.alloc(size, 0x20));
  socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await until(/HTTP\/1.1 200[^]*"status":"ok"/);
  await closed;
  expect(errors).toEqual([]);
});
