/**
 * Issue 18, finding 3: the log's entries are pseudonymous personal data. Checkpoints, hash tiles and
 * proofs stay public; entry bundles (/tile/entries/…) and single entries (/api/v1/log/entries/:ref)
 * are served only to consortium peers that sign their requests (RFC 9421, ed25519, with the log key
 * configured for them) and to admins and auditors (docs/privacy.md).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { toBase64 } from "../../src/core/bytes.js";
import { credentialHeaders, type LogCredentials } from "../../src/core/http-signature.js";
import { decodeEntryBundle } from "../../src/core/tiles.js";
import { ed25519Signer, formatVerifierKey } from "../../src/core/note.js";
import { addPeer } from "../../src/app/consortium/config.js";
import { ConsortiumService } from "../../src/app/consortium/service.js";
import { consortiumPorts } from "../../src/wiring/consortium.js";
import { startApi, type TestApi } from "../helpers/api.js";
import { makeNode } from "../helpers/node.js";

const PEER = "peer-hospital.example/log";
const peerSeed = crypto.randomBytes(32);
let api: TestApi;
let svc: ConsortiumService;
let size = 0;
const tokens: Record<string, string> = {};

/** Credentials of the configured peer (or of any key, under any keyid), at `now` seconds. */
function peer(seed = peerSeed, keyid = PEER, now = () => Math.floor(Date.now() / 1000)): LogCredentials {
  let n = 0;
  return {
    keyid,
    sign: (base) => crypto.ed25519Sign(seed, base),
    now,
    nonce: () => `n${n++}-${toBase64(crypto.randomBytes(8))}`,
  };
}

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${api.url}${path}`, { headers });

const signed = (path: string, credentials: LogCredentials = peer()) =>
  get(path, credentialHeaders(credentials, "GET", `${api.url}${path}`));

async function problem(res: Response): Promise<{ status: number; code: string; type: string | null }> {
  const body = (await res.json()) as { code: string };
  return { status: res.status, code: body.code, type: res.headers.get("content-type") };
}

beforeAll(async () => {
  const t = await makeNode();
  await t.enrol("aud-1", ["auditor"]);
  await t.enrol("rad-1", ["radiologist"]);
  addPeer(
    crypto,
    t.dir,
    PEER,
    "http://127.0.0.1:9",
    formatVerifierKey(ed25519Signer(crypto, PEER, peerSeed)),
  );
  svc = await ConsortiumService.open(t.node, consortiumPorts, { background: false });
  api = await startApi({ consortium: svc }, t);
  size = t.node.ledger.size;
  tokens.aud = await api.token("aud-1");
  tokens.rad = await api.token("rad-1");
  tokens.admin = await api.token("admin");
});

afterAll(async () => {
  await api.close();
  await svc.close();
});

const bundlePath = () => `/tile/entries/000.p/${size}`;

describe("public: checkpoints, hash tiles, proofs", () => {
  test("checkpoint, hash tile and inclusion proof need no credentials", async () => {
    expect((await get("/checkpoint")).status).toBe(200);
    const tile = await get(`/tile/0/000.p/${size}`);
    expect(tile.status).toBe(200);
    expect(tile.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect((await get("/api/v1/log/proofs/inclusion?index=0")).status).toBe(200);
    expect((await get("/api/v1/log")).status).toBe(200);
  });
});

describe("entries without credentials", () => {
  test("GET /tile/entries/000 is 401 problem+json asking for a bearer token or a signature", async () => {
    const res = await get(bundlePath());
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="radledger"');
    expect(res.headers.get("accept-signature")).toBe(
      'sig1=("@method" "@authority" "@path" "@query");created;alg="ed25519"',
    );
    expect(await problem(res)).toEqual({
      status: 401,
      code: "AUTH_REQUIRED",
      type: "application/problem+json; charset=utf-8",
    });
  });

  test("GET /api/v1/log/entries/0 is 401 too", async () => {
    const res = await get("/api/v1/log/entries/0");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="radledger"');
    expect((await problem(res)).code).toBe("AUTH_REQUIRED");
  });

  test("HEAD requests are refused too (fastify's implicit HEAD routes share the check)", async () => {
    for (const path of [bundlePath(), "/api/v1/log/entries/0"]) {
      const res = await fetch(`${api.url}${path}`, { method: "HEAD" });
      expect(res.status, path).toBe(401);
    }
  });

  test("a bundle served to an auditor is not then served from the cache to anyone", async () => {
    const ok = await get(bundlePath(), { authorization: `Bearer ${tokens.aud!}` });
    expect(ok.status).toBe(200);
    expect((await get(bundlePath())).status).toBe(401);
  });
});

describe("consortium peers: RFC 9421 signatures with a configured peer's log key", () => {
  test("a peer-signed request gets the bundle, cacheable only privately", async () => {
    const res = await signed(bundlePath());
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    const entries = decodeEntryBundle(new Uint8Array(await res.arrayBuffer()));
    expect(entries).toHaveLength(size);
    expect(entries[0]).toEqual(api.t.node.store.readEntries(0, 1)[0]!.bytes);
    expect(api.logs.some((l) => l.includes(`"peer":"${PEER}"`))).toBe(true);
  });

  test("a peer-signed request reads one entry with its proof", async () => {
    const res = await signed("/api/v1/log/entries/0");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    expect(((await res.json()) as { index: number }).index).toBe(0);
  });

  test("a signature by an unknown key, or a known keyid with another key, is 401", async () => {
    const stranger = crypto.randomBytes(32);
    const unknown = await signed(bundlePath(), peer(stranger, "stranger.example/log"));
    expect(unknown.headers.get("www-authenticate")).toBe('Bearer realm="radledger"');
    expect(await problem(unknown)).toMatchObject({ status: 401, code: "AUTH_SIGNATURE_INVALID" });
    const impostor = await signed(bundlePath(), peer(stranger, PEER));
    expect(await problem(impostor)).toMatchObject({ status: 401, code: "AUTH_SIGNATURE_INVALID" });
  });

  test("a signature for another path (tampered) is 401", async () => {
    const headers = credentialHeaders(peer(), "GET", `${api.url}/tile/entries/001`);
    expect(await problem(await get(bundlePath(), headers))).toMatchObject({
      status: 401,
      code: "AUTH_SIGNATURE_INVALID",
    });
  });

  test("a signature created 10 minutes ago is 401 (expired)", async () => {
    const old = peer(peerSeed, PEER, () => Math.floor(Date.now() / 1000) - 600);
    expect(await problem(await signed(bundlePath(), old))).toMatchObject({
      status: 401,
      code: "AUTH_SIGNATURE_EXPIRED",
    });
  });

  test("a replayed signature is 401", async () => {
    const headers = credentialHeaders(peer(), "GET", `${api.url}${bundlePath()}`);
    expect((await get(bundlePath(), headers)).status).toBe(200);
    expect(await problem(await get(bundlePath(), headers))).toMatchObject({
      status: 401,
      code: "AUTH_SIGNATURE_REPLAYED",
    });
  });
});

describe("actors: admins and auditors read entries, other roles do not", () => {
  test("auditor and admin bearers get 200; a radiologist's 403", async () => {
    for (const who of ["aud", "admin"]) {
      const res = await get(bundlePath(), { authorization: `Bearer ${tokens[who]!}` });
      expect(res.status, who).toBe(200);
      const one = await get("/api/v1/log/entries/0", { authorization: `Bearer ${tokens[who]!}` });
      expect(one.status, who).toBe(200);
    }
    const rad = await get(bundlePath(), { authorization: `Bearer ${tokens.rad!}` });
    expect(await problem(rad)).toMatchObject({ status: 403, code: "FORBIDDEN_ROLE" });
    const radOne = await get("/api/v1/log/entries/0", { authorization: `Bearer ${tokens.rad!}` });
    expect(await problem(radOne)).toMatchObject({ status: 403, code: "FORBIDDEN_ROLE" });
  });

  test("an invalid bearer token is 401 with WWW-Authenticate", async () => {
    const res = await get(bundlePath(), { authorization: "Bearer rl_0000000000000000_nope" });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="radledger"');
  });
});
