import { describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../../adapters/node-crypto/crypto.js";
import { SqliteConsortiumStore } from "../../adapters/sqlite/consortium-store.js";
import { bytesEqual } from "../../core/bytes.js";
import { verifyConsistency } from "../../core/merkle/verify.js";
import { systemClock } from "../../ports/clock.js";
import { FakeLog } from "../../../test/helpers/consortium.js";
import { Anchorer, type AnchorChain } from "./anchoring.js";

const ORIGIN = "radledger.anchoring.example/log";

/** A chain that checks what RadledgerConsortium.anchor checks (with the core verifier). */
function fakeChain(): AnchorChain & { calls: number; held: { size: number; root: Uint8Array } | undefined } {
  const chain = {
    calls: 0,
    held: undefined as { size: number; root: Uint8Array } | undefined,
    latest: async () =>
      chain.held ? { size: BigInt(chain.held.size), rootHash: chain.held.root } : undefined,
    anchor: async (_o: string, size: number, root: Uint8Array, proof: readonly Uint8Array[]) => {
      chain.calls++;
      if (chain.held) {
        if (chain.held.size === size) {
          if (!bytesEqual(chain.held.root, root) || proof.length > 0) throw new Error("refused");
        } else verifyConsistency(crypto, chain.held.size, size, chain.held.root, root, proof);
      } else if (proof.length > 0) throw new Error("refused");
      chain.held = { size, root };
      return {
        txHash: `0x${String(chain.calls).padStart(64, "0")}`,
        gasUsed: 50_000n,
        blockNumber: BigInt(chain.calls),
      };
    },
  };
  return chain;
}

function anchorer(
  log: FakeLog,
  chain: AnchorChain,
  size: () => number,
): { a: Anchorer; store: SqliteConsortiumStore } {
  const store = new SqliteConsortiumStore(":memory:");
  const a = new Anchorer({
    crypto,
    origin: ORIGIN,
    chain,
    store,
    checkpoint: () => log.checkpoint(size()),
    rootAt: (n) => log.tree.root(n),
    consistencyProof: (x, y) => log.tree.consistencyProof(x, y),
    clock: systemClock,
  });
  return { a, store };
}

describe("anchoring", () => {
  test("anchors the first checkpoint without a proof, later ones with a consistency proof, nothing twice", async () => {
    const log = new FakeLog(ORIGIN);
    const chain = fakeChain();
    let size = 100;
    const { a, store } = anchorer(log, chain, () => size);
    expect(await a.anchorNow()).toMatchObject({ anchored: true, record: { size: 100, blockNumber: 1 } });
    expect(await a.anchorNow()).toMatchObject({ anchored: false, reason: "already anchored" });
    size = 333;
    expect(await a.anchorNow()).toMatchObject({ anchored: true, record: { size: 333 } });
    expect(chain.calls).toBe(2);
    expect(store.anchors().map((r) => r.size)).toEqual([333, 100]);
    store.close();
  });

  test("a log whose history differs from what the chain holds learns it before paying (ANCHOR_INCONSISTENT)", async () => {
    const log = new FakeLog(ORIGIN);
    const chain = fakeChain();
    const { a: honest, store: s1 } = anchorer(log, chain, () => 50);
    await honest.anchorNow();
    const { a: forked, store: s2 } = anchorer(log.fork("rewritten"), chain, () => 80);
    await expect(forked.anchorNow()).rejects.toMatchObject({ code: "ANCHOR_INCONSISTENT" });
    expect(forked.lastError?.code).toBe("ANCHOR_INCONSISTENT");
    expect(chain.calls).toBe(1);
    s1.close();
    s2.close();
  });
});
