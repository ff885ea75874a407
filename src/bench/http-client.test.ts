import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClients } from "./http-client.js";

// A server whose answers the load client must read exactly: bodies of random bytes (which may
// contain "\r\n\r\n"), empty bodies, error statuses, and one route that answers chunked.
let server: Server;
let port: number;
let served = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    served++;
    if (req.url === "/chunked") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("a");
      res.end("b");
      return;
    }
    const status = req.url === "/missing" ? 404 : 200;
    const size = req.url === "/empty" ? 0 : 8192;
    const body = Buffer.alloc(size);
    for (let i = 0; i < size; i++) body[i] = i % 7 === 0 ? 13 : i % 5 === 0 ? 10 : (i * 31) & 255;
    res.writeHead(status, { "content-length": size });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const get = (path: string): Buffer => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`, "latin1");

describe("runClients", () => {
  it("sends every request once over keep-alive connections and reads every answer whole", async () => {
    served = 0;
    const paths = Array.from({ length: 300 }, (_, i) =>
      i % 10 === 0 ? "/missing" : i % 3 ? "/t" : "/empty",
    );
    let next = 0;
    const result = await runClients({
      host: "127.0.0.1",
      port,
      connections: 8,
      next: () => (next < paths.length ? get(paths[next++]!) : undefined),
    });
    expect(served).toBe(300);
    expect(result.non2xx).toBe(30);
    expect(result.ok).toBe(270);
    expect(result.errors + result.timeouts).toBe(0);
    expect(result.latencyMaxMillis).toBeGreaterThanOrEqual(result.latencyP50Millis);
  });

  it("counts an answer without Content-Length as an error instead of misreading the stream", async () => {
    let sent = 0;
    const result = await runClients({
      host: "127.0.0.1",
      port,
      connections: 1,
      next: () => (sent++ < 3 ? get("/chunked") : undefined),
    });
    expect(result.errors).toBe(1);
    expect(result.ok).toBe(0);
  });
});
