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
import { mkdirSync } from "node:fs";
import type { CryptoSuite } from "../../core/crypto.js";
import { parseLogVerifierKey } from "../../core/cosignature.js";
import { toBase64 } from "../../core/bytes.js";
import type { LogCredentials } from "../../core/http-signature.js";
import { createAppender } from "../../domain/ledger/appender.js";
import type { EntryTypeRegistry } from "../../domain/ledger/entry-types.js";
import { Ledger } from "../../domain/ledger/ledger.js";
import { identityEnrolment } from "../../domain/identity/state.js";
import { Witness, type TrustedLogKey } from "../../domain/consortium/witness.js";
import { CosignatureCollector } from "../../domain/consortium/cosigning.js";
import { Mirror, type MirrorStatus } from "../../domain/consortium/mirror.js";
import { Anchorer, type AnchorChain } from "../../domain/consortium/anchoring.js";
import type { LogView } from "../../domain/consortium/queries.js";
import type { Clock } from "../../ports/clock.js";
import type {
  AnchorStore,
  ConsortiumStorage,
  CosignatureStore,
  EvidenceRecord,
  HttpClient,
  WitnessStore,
} from "../../ports/consortium.js";
import type { LogStore } from "../../ports/storage.js";
import type { EntryVerifier } from "../../ports/verifier.js";
import type { RadledgerNode } from "../node.js";
import {
  consortiumPaths,
  mirrorPath,
  mirrorPolicy,
  ownPolicy,
  readConsortiumConfig,
  readEvmKey,
  type ConsortiumConfig,
} from "./config.js";
import { serviceStatus, type ConsortiumStatus } from "./status.js";

/** What the consortium side needs from the outside, given by the wiring (src/wiring/consortium.ts). */
export interface ConsortiumPorts {
  readonly crypto: CryptoSuite;
  readonly storage: ConsortiumStorage;
  readonly http: HttpClient;
  /** The verifier a mirror replays its peer's entries with. */
  mirrorVerifier(registry: EntryTypeRegistry): EntryVerifier;
  /** Connects to the anchoring contract (docs/evm-anchoring.md). */
  connectChain(rpcUrl: string, privateKey: `0x${string}`, contract: `0x${string}`): Promise<AnchorChain>;
}

export interface ConsortiumServiceOptions {
  /** HTTP to peers and witnesses (default: the ports'). */
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

export class ConsortiumService {
  readonly config: ConsortiumConfig;
  readonly witness: Witness | undefined;
  readonly witnessStore: WitnessStore & { close(): void };
  readonly store: CosignatureStore & AnchorStore & { close(): void };
  readonly collector: CosignatureCollector;
  readonly mirrors: readonly Mirror[];
  readonly anchorer: Anchorer | undefined;
  readonly #node: RadledgerNode;
  readonly #peerKeys: Map<string, Uint8Array>;
  readonly #mirrorLedgers: Ledger[] = [];
  readonly #mirrorStores: LogStore[] = [];
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #clock: Clock;
  #closed = false;
  #mirroring: Promise<MirrorStatus[]> | undefined;

  private constructor(
    node: RadledgerNode,
    ports: ConsortiumPorts,
    options: ConsortiumServiceOptions,
    chain: AnchorChain | undefined,
  ) {
    const crypto = node.crypto;
    const dir = node.dir;
    this.#node = node;
    this.#clock = options.clock ?? node.clock;
    const config = readConsortiumConfig(dir);
    this.config = config;
    const http = options.http ?? ports.http;
    const onEvidence = (r: EvidenceRecord): void => options.onEvidence?.(r);
    this.witnessStore = ports.storage.openWitnessStore(consortiumPaths(dir).witnessDb);
    this.store = ports.storage.openCosignatureStore(consortiumPaths(dir).consortiumDb);

    const peerKeys = new Map<string, TrustedLogKey[]>(
      config.peers.map((p) => [p.origin, [{ vkey: p.vkey, verifier: parseLogVerifierKey(crypto, p.vkey) }]]),
    );
    this.#peerKeys = new Map([...peerKeys].map(([origin, [k]]) => [origin, k!.verifier.publicKey]));
    // Requests to peers are signed with this node's log key (its institution key), keyid = its origin:
    // peers serve their entry bundles only to configured peers (docs/privacy.md).
    const credentials: LogCredentials = {
      keyid: node.config.origin,
      sign: (base) => node.logKey.sign(base),
      now: () => Math.floor(this.#clock.now() / 1000),
      nonce: () => toBase64(crypto.randomBytes(16)),
    };
    // The witness key signs where it lives (a file or the HSM: docs/security.md §Keys).
    const cosigner = node.keys.witness;
    this.witness = cosigner
      ? new Witness({
          crypto,
          cosigner,
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
    const registry = node.registry;
    this.mirrors = config.peers.map((p) => {
      const key = peerKeys.get(p.origin)![0]!;
      const store = ports.storage.openLog(mirrorPath(crypto, dir, p.origin));
      const ledger = new Ledger({
        origin: p.origin,
        crypto,
        store,
        verifier: ports.mirrorVerifier(registry),
        registry,
        enrolment: identityEnrolment,
        logPublicKey: key.verifier.publicKey,
        clock: this.#clock,
        maxBatch: 8192,
        // A peer's stored history, admitted under the rules (and policy) of its own node.
        replay: true,
      });
      this.#mirrorStores.push(store);
      this.#mirrorLedgers.push(ledger);
      return new Mirror({
        crypto,
        peer: { origin: p.origin, url: p.url, key },
        policy,
        ledger,
        appender: createAppender((entries, parsed) => ledger.append(entries, parsed)),
        store,
        http,
        credentials,
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
  static async open(
    node: RadledgerNode,
    ports: ConsortiumPorts,
    options: ConsortiumServiceOptions = {},
  ): Promise<ConsortiumService> {
    let chain = options.anchorChain;
    const config = readConsortiumConfig(node.dir);
    if (!chain && config.anchor?.contract) {
      // Connected lazily: an unreachable chain must not keep the node from serving its log.
      const anchor = config.anchor;
      const privateKey = readEvmKey(node.dir);
      let connecting: Promise<AnchorChain> | undefined;
      const connect = (): Promise<AnchorChain> =>
        (connecting ??= ports
          .connectChain(anchor.rpcUrl, privateKey, anchor.contract as `0x${string}`)
          .catch((e: unknown) => {
            connecting = undefined;
            throw e;
          }));
      chain = {
        latest: async (origin) => (await connect()).latest(origin),
        anchor: async (origin, size, root, proof, noteHash) =>
          (await connect()).anchor(origin, size, root, proof, noteHash),
      };
    }
    return new ConsortiumService(node, ports, options, chain);
  }

  /**
   * A configured peer's log public key by its origin (the keyid of its signed requests): the
   * institutions this node serves its entry bundles to (src/api/entry-access.ts).
   */
  readonly peerKey = (origin: string): Uint8Array | undefined => this.#peerKeys.get(origin);

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
    return serviceStatus(this, this.#node);
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
