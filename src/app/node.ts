/**
 * What application code gets of a running node: ports only. The concrete adapters behind them (the
 * SQLite log store and vault, node:crypto, the verification threads, the data directory's key files,
 * the DICOM toolkit) are chosen in one place, the wiring (src/wiring/node.ts).
 */
import type { CryptoSuite } from "../core/crypto.js";
import type { NoteSigner } from "../core/note.js";
import type { Appender } from "../domain/ledger/appender.js";
import type { AdmissionPolicy, EntryTypeRegistry } from "../domain/ledger/entry-types.js";
import type { CommitInfo, LedgerView } from "../domain/ledger/ledger.js";
import type { PseudonymKind } from "../domain/privacy/pseudonyms.js";
import type { AlarmStore } from "../ports/alarms.js";
import type { Clock } from "../ports/clock.js";
import type { DicomToolkit, ManifestStore } from "../ports/imaging.js";
import type { HeldKeyStore, LogSigningKey, NodeKeys } from "../ports/keys.js";
import type { LogReader } from "../ports/storage.js";
import type { Vault } from "../ports/vault.js";
import type { NodeConfig, Pkcs11KeyConfig } from "./data-dir.js";
import type { StorageStatus } from "./storage-health.js";

export interface NodeOptions {
  /** Verification threads; 0 verifies on the main thread. Default: one per core. */
  readonly verifyThreads?: number;
  readonly clock?: Clock;
  readonly maxBatch?: number;
  readonly maxEntryAgeMs?: number;
  readonly onCommit?: (info: CommitInfo) => void;
  /**
   * Where a change of the disk's state goes (full, read-only, writable again: one line per
   * transition, src/app/storage-health.ts). Default: stderr.
   */
  readonly storageLog?: (line: string) => void;
  /** At most one storage probe per this many milliseconds while a write has failed (default 1,000). */
  readonly storageProbeIntervalMs?: number;
  /** Notes for the operator while opening (e.g. a high-water mark created); default: standard error. */
  readonly onNotice?: (message: string) => void;
}

export interface RadledgerNode {
  readonly dir: string;
  readonly config: NodeConfig;
  /** The admission policy from the configuration (break-glass roles), validated at start. */
  readonly policy: AdmissionPolicy;
  readonly crypto: CryptoSuite;
  readonly registry: EntryTypeRegistry;
  /** The committed log and its projections, for reading. */
  readonly store: LogReader;
  /** The log as readers see it: size, latest checkpoint, tree, cached state. */
  readonly ledger: LedgerView;
  /** The one append door (src/domain/ledger/appender.ts): every writer of this node appends here. */
  readonly appender: Appender;
  /** The current log key (it signs where it lives: a file or an HSM; no seed leaves it). */
  readonly logKey: LogSigningKey;
  /** The current log key's verifier key string. */
  readonly verifierKey: string;
  /** The node's own keys from the configured backend (docs/security.md §Keys). */
  readonly keys: NodeKeys;
  /**
   * The keys that sign the next checkpoints (a log key rotation signs one checkpoint with both:
   * src/app/key-rotate.ts).
   */
  useLogSigners(signers: readonly NoteSigner[]): void;
  readonly clock: Clock;
  /** Off-ledger content behind commitments, encrypted per patient. */
  readonly vault: Vault;
  /** Keys the node holds for actors who do not hold their own. */
  readonly heldKeys: HeldKeyStore;
  /** DICOM hashing and de-identification. */
  readonly dicom: DicomToolkit;
  /** Per-instance hashes behind manifest roots, de-identified copies, feed cursors (opened on first use). */
  readonly manifests: ManifestStore;
  /** Alarms for the administrator (an AI result naming an unknown model…), node-local (opened on first use). */
  readonly alarms: AlarmStore;
  /** Keyed pseudonym of an identifier under this institution's secret (docs/design.md §5.1). */
  pseudonym(kind: PseudonymKind, identifier: string, scope?: string): string;
  /** Whether the disk takes writes (full, read-only): the node's readiness (src/app/storage-health.ts). */
  readonly storage: { status(): StorageStatus };
  /** Subscribes to batch commits (metrics, the consortium); returns the unsubscribe function. */
  onCommit(listener: (info: CommitInfo) => void): () => void;
  close(): Promise<void>;
}

/** Opens a data directory as its single writer. */
export type OpenNode = (dir: string, options?: NodeOptions) => RadledgerNode;

/**
 * What operations that create or open data directories (init, the demo's partner log) need, given by
 * the wiring (src/wiring/node.ts `nodeFactory`).
 */
export interface NodeFactory {
  readonly crypto: CryptoSuite;
  readonly openNode: OpenNode;
  /** Uses or generates the node's keys on a PKCS#11 token; returns config.json's `keys` section. */
  readonly provisionPkcs11Keys: (origin: string, request: Pkcs11KeyRequest) => Pkcs11KeyConfig;
}

/** `radledger init --keys pkcs11`: the token and where its PIN comes from. */
export interface Pkcs11KeyRequest {
  readonly module: string;
  readonly token: string;
  /** Environment variable holding the user PIN (default RADLEDGER_HSM_PIN) … */
  readonly pinEnv?: string;
  /** … or a file holding it. */
  readonly pinFile?: string;
  readonly labels?: { readonly log?: string; readonly vault?: string; readonly witness?: string };
}
