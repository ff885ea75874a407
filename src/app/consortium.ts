/**
 * The consortium side of a running node (docs/consortium.md), composed from DIR/consortium.json:
 *
 *  - its witness (C2SP tlog-witness) for the peers' logs, with DIR/keys/witness.key;
 *  - the cosignature collector for its own checkpoints, driven by the Ledger's onCommit hook;
 *  - one mirror per peer (DIR/mirrors/…), polled on an interval;
 *  - the anchorer, on its own schedule, when anchoring is configured (DIR/keys/evm.key).
 *
 * `radledger serve` opens it next to the node and mounts its HTTP routes; tests do the same in
 * process. Nothing here blocks an append: every background step is asynchronous and bounded by
 * timeouts, and a failing peer, witness or chain only shows up in `status()`.
 */
import { existsSync, mkdirSync } from "node:fs";
import { formatCosignatureVerifierKey, parseLogVerifierKey } from "../core/cosignature.js";
import { RadledgerError } from "../core/errors.js";
import { InlineVerifier } from "../adapters/node-crypto/inline-verifier.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { SqliteWitnessStore } from "../adapters/sqlite/witness-store.js";
import { SqliteConsortiumStore } from "../adapters/sqlite/consortium-store.js";
import { fetchHttpClient } from "../adapters/http/fetch-client.js";
import { Ledger } from "../domain/ledger/ledger.js";
import { createRegistry } from "../domain/registry.js";
import { Witness, type TrustedLogKey } from "../domain/consortium/witness.js";
import { CosignatureCollector } from "../domain/consortium/cosigning.js";
import { Mirror, type MirrorStatus } from "../domain/consortium/mirror.js";
import { Anchorer, type AnchorChain } from "../domain/consortium/anchoring.js";
import type { LogView } from "../domain/consortium/queries.js";
import type { Clock } from "../ports/clock.js";
import type {
  AnchorRecord,
  CosignedCheckpoint,
  EvidenceRecord,
  HttpClient,
  WitnessRecord,
  WitnessStatus,
} from "../ports/consortium.js";
import type { RadledgerNode } from "./node.js";
import { paths, readConfig, readSecret } from "./data-dir.js";
import {
  consortiumPaths,
  mirrorPath,
  mirrorPolicy,
  ownPolicy,
  readConsortiumConfig,
  readWitnessKey,
  type ConsortiumConfig,
} from "./consortium-config.js";

export interface ConsortiumServiceOptions {
  readonly http?: HttpClient;
  readonly clock?: Clock;
  /** Run the mirror and anchoring schedules (default true); tests drive them by hand. */
  readonly background?: boolean;
  readonly mirrorIntervalMs?: number;
  readonly cosignTimeoutMs?: number;
  readonly backoffInitialMs?: number;
  /** The chain to anchor on; by default connected from the anchoring configuration. */
  readonly anchorChain?: AnchorChain;
  /** Called when evidence is recorded (besides the register): logs, tests. */
  readonly onEvidence?: (record: EvidenceRecord) => void;
}

export interface ConsortiumStatus {
  readonly origin: string;
  readonly logSize: number;
  readonly witness?: {
    readonly vkey: string;
    readonly logs: readonly { origin: string; size: number; updatedAt: number }[];
  };
  readonly cosigning: {
    readonly quorum: number;
    readonly witnesses: readonly WitnessStatus[];
    readonly published?: { size: number; final: boolean; witnesses: readonly string[]; publishedAt: number };
    readonly finalSize?: number;
  };
  readonly mirrors: readonly MirrorStatus[];
  readonly alarms: {
    readonly equivocations: number;
    readonly unproven: number;
    readonly evidence: readonly Omit<EvidenceRecord, "text">[];
  };
  readonly anchoring: {
    readonly configured: boolean;
    readonly latest?: AnchorRecord;
    readonly lastError?: { code: string; message: string; at: number };
  };
}

const withoutText = ({ text: _text, ...rest }: EvidenceRecord): Omit<EvidenceRecord, "text"> => rest;

function published(c: CosignedCheckpoint | undefined): ConsortiumStatus["cosigning"]["published"] {
  return c && { size: c.size, final: c.final, witnesses: c.witnesses, publishedAt: c.publishedAt };
}

/** Reads an EVM private key file: 0x + 64 hex digits (never echoed). */
export function readEvmKey(dir: string): `0x${string}` {
  const p = consortiumPaths(dir).evmKey;
  if (!existsSync(p))
    throw new RadledgerError(
      "CONSORTIUM_NOT_CONFIGURED",
      `no EVM account key at ${p} (radledger anchor configure)`,
    );
  const key = readSecret(p);
  if (!/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new RadledgerError("EVM_INVALID_CONFIG", `${p} must hold 0x followed by 64 hex digits`);
  return key as `0x${string}`;
}

export class ConsortiumService {
  readonly config: ConsortiumConfig;
  readonly witness: Witness | undefined;
  readonly witnessStore: SqliteWitnessStore;
  readonly store: SqliteConsortiumStore;
  readonly collector: CosignatureCollector;
  readonly mirrors: readonly Mirror[];
  readonly anchorer: Anchorer | undefined;
  readonly #node: RadledgerNode;
  readonly #mirrorLedgers: Ledger[] = [];
  readonly #mirrorStores: SqliteLogStore[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #clock: Clock;
  #closed = false;
  #mirroring: Promise<MirrorStatus[]> | undefined;

  private constructor(
    node: RadledgerNode,
    options: ConsortiumServiceOptions,
    chain: AnchorChain | undefined,
  ) {
    const crypto = node.crypto;
    const dir = node.dir;
    this.#node = node;
    this.#clock = options.clock ?? node.clock;
    const config = readConsortiumConfig(dir);
    this.config = config;
    const http = options.http ?? fetchHttpClient;
    const onEvidence = (r: EvidenceRecord): void => options.onEvidence?.(r);
    this.witnessStore = new SqliteWitnessStore(consortiumPaths(dir).witnessDb);
    this.store = new SqliteConsortiumStore(consortiumPaths(dir).consortiumDb);

    const peerKeys = new Map<string, TrustedLogKey[]>(
      config.peers.map((p) => [p.origin, [{ vkey: p.vkey, verifier: parseLogVerifierKey(crypto, p.vkey) }]]),
    );
    this.witness = existsSync(consortiumPaths(dir).witnessKey)
      ? new Witness({
          crypto,
          cosigner: readWitnessKey(crypto, dir),
          logKeys: (origin) => peerKeys.get(origin),
          store: this.witnessStore,
          clock: this.#clock,
          onEvidence,
        })
      : undefined;

    const own = ownPolicy(crypto, dir, config);
    this.collector = new CosignatureCollector({
      crypto,
      witnesses: own.witnesses.map((w) => ({ name: w.name, url: w.url ?? "", verifier: w.verifier })),
      policy: own,
      latestCheckpoint: () => node.ledger.latestCheckpoint,
      consistencyProof: (from, to) => node.ledger.tree.consistencyProof(from, to),
      http,
      store: this.store,
      clock: this.#clock,
      timeoutMs: options.cosignTimeoutMs ?? config.cosignTimeoutMs,
      ...(options.backoffInitialMs === undefined ? {} : { backoffInitialMs: options.backoffInitialMs }),
    });

    const policy = mirrorPolicy(crypto, dir, config);
    mkdirSync(consortiumPaths(dir).mirrors, { recursive: true, mode: 0o700 });
    const registry = createRegistry();
    this.mirrors = config.peers.map((p) => {
      const key = peerKeys.get(p.origin)![0]!;
      const store = new SqliteLogStore(mirrorPath(crypto, dir, p.origin));
      const ledger = new Ledger({
        origin: p.origin,
        crypto,
        store,
        verifier: new InlineVerifier(crypto, registry),
        registry,
        logPublicKey: key.verifier.publicKey,
        clock: this.#clock,
        maxBatch: 8192,
      });
      this.#mirrorStores.push(store);
      this.#mirrorLedgers.push(ledger);
      return new Mirror({
        crypto,
        peer: { origin: p.origin, url: p.url, key },
        policy,
        ledger,
        store,
        http,
        evidence: this.witnessStore,
        clock: this.#clock,
        onEvidence,
      });
    });

    this.anchorer = chain
      ? new Anchorer({
          crypto,
          origin: node.config.origin,
          chain,
          store: this.store,
          checkpoint: () =>
            config.quorum === 0 ? node.ledger.latestCheckpoint : this.store.latestFinal()?.note,
          rootAt: (size) => node.ledger.tree.root(size),
          consistencyProof: (from, to) => node.ledger.tree.consistencyProof(from, to),
          clock: this.#clock,
        })
      : undefined;

    if (options.background ?? true) {
      this.every(options.mirrorIntervalMs ?? config.mirrorIntervalMs, () => this.syncMirrors());
      if (this.anchorer && config.anchor?.contract)
        this.every(config.anchor.intervalSeconds * 1000, () => this.anchorer!.anchorNow());
    }
    this.collector.notify();
  }

  /** Opens the consortium side of an open node (connecting to the chain if anchoring is configured). */
  static async open(node: RadledgerNode, options: ConsortiumServiceOptions = {}): Promise<ConsortiumService> {
    let chain = options.anchorChain;
    const config = readConsortiumConfig(node.dir);
    if (!chain && config.anchor?.contract) {
      // Connected lazily: an unreachable chain must not keep the node from serving its log.
      const anchor = config.anchor;
      const privateKey = readEvmKey(node.dir);
      const { connectConsortium } = await import("../adapters/evm/consortium.js");
      let client: ReturnType<typeof connectConsortium> | undefined;
      const connect = (): ReturnType<typeof connectConsortium> =>
        (client ??= connectConsortium(
          { rpcUrl: anchor.rpcUrl, privateKey },
          anchor.contract as `0x${string}`,
        ).catch((e: unknown) => {
          client = undefined;
          throw e;
        }));
      chain = {
        latest: async (origin) => (await connect()).latest(origin),
        anchor: async (origin, size, root, proof, noteHash) =>
          (await connect()).anchor(origin, size, root, proof, noteHash),
      };
    }
    return new ConsortiumService(node, options, chain);
  }

  /** Hook for NodeOptions.onCommit: a new checkpoint exists. */
  onCommit(): void {
    this.collector.notify();
  }

  /** What /checkpoint serves: the newest published checkpoint with its cosignature lines. */
  servedCheckpoint(): string | undefined {
    return this.collector.served();
  }

  /** One mirroring round over every peer (in parallel); concurrent callers share it. */
  syncMirrors(): Promise<MirrorStatus[]> {
    this.#mirroring ??= Promise.all(this.mirrors.map((m) => m.sync())).finally(() => {
      this.#mirroring = undefined;
    });
    return this.#mirroring;
  }

  /** This node's log and each mirror, for consortium queries. */
  logViews(): { own: LogView & { name: string }; mirrors: LogView[] } {
    return {
      own: {
        origin: this.#node.config.origin,
        name: this.#node.config.institutionName,
        state: this.#node.store,
      },
      mirrors: this.mirrors.map((m) => ({ origin: m.origin, state: m.store })),
    };
  }

  status(): ConsortiumStatus {
    const evidence = this.witnessStore.evidence();
    const latestFinal = this.store.latestFinal();
    const pub = published(this.collector.published());
    return {
      origin: this.#node.config.origin,
      logSize: this.#node.ledger.size,
      ...(this.witness
        ? {
            witness: {
              vkey: formatCosignatureVerifierKey(readWitnessKey(this.#node.crypto, this.#node.dir)),
              logs: this.witnessStore.all().map((r: WitnessRecord) => ({
                origin: r.origin,
                size: r.size,
                updatedAt: r.updatedAt,
              })),
            },
          }
        : {}),
      cosigning: {
        quorum: this.config.quorum,
        witnesses: this.collector.statuses(),
        ...(pub ? { published: pub } : {}),
        ...(latestFinal ? { finalSize: latestFinal.size } : {}),
      },
      mirrors: this.mirrors.map((m) => m.status()),
      alarms: {
        equivocations: evidence.filter((e) => e.kind !== "unproven").length,
        unproven: evidence.filter((e) => e.kind === "unproven").length,
        evidence: evidence.map(withoutText),
      },
      anchoring: {
        configured: this.anchorer !== undefined,
        ...(this.store.latestAnchor() ? { latest: this.store.latestAnchor()! } : {}),
        ...(this.anchorer?.lastError ? { lastError: this.anchorer.lastError } : {}),
      },
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.collector.close();
    await this.#mirroring?.catch(() => undefined);
    for (const l of this.#mirrorLedgers) await l.close();
    for (const s of this.#mirrorStores) s.close();
    this.witnessStore.close();
    this.store.close();
  }

  /** Runs task every ms (after the previous run ended); errors land in status, never crash. */
  private every(ms: number, task: () => Promise<unknown>): void {
    const run = (): void => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (this.#closed) return;
        void task()
          .catch(() => undefined)
          .finally(() => {
            if (!this.#closed) run();
          });
      }, ms);
      t.unref();
      this.#timers.add(t);
    };
    run();
  }
}

/**
 * The same status read from the data directory's files, without opening the node (which holds the
 * writer lock while `radledger serve` runs): in-memory details (backoff timers, mirror errors) are
 * only in the running node's /api/v1/consortium/status.
 */
export function readConsortiumStatus(dir: string): ConsortiumStatus {
  const crypto = nodeCrypto;
  const node = readConfig(dir);
  const config = readConsortiumConfig(dir);
  const p = consortiumPaths(dir);
  const open = <T>(file: string, make: () => T): T | undefined => (existsSync(file) ? make() : undefined);
  const ledger = open(paths(dir).database, () => new SqliteLogStore(paths(dir).database, { readonly: true }));
  const wstore = open(p.witnessDb, () => new SqliteWitnessStore(p.witnessDb, { readonly: true }));
  const cstore = open(p.consortiumDb, () => new SqliteConsortiumStore(p.consortiumDb, { readonly: true }));
  try {
    const evidence = wstore?.evidence() ?? [];
    const mirrors: MirrorStatus[] = config.peers.map((peer) => {
      const file = mirrorPath(crypto, dir, peer.origin);
      const m = open(file, () => new SqliteLogStore(file, { readonly: true }));
      try {
        const stored = m?.latestCheckpoint();
        return {
          origin: peer.origin,
          url: peer.url,
          state: evidence.some((e) => e.origin === peer.origin && e.kind !== "unproven")
            ? "equivocated"
            : "idle",
          mirroredSize: m?.size() ?? 0,
          checkpointSize: stored?.size ?? 0,
        };
      } finally {
        m?.close();
      }
    });
    const latestAnchor = cstore?.latestAnchor();
    const pub = published(cstore?.latestCosigned());
    const final = cstore?.latestFinal();
    return {
      origin: node.origin,
      logSize: ledger?.size() ?? 0,
      ...(existsSync(p.witnessKey)
        ? {
            witness: {
              vkey: formatCosignatureVerifierKey(readWitnessKey(crypto, dir)),
              logs: (wstore?.all() ?? []).map((r) => ({
                origin: r.origin,
                size: r.size,
                updatedAt: r.updatedAt,
              })),
            },
          }
        : {}),
      cosigning: {
        quorum: config.quorum,
        witnesses: cstore?.witnessStatuses() ?? [],
        ...(pub ? { published: pub } : {}),
        ...(final ? { finalSize: final.size } : {}),
      },
      mirrors,
      alarms: {
        equivocations: evidence.filter((e) => e.kind !== "unproven").length,
        unproven: evidence.filter((e) => e.kind === "unproven").length,
        evidence: evidence.map(withoutText),
      },
      anchoring: {
        configured: config.anchor !== undefined,
        ...(latestAnchor ? { latest: latestAnchor } : {}),
      },
    };
  } finally {
    ledger?.close();
    wstore?.close();
    cstore?.close();
  }
}

/**
 * What a bundle exporter attaches for verification with the consortium: the newest final checkpoint
 * note with its cosignature lines, and the newest anchoring transaction of this log at or below its
 * size (read from the files, also while the node is served). Undefined fields: not available yet.
 */
export function readConsortiumProof(dir: string): {
  checkpoint?: { size: number; note: string; witnesses: readonly string[] };
  anchor?: AnchorRecord & { contract?: string };
} {
  const p = consortiumPaths(dir).consortiumDb;
  if (!existsSync(p)) return {};
  const store = new SqliteConsortiumStore(p, { readonly: true });
  try {
    const final = store.latestFinal();
    const anchor = store.anchors().find((a) => final === undefined || a.size <= final.size);
    const config = readConsortiumConfig(dir).anchor;
    return {
      ...(final ? { checkpoint: { size: final.size, note: final.note, witnesses: final.witnesses } } : {}),
      ...(anchor
        ? {
            // The contract, not the RPC URL: a hosted endpoint's path may carry an API key.
            anchor: { ...anchor, ...(config?.contract ? { contract: config.contract } : {}) },
          }
        : {}),
    };
  } finally {
    store.close();
  }
}

/** One evidence file from the register, by id. */
export function readEvidence(dir: string, id: number): EvidenceRecord {
  const p = consortiumPaths(dir).witnessDb;
  if (!existsSync(p)) throw new RadledgerError("RECORD_NOT_FOUND", `no evidence ${id}`);
  const store = new SqliteWitnessStore(p, { readonly: true });
  try {
    const found = store.evidence().find((e) => e.id === id);
    if (!found) throw new RadledgerError("RECORD_NOT_FOUND", `no evidence ${id}`);
    return found;
  } finally {
    store.close();
  }
}
