/**
 * The composition root of a writing node: the one place that chooses the concrete adapters behind a
 * RadledgerNode (src/app/node.ts) — the SQLite log store and vault, node:crypto, the worker-thread
 * or inline entry verifier, the system clock, the data directory's held keys, the DICOM toolkit and
 * the SQLite manifest store, the high-water mark file — and builds the node's one appender around its
 * Ledger. Before the node serves or signs anything, the stored log is compared with its high-water
 * marks (the mark file and the consortium store's latest published checkpoint): a log that lost
 * acknowledged entries or is another tree is refused (docs/security.md §High-water mark).
 */
import { fromBase64 } from "../core/bytes.js";
import { formatVerifierKey } from "../core/note.js";
import type { NodeKeys } from "../ports/keys.js";
import { dicomToolkit } from "../adapters/dicom/toolkit.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { InlineVerifier } from "../adapters/node-crypto/inline-verifier.js";
import { WorkerVerifier } from "../adapters/node-crypto/verify-pool.js";
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { SqliteManifestStore } from "../adapters/sqlite/manifest-store.js";
import { SqliteAlarmStore } from "../adapters/sqlite/alarm-store.js";
import { acquireWriterLock } from "../adapters/sqlite/writer-lock.js";
import { storeError } from "../adapters/sqlite/open.js";
import { FileCheckpointMark } from "../adapters/fs/checkpoint-mark.js";
import { checkHighWaterMarks, thousands } from "../domain/ledger/high-water.js";
import { highWaterMarks } from "./high-water.js";
import { parseCheckpointText } from "../core/checkpoint.js";
import { ed25519Verifier, parseSignedNote, type NoteVerifier } from "../core/note.js";
import type { CheckpointMark } from "../ports/storage.js";
import { admissionPolicy, paths, readConfig, readSecret } from "../app/data-dir.js";
import { DataDirHeldKeys } from "../app/keys.js";
import { openNodeKeys, provisionPkcs11Keys } from "./keys.js";
import type { NodeFactory, NodeOptions, RadledgerNode } from "../app/node.js";
import { createAppender } from "../domain/ledger/appender.js";
import { Ledger, type CommitInfo } from "../domain/ledger/ledger.js";
import { identityEnrolment, INSTITUTION_ACTOR } from "../domain/identity/state.js";
import { actorKeyId } from "../core/entry.js";
import type { CryptoSuite } from "../core/crypto.js";
import { RadledgerError } from "../core/errors.js";
import { pseudonym } from "../domain/privacy/pseudonyms.js";
import { createRegistry } from "../domain/registry.js";
import { systemClock } from "../ports/clock.js";
import type { ManifestStore } from "../ports/imaging.js";
import type { AlarmStore } from "../ports/alarms.js";
import type { EntryVerifier } from "../ports/verifier.js";
import { openVault } from "./vault.js";
import type { SqliteVault } from "../adapters/sqlite/vault.js";
import { StorageHealth } from "../app/storage-health.js";

export type { NodeOptions, RadledgerNode } from "../app/node.js";

/** Opens the data directory as its single writer (STORE_LOCKED while another process holds it). */
export function openNode(dir: string, options: NodeOptions = {}): RadledgerNode {
  const config = readConfig(dir);
  const policy = admissionPolicy(config);
  const crypto = nodeCrypto;
  const registry = createRegistry();
  const release = acquireWriterLock(dir, paths(dir).lock);
  let keys: NodeKeys | undefined;
  let store: SqliteLogStore | undefined;
  let vault: SqliteVault | undefined;
  // Every write of the log and the vault reports here; readiness and the operator's log line come from it.
  const storage = new StorageHealth({
    probe: () => {
      for (const probe of [() => store?.probeWrite(), () => vault?.probeWrite()])
        try {
          probe();
        } catch {
          // its outcome reached storage.observe
        }
    },
    log: options.storageLog ?? ((line) => process.stderr.write(`${line}\n`)),
    ...(options.storageProbeIntervalMs === undefined
      ? {}
      : { probeIntervalMs: options.storageProbeIntervalMs }),
  });
  let verifier: EntryVerifier | undefined;
  try {
    keys = openNodeKeys(crypto, dir, config);
    const nodeKeys = keys;
    const logKey = keys.log;
    store = new SqliteLogStore(paths(dir).database, { onWrite: storage.observe });
    vault = openVault(dir, crypto, keys.vault, { onWrite: storage.observe });
    const pseudonymSecret = fromBase64(readSecret(paths(dir).pseudonymSecret));
    const threads = options.verifyThreads;
    verifier = threads === 0 ? new InlineVerifier(crypto, registry) : new WorkerVerifier(threads);
    const clock = options.clock ?? systemClock;
    const listeners = new Set<(info: CommitInfo) => void>();
    const mark = new FileCheckpointMark(paths(dir).mark);
    const ledger = new Ledger({
      origin: config.origin,
      crypto,
      store,
      verifier,
      registry,
      enrolment: identityEnrolment,
      logPublicKey: logKey.publicKey,
      logSigner: logKey,
      mark,
      policy,
      clock,
      maxEntryAgeMs: options.maxEntryAgeMs ?? 15 * 60_000,
      ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
      onCommit: (info) => {
        options.onCommit?.(info);
        for (const listener of listeners) listener(info);
      },
    });
    guardHighWater(crypto, dir, config.origin, ledger, logKey.publicKey, mark, options.onNotice);
    if (store.size() > 0) settleLogKey(crypto, nodeKeys, ledger);
    ledger.useLogSigners([nodeKeys.log]);
    const openStore = store;
    const openedVault = vault;
    let manifests: ManifestStore | undefined;
    let alarms: AlarmStore | undefined;
    return {
      dir,
      config,
      policy,
      crypto,
      registry,
      store: openStore,
      ledger,
      appender: createAppender((entries, parsed) => ledger.append(entries, parsed)),
      get logKey() {
        return nodeKeys.log;
      },
      get verifierKey() {
        return formatVerifierKey(nodeKeys.log);
      },
      keys: nodeKeys,
      useLogSigners: (signers) => ledger.useLogSigners(signers),
      clock,
      vault: openedVault,
      heldKeys: new DataDirHeldKeys(crypto, dir),
      dicom: dicomToolkit,
      get manifests() {
        return (manifests ??= new SqliteManifestStore(paths(dir).manifests));
      },
      get alarms() {
        return (alarms ??= new SqliteAlarmStore(paths(dir).alarms));
      },
      storage,
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
          openedVault.close();
          manifests?.close();
          alarms?.close();
          nodeKeys.close();
          release();
        }
      },
    };
  } catch (e) {
    store?.close();
    vault?.close();
    keys?.close();
    // Its worker threads would keep a refusing process (`serve` on a damaged log) alive.
    void verifier?.close();
    release();
    // A damaged page of the log found while opening is STORE_CORRUPT naming the file, not a crash.
    throw storeError(e, paths(dir).database, "log") ?? e;
  }
}

/** The log keys a recorded checkpoint may be signed with: the node's key and every institution key on the log. */
function logVerifiers(
  crypto: CryptoSuite,
  origin: string,
  ledger: Ledger,
  current: Uint8Array,
): NoteVerifier[] {
  const institution = identityEnrolment.actor(ledger.state, INSTITUTION_ACTOR);
  const ids = Array.isArray(institution?.keys) ? (institution.keys as string[]) : [];
  const keys = [
    current,
    ...ids.flatMap((id) => {
      const doc = identityEnrolment.key(ledger.state, id);
      return doc ? [fromBase64(doc.publicKey)] : [];
    }),
  ];
  return keys.map((k) => ed25519Verifier(crypto, origin, k));
}

/**
 * Refuses a log smaller than or inconsistent with its high-water marks (src/domain/ledger/high-water.ts);
 * then brings the mark file up to the log's latest checkpoint: created for a data directory from before
 * the mark existed (with a note), advanced after a crash between a commit and its mark.
 */
function guardHighWater(
  crypto: CryptoSuite,
  dir: string,
  origin: string,
  ledger: Ledger,
  logPublicKey: Uint8Array,
  mark: CheckpointMark,
  onNotice: ((message: string) => void) | undefined,
): void {
  const { file: recorded, marks } = highWaterMarks(dir, mark);
  checkHighWaterMarks({
    origin,
    verifiers: logVerifiers(crypto, origin, ledger, logPublicKey),
    size: ledger.size,
    rootAt: (size) => ledger.tree.root(size),
    marks,
  });
  const latest = ledger.latestCheckpoint;
  if (latest === undefined) return;
  const latestSize = parseCheckpointText(parseSignedNote(latest).text).size;
  const markSize = recorded === undefined ? -1 : parseCheckpointText(parseSignedNote(recorded).text).size;
  // A stored checkpoint beyond the stored entries is the store contradicting itself (verify names
  // it); it never becomes a mark. The next commit writes one.
  if (markSize >= latestSize || latestSize > ledger.size) return;
  mark.write(latest);
  if (recorded === undefined)
    (onNotice ?? ((m: string) => process.stderr.write(`radledger: note: ${m}\n`)))(
      `created the high-water mark ${mark.location} (the log's latest checkpoint, size ${thousands(latestSize)}): ` +
        "from now on the node refuses to open a log smaller than or inconsistent with it (docs/security.md §High-water mark)",
    );
}

/**
 * The key the node signs with must be the institution's active key on the log. After a rotation
 * that reached the log but not the key backend (the process died between the two), the backend's
 * pending key is made current; without one the node refuses to open rather than sign checkpoints
 * with a retired key (docs/log-format.md §3.1).
 */
function settleLogKey(crypto: CryptoSuite, keys: NodeKeys, ledger: Ledger): void {
  const own = identityEnrolment.key(ledger.state, actorKeyId(crypto, keys.log.publicKey));
  if (own?.actor === INSTITUTION_ACTOR && own.status === "active") return;
  const institution = identityEnrolment.actor(ledger.state, INSTITUTION_ACTOR);
  const ids = Array.isArray(institution?.keys) ? (institution.keys as string[]) : [];
  const active = ids.map((id) => identityEnrolment.key(ledger.state, id)).find((k) => k?.status === "active");
  if (active && keys.resumeRotation(fromBase64(active.publicKey))) return;
  throw new RadledgerError(
    "KEY_BACKEND_KEY_NOT_FOUND",
    own
      ? `the log key was rotated on the log (at index ${own.endedAt ?? "?"}) but the key backend has no successor key: restore it, or the log cannot be signed`
      : "the key backend's log key is not this log's key",
  );
}

/** For operations that create or open data directories themselves (init, the demo's partner log). */
export const nodeFactory: NodeFactory = {
  crypto: nodeCrypto,
  openNode,
  provisionPkcs11Keys: (origin, request) => provisionPkcs11Keys(nodeCrypto, origin, request),
};

/**
 * The data directory's alarm store alone (`radledger alarms`): readable beside a serving node, which
 * holds the log's writer lock but not this database's (SQLite serialises the rare writes).
 */
export function openAlarmStore(dir: string): AlarmStore {
  readConfig(dir);
  return new SqliteAlarmStore(paths(dir).alarms);
}
