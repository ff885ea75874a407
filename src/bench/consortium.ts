/**
 * Consortium benchmark (issue 7; figures in docs/consortium.md and docs/evm-anchoring.md):
 *
 *  1. cosignature round trip with 3 witnesses: a log node and three witness nodes served over HTTP
 *     on 127.0.0.1 (the real fastify servers, keep-alive fetch); each sample appends one pre-signed
 *     entry and times from the durable commit to the moment the checkpoint of that size is published
 *     final with all three cosignatures (k = 3) — p50/p99;
 *  2. checkpoints per second one witness sustains: consecutive add-checkpoint requests of one log
 *     (each with its consistency proof from the previous size), signed beforehand, against the
 *     witness state machine with its SQLite store (each acceptance is durable before it is
 *     cosigned), both in process and over HTTP;
 *  3. gas per anchor on a local Hardhat node: first anchor, equal size, and consistency proofs of
 *     1..41 hashes between trees of up to 2^40 − 1 leaves (sparse virtual trees: only the perfect
 *     subtrees the two sizes cut are computed, every other subtree root is a fixed pseudo-random
 *     hash — indistinguishable to a verifier).
 *
 *   npm run build && node dist/bench/consortium.js [--rounds 200] [--checkpoints 2000] [--no-gas] [--out FILE]
 *
 * Uses RADLEDGER_TEST_EVM_RPC_URL if set, else starts (and stops) a Hardhat node.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { nodeCrypto as crypto } from "../adapters/node-crypto/crypto.js";
import { SqliteWitnessStore } from "../adapters/sqlite/witness-store.js";
import { fetchHttpClient } from "../adapters/http/fetch-client.js";
import { uint64BE, utf8, toBase64 } from "../core/bytes.js";
import { formatSignedCheckpoint, signCheckpoint } from "../core/checkpoint.js";
import { cosigner, formatCosignatureVerifierKey, parseLogVerifierKey } from "../core/cosignature.js";
import { leafHash, nodeHash } from "../core/merkle/hash.js";
import { consistencyProof, treeRoot, type NodeSource } from "../core/merkle/prove.js";
import { ed25519Signer, formatVerifierKey } from "../core/note.js";
import { formatAddCheckpointRequest } from "../core/witness-protocol.js";
import { buildServer } from "../api/server.js";
import { addPeer, addWitness, readWitnessKey, setQuorum } from "../app/consortium/config.js";
import { ConsortiumService } from "../app/consortium/service.js";
import { initDataDir } from "../app/init.js";
import { readActorKey, readLogKey, signAs } from "../app/keys.js";
import { openNode, type RadledgerNode, nodeFactory } from "../wiring/node.js";
import { Witness } from "../domain/consortium/witness.js";
import { systemClock } from "../ports/clock.js";
import { consortiumPorts } from "../wiring/consortium.js";
import { openAuthStore } from "../wiring/auth.js";

export interface ConsortiumBenchOptions {
  /** Cosignature round trips measured (default 200). */
  readonly rounds?: number;
  /** Checkpoints sent to one witness (default 2,000). */
  readonly checkpoints?: number;
  /** Measure gas per anchor on a Hardhat node (default true). */
  readonly gas?: boolean;
  readonly progress?: (phase: string) => void;
}

export interface GasRow {
  readonly from: number;
  readonly to: number;
  readonly proofHashes: number;
  readonly gasUsed: number;
}

export interface ConsortiumBenchResult {
  readonly cosignRoundTrip: {
    readonly witnesses: number;
    readonly rounds: number;
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly meanMs: number;
  };
  readonly witness: {
    readonly checkpoints: number;
    readonly inProcessPerSecond: number;
    readonly httpPerSecond: number;
  };
  readonly gasPerAnchor?: readonly GasRow[];
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Running {
  node: RadledgerNode;
  svc: ConsortiumService;
  app: FastifyInstance;
  url: string;
}

async function serve(dir: string, hooks: { onCommit?: () => void } = {}): Promise<Running> {
  const node = openNode(dir, { verifyThreads: 0, onCommit: () => hooks.onCommit?.() });
  const svc = await ConsortiumService.open(node, consortiumPorts, { background: false });
  hooks.onCommit = () => svc.onCommit();
  const app = buildServer(node, { auth: openAuthStore(node.dir), consortium: svc });
  const url = await app.listen({ host: "127.0.0.1", port: 0 });
  return { node, svc, app, url };
}

async function close(r: Running): Promise<void> {
  await r.app.close();
  await r.svc.close();
  await r.node.close();
}

/** 1. Commit → final with three witnesses over HTTP. */
async function cosignRoundTrips(
  rounds: number,
  root: string,
): Promise<ConsortiumBenchResult["cosignRoundTrip"]> {
  const origin = (n: string): string => `radledger.bench-${n}.example/log`;
  const dirs = Object.fromEntries(["log", "w1", "w2", "w3"].map((n) => [n, join(root, n)])) as Record<
    string,
    string
  >;
  for (const [n, dir] of Object.entries(dirs)) await initDataDir(dir, { origin: origin(n) }, nodeFactory);
  const logVkey = formatVerifierKey(readLogKey(crypto, dirs.log!));
  const witnesses: Running[] = [];
  for (const n of ["w1", "w2", "w3"]) {
    addPeer(crypto, dirs[n]!, origin("log"), "http://127.0.0.1:9", logVkey);
    witnesses.push(await serve(dirs[n]!));
  }
  ["w1", "w2", "w3"].forEach((n, i) =>
    addWitness(
      crypto,
      dirs.log!,
      n,
      witnesses[i]!.url,
      formatCosignatureVerifierKey(readWitnessKey(crypto, dirs[n]!)),
    ),
  );
  setQuorum(dirs.log!, 3);
  const hooks: { onCommit?: () => void } = {};
  const log = await serve(dirs.log!, hooks);
  try {
    const admin = readActorKey(crypto, dirs.log!, "admin")!;
    // Pre-signed: the benchmark times commit → final, not signing.
    const entries = Array.from({ length: rounds + 1 }, (_, i) =>
      signAs(crypto, admin, origin("log"), "actor.enrolled", {
        actorId: `bench-${i}`,
        kind: "staff",
        roles: ["radiologist"],
        publicKey: toBase64(crypto.ed25519PublicKey(crypto.sha256(utf8(`bench-${i}`)))),
      }),
    );
    const waitFinal = (size: number): Promise<void> =>
      new Promise((resolve) => {
        const poll = (): void => {
          const p = log.svc.collector.published();
          if (p && p.size >= size && p.final) resolve();
          else setImmediate(poll);
        };
        poll();
      });
    // Warm-up: connections, the witnesses' first 409 catch-up.
    await log.node.appender.append(entries[0]!);
    await waitFinal(log.node.ledger.size);
    const samples: number[] = [];
    for (let i = 1; i <= rounds; i++) {
      await log.node.appender.append(entries[i]!);
      const t0 = performance.now();
      await waitFinal(log.node.ledger.size);
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    return {
      witnesses: 3,
      rounds,
      p50Ms: round1(percentile(samples, 50)),
      p99Ms: round1(percentile(samples, 99)),
      meanMs: round1(samples.reduce((a, b) => a + b, 0) / samples.length),
    };
  } finally {
    await close(log);
    for (const w of witnesses) await close(w);
  }
}

/** A virtual tree over synthetic leaves: perfect node hashes computed once, on demand. */
function syntheticTree(): NodeSource {
  const memo = new Map<string, Uint8Array>();
  const node: NodeSource = (level, index) => {
    const key = `${level}/${index}`;
    let h = memo.get(key);
    if (!h) {
      h =
        level === 0
          ? leafHash(crypto, uint64BE(index))
          : nodeHash(crypto, node(level - 1, 2 * index), node(level - 1, 2 * index + 1));
      memo.set(key, h);
    }
    return h;
  };
  return node;
}

/** 2. add-checkpoint throughput of one witness, in process and over HTTP. */
async function witnessThroughput(count: number, root: string): Promise<ConsortiumBenchResult["witness"]> {
  const origin = "radledger.bench-throughput.example/log";
  const signer = ed25519Signer(crypto, origin, crypto.sha256(utf8("bench log key")));
  const vkey = formatVerifierKey(signer);
  const tree = syntheticTree();
  // Each request moves the witness from size s to s+3 (a batch of three entries per checkpoint).
  const bodies = (): string[] =>
    Array.from({ length: count }, (_, i) => {
      const old = i === 0 ? 0 : 1 + 3 * (i - 1) + 3;
      const size = 1 + 3 * i + 3;
      const checkpoint = formatSignedCheckpoint(
        signCheckpoint({ origin, size, root: treeRoot(crypto, size, tree) }, signer),
      );
      const proof = old > 0 ? consistencyProof(crypto, old, size, tree) : [];
      return formatAddCheckpointRequest({ oldSize: old, proof, checkpoint });
    });

  // In process: parse, verify the log signature, verify the proof, durable update, cosign.
  const store = new SqliteWitnessStore(join(root, "throughput.sqlite"));
  const witness = new Witness({
    crypto,
    cosigner: cosigner(
      crypto,
      "radledger.bench-witness.example/witness",
      crypto.sha256(utf8("bench witness")),
    ),
    logKeys: (o) => (o === origin ? [{ vkey, verifier: parseLogVerifierKey(crypto, vkey) }] : undefined),
    store,
    clock: systemClock,
  });
  const inProcess = bodies();
  let t0 = performance.now();
  for (const b of inProcess) witness.addCheckpoint(b);
  const inProcessPerSecond = Math.round(count / ((performance.now() - t0) / 1000));
  store.close();

  // Over HTTP: a served node whose witness knows the log.
  const dir = join(root, "witness-http");
  await initDataDir(dir, { origin: "radledger.bench-witness-http.example/log" }, nodeFactory);
  addPeer(crypto, dir, origin, "http://127.0.0.1:9", vkey);
  const w = await serve(dir);
  try {
    const overHttp = bodies();
    t0 = performance.now();
    for (const b of overHttp) {
      const res = await fetchHttpClient.post(`${w.url}/add-checkpoint`, b, 10_000);
      if (res.status !== 200) throw new Error(`witness answered ${res.status}`);
    }
    const httpPerSecond = Math.round(count / ((performance.now() - t0) / 1000));
    return { checkpoints: count, inProcessPerSecond, httpPerSecond };
  } finally {
    await close(w);
  }
}

/**
 * A sparse virtual tree (see the header): perfect subtrees that no size in `cuts` splits are
 * opaque pseudo-random roots, so sizes up to 2^53 cost O(log n) hashes.
 */
function sparseTree(cuts: readonly number[]): NodeSource {
  const memo = new Map<string, Uint8Array>();
  const node: NodeSource = (level, index) => {
    const key = `${level}/${index}`;
    let h = memo.get(key);
    if (!h) {
      const lo = index * 2 ** level;
      const hi = lo + 2 ** level;
      if (level === 0) h = leafHash(crypto, uint64BE(index));
      else if (!cuts.some((c) => lo < c && c < hi)) h = crypto.sha256Parts(utf8(`opaque ${level}/${index}`));
      else h = nodeHash(crypto, node(level - 1, 2 * index), node(level - 1, 2 * index + 1));
      memo.set(key, h);
    }
    return h;
  };
  return node;
}

/** 3. Gas per anchor transaction (gasUsed: 21k base, calldata, storage, event). */
async function gasPerAnchor(): Promise<GasRow[]> {
  const { startEvmService, devAccountKey } = await import("../adapters/evm/dev-node.js");
  const { deployConsortium } = await import("../adapters/evm/consortium.js");
  const { privateKeyToAccount } = await import("viem/accounts");
  const service = await startEvmService();
  try {
    // Dev account 18 (tests use 0..17): a test-only key every Hardhat node prints.
    const key = devAccountKey(18);
    const origin = "radledger.bench-gas.example/log";
    const member = {
      origin,
      account: privateKeyToAccount(key).address,
      verifierKey: formatVerifierKey(ed25519Signer(crypto, origin, crypto.sha256(utf8("gas")))),
      witnessKey: "",
    };
    const config = { rpcUrl: service.rpcUrl, privateKey: key, pollingIntervalMs: 20 };
    const rows: GasRow[] = [];
    const pairs: [number, number][] = [
      [1000, 2000],
      [1024, 1500],
      [1_000_000, 1_001_000],
      [2 ** 31 - 12_345, 2 ** 31 + 987_654],
      [716_901_425_877, 2 ** 40 - 1],
      [2 ** 39 - 1, 2 ** 40 - 1],
    ];
    // A distinct, non-zero note hash per checkpoint, as real anchors carry (zero slots cost less).
    const note = (size: number): Uint8Array => crypto.sha256(utf8(`checkpoint note ${size}`));
    for (const [from, to] of pairs) {
      const tree = sparseTree([from, to]);
      const c = await deployConsortium(config, { members: [member], quorum: 1 });
      const first = await c.anchor(origin, from, treeRoot(crypto, from, tree), [], note(from));
      if (rows.length === 0) rows.push({ from: 0, to: from, proofHashes: 0, gasUsed: Number(first.gasUsed) });
      const proof = consistencyProof(crypto, from, to, tree);
      const r = await c.anchor(origin, to, treeRoot(crypto, to, tree), proof, note(to));
      rows.push({ from, to, proofHashes: proof.length, gasUsed: Number(r.gasUsed) });
    }
    const c = await deployConsortium(config, { members: [member], quorum: 1 });
    const t = sparseTree([5]);
    await c.anchor(origin, 5, treeRoot(crypto, 5, t), [], note(5));
    const again = await c.anchor(origin, 5, treeRoot(crypto, 5, t), [], note(5));
    rows.push({ from: 5, to: 5, proofHashes: 0, gasUsed: Number(again.gasUsed) });
    return rows;
  } finally {
    await service.stop();
  }
}

export async function runConsortiumBench(
  options: ConsortiumBenchOptions = {},
): Promise<ConsortiumBenchResult> {
  const root = mkdtempSync(join(tmpdir(), "radledger-consortium-bench-"));
  try {
    options.progress?.("cosignature round trips");
    const cosignRoundTrip = await cosignRoundTrips(options.rounds ?? 200, root);
    options.progress?.("witness throughput");
    const witness = await witnessThroughput(options.checkpoints ?? 2000, root);
    if (options.gas === false) return { cosignRoundTrip, witness };
    options.progress?.("gas per anchor");
    return { cosignRoundTrip, witness, gasPerAnchor: await gasPerAnchor() };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runConsortiumBench({
    rounds: Number(arg("rounds") ?? 200),
    checkpoints: Number(arg("checkpoints") ?? 2000),
    gas: !process.argv.includes("--no-gas"),
    progress: (phase) => process.stderr.write(`consortium bench: ${phase}\n`),
  });
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  const out = arg("out");
  if (out) {
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${json}\n`);
  }
}
