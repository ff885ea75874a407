/**
 * The consortium's read side: the status of a node's consortium side — from the running service
 * (/api/v1/consortium/status), or from the data directory's files beside a running node (`radledger
 * consortium status`) — the proof material a bundle export attaches, and the evidence register.
 */
import { existsSync } from "node:fs";
import { formatCosignatureVerifierKey } from "../../core/cosignature.js";
import { RadledgerError } from "../../core/errors.js";
import type { MirrorStatus } from "../../domain/consortium/mirror.js";
import type {
  AnchorRecord,
  ConsortiumStorage,
  CosignedCheckpoint,
  EvidenceRecord,
  WitnessRecord,
  WitnessStatus,
} from "../../ports/consortium.js";
import type { CryptoSuite } from "../../core/crypto.js";
import { paths, readConfig } from "../data-dir.js";
import type { RadledgerNode } from "../node.js";
import { consortiumPaths, mirrorPath, ownWitnessVerifierKey, readConsortiumConfig } from "./config.js";
import type { ConsortiumService } from "./service.js";

/** What reading the files needs: the crypto suite (mirror file names, keys) and the stores. */
export interface ConsortiumFiles {
  readonly crypto: CryptoSuite;
  readonly storage: ConsortiumStorage;
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

/** Proven equivocations and unproven observations counted apart, the evidence without its files. */
function alarmsOf(evidence: readonly EvidenceRecord[]): ConsortiumStatus["alarms"] {
  return {
    equivocations: evidence.filter((e) => e.kind !== "unproven").length,
    unproven: evidence.filter((e) => e.kind === "unproven").length,
    evidence: evidence.map(withoutText),
  };
}

function published(c: CosignedCheckpoint | undefined): ConsortiumStatus["cosigning"]["published"] {
  return c && { size: c.size, final: c.final, witnesses: c.witnesses, publishedAt: c.publishedAt };
}

/** The running service's status, with what only it knows (backoff, mirror errors, the last anchoring error). */
export function serviceStatus(service: ConsortiumService, node: RadledgerNode): ConsortiumStatus {
  const evidence = service.witnessStore.evidence();
  const latestFinal = service.store.latestFinal();
  const latestAnchor = service.store.latestAnchor();
  const pub = published(service.collector.published());
  return {
    origin: node.config.origin,
    logSize: node.ledger.size,
    ...(service.witness
      ? {
          witness: {
            vkey: formatCosignatureVerifierKey(service.witness.cosignerKey),
            logs: service.witnessStore.all().map((r: WitnessRecord) => ({
              origin: r.origin,
              size: r.size,
              updatedAt: r.updatedAt,
            })),
          },
        }
      : {}),
    cosigning: {
      quorum: service.config.quorum,
      witnesses: service.collector.statuses(),
      ...(pub ? { published: pub } : {}),
      ...(latestFinal ? { finalSize: latestFinal.size } : {}),
    },
    mirrors: service.mirrors.map((m) => m.status()),
    alarms: alarmsOf(evidence),
    anchoring: {
      configured: service.anchorer !== undefined,
      ...(latestAnchor ? { latest: latestAnchor } : {}),
      ...(service.anchorer?.lastError ? { lastError: service.anchorer.lastError } : {}),
    },
  };
}

/**
 * The same status read from the data directory's files, without opening the node (which holds the
 * writer lock while `radledger serve` runs): in-memory details (backoff timers, mirror errors) are
 * only in the running node's /api/v1/consortium/status.
 */
export function readConsortiumStatus(dir: string, { crypto, storage }: ConsortiumFiles): ConsortiumStatus {
  const node = readConfig(dir);
  const config = readConsortiumConfig(dir);
  const p = consortiumPaths(dir);
  const ownWitness = ownWitnessVerifierKey(crypto, dir);
  const open = <T>(file: string, make: () => T): T | undefined => (existsSync(file) ? make() : undefined);
  const ledger = open(paths(dir).database, () => storage.openLog(paths(dir).database, { readonly: true }));
  const wstore = open(p.witnessDb, () => storage.openWitnessStore(p.witnessDb, { readonly: true }));
  const cstore = open(p.consortiumDb, () => storage.openCosignatureStore(p.consortiumDb, { readonly: true }));
  try {
    const evidence = wstore?.evidence() ?? [];
    const mirrors: MirrorStatus[] = config.peers.map((peer) => {
      const file = mirrorPath(crypto, dir, peer.origin);
      const m = open(file, () => storage.openLog(file, { readonly: true }));
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
      ...(ownWitness !== undefined
        ? {
            witness: {
              vkey: ownWitness,
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
      alarms: alarmsOf(evidence),
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
export function readConsortiumProof(
  dir: string,
  { storage }: Pick<ConsortiumFiles, "storage">,
): {
  checkpoint?: { size: number; note: string; witnesses: readonly string[] };
  anchor?: AnchorRecord & { contract?: string };
} {
  const p = consortiumPaths(dir).consortiumDb;
  if (!existsSync(p)) return {};
  const store = storage.openCosignatureStore(p, { readonly: true });
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
export function readEvidence(
  dir: string,
  id: number,
  { storage }: Pick<ConsortiumFiles, "storage">,
): EvidenceRecord {
  const p = consortiumPaths(dir).witnessDb;
  if (!existsSync(p)) throw new RadledgerError("RECORD_NOT_FOUND", `no evidence ${id}`);
  const store = storage.openWitnessStore(p, { readonly: true });
  try {
    const found = store.evidence().find((e) => e.id === id);
    if (!found) throw new RadledgerError("RECORD_NOT_FOUND", `no evidence ${id}`);
    return found;
  } finally {
    store.close();
  }
}
