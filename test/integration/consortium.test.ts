/**
 * Three institutions on 127.0.0.1 (in-process servers on free ports) witnessing and mirroring each
 * other over HTTP, anchoring on a local Hardhat chain; then one of them forks — rewrites its history
 * and serves another root for a size the others already witnessed — and is caught by the others'
 * witnesses and mirrors (evidence anyone can verify offline, also with the built CLI), by the
 * contract, and by checkpoint + consistency-proof verification with src/core.
 */
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { FastifyInstance } from "fastify";
import { privateKeyToAccount } from "viem/accounts";
import { nodeCrypto as crypto } from "../../src/adapters/node-crypto/crypto.js";
import { deployConsortium, type ConsortiumClient } from "../../src/adapters/evm/index.js";
import { fromBase64, toBase64 } from "../../src/core/bytes.js";
import { parseCheckpointText } from "../../src/core/checkpoint.js";
import { formatCosignatureVerifierKey } from "../../src/core/cosignature.js";
import { RadledgerError } from "../../src/core/errors.js";
import { verifyEvidence } from "../../src/core/evidence.js";
import { verifyConsistency } from "../../src/core/merkle/verify.js";
import { actorKeyId } from "../../src/core/entry.js";
import { formatVerifierKey, parseSignedNote } from "../../src/core/note.js";
import { readLogKey } from "../../src/app/keys.js";
import { evaluatePolicy } from "../../src/core/policy.js";
import {
  addPeer,
  addWitness,
  ownPolicy,
  readConsortiumConfig,
  readWitnessKey,
  setQuorum,
} from "../../src/app/consortium/config.js";
import { ConsortiumService } from "../../src/app/consortium/service.js";
import { readConsortiumProof } from "../../src/app/consortium/status.js";
import { consortiumPorts } from "../../src/wiring/consortium.js";
import { readActorKey, readLogKeySeed, signAs, type HeldKey } from "../../src/app/keys.js";
import { tempDir } from "../helpers/node.js";
import type { RadledgerNode } from "../../src/app/node.js";
import { buildServer } from "../../src/api/server.js";
import { decide, type AccessQuery } from "../../src/domain/consent/decide.js";
import { accessRecordFor } from "../../src/domain/access/entries.js";
import { proposeSeal } from "../../src/domain/datasets/queries.js";
import { INSTITUTION_ACTOR } from "../../src/domain/identity/state.js";
import { fakePseudonym, studyBody } from "../helpers/fixtures.js";
import { initNode, open } from "../helpers/consortium.js";
import { newKey } from "../helpers/node.js";
import { devAccountKey, startEvmService, type EvmService } from "../helpers/evm-service.js";
import { runCli } from "../helpers/cli.js";
import type { JsonObject } from "../../src/core/canonical-json.js";
import type { EntryRefs } from "../../src/core/entry.js";
import { openAuthStore } from "../../src/wiring/auth.js";

const NAMES = ["a", "b", "c"] as const;
type Name = (typeof NAMES)[number];
const originOf = (n: Name): string => `radledger.hospital-${n}.example/log`;
// Hardhat dev accounts 14..16 (other suites use 0..13): test-only keys printed by every Hardhat node.
const evmKey = (n: Name) => devAccountKey(14 + NAMES.indexOf(n));

interface Member {
  readonly name: Name;
  readonly origin: string;
  readonly dir: string;
  readonly remove: () => void;
  readonly port: number;
  readonly url: string;
  node: RadledgerNode;
  svc: ConsortiumService;
  app: FastifyInstance;
  institution: HeldKey;
  admin: HeldKey;
  chain?: ConsortiumClient;
}

const m = {} as Record<Name, Member>;
let evm: EvmService;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls a condition (never a fixed sleep); fails with `what` after the bound. */
async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function start(x: Member): Promise<void> {
  const hooks: { onCommit?: () => void } = {};
  x.node = open(x.dir, { onCommit: () => hooks.onCommit?.() });
  const chain = x.chain;
  x.svc = await ConsortiumService.open(x.node, consortiumPorts, {
    background: false,
    cosignTimeoutMs: 2000,
    backoffInitialMs: 50,
    ...(chain
      ? {
          anchorChain: {
            latest: (origin: string) => chain.latest(origin),
            anchor: (o: string, s: number, r: Uint8Array, p: readonly Uint8Array[], h: Uint8Array) =>
              chain.anchor(o, s, r, p, h),
          },
        }
      : {}),
  });
  hooks.onCommit = () => x.svc.onCommit();
  x.app = buildServer(x.node, { auth: openAuthStore(x.node.dir), consortium: x.svc });
  await x.app.listen({ host: "127.0.0.1", port: x.port });
  x.institution = {
    actor: INSTITUTION_ACTOR,
    seed: readLogKeySeed(x.dir),
    publicKey: x.node.logKey.publicKey,
    keyId: actorKeyId(crypto, x.node.logKey.publicKey),
  };
  x.admin = readActorKey(crypto, x.dir, "admin")!;
}

async function stop(x: Member): Promise<void> {
  await x.app.close();
  await x.svc.close();
  await x.node.close();
}

function sign(x: Member, key: HeldKey, type: string, body: JsonObject, refs?: EntryRefs): Uint8Array {
  return signAs(crypto, key, x.origin, type, body, refs ? { refs } : {});
}

async function append(
  x: Member,
  key: HeldKey,
  type: string,
  body: JsonObject,
  refs?: EntryRefs,
): Promise<string> {
  return (await x.node.appender.append(sign(x, key, type, body, refs))).leafHash;
}

async function enrol(x: Member, actorId: string, roles: string[], extra: JsonObject = {}): Promise<HeldKey> {
  const key = newKey(actorId);
  await append(x, x.admin, "actor.enrolled", {
    actorId,
    kind: roles.includes("patient") ? "patient" : "staff",
    roles,
    publicKey: toBase64(key.publicKey),
    ...extra,
  });
  return key;
}

/** This node's newest published checkpoint is final at its current size. */
const finalNow = (x: Member): boolean => {
  const p = x.svc.status().cosigning.published;
  return p?.final === true && p.size === x.node.ledger.size;
};

/** GETs a path; with `token`, as that bearer (the consortium queries need an admin or auditor). */
async function get(x: Member, path: string, token?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${x.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: res.status, body: await res.text() };
}

beforeAll(async () => {
  evm = await startEvmService();
  for (const name of NAMES) {
    const { dir, remove } = await initNode(originOf(name), `Hospital ${name.toUpperCase()}`);
    const port = await freePort();
    m[name] = { name, origin: originOf(name), dir, remove, port, url: `http://127.0.0.1:${port}` } as Member;
  }
  // Each node witnesses and mirrors the two others, and asks both for cosignatures (k = 2).
  for (const x of NAMES) {
    for (const y of NAMES) {
      if (x === y) continue;
      const peer = m[y];
      addPeer(crypto, m[x].dir, peer.origin, peer.url, formatVerifierKey(readLogKey(crypto, peer.dir)));
      addWitness(
        crypto,
        m[x].dir,
        `w-${y}`,
        peer.url,
        formatCosignatureVerifierKey(readWitnessKey(crypto, peer.dir)),
      );
    }
    setQuorum(m[x].dir, 2);
  }
  // The chain: all three are members, k = 2.
  const deployer = await deployConsortium(
    { rpcUrl: evm.rpcUrl, privateKey: evmKey("a"), pollingIntervalMs: 20 },
    {
      members: NAMES.map((n) => ({
        origin: m[n].origin,
        account: privateKeyToAccount(evmKey(n)).address,
        verifierKey: formatVerifierKey(readLogKey(crypto, m[n].dir)),
        witnessKey: formatCosignatureVerifierKey(readWitnessKey(crypto, m[n].dir)),
      })),
      quorum: 2,
    },
  );
  for (const n of NAMES)
    m[n].chain = await deployer.as({ rpcUrl: evm.rpcUrl, privateKey: evmKey(n), pollingIntervalMs: 20 });
  // A starts alone: its witnesses are absent, yet appends go on.
  await start(m.a);
}, 180_000);

afterAll(async () => {
  const started = m as Partial<Record<Name, Partial<Member>>>;
  for (const n of NAMES) {
    const x = started[n];
    if (x?.svc) await stop(x as Member).catch(() => undefined);
    x?.remove?.();
  }
  await (evm as EvmService | undefined)?.stop();
});

/** The checkpoint in a signed note (signatures are checked where it matters, by the code under test). */
const cpOf = (note: string) => parseCheckpointText(parseSignedNote(note).text);

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "RESOLVED";
  } catch (e) {
    if (e instanceof RadledgerError) return e.code;
    throw e;
  }
};

/** Syncs a node's mirrors until each holds its peer's whole log (as far as the peer published). */
async function mirrorAll(x: Member): Promise<void> {
  await until(`${x.name} mirrors its peers`, async () => {
    const statuses = await x.svc.syncMirrors();
    return statuses.every((s) => {
      const peer = NAMES.map((n) => m[n]).find((p) => p.origin === s.origin)!;
      return s.state === "ok" && s.mirroredSize === peer.node.ledger.size;
    });
  });
}

let patientA: string;
let patientB: string;
let cosignedC: { note: string; size: number };

describe("a consortium of three nodes", () => {
  test("an absent witness never blocks appends; once the witnesses are up, checkpoints become final", async () => {
    await enrol(m.a, "rad-a", ["radiologist"], { displayName: "Dr A" });
    expect(m.a.node.ledger.size).toBe(3);
    await m.a.svc.collector.idle();
    expect(m.a.svc.status().cosigning.published?.final).not.toBe(true);
    expect(m.a.svc.status().cosigning.witnesses.every((w) => w.failures > 0)).toBe(true);
    await start(m.b);
    await start(m.c);
    await enrol(m.b, "rad-b", ["radiologist"], { displayName: "Dr B" });
    await enrol(m.c, "cur-c", ["curator"], { displayName: "Curator C" });
    await until("every node's checkpoint is final", () => NAMES.every((n) => finalNow(m[n])));
    // /checkpoint carries the log signature and both cosignatures, and satisfies A's policy.
    const note = parseSignedNote((await get(m.a, "/checkpoint")).body);
    expect(note.signatures).toHaveLength(3);
    const policy = ownPolicy(crypto, m.a.dir, readConsortiumConfig(m.a.dir));
    expect(evaluatePolicy(policy, note)).toMatchObject({ ok: true, cosignedBy: ["w-b", "w-c"] });
    expect(m.b.svc.status().witness!.logs.find((l) => l.origin === m.a.origin)?.size).toBe(3);
  });

  test("mirrors answer consortium-wide questions locally: grants, shared datasets, linked access history", async () => {
    // B: a patient grants institution A access; a radiologist at B reads the patient's study.
    patientB = fakePseudonym();
    const ptB = await enrol(m.b, "pt-b", ["patient"], { patient: patientB });
    await append(m.b, ptB, "consent.granted", {
      patient: patientB,
      grantee: { kind: "institution", id: m.a.origin },
      scope: { kind: "all-imaging" },
      purposes: ["TREAT"],
      period: { start: "2020-01-01T00:00:00.000Z" },
    });
    const study = await append(m.b, m.b.institution, "study.registered", studyBody(patientB));
    const q: AccessQuery = {
      actor: "rad-b",
      patient: patientB,
      part: { kind: "study", id: study },
      purpose: "TREAT",
      time: new Date().toISOString(),
    };
    const rec = accessRecordFor(q, "read", decide(m.b.node.store, q));
    await append(m.b, m.b.institution, "access.recorded", rec.body, rec.refs);
    // The same patient at A links both pseudonyms, at both institutions, with their own keys.
    patientA = fakePseudonym();
    const ptA = await enrol(m.a, "pt-a", ["patient"], { patient: patientA });
    await append(m.a, ptA, "patient.pseudonym.linked", {
      patient: patientA,
      origin: m.b.origin,
      pseudonym: patientB,
    });
    await append(m.b, ptB, "patient.pseudonym.linked", {
      patient: patientB,
      origin: m.a.origin,
      pseudonym: patientA,
    });
    // A one-sided claim on a pseudonym at C is not joined.
    await append(m.a, ptA, "patient.pseudonym.linked", {
      patient: patientA,
      origin: m.c.origin,
      pseudonym: fakePseudonym(),
    });
    // C shares a sealed dataset with A.
    const cur = await enrol(m.c, "cur-2", ["curator"]);
    const dataset = await append(m.c, cur, "dataset.created", { name: "Lung nodules", purpose: "training" });
    await append(
      m.c,
      cur,
      "dataset.item.added",
      {
        manifestRoot: "ab".repeat(32),
        instanceCount: 64,
        modality: "CT",
        sourceInstitution: m.c.origin,
        deidentification: "PS3.15-E-basic",
      },
      { dataset },
    );
    const seal = await append(
      m.c,
      cur,
      "dataset.version.sealed",
      { ...proposeSeal(m.c.node.store, crypto, dataset) },
      { dataset },
    );
    await append(
      m.c,
      cur,
      "dataset.shared",
      { grantee: m.a.origin, dataUseAgreement: "cd".repeat(32) },
      { dataset, version: seal },
    );

    await until("every node's checkpoint is final", () => NAMES.every((n) => finalNow(m[n])));
    await mirrorAll(m.a);
    await mirrorAll(m.b);

    expect((await get(m.a, "/api/v1/consortium/grants")).status).toBe(401);
    const { token } = await m.a.app.radledger.auth.issueToken({
      actor: "admin",
      kind: "api",
      ttlMs: 3600_000,
      createdBy: "test",
    });
    const grants = JSON.parse((await get(m.a, "/api/v1/consortium/grants", token)).body) as {
      items: { origin: string; grantee: unknown; status: string }[];
    };
    expect(grants.items).toEqual([
      expect.objectContaining({
        origin: m.b.origin,
        grantee: { kind: "institution", id: m.a.origin },
        status: "active",
      }),
    ]);
    const datasets = JSON.parse((await get(m.a, "/api/v1/consortium/datasets", token)).body) as {
      items: { origin: string; dataset: { id: string } }[];
    };
    expect(datasets.items.map((d) => [d.origin, d.dataset.id])).toEqual([[m.c.origin, dataset]]);
    const history = JSON.parse(
      (await get(m.a, `/api/v1/consortium/patients/${patientA}/access`, token)).body,
    ) as {
      links: { origin: string; confirmed: boolean }[];
      logs: { origin: string; pseudonym: string; accesses: { who: { actor: string }; decision: string }[] }[];
    };
    expect(history.links).toEqual([
      { origin: m.b.origin, pseudonym: patientB, confirmed: true },
      expect.objectContaining({ origin: m.c.origin, confirmed: false }),
    ]);
    expect(history.logs.map((l) => [l.origin, l.accesses.length])).toEqual([
      [m.a.origin, 0],
      [m.b.origin, 1],
    ]);
    // rad-b had no basis (the grant is to institution A): the denied attempt is history too.
    expect(history.logs[1]!.accesses[0]).toMatchObject({ who: { actor: "rad-b" }, decision: "deny" });
    // The mirror is a verified copy: its stored checkpoint is B's, cosigned.
    const mirrorB = m.a.svc.mirrors.find((x) => x.origin === m.b.origin)!;
    expect(mirrorB.status()).toMatchObject({ state: "ok", checkpointSize: m.b.node.ledger.size });
  });

  test("each node anchors its final checkpoint; a later one is accepted with a consistency proof", async () => {
    for (const n of NAMES) {
      // Reading the consortium's history is itself recorded (an audit.recorded entry, docs/audit.md):
      // let each node's latest checkpoint become final before anchoring it, or the anchor lags by one.
      await until(`${n} final`, () => finalNow(m[n]));
      const out = await m[n].svc.anchorer!.anchorNow();
      expect(out.anchored, n).toBe(true);
      expect(Number((await m[n].chain!.latest(m[n].origin))!.size)).toBe(m[n].svc.store.latestFinal()!.size);
    }
    const first = m.a.svc.store.latestAnchor()!.size;
    await enrol(m.a, "rad-a2", ["radiologist"]);
    await until("A's new checkpoint is final", () => finalNow(m.a));
    const again = await m.a.svc.anchorer!.anchorNow();
    expect(again).toMatchObject({ anchored: true, record: { size: first + 1 } });
    const events = await m.a.chain!.anchorEvents(m.a.origin);
    expect(events.map((e) => Number(e.size))).toEqual([first, first + 1]);
    expect(m.a.svc.status().anchoring.latest?.txHash).toBe(events[1]!.txHash);
    // What a bundle carries: the final checkpoint with its cosignatures and the anchoring transaction.
    const proof = readConsortiumProof(m.a.dir, consortiumPorts);
    expect(proof.checkpoint).toMatchObject({ size: first + 1, witnesses: ["w-b", "w-c"] });
    expect(parseSignedNote(proof.checkpoint!.note).signatures).toHaveLength(3);
    expect(proof.anchor).toMatchObject({ size: first + 1, txHash: events[1]!.txHash });
  });

  test("C forks: the others' witnesses and mirrors keep evidence, the contract refuses it, proofs fail", async () => {
    await until("C final", () => finalNow(m.c));
    const served = (await get(m.c, "/checkpoint")).body;
    cosignedC = { note: served, size: cpOf(served).size };
    const size = cosignedC.size;
    await mirrorAll(m.b);
    await stop(m.c);

    // Rewrite C's history with C's own keys: same genesis key, different entries, same size. The
    // operator doing it on purpose removes the node's high-water marks as well (the mark file and
    // the consortium store), which the node alone cannot prevent (docs/security.md §High-water mark).
    for (const f of ["ledger.sqlite", "consortium.sqlite", "checkpoint.mark"])
      for (const s of ["", "-wal", "-shm"]) rmSync(join(m.c.dir, f + s), { force: true });
    const raw = open(m.c.dir);
    const inst = m.c.institution;
    await raw.appender.append(
      signAs(crypto, inst, m.c.origin, "institution.genesis", {
        name: "Hospital C",
        logVerifierKey: formatVerifierKey(raw.logKey),
        publicKey: toBase64(raw.logKey.publicKey),
      }),
    );
    await raw.appender.append(
      signAs(crypto, inst, m.c.origin, "actor.enrolled", {
        actorId: "admin",
        kind: "staff",
        roles: ["admin"],
        publicKey: toBase64(m.c.admin.publicKey),
      }),
    );
    for (let i = 0; raw.ledger.size < size; i++)
      await raw.appender.append(
        signAs(crypto, m.c.admin, m.c.origin, "actor.enrolled", {
          actorId: `forged-${i}`,
          kind: "staff",
          roles: ["radiologist"],
          publicKey: toBase64(newKey(`forged-${i}`).publicKey),
        }),
      );
    expect(raw.ledger.size).toBe(size);
    const forkedRoot = raw.ledger.tree.root(size);
    expect(toBase64(forkedRoot)).not.toBe(toBase64(cpOf(served).root));
    await raw.close();

    // C serves the forked tree and asks A and B to cosign it: both refuse and keep evidence.
    await start(m.c);
    await until("A's and B's witnesses hold evidence against C", () =>
      [m.a, m.b].every((x) => x.svc.witnessStore.equivocated(m.c.origin)),
    );
    const [evidenceA] = m.a.svc.witnessStore.evidence(m.c.origin);
    expect(evidenceA).toMatchObject({ kind: "two-roots-for-one-size", source: "witness" });
    await until("C's collector has heard both refusals", () =>
      m.c.svc.status().cosigning.witnesses.every((w) => w.failures > 0),
    );
    // Refused: first another root for the cosigned size, then (retried) a log known to equivocate.
    for (const w of m.c.svc.status().cosigning.witnesses)
      expect(["WITNESS_ROOT_CONFLICT", "LOG_EQUIVOCATED"]).toContain(w.lastError?.code);

    // C grows its forked log; B's mirror reads C's tiles and proves the rewrite.
    await enrol(m.c, "forged-more", ["radiologist"]);
    await m.c.svc.collector.idle();
    await until("C publishes its grown fork", async () => {
      const cp = cpOf((await get(m.c, "/checkpoint")).body);
      return cp.size === size + 1;
    });
    const [statusB] = (await m.b.svc.syncMirrors()).filter((s) => s.origin === m.c.origin);
    expect(statusB, JSON.stringify(statusB)).toMatchObject({ state: "equivocated" });
    const fromMirror = m.b.svc.witnessStore.evidence(m.c.origin).find((e) => e.source === "mirror");
    expect(fromMirror).toMatchObject({ kind: "inconsistent-history" });
    expect(
      verifyEvidence(crypto, fromMirror!.text, [formatVerifierKey(readLogKey(crypto, m.c.dir))]).kind,
    ).toBe("inconsistent-history");
    // A's mirror, too.
    const [statusA] = (await m.a.svc.syncMirrors()).filter((s) => s.origin === m.c.origin);
    expect(statusA!.state).toBe("equivocated");

    // Alarms: status API, metric, CLI status (exit 1), and the evidence checked offline by the CLI.
    expect(m.a.svc.status().alarms.equivocations).toBeGreaterThanOrEqual(1);
    expect((await get(m.a, "/api/v1/consortium/metrics")).body).toMatch(
      /^radledger_equivocation_alarms [1-9]/m,
    );
    const status = await runCli(["consortium", "status", "--data", m.a.dir]);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("ALARM");
    const tmp = tempDir();
    try {
      const file = join(tmp.path, "c.evidence");
      writeFileSync(file, (await get(m.a, `/api/v1/consortium/evidence/${evidenceA!.id}`)).body);
      const ok = await runCli(["verify", file, "--log-key", formatVerifierKey(readLogKey(crypto, m.c.dir))]);
      expect([ok.code, ok.stdout]).toEqual([
        0,
        expect.stringContaining(`proven: ${m.c.origin} signed two different roots`),
      ]);
      const wrongKey = await runCli([
        "verify",
        file,
        "--log-key",
        formatVerifierKey(readLogKey(crypto, m.a.dir)),
      ]);
      expect(wrongKey.code).toBe(1);
      expect(wrongKey.stderr).toContain("EVIDENCE_NOT_PROVEN");
    } finally {
      tmp.remove();
    }

    // A verifier holding C's cosigned checkpoint: the forked log's consistency proof fails (src/core),
    // and its new checkpoint carries no cosignature that the policy counts.
    const forked = (await get(m.c, "/checkpoint")).body;
    const forkedCp = cpOf(forked);
    const proof = JSON.parse(
      (await get(m.c, `/api/v1/log/proofs/consistency?from=${size}&to=${forkedCp.size}`)).body,
    ) as { proof: string[] };
    const oldCp = cpOf(cosignedC.note);
    expect(() =>
      verifyConsistency(crypto, size, forkedCp.size, oldCp.root, forkedCp.root, proof.proof.map(fromBase64)),
    ).toThrow(expect.objectContaining({ code: "ROOT_MISMATCH" }));
    expect(parseSignedNote(forked).signatures).toHaveLength(1);

    // The contract: C's node has no final checkpoint to anchor (no witness cosigns its fork); sent
    // anyway, the chain refuses it.
    expect(await m.c.svc.anchorer!.anchorNow()).toMatchObject({ anchored: false });
    const onChain = (await m.c.chain!.latest(m.c.origin))!;
    const anchored = Number(onChain.size);
    const tree = m.c.node.ledger.tree;
    expect(
      await codeOf(m.c.chain!.anchor(m.c.origin, anchored, tree.root(anchored), [], new Uint8Array(32))),
    ).toBe("ANCHOR_INCONSISTENT");
    expect(
      await codeOf(
        m.c.chain!.anchor(
          m.c.origin,
          forkedCp.size,
          forkedCp.root,
          tree.consistencyProof(anchored, forkedCp.size),
          new Uint8Array(32),
        ),
      ),
    ).toBe("ANCHOR_INCONSISTENT");
    expect((await m.c.chain!.latest(m.c.origin))!.rootHash).toEqual(onChain.rootHash);

    // The consortium removes C: one vote is short of the quorum of 2, the second executes it.
    const proposal = await m.a.chain!.proposeRemoval(m.c.origin);
    expect(proposal).toMatchObject({ executed: false, votes: 1n, quorum: 2n });
    expect((await m.a.chain!.members()).map((x) => x.origin)).toContain(m.c.origin);
    expect(await m.b.chain!.vote(proposal.proposalId)).toMatchObject({ executed: true });
    expect((await m.a.chain!.members()).map((x) => x.origin)).toEqual([m.a.origin, m.b.origin]);
  });
});
