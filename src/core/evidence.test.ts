import { describe, expect, test } from "vitest";
import { nodeCrypto as crypto } from "../adapters/node-crypto/crypto.js";
import { nobleCrypto } from "./crypto-noble.js";
import { toBase64 } from "./bytes.js";
import { EVIDENCE_HEADER, formatEvidence, parseEvidence, verifyEvidence, type Evidence } from "./evidence.js";
import { FakeLog } from "../../test/helpers/consortium.js";

const ORIGIN = "radledger.forking.example/log";
const honest = new FakeLog(ORIGIN);
const fork = honest.fork("rewritten");

const code = (fn: () => unknown): string => {
  try {
    fn();
    return "ok";
  } catch (e) {
    return (e as { code: string }).code;
  }
};

describe("equivocation evidence", () => {
  test("two roots for one size, signed by the log's key, is proven (by either crypto implementation)", () => {
    const e: Evidence = { logKey: honest.vkey, checkpoints: [honest.checkpoint(42), fork.checkpoint(42)] };
    const text = formatEvidence(e);
    expect(text.startsWith(`${EVIDENCE_HEADER}\nlog ${honest.vkey}\ncheckpoint `)).toBe(true);
    for (const c of [crypto, nobleCrypto]) {
      const v = verifyEvidence(c, text, [honest.vkey]);
      expect(v).toMatchObject({ origin: ORIGIN, kind: "two-roots-for-one-size", first: { size: 42 } });
    }
    expect(parseEvidence(text)).toEqual({ logKey: e.logKey, checkpoints: e.checkpoints });
  });

  test("a larger checkpoint whose proven prefix differs from a smaller one is proven (also at powers of two)", () => {
    for (const [m, n] of [
      [100, 180],
      [64, 65],
      [1, 300],
    ] as const) {
      const e: Evidence = {
        logKey: honest.vkey,
        checkpoints: [fork.checkpoint(n), honest.checkpoint(m)],
        prefix: fork.tree.root(m),
        proof: fork.tree.consistencyProof(m, n),
      };
      const v = verifyEvidence(crypto, formatEvidence(e));
      expect(v).toMatchObject({ kind: "inconsistent-history", first: { size: m }, second: { size: n } });
      expect(v.summary).toContain("rewritten");
    }
  });

  test("what does not prove misbehaviour is EVIDENCE_NOT_PROVEN", () => {
    const same = {
      logKey: honest.vkey,
      checkpoints: [honest.checkpoint(9), honest.checkpoint(9)] as [string, string],
    };
    expect(code(() => verifyEvidence(crypto, same))).toBe("EVIDENCE_NOT_PROVEN");
    // Consistent checkpoints, with their honest proof.
    const consistent: Evidence = {
      logKey: honest.vkey,
      checkpoints: [honest.checkpoint(10), honest.checkpoint(20)],
      prefix: honest.tree.root(10),
      proof: honest.tree.consistencyProof(10, 20),
    };
    expect(code(() => verifyEvidence(crypto, consistent))).toBe("EVIDENCE_NOT_PROVEN");
    // Different sizes without a proof, or with a proof that does not bind the prefix.
    const bare = {
      logKey: honest.vkey,
      checkpoints: [honest.checkpoint(10), fork.checkpoint(20)] as [string, string],
    };
    expect(code(() => verifyEvidence(crypto, bare))).toBe("EVIDENCE_NOT_PROVEN");
    const forged: Evidence = {
      ...bare,
      prefix: fork.tree.root(10),
      proof: honest.tree.consistencyProof(10, 20),
    };
    expect(code(() => verifyEvidence(crypto, forged))).toBe("EVIDENCE_NOT_PROVEN");
    // Signed by another key than the one the verifier names.
    const other = new FakeLog(ORIGIN);
    const e = {
      logKey: honest.vkey,
      checkpoints: [honest.checkpoint(5), fork.checkpoint(5)] as [string, string],
    };
    expect(code(() => verifyEvidence(crypto, e, [other.vkey]))).toBe("EVIDENCE_NOT_PROVEN");
    // A checkpoint not signed by the evidence's log key.
    const mixed = {
      logKey: honest.vkey,
      checkpoints: [honest.checkpoint(5), other.checkpoint(5)] as [string, string],
    };
    expect(code(() => verifyEvidence(crypto, mixed))).toBe("NOTE_NO_VALID_SIGNATURE");
  });

  test("malformed files are EVIDENCE_MALFORMED", () => {
    const good = formatEvidence({
      logKey: honest.vkey,
      checkpoints: [honest.checkpoint(5), fork.checkpoint(5)],
    });
    for (const text of [
      good.replace(EVIDENCE_HEADER, "radledger-equivocation-evidence/v2"),
      good.slice(0, -1),
      good + "note hello\n",
      good + `checkpoint ${toBase64(new TextEncoder().encode(honest.checkpoint(6)))}\n`,
      good.replace(/checkpoint \S+\n$/, "checkpoint !!!\n"),
      good + `proof ${toBase64(new Uint8Array(32))}\n`,
      good + `prefix ${toBase64(new Uint8Array(31))}\n`,
      good.replace(/^log .*\n/m, ""),
      good + `checkpoint ${toBase64(new Uint8Array([0xff, 0xfe]))}\n`,
    ])
      expect(
        code(() => parseEvidence(text)),
        text.slice(-40),
      ).toBe("EVIDENCE_MALFORMED");
  });
});
