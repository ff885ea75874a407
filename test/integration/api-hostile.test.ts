/**
 * Hostile input against every endpoint of a real node (property-based, fast-check, bounded runs):
 * malformed JSON, wrong types, huge and deeply nested bodies, unknown fields, bad signatures, forged
 * actor ids, expired and revoked tokens, path traversal in tile and API paths, oversized headers and
 * malformed HTTP. Every answer must be below 500 and every refusal an RFC 9457 problem with a
 * documented code; afterwards the server still answers correctly. Limits are checked here too.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import fc from "fast-check";
import { request, Agent } from "node:http";
import { connect } from "node:net";
import { toBase64 } from "../../src/core/bytes.js";
import { ERROR_CODES } from "../../src/core/errors.js";
import { fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { newKey } from "../helpers/node.js";
import { startApi, type TestApi } from "../helpers/api.js";

let api: TestApi;
let host = "";
let port = 0;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
const tokens: Record<string, string> = {};
const ext = newKey("ext-1");
let study = "";

interface Answer {
  status: number;
  type: string;
  text: string;
}

/** Sends exactly this method, path, headers and body (no URL normalisation, unlike fetch). */
function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string | Buffer,
): Promise<Answer | undefined> {
  return new Promise((resolve, reject) => {
    let req;
    try {
      req = request({ host, port, method, path, headers, agent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", text }),
        );
        res.on("error", reject);
      });
    } catch {
      resolve(undefined); // the client itself refuses (e.g. a control character in the path): nothing sent
      return;
    }
    req.on("error", reject);
    req.end(body);
  });
}

function expectClean(a: Answer | undefined, what: string): void {
  if (!a) return;
  expect(a.status, `${what} → ${a.status} ${a.text.slice(0, 300)}`).toBeLessThan(500);
  expect(a.status, what).toBeGreaterThanOrEqual(200);
  if (a.status >= 400) {
    expect(a.type, what).toContain("application/problem+json");
    const code = (JSON.parse(a.text) as { code: string }).code;
    expect(Object.keys(ERROR_CODES), what).toContain(code);
  }
}

beforeAll(async () => {
  api = await startApi();
  const u = new URL(api.url);
  host = u.hostname;
  port = Number(u.port);
  tokens.admin = await api.token("admin");
  const enrol = async (actorId: string, body: Record<string, unknown>): Promise<void> => {
    const r = await api.call("POST", "/api/v1/actors", { token: tokens.admin!, body: { actorId, ...body } });
    expect(r.status, r.text).toBe(201);
    tokens[actorId] = await api.token(actorId);
  };
  await enrol("rad-1", { kind: "staff", roles: ["radiologist"] });
  await enrol("tech-1", { kind: "staff", roles: ["technologist"] });
  await enrol("aud-1", { kind: "staff", roles: ["auditor"] });
  await enrol("pt-a", { kind: "patient", roles: ["patient"], patient: fakePseudonym() });
  await enrol("ext-1", { kind: "staff", roles: ["radiologist"], publicKey: toBase64(ext.publicKey) });
  // The fuzzer gets tokens of its own: it may well log them out or revoke them.
  for (const actor of ["admin", "rad-1", "pt-a", "aud-1"]) tokens[`fuzz-${actor}`] = await api.token(actor);
  tokens.expired = await api.token("rad-1", { now: Date.now() - 7200_000, ttlMs: 3600_000 });
  tokens.revoked = await api.token("rad-1");
  api.app.radledger.auth.revokeToken(/^rl_([0-9a-f]{16})_/.exec(tokens.revoked)![1]!, "test");
  const r = await api.call("POST", "/api/v1/entries/study.registered", {
    token: tokens["tech-1"]!,
    body: { body: studyBody() },
  });
  study = r.body.leafHash as string;
}, 60_000);

afterAll(async () => {
  agent.destroy();
  await api.close();
});

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString("hex"));

const hostileSegment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "..",
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "%00",
    "x001",
    "-1",
    "1e3",
    "00000000000000000000000000001",
    "9007199254740993",
    "a".repeat(300),
    "pt_" + "A".repeat(43),
    "%F0%9F%92%A9",
    "%ZZ",
    "\u00e9",
    "../../../../keys/log.key",
  ),
  hex64,
);

const tokenChoice = fc.constantFrom<string | undefined>(
  undefined,
  "fuzz-admin",
  "fuzz-rad-1",
  "fuzz-pt-a",
  "fuzz-aud-1",
  "expired",
  "revoked",
  "garbage",
  "rl_0000000000000000_" + "x".repeat(43),
);

const deep = fc.integer({ min: 33, max: 5000 }).map((n) => "[".repeat(n) + "]".repeat(n));
const bodyText = fc.oneof(
  fc.string({ maxLength: 200 }), // malformed JSON, mostly
  fc.json({ maxDepth: 4 }),
  deep,
  fc.constantFrom(
    "",
    "{",
    '{"a":1,"a":2}',
    '{"__proto__":{"admin":true}}',
    '{"constructor":{"prototype":{"x":1}}}',
    "1.5",
    "1e400",
    "[" + "1,".repeat(20000) + "1]",
    '{"body":{"x":' + '"y"'.padEnd(50, " ") + "}}",
    '"\\ud800"',
  ),
  fc
    .record({
      body: fc.object({ maxDepth: 3 }),
      refs: fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined }),
    })
    .map((o) => JSON.stringify(o)),
);
const contentType = fc.constantFrom(
  "application/json",
  "text/plain",
  "application/vnd.radledger.entry+json",
  "application/x-www-form-urlencoded",
  "",
  "application/json; charset=latin1",
);

describe("hostile input never reaches a 5xx", () => {
  test("every API route: random path parameters, query strings, bodies, content types and tokens", async () => {
    const routes = api.app.radledger.routes.map((r) => ({ method: r.method, url: r.url }));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        fc.array(hostileSegment, { minLength: 4, maxLength: 4 }),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }),
          fc.oneof(fc.string({ maxLength: 30 }), hostileSegment),
          { maxKeys: 3 },
        ),
        bodyText,
        contentType,
        tokenChoice,
        async (route, segments, query, body, type, who) => {
          let i = 0;
          const path = route.url.replace(/:[A-Za-z]+/g, () =>
            encodeURIComponent(segments[i++]!).replace(/%25/g, "%"),
          );
          const qs = Object.entries(query)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
            .join("&");
          const headers: Record<string, string> = {};
          if (who !== undefined) headers.authorization = `Bearer ${tokens[who] ?? who}`;
          const withBody = route.method === "POST" || route.method === "PUT";
          if (withBody && type !== "") headers["content-type"] = type;
          const a = await send(
            route.method,
            qs === "" ? path : `${path}?${qs}`,
            headers,
            withBody ? body : undefined,
          );
          expectClean(a, `${route.method} ${path}`);
          const routable = (() => {
            try {
              decodeURI(path);
              return path.split("/").every((p) => p.length <= 200); // the router's parameter limit
            } catch {
              return false; // the router refuses such a URL itself (400) before any route runs
            }
          })();
          if (
            a &&
            routable &&
            (who === "expired" || who === "revoked" || who === "garbage") &&
            a.status !== 404
          ) {
            // Public routes ignore tokens; every other route refuses these before anything else.
            const isPublic =
              api.app.radledger.routes.find((r) => r.url === route.url && r.method === route.method)!.auth ===
              "public";
            if (!isPublic) expect(a.status, `${route.method} ${path}`).toBe(401);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test("create endpoints: valid-looking bodies with wrong types and unknown fields", async () => {
    const types = api.app.radledger.routes
      .filter((r) => r.url.startsWith("/api/v1/entries/") && r.method === "POST")
      .map((r) => r.url);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...types),
        fc.dictionary(
          fc.string({ maxLength: 12 }),
          fc.oneof(
            fc.string({ maxLength: 20 }),
            fc.integer(),
            fc.boolean(),
            fc.array(fc.integer(), { maxLength: 3 }),
            fc.constant(null),
          ),
          { maxKeys: 6 },
        ),
        fc.option(
          fc.dictionary(
            fc.constantFrom("study", "report", "grant", "trial", "dataset", "x"),
            fc.oneof(fc.constant(study), hex64, fc.string()),
          ),
          { nil: undefined },
        ),
        fc.constantFrom("admin", "rad-1", "tech-1", "pt-a"),
        async (url, body, refs, who) => {
          const a = await send(
            "POST",
            url,
            { "content-type": "application/json", authorization: `Bearer ${tokens[who]!}` },
            JSON.stringify({ body, ...(refs ? { refs } : {}), extra: 1 }),
          );
          expectClean(a, url);
          expect(a!.status).toBeGreaterThanOrEqual(400); // "extra" is an unknown field
        },
      ),
      { numRuns: 150 },
    );
  });

  test("signed submissions: bad signatures, forged actors and mutated envelopes are refused", async () => {
    const good = JSON.parse(
      new TextDecoder().decode(api.t.sign(ext, "report.opened", { reportKind: "diagnostic" }, { study })),
    ) as Record<string, unknown>;
    const extToken = await api.token("ext-1");
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("v", "type", "time", "origin", "actor", "key", "refs", "body", "sig", "extra"),
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.integer(),
          fc.constant("rad-1"),
          fc.constant("institution"),
          fc.constant(toBase64(new Uint8Array(64))),
          fc.object({ maxDepth: 2 }),
        ),
        fc.constantFrom(extToken, tokens["rad-1"]!),
        fc.boolean(),
        async (field, value, token, raw) => {
          const entry = { ...good, [field]: value };
          // A "mutation" that equals the signed value (v set to 1) is the good entry itself.
          fc.pre(JSON.stringify(entry) !== JSON.stringify(good));
          const a = raw
            ? await send(
                "POST",
                "/api/v1/entries",
                { "content-type": "application/vnd.radledger.entry+json", authorization: `Bearer ${token}` },
                JSON.stringify(entry),
              )
            : await send(
                "POST",
                "/api/v1/entries",
                { "content-type": "application/json", authorization: `Bearer ${token}` },
                JSON.stringify({ entry }),
              );
          expectClean(a, `entry.${field}`);
          expect(a!.status, a!.text).toBeGreaterThanOrEqual(400);
        },
      ),
      { numRuns: 150 },
    );
  });

  test("tile and checkpoint paths: traversal, non-canonical encodings, huge numbers", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(hostileSegment, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        async (segments, encode) => {
          const path =
            "/tile/" +
            segments.map((s) => (encode ? encodeURIComponent(s) : s.replace(/[^!-~]/g, "_"))).join("/");
          const a = await send("GET", path, {});
          expectClean(a, path);
          if (a && a.status === 200) expect(a.type).toBe("application/octet-stream");
        },
      ),
      { numRuns: 200 },
    );
    for (const path of [
      "/tile/../../keys/log.key",
      "/tile/0/../../../etc/passwd",
      "/tile/entries/..%2f..%2fkeys",
      "/checkpoint/../keys/log.key",
      "/api/v1/../keys/log.key",
    ]) {
      const a = await send("GET", path, {});
      expectClean(a, path);
      expect(a!.status, path).toBeGreaterThanOrEqual(400);
      expect(a!.text).not.toContain("PRIVATE");
    }
  });

  test("huge bodies, huge headers and malformed HTTP get problems too", async () => {
    const huge = await send(
      "POST",
      "/api/v1/vault",
      { "content-type": "application/json", authorization: `Bearer ${tokens["rad-1"]!}` },
      JSON.stringify({ patient: fakePseudonym(), content: { text: "x".repeat(2 * 1024 * 1024) } }),
    );
    expectClean(huge, "huge body");
    expect(JSON.parse(huge!.text)).toMatchObject({ status: 413, code: "BODY_TOO_LARGE" });
    const hugeEntry = await send(
      "POST",
      "/api/v1/entries",
      { "content-type": "application/vnd.radledger.entry+json", authorization: `Bearer ${tokens["rad-1"]!}` },
      "x".repeat(70_000),
    );
    expect(JSON.parse(hugeEntry!.text)).toMatchObject({ code: "BODY_TOO_LARGE" });
    const headers = await rawHttp(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
    expect(headers).toMatch(/^HTTP\/1.1 431/);
    expect(headers).toContain('"code":"HEADERS_TOO_LARGE"');
    const garbage = await rawHttp("BLAH /// HTTP/9.9\r\n\r\n");
    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    expect(garbage).toContain("application/problem+json");
  });

  test("afterwards the server still answers correctly", async () => {
    expect((await api.call("GET", "/healthz")).status).toBe(200);
    const me = await api.call("GET", "/api/v1/auth/me", { token: tokens["rad-1"]! });
    expect(me.body).toMatchObject({ actor: { id: "rad-1" } });
    const r = await api.call("POST", "/api/v1/entries/report.opened", {
      token: tokens["rad-1"]!,
      body: { body: { reportKind: "diagnostic" }, refs: { study } },
    });
    expect(r.status, r.text).toBe(201);
    const back = await api.call("GET", `/api/v1/log/entries/${r.body.leafHash as string}`, {
      token: tokens.admin!,
    });
    expect(back.body).toMatchObject({ index: r.body.index });
  });
});

function rawHttp(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.end(text));
    let out = "";
    socket.setEncoding("utf8");
    socket.on("data", (c: string) => (out += c));
    socket.on("close", () => resolve(out));
    socket.on("error", (e: NodeJS.ErrnoException) =>
      e.code === "ECONNRESET" || e.code === "EPIPE" ? resolve(out) : reject(e),
    );
  });
}

describe("rate limits", () => {
  test("logins, anonymous requests and each actor's requests are limited with 429 and Retry-After", async () => {
    const limited = await startApi({
      limits: {
        login: { perSecond: 0.001, burst: 2 },
        anonymous: { perSecond: 0.001, burst: 5 },
        actor: { perSecond: 0.001, burst: 3 },
        authFailures: { perSecond: 0.001, burst: 2 },
      },
    });
    try {
      const login = () =>
        limited.call("POST", "/api/v1/auth/login", { body: { actor: "admin", password: "wrong password!" } });
      expect((await login()).status).toBe(401);
      expect((await login()).status).toBe(401);
      const third = await login();
      expect(third.status).toBe(429);
      expect(third.body.code).toBe("RATE_LIMITED");
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);

      const token = await limited.token("admin");
      for (let i = 0; i < 3; i++)
        expect((await limited.call("GET", "/api/v1/auth/me", { token })).status).toBe(200);
      expect((await limited.call("GET", "/api/v1/auth/me", { token })).body.code).toBe("RATE_LIMITED");

      // Anonymous traffic shares the address's bucket (the logins above took two tokens of it).
      let status = 200;
      for (let i = 0; i < 6 && status !== 429; i++)
        status = (await limited.call("GET", "/checkpoint")).status;
      expect(status).toBe(429);
    } finally {
      await limited.close();
    }
  });

  test("a client presenting bad tokens is slowed down before any key derivation", async () => {
    const limited = await startApi({ limits: { authFailures: { perSecond: 0.001, burst: 2 } } });
    try {
      const bad = `rl_0123456789abcdef_${"B".repeat(43)}`;
      expect((await limited.call("GET", "/api/v1/auth/me", { token: bad })).body.code).toBe(
        "AUTH_TOKEN_INVALID",
      );
      expect((await limited.call("GET", "/api/v1/auth/me", { token: bad })).body.code).toBe(
        "AUTH_TOKEN_INVALID",
      );
      expect((await limited.call("GET", "/api/v1/auth/me", { token: bad })).body.code).toBe("RATE_LIMITED");
    } finally {
      await limited.close();
    }
  });
});
