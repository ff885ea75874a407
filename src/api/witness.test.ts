/**
 * Conformance of POST /add-checkpoint with C2SP tlog-witness §add-checkpoint: every status the spec
 * prescribes, the text/x.tlog.size body of the 409, cosignature/v1 answers, atomic check-and-persist,
 * persistence across a restart, and equivocation evidence.
 */
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import type { FastifyInstance } from "fastify";
import { nodeCrypto as crypto } from "../adapters/node-crypto/crypto.js";
import { checkCosignatures, parseCosignatureVerifierKey } from "../core/cosignature.js";
import { verifyEvidence } from "../core/evidence.js";
import { toBase64 } from "../core/bytes.js";
import { formatAddCheckpointRequest, parseCosignatureResponse } from "../core/witness-protocol.js";
import { parseSignedNote } from "../core/note.js";
import { addPeer } from "../app/consortium/config.js";
import { ConsortiumService } from "../app/consortium/service.js";
import type { RadledgerNode } from "../app/node.js";
import { buildServer } from "./server.js";
import { FakeLog, initNode, open } from "../../test/helpers/consortium.js";
import { consortiumPorts } from "../wiring/consortium.js";
import { openAuthStore } from "../wiring/auth.js";

const WITNESS_ORIGIN = "radledger.witness-hospital.example/log";
const LOG = "radledger.logged-hospital.example/log";

let data: { dir: string; remove(): void };
let node: RadledgerNode;
let consortium: ConsortiumService;
let app: FastifyInstance;
let log: FakeLog;

async function start(): Promise<void> {
  node = open(data.dir);
  consortium = await ConsortiumService.open(node, consortiumPorts, { background: false });
  app = buildServer(node, { auth: openAuthStore(node.dir), consortium });
}

async function stop(): Promise<void> {
  await app.close();
  await consortium.close();
  await node.close();
}

beforeEach(async () => {
  data = await initNode(WITNESS_ORIGIN);
  log = new FakeLog(LOG);
  addPeer(crypto, data.dir, LOG, "http://127.0.0.1:9/unused", log.vkey);
  await start();
});

afterEach(async () => {
  await stop();
  data.remove();
});

const post = (payload: string, contentType = "text/plain") =>
  app.inject({ method: "POST", url: "/add-checkpoint", payload, headers: { "content-type": contentType } });

function witnessKey() {
  return parseCosignatureVerifierKey(crypto, consortium.status().witness!.vkey);
}

describe("POST /add-checkpoint", () => {
  test("200: a first checkpoint with old 0 gets a timestamped cosignature/v1 line by the witness key", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await post(log.request(0, 5));
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/^— \S+ [A-Za-z0-9+/]+=*\n$/);
    const lines = parseCosignatureResponse(res.body);
    const note = parseSignedNote(log.checkpoint(5));
    const { valid } = checkCosignatures({ text: note.text, signatures: lines }, [witnessKey()]);
    expect(valid).toHaveLength(1);
    expect(valid[0]!.timestamp).toBeGreaterThanOrEqual(before);
    expect(valid[0]!.timestamp).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  test("200 without a Content-Type header too (the spec names none)", async () => {
    const res = await app.inject({ method: "POST", url: "/add-checkpoint", payload: log.request(0, 3) });
    expect(res.statusCode).toBe(200);
  });

  test("200 with a consistency proof from the cosigned size; 200 again for the same checkpoint", async () => {
    expect((await post(log.request(0, 5))).statusCode).toBe(200);
    expect((await post(log.request(5, 300))).statusCode).toBe(200);
    expect((await post(log.request(300, 300))).statusCode).toBe(200);
    expect(consortium.status().witness!.logs).toEqual([expect.objectContaining({ origin: LOG, size: 300 })]);
  });

  test("409 text/x.tlog.size with the latest cosigned size when old does not match; old 0 catches up", async () => {
    await post(log.request(0, 7));
    const res = await post(log.request(0, 9));
    expect(res.statusCode).toBe(409);
    expect(res.headers["content-type"]).toMatch(/^text\/x\.tlog\.size/);
    expect(res.body).toBe("7\n");
    const stale = await post(log.request(3, 9));
    expect([stale.statusCode, stale.body]).toEqual([409, "7\n"]);
    expect((await post(log.request(7, 9))).statusCode).toBe(200);
  });

  test("400 when the old size is above the checkpoint size", async () => {
    const res = await post(
      formatAddCheckpointRequest({ oldSize: 10, proof: [], checkpoint: log.checkpoint(9) }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "WITNESS_OLD_SIZE_INVALID" });
  });

  test("404 for an origin the witness is not configured with", async () => {
    const other = new FakeLog("radledger.unknown.example/log");
    const res = await post(other.request(0, 3));
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: "WITNESS_UNKNOWN_LOG" });
  });

  test("403 when no signature verifies with a trusted key (another key, same origin)", async () => {
    const impostor = new FakeLog(LOG, "honest");
    const res = await post(impostor.request(0, 3));
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: "WITNESS_UNTRUSTED_SIGNATURE" });
    expect(consortium.status().witness!.logs).toEqual([]);
  });

  test("422 for a failing consistency proof; nothing is stored", async () => {
    await post(log.request(0, 256));
    const proof = log.tree.consistencyProof(256, 400).map((h) => h.slice());
    proof[0]![0]! ^= 1;
    const res = await post(
      formatAddCheckpointRequest({ oldSize: 256, proof, checkpoint: log.checkpoint(400) }),
    );
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: "WITNESS_PROOF_INVALID" });
    // A proof with old 0 must be empty.
    const extra = formatAddCheckpointRequest({
      oldSize: 0,
      proof: [log.tree.root(1)],
      checkpoint: log.checkpoint(1),
    });
    expect((await post(extra)).statusCode).toBe(409);
    expect((await post(log.request(256, 400))).statusCode).toBe(200);
    expect(consortium.status().alarms.equivocations).toBe(0);
  });

  test("409 for another root at the cosigned size: both notes kept as evidence, no more cosignatures", async () => {
    await post(log.request(0, 9));
    const fork = log.fork("rewritten");
    const res = await post(fork.request(9, 9));
    expect(res.statusCode).toBe(409);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: "WITNESS_ROOT_CONFLICT" });
    const [evidence] = consortium.witnessStore.evidence();
    expect(evidence).toMatchObject({ origin: LOG, kind: "two-roots-for-one-size", source: "witness" });
    expect(verifyEvidence(crypto, evidence!.text, [log.vkey]).kind).toBe("two-roots-for-one-size");
    expect(consortium.status().alarms.equivocations).toBe(1);
    const refused = await post(log.request(9, 12));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: "LOG_EQUIVOCATED" });
  });

  test("a rewritten history proven by the log's own proof path becomes evidence (422)", async () => {
    await post(log.request(0, 100)); // 100 is not a power of two: the proof names the prefix root
    const fork = log.fork("rewritten");
    const res = await post(fork.request(100, 180));
    expect(res.statusCode).toBe(422);
    const [evidence] = consortium.witnessStore.evidence();
    expect(evidence).toMatchObject({ kind: "inconsistent-history" });
    expect(verifyEvidence(crypto, evidence!.text).summary).toContain("rewritten");
  });

  test("400 for malformed bodies, whatever the content type", async () => {
    const cp = log.checkpoint(3);
    for (const body of [
      "",
      "old 01\n\n" + cp,
      "old -1\n\n" + cp,
      "new 0\n\n" + cp,
      "old 0\n" + cp,
      "old 0\nnot-base64!\n\n" + cp,
      `old 0\n${toBase64(new Uint8Array(31))}\n\n${cp}`,
      `old 0\n${`${toBase64(new Uint8Array(32))}\n`.repeat(64)}\n${cp}`,
      "old 0\n\nnot a checkpoint\n",
      "old 0\n\n" + cp.replace("\n\n", "\n"),
    ]) {
      const res = await post(body, "application/octet-stream");
      expect(res.statusCode, JSON.stringify(body.slice(0, 30))).toBe(400);
    }
    const invalidUtf8 = await app.inject({
      method: "POST",
      url: "/add-checkpoint",
      payload: Buffer.from([0x6f, 0x6c, 0x64, 0x20, 0x30, 0x0a, 0x0a, 0xff, 0xfe]),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(invalidUtf8.statusCode).toBe(400);
    const tooLarge = await post("old 0\n\n" + "x".repeat(200_000));
    expect(tooLarge.statusCode).toBe(413);
  });

  test("check and persist are atomic: of two concurrent requests from the same old size, one wins", async () => {
    await post(log.request(0, 10));
    const [a, b] = await Promise.all([post(log.request(10, 20)), post(log.request(10, 30))]);
    const codes = [a.statusCode, b.statusCode].sort();
    expect(codes).toEqual([200, 409]);
    const winner = a.statusCode === 200 ? 20 : 30;
    expect(consortium.status().witness!.logs[0]!.size).toBe(winner);
  });

  test("a restarted witness keeps its state", async () => {
    await post(log.request(0, 42));
    await stop();
    await start();
    const res = await post(log.request(0, 50));
    expect([res.statusCode, res.body]).toEqual([409, "42\n"]);
    expect((await post(log.request(42, 50))).statusCode).toBe(200);
  });
});
