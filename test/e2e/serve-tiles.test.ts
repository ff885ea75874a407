/**
 * End to end: `radledger serve` publishes a log as C2SP tlog-tiles; a client holding only the
 * verifier key from `radledger key` fetches the checkpoint, tiles and entry bundles over HTTP and
 * verifies entries with the pure core alone. Entry bundles are personal data: the client reads them
 * with credentials (an admin's API token from `radledger token create`); checkpoints and hash tiles
 * need none (docs/privacy.md).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { nobleCrypto } from "../../src/core/crypto-noble.js";
import { fromBase64, toBase64 } from "../../src/core/bytes.js";
import { openCheckpoint, parseCheckpointText } from "../../src/core/checkpoint.js";
import { decodeEntry } from "../../src/core/entry.js";
import { leafHash } from "../../src/core/merkle/hash.js";
import { verifyConsistency, verifyInclusion } from "../../src/core/merkle/verify.js";
import { ed25519Verifier, parseSignedNote, parseVerifierKey } from "../../src/core/note.js";
import { TileClient } from "../../src/core/tile-client.js";
import { credentialHeaders, type LogCredentials } from "../../src/core/http-signature.js";
import { makeNode, newKey, type TestNode } from "../helpers/node.js";
import { runCli, startServe } from "../helpers/cli.js";

let t: TestNode;
let server: Awaited<ReturnType<typeof startServe>>;
let verifierKey = "";
let olderCheckpoint = "";
let credentials: LogCredentials | undefined;

beforeAll(async () => {
  t = await makeNode();
  // 600 entries: genesis, the admin's enrolment, these 597, and the admin token's issuance below.
  const entries = Array.from({ length: 597 }, (_, i) =>
    t.sign(t.admin, "actor.enrolled", {
      actorId: `tech-${i}`,
      kind: "staff",
      roles: ["technologist"],
      publicKey: toBase64(newKey("x").publicKey),
    }),
  );
  await t.node.appender.appendAll(entries.slice(0, 200));
  olderCheckpoint = t.node.ledger.latestCheckpoint!;
  await t.node.appender.appendAll(entries.slice(200));
  await t.node.close();
  verifierKey = (await runCli(["key", "--data", t.dir])).stdout.trim();
  const token = await runCli(["token", "create", "--data", t.dir, "--actor", "admin", "--json"]);
  credentials = { bearer: (JSON.parse(token.stdout) as { token: string }).token };
  server = await startServe(t.dir);
}, 60_000);

afterAll(async () => {
  await server.stop();
  await t.reopen();
  await t.close();
});

/** A GET with the client's credentials (none with `anonymous`). */
const get = async (path: string, anonymous = false): Promise<Response> => {
  const url = `${server.url}/${path}`;
  return fetch(url, anonymous ? {} : { headers: credentialHeaders(credentials!, "GET", url) });
};
const bytes = async (path: string, anonymous = false): Promise<Uint8Array> => {
  const res = await get(path, anonymous);
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
};

describe("a log served as tlog-tiles verifies with only the verifier key", () => {
  test("checkpoint, tiles, entry bundles and proofs", async () => {
    const vkey = parseVerifierKey(nobleCrypto, verifierKey);
    const verifier = ed25519Verifier(nobleCrypto, vkey.name, vkey.publicKey);
    const res = await get("checkpoint");
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    const { checkpoint } = openCheckpoint(await res.text(), [verifier]);
    // The 600 entries written before, and serve's own start record (110100, docs/audit.md).
    expect(checkpoint.size).toBe(601);

    const client = new TileClient(nobleCrypto, bytes, checkpoint);
    await client.verifyRoot();
    for (const index of [0, 1, 255, 256, 511, 512, 599]) {
      const entry = decodeEntry(await client.entry(index));
      expect(entry.origin).toBe(checkpoint.origin);
    }
    const older = openCheckpoint(olderCheckpoint, [verifier]).checkpoint;
    await client.verifyConsistentWith(older);

    // The JSON proofs agree with the tile-derived ones.
    const inclusion = (await (
      await get(`api/v1/log/proofs/inclusion?index=300&size=${checkpoint.size}`)
    ).json()) as {
      proof: string[];
      leafHash: string;
    };
    expect(inclusion.proof).toEqual((await client.inclusionProof(300)).map(toBase64));
    verifyInclusion(
      nobleCrypto,
      300,
      checkpoint.size,
      fromBase64(inclusion.leafHash),
      inclusion.proof.map(fromBase64),
      checkpoint.root,
    );
    const consistency = (await (
      await get(`api/v1/log/proofs/consistency?from=${older.size}&to=${checkpoint.size}`)
    ).json()) as { proof: string[] };
    verifyConsistency(
      nobleCrypto,
      older.size,
      checkpoint.size,
      older.root,
      checkpoint.root,
      consistency.proof.map(fromBase64),
    );
  });

  test("full and partial tiles have the spec's sizes and immutable caching", async () => {
    const full = await get("tile/0/000");
    expect(full.headers.get("cache-control")).toContain("immutable");
    expect((await full.arrayBuffer()).byteLength).toBe(8192);
    expect((await bytes("tile/0/002.p/88")).length).toBe(88 * 32);
    expect((await bytes("tile/1/000.p/2")).length).toBe(64);
    expect((await bytes("tile/0/002.p/10")).length).toBe(320); // a narrower prefix of a partial tile
    const bundle = await bytes("tile/entries/002.p/88");
    const first = bundle.subarray(2, 2 + ((bundle[0]! << 8) | bundle[1]!));
    expect(leafHash(nobleCrypto, first)).toEqual((await bytes("tile/0/002.p/88")).subarray(0, 32));
    const checkpointRes = await get("checkpoint");
    expect(checkpointRes.headers.get("cache-control")).toContain("no-cache");
  });

  test("tiles that do not exist yet are 404, malformed tile paths 400, both as problem+json", async () => {
    for (const path of ["tile/0/003", "tile/0/002", "tile/0/002.p/90", "tile/entries/003", "tile/2/000"]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
    }
    for (const path of [
      "tile/0/x000/001",
      "tile/0/001.p/0",
      "tile/99/000",
      "tile/0/..%2f..%2fetc/passwd",
      "tile/entries/abc",
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe("TILE_PATH_INVALID");
    }
  });

  test("without credentials the same client verifies the tree but reads no entry", async () => {
    const vkey = parseVerifierKey(nobleCrypto, verifierKey);
    const verifier = ed25519Verifier(nobleCrypto, vkey.name, vkey.publicKey);
    const { checkpoint } = openCheckpoint(await (await get("checkpoint", true)).text(), [verifier]);
    const client = new TileClient(nobleCrypto, (path) => bytes(path, true), checkpoint);
    await client.verifyRoot();
    await client.verifyConsistentWith(openCheckpoint(olderCheckpoint, [verifier]).checkpoint);
    await expect(client.entry(0)).rejects.toThrow("tile/entries/000: 401");
    const res = await get("tile/entries/000", true);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="radledger"');
    expect(((await res.json()) as { code: string }).code).toBe("AUTH_REQUIRED");
  });

  test("the signed note parses as a standard C2SP checkpoint", async () => {
    const note = parseSignedNote(await (await get("checkpoint")).text());
    expect(parseCheckpointText(note.text).origin).toBe("radledger.test-hospital.example/log");
    expect(note.signatures[0]!.name).toBe("radledger.test-hospital.example/log");
  });
});
