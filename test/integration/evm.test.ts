// RadledgerConsortium against a real Hardhat node (docs/design.md §4.7): the on-chain
// RFC 9162 §2.1.4.2 verifier, anchoring rules, k-of-n governance, error codes and gas per anchor.
// Uses RADLEDGER_TEST_EVM_RPC_URL if set, else starts a node with scripts/services/hardhat.sh.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { privateKeyToAccount } from "viem/accounts";
import type { Address, Hex } from "viem";
import {
  EvmConnection,
  checkpointNoteHash,
  connectConsortium,
  deployConsortium,
  type ConsortiumClient,
  type EvmConfig,
  type EvmErrorCode,
  type MemberInput,
} from "../../src/adapters/evm/index.js";
import { RadledgerError } from "../../src/core/errors.js";
import { nobleCrypto } from "../../src/core/crypto-noble.js";
import { verifyConsistency as coreVerifyConsistency } from "../../src/core/merkle/verify.js";
import { RefTree, refLeafHash as leafHash } from "../helpers/reference-merkle.js";
import { devAccountKey, startEvmService, type EvmService } from "../helpers/evm-service.js";
import vectors from "../vectors/transparency-dev-merkle-consistency.json" with { type: "json" };

let service: EvmService;
const keys = Array.from({ length: 10 }, (_, i) => devAccountKey(i));
const addr = (i: number): Address => privateKeyToAccount(keys[i]!).address;
const cfg = (i: number): EvmConfig => ({
  rpcUrl: service.rpcUrl,
  privateKey: keys[i]!,
  pollingIntervalMs: 20,
});

const origin = (name: string): string => `radledger.${name}.example/log`;
// Placeholder C2SP vkeys: well-formed text, random-looking but not real keys.
const vkey = (name: string): string =>
  `${origin(name)}+${Buffer.from(name.padEnd(4, "-")).subarray(0, 4).toString("hex")}+AQ${Buffer.alloc(32, name).toString("base64")}`;
const memberInput = (name: string, account: number): MemberInput => ({
  origin: origin(name),
  account: addr(account),
  verifierKey: vkey(name),
  witnessKey: vkey(`${name}-witness`),
});
const note = (name: string, size: number, root: Hash): Uint8Array =>
  checkpointNoteHash(`${origin(name)}\n${size}\n${Buffer.from(root).toString("base64")}\n`);

type Hash = Uint8Array;

/** The core's RFC 9162 §2.1.4.2 verifier as a yes/no oracle for the on-chain one. */
function verifyConsistency(
  first: bigint,
  second: bigint,
  r1: Hash,
  r2: Hash,
  proof: readonly Hash[],
): boolean {
  try {
    coreVerifyConsistency(nobleCrypto, Number(first), Number(second), r1, r2, proof);
    return true;
  } catch {
    return false;
  }
}

/** Resolves to the coded error the promise rejected with (the adapter throws RadledgerError only). */
async function codeOf(p: Promise<unknown>): Promise<EvmErrorCode | "RESOLVED"> {
  try {
    await p;
    return "RESOLVED";
  } catch (err) {
    if (err instanceof RadledgerError) return err.code as EvmErrorCode;
    throw err;
  }
}

/** A tree of `n` entries; `salt` separates trees (forks) of the same size. */
function tree(n: number, salt = "a"): RefTree {
  return RefTree.fromLeafHashes(
    Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${salt}/${i}`))),
  );
}

/** Deploys a one-member consortium (quorum 1) whose member is account `i`, named `name`. */
async function soloConsortium(i = 0, name = "hospital-a"): Promise<ConsortiumClient> {
  return deployConsortium(cfg(i), { members: [memberInput(name, i)], quorum: 1 });
}

beforeAll(async () => {
  service = await startEvmService();
});

afterAll(async () => {
  await service.stop();
});

describe("on-chain RFC 9162 §2.1.4.2 verifier", () => {
  let c: ConsortiumClient;
  beforeAll(async () => {
    c = await soloConsortium();
  });

  it("accepts the transparency-dev/merkle happy paths and rejects their tampered variants", async () => {
    const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "base64"));
    for (const v of vectors.happyPathBase64) {
      if (v.size1 === v.size2) continue; // the RFC algorithm is defined for size1 < size2 only
      const proof = (v.proof ?? []).map(b64);
      const [r1, r2] = [b64(v.root1), b64(v.root2)];
      expect(await c.verifyConsistency(v.size1, v.size2, r1, r2, proof), v.file).toBe(true);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((h) => h.slice());
        bad[i]![31]! ^= 0x01;
        expect(await c.verifyConsistency(v.size1, v.size2, r1, r2, bad), `${v.file}[${i}]`).toBe(false);
      }
      expect(await c.verifyConsistency(v.size1, v.size2, r2, r1, proof), "swapped").toBe(false);
      expect(await c.verifyConsistency(v.size1, v.size2, r1, r2, proof.slice(1)), "preceding").toBe(false);
      expect(await c.verifyConsistency(v.size1, v.size2, r1, r2, [...proof, r2]), "trailing").toBe(false);
      expect(await c.verifyConsistency(v.size1 + 1, v.size2, r1, r2, proof), "size1+1").toBe(false);
      expect(await c.verifyConsistency(v.size1, v.size2, r1, r2, []), "empty").toBe(false);
    }
  });

  it("agrees with the oracle on valid proofs for random sizes up to 400 (property)", async () => {
    const big = tree(400);
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 400 })
          .chain((n) => fc.tuple(fc.integer({ min: 1, max: n - 1 }), fc.constant(n))),
        async ([m, n]) => {
          const proof = big.consistencyProof(m, n);
          expect(verifyConsistency(BigInt(m), BigInt(n), big.root(m), big.root(n), proof)).toBe(true);
          expect(await c.verifyConsistency(m, n, big.root(m), big.root(n), proof)).toBe(true);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("accepts every power-of-two first size (step 2 prepends first_hash)", async () => {
    const t = tree(300);
    for (const m of [1, 2, 4, 8, 16, 32, 64, 128, 256]) {
      for (const n of [m + 1, m + 3, Math.min(300, 2 * m), 300]) {
        if (n <= m) continue;
        const proof = t.consistencyProof(m, n);
        expect(await c.verifyConsistency(m, n, t.root(m), t.root(n), proof), `${m}→${n}`).toBe(true);
      }
    }
  });

  it("agrees with the oracle on mismatched inputs (differential property)", async () => {
    const t = tree(300);
    const other = tree(300, "fork");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 299 }),
        fc.integer({ min: 2, max: 300 }),
        fc.integer({ min: 1, max: 299 }),
        fc.integer({ min: 2, max: 300 }),
        fc.boolean(),
        async (m, n, pm, pn, forkRoot) => {
          if (m >= n || pm >= pn) return;
          // A proof for (pm, pn), checked as a proof for (m, n), possibly against a forked root.
          const proof = t.consistencyProof(pm, pn);
          const r1 = forkRoot ? other.root(m) : t.root(m);
          const expected = verifyConsistency(BigInt(m), BigInt(n), r1, t.root(n), proof);
          expect(await c.verifyConsistency(m, n, r1, t.root(n), proof)).toBe(expected);
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe("anchoring", () => {
  it("accepts a chain of checkpoints with valid proofs, including equal sizes (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 2, maxLength: 6 }),
        fc.boolean(),
        async (steps, startWithPowerOfTwo) => {
          // Increasing sizes (a step of 0 re-anchors the same size); the first may be 2^k.
          let size = startWithPowerOfTwo ? 2 ** (steps[0]! % 8) : steps[0]! + 1;
          const sizes = [size];
          for (const s of steps.slice(1)) sizes.push((size += s));
          const t = tree(size);
          const c = await soloConsortium();
          const o = origin("hospital-a");
          let prev: number | undefined;
          for (const s of sizes) {
            const proof = prev === undefined || prev === s ? [] : t.consistencyProof(prev, s);
            await c.anchor(o, s, t.root(s), proof, note("hospital-a", s, t.root(s)));
            const latest = await c.latest(o);
            expect(latest?.size).toBe(BigInt(s));
            expect(latest?.rootHash).toEqual(t.root(s));
            expect(latest?.noteHash).toEqual(note("hospital-a", s, t.root(s)));
            prev = s;
          }
        },
      ),
      { numRuns: 12 },
    );
  });

  it("handles the edge cases of the first anchor, equal sizes and the empty tree", async () => {
    const c = await soloConsortium();
    const o = origin("hospital-a");
    const t = tree(20);
    expect(await c.latest(o)).toBeUndefined();
    // First anchor: any (size, root), but no proof.
    expect(await codeOf(c.anchor(o, 5, t.root(5), [t.root(1)], t.root(5)))).toBe("ANCHOR_UNEXPECTED_PROOF");
    // Size 0 must carry the empty-tree root, SHA-256("").
    expect(await codeOf(c.anchor(o, 0, t.root(5), [], t.root(0)))).toBe("ANCHOR_INVALID_EMPTY_ROOT");
    await c.anchor(o, 0, t.root(0), [], t.root(0));
    // The empty tree is a prefix of every tree: the next anchor needs no proof.
    expect(await codeOf(c.anchor(o, 7, t.root(7), [t.root(0)], t.root(7)))).toBe("ANCHOR_UNEXPECTED_PROOF");
    await c.anchor(o, 7, t.root(7), [], t.root(7));
    // Same size: same root, empty proof.
    await c.anchor(o, 7, t.root(7), [], t.root(7));
    expect(await codeOf(c.anchor(o, 7, t.root(7), [t.root(7)], t.root(7)))).toBe("ANCHOR_UNEXPECTED_PROOF");
    expect((await c.latest(o))?.size).toBe(7n);
  });

  it("refuses a forked checkpoint: another root for an anchored size, or a proof from another tree", async () => {
    const c = await soloConsortium();
    const o = origin("hospital-a");
    const honest = tree(200);
    // Same sizes, entry 10 differs: a log that rewrote its history.
    const forked = RefTree.fromLeafHashes(
      Array.from({ length: 200 }, (_, i) => (i === 10 ? leafHash(Uint8Array.of(9)) : honest.hash(i, i + 1))),
    );
    await c.anchor(o, 100, honest.root(100), [], honest.root(100));
    // A different root for the witnessed size 100.
    const r = await codeOf(c.anchor(o, 100, forked.root(100), [], forked.root(100)));
    expect(r).toBe("ANCHOR_INCONSISTENT");
    // The forked tree's own (valid for it) proof to a larger size.
    expect(
      await codeOf(c.anchor(o, 150, forked.root(150), forked.consistencyProof(100, 150), forked.root(150))),
    ).toBe("ANCHOR_INCONSISTENT");
    // The honest proof, but claiming the forked new root.
    expect(
      await codeOf(c.anchor(o, 150, forked.root(150), honest.consistencyProof(100, 150), forked.root(150))),
    ).toBe("ANCHOR_INCONSISTENT");
    // Still anchored at the honest 100, which extends honestly.
    expect((await c.latest(o))?.rootHash).toEqual(honest.root(100));
    await c.anchor(o, 150, honest.root(150), honest.consistencyProof(100, 150), honest.root(150));
  });

  it("refuses tampered, truncated and padded proofs, and a size regression", async () => {
    const c = await soloConsortium();
    const o = origin("hospital-a");
    const t = tree(300);
    await c.anchor(o, 123, t.root(123), [], t.root(123));
    const proof = t.consistencyProof(123, 257);
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((h) => h.slice());
      bad[i]![i % 32]! ^= 0x80;
      expect(await codeOf(c.anchor(o, 257, t.root(257), bad, t.root(257))), `proof[${i}]`).toBe(
        "ANCHOR_INCONSISTENT",
      );
    }
    expect(await codeOf(c.anchor(o, 257, t.root(257), proof.slice(0, -1), t.root(257)))).toBe(
      "ANCHOR_INCONSISTENT",
    );
    expect(await codeOf(c.anchor(o, 257, t.root(257), [...proof, t.root(1)], t.root(257)))).toBe(
      "ANCHOR_INCONSISTENT",
    );
    // Another tree's root at the right size, and the right root at a size of another shape.
    // (A size of the same shape, e.g. 258 for 257, is not a mutation the RFC 9162 verifier can
    // see: its proof nodes are opaque hashes. That is inherent to consistency proofs.)
    expect(await codeOf(c.anchor(o, 257, t.root(256), proof, t.root(257)))).toBe("ANCHOR_INCONSISTENT");
    expect(await codeOf(c.anchor(o, 514, t.root(257), proof, t.root(257)))).toBe("ANCHOR_INCONSISTENT");
    await c.anchor(o, 257, t.root(257), proof, t.root(257));
    const regression = await codeOf(c.anchor(o, 256, t.root(256), [], t.root(256)));
    expect(regression).toBe("ANCHOR_SIZE_REGRESSION");
    expect((await c.latest(o))?.size).toBe(257n);
  });

  it("refuses a non-member sender and a member anchoring another member's origin", async () => {
    const c = await deployConsortium(cfg(0), {
      members: [memberInput("hospital-a", 0), memberInput("hospital-b", 1)],
      quorum: 1,
    });
    const t = tree(10);
    const outsider = await c.as(cfg(7));
    expect(await codeOf(outsider.anchor(origin("hospital-a"), 3, t.root(3), [], t.root(3)))).toBe(
      "ANCHOR_NOT_MEMBER",
    );
    const b = await c.as(cfg(1));
    expect(await codeOf(b.anchor(origin("hospital-a"), 3, t.root(3), [], t.root(3)))).toBe(
      "ANCHOR_NOT_AUTHORIZED",
    );
    expect(await codeOf(outsider.anchor(origin("nowhere"), 3, t.root(3), [], t.root(3)))).toBe(
      "ANCHOR_NOT_MEMBER",
    );
    await b.anchor(origin("hospital-b"), 3, t.root(3), [], t.root(3));
    expect(await c.latest(origin("hospital-a"))).toBeUndefined();
  });
});

describe("consortium governance (k-of-n)", () => {
  it("admits a member only at quorum; a vote short of quorum changes nothing; double votes refused", async () => {
    const a = await deployConsortium(cfg(0), {
      members: [memberInput("a", 0), memberInput("b", 1), memberInput("c", 2)],
      quorum: 2,
    });
    const [b, c, d] = await Promise.all([a.as(cfg(1)), a.as(cfg(2)), a.as(cfg(3))]);
    expect((await a.members()).map((m) => m.origin)).toEqual([origin("a"), origin("b"), origin("c")]);

    // A non-member cannot propose.
    expect(await codeOf(d.proposeAdmission(memberInput("d", 3)))).toBe("ANCHOR_NOT_MEMBER");

    const p = await a.proposeAdmission(memberInput("d", 3));
    expect(p).toMatchObject({ votes: 1n, quorum: 2n, executed: false });
    expect(await a.members()).toHaveLength(3);
    expect(await codeOf(a.vote(p.proposalId))).toBe("ANCHOR_ALREADY_VOTED");
    expect(await codeOf(a.execute(p.proposalId))).toBe("ANCHOR_QUORUM_NOT_REACHED");
    const t = tree(4);
    expect(await codeOf(d.anchor(origin("d"), 4, t.root(4), [], t.root(4)))).toBe("ANCHOR_NOT_MEMBER");

    const v = await b.vote(p.proposalId);
    expect(v).toMatchObject({ proposalId: p.proposalId, votes: 2n, executed: true });
    expect((await a.members()).map((m) => m.origin)).toEqual([
      origin(`a`),
      origin("b"),
      origin("c"),
      origin("d"),
    ]);
    expect(await a.member(origin("d"))).toMatchObject({
      account: addr(3),
      active: true,
      verifierKey: vkey("d"),
    });
    expect(await codeOf(c.vote(p.proposalId))).toBe("ANCHOR_PROPOSAL_EXECUTED");
    expect(await codeOf(c.vote(999n))).toBe("ANCHOR_UNKNOWN_PROPOSAL");
    await d.anchor(origin("d"), 4, t.root(4), [], t.root(4));

    // Admission refusals: an active origin, an account already acting for a member.
    expect(await codeOf(a.proposeAdmission(memberInput("d", 4)))).toBe("ANCHOR_MEMBER_EXISTS");
    expect(await codeOf(a.proposeAdmission(memberInput("e", 3)))).toBe("ANCHOR_ACCOUNT_IN_USE");
    expect(await codeOf(a.proposeAdmission({ ...memberInput("e", 4), verifierKey: "" }))).toBe(
      "ANCHOR_INVALID_MEMBER",
    );
  });

  it("removes a member by vote; the removed member can neither vote nor anchor, its history stays", async () => {
    const a = await deployConsortium(cfg(0), {
      members: [memberInput("a", 0), memberInput("b", 1), memberInput("c", 2), memberInput("d", 3)],
      quorum: 2,
    });
    const [b, c, d] = await Promise.all([a.as(cfg(1)), a.as(cfg(2)), a.as(cfg(3))]);
    const t = tree(50);
    await c.anchor(origin("c"), 30, t.root(30), [], t.root(30));

    // c votes for admitting e (1 of 2), then c is removed: its vote stops counting.
    const admitE = await c.proposeAdmission(memberInput("e", 4));
    expect(admitE.executed).toBe(false);

    const removeC = await a.proposeRemoval(origin("c"));
    expect(removeC.executed).toBe(false);
    expect(await a.members()).toHaveLength(4);
    const done = await b.vote(removeC.proposalId);
    expect(done.executed).toBe(true);
    expect((await a.members()).map((m) => m.origin)).toEqual([origin("a"), origin("b"), origin("d")]);
    expect(await a.member(origin("c"))).toMatchObject({ active: false });

    expect(await codeOf(c.vote(admitE.proposalId))).toBe("ANCHOR_NOT_MEMBER");
    expect(await codeOf(c.proposeRemoval(origin("a")))).toBe("ANCHOR_NOT_MEMBER");
    expect(await codeOf(c.anchor(origin("c"), 40, t.root(40), t.consistencyProof(30, 40), t.root(40)))).toBe(
      "ANCHOR_NOT_MEMBER",
    );
    expect((await c.latest(origin("c")))?.size).toBe(30n);

    // e's admission: c's vote no longer counts, so one more vote is still short.
    expect((await a.proposal(admitE.proposalId)).votes).toBe(0n);
    expect((await a.vote(admitE.proposalId)).executed).toBe(false);
    expect((await d.vote(admitE.proposalId)).executed).toBe(true);

    // Raise k to 3 (2 of a, b, d, e vote), then removing below k would stall the consortium.
    const k3 = await a.proposeQuorum(3);
    expect((await b.vote(k3.proposalId)).executed).toBe(true);
    expect(await a.quorum()).toBe(3n);
    const removeD = await a.proposeRemoval(origin("d"));
    await b.vote(removeD.proposalId);
    // e votes last: d's removal executes (4 → 3 active members, k = 3 still reachable).
    const e = await a.as(cfg(4));
    expect((await e.vote(removeD.proposalId)).executed).toBe(true);
    expect(await codeOf(a.proposeRemoval(origin("e")))).toBe("ANCHOR_INVALID_QUORUM");
    expect(await codeOf(a.proposeQuorum(4))).toBe("ANCHOR_INVALID_QUORUM");

    // A proposal short of k = 3 becomes executable once k is lowered to 2.
    const admitF = await a.proposeAdmission(memberInput("f", 6));
    await b.vote(admitF.proposalId);
    expect(await codeOf(a.execute(admitF.proposalId))).toBe("ANCHOR_QUORUM_NOT_REACHED");
    const k2 = await a.proposeQuorum(2);
    await b.vote(k2.proposalId);
    expect((await e.vote(k2.proposalId)).executed).toBe(true);
    expect(await a.execute(admitF.proposalId)).toMatchObject({ executed: true, votes: 2n, quorum: 2n });
    expect(await a.member(origin("f"))).toMatchObject({ active: true });
  });

  it("keeps a re-admitted member bound to its anchored history", async () => {
    const a = await deployConsortium(cfg(0), {
      members: [memberInput("a", 0), memberInput("b", 1)],
      quorum: 1,
    });
    const b = await a.as(cfg(1));
    const t = tree(40);
    await b.anchor(origin("b"), 20, t.root(20), [], t.root(20));
    await a.proposeRemoval(origin("b"));
    await a.proposeAdmission(memberInput("b", 5));
    const b2 = await a.as(cfg(5));
    const fork = tree(40, "fork");
    expect(await codeOf(b2.anchor(origin("b"), 30, fork.root(30), [], fork.root(30)))).toBe(
      "ANCHOR_INCONSISTENT",
    );
    await b2.anchor(origin("b"), 30, t.root(30), t.consistencyProof(20, 30), t.root(30));
  });

  it("refuses a bootstrap with an impossible quorum", async () => {
    expect(await codeOf(deployConsortium(cfg(0), { members: [memberInput("a", 0)], quorum: 2 }))).toBe(
      "ANCHOR_INVALID_QUORUM",
    );
    expect(
      await codeOf(
        deployConsortium(cfg(0), { members: [memberInput("a", 0), memberInput("a", 1)], quorum: 1 }),
      ),
    ).toBe("ANCHOR_MEMBER_EXISTS");
  });
});

describe("transport errors", () => {
  it("reports an unreachable endpoint as EVM_UNAVAILABLE without leaking the URL path", async () => {
    const err = await EvmConnection.open({
      rpcUrl: "http://127.0.0.1:1/secret-api-key",
      privateKey: keys[0]!,
      timeoutMs: 2_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RadledgerError);
    expect((err as RadledgerError).code).toBe("EVM_UNAVAILABLE");
    expect(
      JSON.stringify({ m: (err as RadledgerError).message, d: (err as RadledgerError).details }),
    ).not.toContain("secret");
  });

  it("refuses a malformed key without echoing it, and a missing contract", async () => {
    const bad = "0x1234" as Hex;
    const err = await EvmConnection.open({ rpcUrl: service.rpcUrl, privateKey: bad }).catch(
      (e: unknown) => e,
    );
    expect((err as RadledgerError).code).toBe("EVM_INVALID_CONFIG");
    expect((err as RadledgerError).message).not.toContain("1234");
    expect(await codeOf(connectConsortium(cfg(0), addr(9)))).toBe("EVM_CONTRACT_MISSING");
  });
});

describe("long proofs", () => {
  // Gas per anchor is measured by the benchmark (src/bench/consortium.ts, docs/evm-anchoring.md);
  // here: the contract accepts real proofs of 30–41 hashes between trees of up to 2^40 − 1 leaves.
  it("accepts proofs between sparse virtual trees of 10^6..2^40 leaves", async () => {
    const o = origin("hospital-a");
    const pairs: [number, number][] = [
      [1_000_000, 1_001_000],
      [2 ** 31 - 12_345, 2 ** 31 + 987_654],
      [549_755_813_887, 1_099_511_627_775],
    ];
    let longest = 0;
    for (const [from, to] of pairs) {
      const t = RefTree.sparse([from, to]);
      const fresh = await soloConsortium();
      await fresh.anchor(o, from, t.root(from), [], note("hospital-a", from, t.root(from)));
      const proof = t.consistencyProof(from, to);
      longest = Math.max(longest, proof.length);
      await fresh.anchor(o, to, t.root(to), proof, note("hospital-a", to, t.root(to)));
      expect((await fresh.latest(o))?.size).toBe(BigInt(to));
    }
    expect(longest).toBeGreaterThanOrEqual(30);
  });
});
