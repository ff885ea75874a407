/**
 * The log side of tlog-witness against in-process witnesses (the real state machine over SQLite),
 * reached through a fake HTTP client that can also be down, slow, or answer with a foreign key.
 */
import { afterEach, describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../adapters/node-crypto/crypto.js";
import { SqliteWitnessStore } from "../../adapters/sqlite/witness-store.js";
import { SqliteConsortiumStore } from "../../adapters/sqlite/consortium-store.js";
import { RadledgerError } from "../../core/errors.js";
import { cosigner, cosignatureVerifier, parseLogVerifierKey } from "../../core/cosignature.js";
import { parseSignedNote } from "../../core/note.js";
import { thresholdPolicy } from "../../core/policy.js";
import { formatSizeResponse, TLOG_SIZE_CONTENT_TYPE } from "../../core/witness-protocol.js";
import { systemClock } from "../../ports/clock.js";
import type { HttpClient, HttpResponse } from "../../ports/consortium.js";
import { FakeLog } from "../../../test/helpers/consortium.js";
import { CosignatureCollector } from "./cosigning.js";
import { Witness } from "./witness.js";

const ORIGIN = "radledger.collector.example/log";
type Mode = "up" | "down" | "slow" | "foreign";

interface World {
  log: FakeLog;
  size: number;
  witnesses: { name: string; witness: Witness; store: SqliteWitnessStore; mode: Mode }[];
  collector: CosignatureCollector;
  store: SqliteConsortiumStore;
  requests: string[];
}

const open: World[] = [];
afterEach(async () => {
  for (const w of open.splice(0)) {
    await w.collector.close();
    w.store.close();
    for (const x of w.witnesses) x.store.close();
  }
});

const text = (status: number, body: string, contentType = "text/plain"): HttpResponse => ({
  status,
  contentType,
  body: new TextEncoder().encode(body),
});

function world(n: number, k: number): World {
  const log = new FakeLog(ORIGIN);
  const witnesses = Array.from({ length: n }, (_, i) => {
    const store = new SqliteWitnessStore(":memory:");
    const witness = new Witness({
      crypto,
      cosigner: cosigner(crypto, `w${i}.example`, crypto.randomBytes(32)),
      logKeys: (o) =>
        o === ORIGIN ? [{ vkey: log.vkey, verifier: parseLogVerifierKey(crypto, log.vkey) }] : undefined,
      store,
      clock: systemClock,
    });
    return { name: `w${i}`, witness, store, mode: "up" };
  });
  const requests: string[] = [];
  const http: HttpClient = {
    get: () => Promise.reject(new Error("unused")),
    post: async (url, body, timeoutMs) => {
      const w = witnesses.find((x) => url === `http://${x.name}/add-checkpoint`)!;
      requests.push(`${w.name} ${body.slice(0, body.indexOf("\n"))}`);
      if (w.mode === "down") throw new RadledgerError("PEER_UNAVAILABLE", "connection refused");
      if (w.mode === "slow")
        return new Promise((_, reject) =>
          setTimeout(() => reject(new RadledgerError("PEER_UNAVAILABLE", "timed out")), timeoutMs),
        );
      if (w.mode === "foreign") {
        const impostor = cosigner(crypto, `${w.name}.example`, crypto.randomBytes(32));
        const note = parseSignedNote(body.slice(body.indexOf("\n\n") + 2));
        const line = impostor.cosign(note.text, 1);
        return text(
          200,
          `— ${line.name} ${Buffer.concat([line.keyId, line.signature]).toString("base64")}\n`,
        );
      }
      try {
        return text(200, w.witness.addCheckpoint(body).body);
      } catch (e) {
        const err = e as RadledgerError;
        if (err.code === "WITNESS_SIZE_CONFLICT")
          return text(409, formatSizeResponse(err.details.latestSize as number), TLOG_SIZE_CONTENT_TYPE);
        return text(err.code === "WITNESS_PROOF_INVALID" ? 422 : 400, JSON.stringify({ code: err.code }));
      }
    },
  };
  const policyWitnesses = witnesses.map((w) => {
    const c = (w.witness as unknown as { o: { cosigner: ReturnType<typeof cosigner> } }).o.cosigner;
    return {
      name: w.name,
      vkey: "",
      verifier: cosignatureVerifier(crypto, c.name, c.publicKey),
      url: `http://${w.name}`,
    };
  });
  const store = new SqliteConsortiumStore(":memory:");
  const self: World = { log, size: 3, witnesses, store, requests } as unknown as World;
  self.collector = new CosignatureCollector({
    crypto,
    witnesses: policyWitnesses.map((p) => ({ name: p.name, url: p.url, verifier: p.verifier })),
    policy: thresholdPolicy([], policyWitnesses, k),
    latestCheckpoint: () => log.checkpoint(self.size),
    consistencyProof: (a, b) => log.tree.consistencyProof(a, b),
    http,
    store,
    clock: systemClock,
    timeoutMs: 50,
    backoffInitialMs: 20,
    backoffMaxMs: 40,
  });
  open.push(self);
  return self;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 500) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("cosignature collection", () => {
  test("asks every witness in parallel, publishes the note with their lines, final at k; then proves from their size", async () => {
    const w = world(3, 2);
    w.collector.notify();
    await w.collector.idle();
    const pub = w.collector.published()!;
    expect(pub).toMatchObject({ size: 3, final: true, witnesses: ["w0", "w1", "w2"] });
    expect(parseSignedNote(w.collector.served()!).signatures).toHaveLength(4);
    w.size = 10;
    w.collector.notify();
    await w.collector.idle();
    expect(w.requests.filter((r) => r.endsWith("old 3"))).toHaveLength(3);
    expect(w.witnesses.map((x) => x.store.latest(ORIGIN)!.size)).toEqual([10, 10, 10]);
    expect(w.store.latestFinal()!.size).toBe(10);
  });

  test("catches up with a witness that holds a size the log does not know (old 0, then 409)", async () => {
    const w = world(1, 1);
    w.witnesses[0]!.witness.addCheckpoint(w.log.request(0, 2));
    w.collector.notify();
    await w.collector.idle();
    expect(w.requests).toEqual(["w0 old 0", "w0 old 2"]);
    expect(w.collector.published()).toMatchObject({ size: 3, final: true });
  });

  test("a down or slow witness neither blocks nor counts; it is retried with backoff and counted once back", async () => {
    const w = world(3, 3);
    w.witnesses[1]!.mode = "down";
    w.witnesses[2]!.mode = "slow";
    w.collector.notify(); // returns at once: nothing here waits for witnesses
    await w.collector.idle();
    expect(w.collector.published()).toMatchObject({ size: 3, final: false, witnesses: ["w0"] });
    const statuses = w.collector.statuses();
    expect(statuses[1]).toMatchObject({ failures: 1, lastError: { code: "WITNESS_UNREACHABLE" } });
    expect(statuses[2]!.failures).toBe(1);
    w.witnesses[1]!.mode = "up";
    w.witnesses[2]!.mode = "up";
    // No new commit: the backoff timer retries the missing witnesses only.
    await until(() => w.collector.published()?.final === true);
    expect(w.collector.published()!.witnesses).toEqual(["w0", "w1", "w2"]);
    expect(w.requests.filter((r) => r.startsWith("w0"))).toHaveLength(1);
  });

  test("a cosignature by another key than the witness's is not counted (COSIGNATURE_INVALID)", async () => {
    const w = world(2, 2);
    w.witnesses[0]!.mode = "foreign";
    w.collector.notify();
    await w.collector.idle();
    expect(w.collector.published()).toMatchObject({ final: false, witnesses: ["w1"] });
    expect(w.collector.statuses()[0]!.lastError?.code).toBe("COSIGNATURE_INVALID");
  });
});
