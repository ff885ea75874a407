/**
 * The composition root: the one place that chooses concrete adapters (SQLite store, node:crypto,
 * worker-thread verifier, system clock) and wires them into the domain. Everything else receives
 * its dependencies.
 */
import type { CryptoSuite } from "../core/crypto.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { InlineVerifier } from "../adapters/node-crypto/inline-verifier.js";
import { WorkerVerifier } from "../adapters/node-crypto/verify-pool.js";
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { Ledger, type CommitInfo } from "../domain/ledger/ledger.js";
import type { EntryTypeRegistry } from "../domain/ledger/entry-types.js";
import { createRegistry } from "../domain/registry.js";
import { systemClock, type Clock } from "../ports/clock.js";
import { acquireWriterLock, paths, readConfig, readSecret, type NodeConfig } from "./data-dir.js";
import { readLogKey } from "./keys.js";
import { formatVerifierKey, type Ed25519NoteKey, type NoteSigner } from "../core/note.js";
import { fromBase64 } from "../core/bytes.js";
import { SqliteVault } from "../adapters/sqlite/vault.js";
import type { Vault } from "../ports/vault.js";
import { pseudonym, type PseudonymKind } from "../domain/privacy/pseudonyms.js";

export interface NodeOptions {
  /** Verification threads; 0 verifies on the main thread. Default: one per core. */
  readonly verifyThreads?: number;
  readonly clock?: Clock;
  readonly maxBatch?: number;
  readonly maxEntryAgeMs?: number;
  readonly onCommit?: (info: CommitInfo) => void;
}

export interface RadledgerNode {
  readonly dir: string;
  readonly config: NodeConfig;
  readonly crypto: CryptoSuite;
  readonly registry: EntryTypeRegistry;
  readonly store: SqliteLogStore;
  readonly ledger: Ledger;
  readonly logKey: NoteSigner & Ed25519NoteKey & { seed: Uint8Array };
  readonly verifierKey: string;
  readonly clock: Clock;
  /** Off-ledger content behind commitments, encrypted per patient. */
  readonly vault: Vault;
  /** Keyed pseudonym of an identifier under this institution's secret (docs/design.md §5.1). */
  pseudonym(kind: PseudonymKind, identifier: string, scope?: string): string;
  /** Subscribes to batch commits (metrics, the API); returns the unsubscribe function. */
  onCommit(listener: (info: CommitInfo) => void): () => void;
  close(): Promise<void>;
}

export function openNode(dir: string, options: NodeOptions = {}): RadledgerNode {
  const config = readConfig(dir);
  const crypto = nodeCrypto;
  const registry = createRegistry();
  const logKey = readLogKey(crypto, dir);
  const release = acquireWriterLock(dir);
  let store: SqliteLogStore | undefined;
  let vault: SqliteVault | undefined;
  try {
    store = new SqliteLogStore(paths(dir).database);
    vault = new SqliteVault(paths(dir).vault, crypto, fromBase64(readSecret(paths(dir).vaultMasterKey)));
    const pseudonymSecret = fromBase64(readSecret(paths(dir).pseudonymSecret));
    const threads = options.verifyThreads;
    const verifier = threads === 0 ? new InlineVerifier(crypto, registry) : new WorkerVerifier(threads);
    const clock = options.clock ?? systemClock;
    const listeners = new Set<(info: CommitInfo) => void>();
    const ledger = new Ledger({
      origin: config.origin,
      crypto,
      store,
      verifier,
      registry,
      logPublicKey: logKey.publicKey,
      logSigner: logKey,
      clock,
      maxEntryAgeMs: options.maxEntryAgeMs ?? 15 * 60_000,
      ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
      onCommit: (info) => {
        options.onCommit?.(info);
        for (const listener of listeners) listener(info);
      },
    });
    const openStore = store;
    const openVault = vault;
    return {
      dir,
      config,
      crypto,
      registry,
      store: openStore,
      ledger,
      logKey,
      verifierKey: formatVerifierKey(logKey),
      clock,
      vault: openVault,
      pseudonym: (kind, identifier, scope) => pseudonym(crypto, pseudonymSecret, kind, identifier, scope),
      onCommit(listener) {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      async close() {
        try {
          await ledger.close();
        } finally {
          openStore.close();
          openVault.close();
          release();
        }
      },
    };
  } catch (e) {
    store?.close();
    vault?.close();
    release();
    throw e;
  }
}
