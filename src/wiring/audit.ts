/**
 * The audit of a data directory (`radledger verify --data DIR`): wires the whole-log audit
 * (src/domain/ledger/audit.ts) with a read-only view of the stored log, a scratch SQLite store to
 * replay into, and the entry verifier.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { WorkerVerifier } from "../adapters/node-crypto/verify-pool.js";
import { InlineVerifier } from "../adapters/node-crypto/inline-verifier.js";
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { storeError } from "../adapters/sqlite/open.js";
import { auditLog, type AuditReport } from "../domain/ledger/audit.js";
import { identityEnrolment } from "../domain/identity/state.js";
import { createRegistry } from "../domain/registry.js";
import { RadledgerError } from "../core/errors.js";
import { parseVerifierKey } from "../core/note.js";
import { paths, readConfig } from "../app/data-dir.js";
import { currentLogVerifierKey } from "../app/keys.js";
import { FileCheckpointMark } from "../adapters/fs/checkpoint-mark.js";
import { highWaterMarks } from "./high-water.js";

export async function auditDataDir(
  dir: string,
  options: {
    threads?: number;
    onProgress?: (done: number, total: number) => void;
    /** Log verifier keys to trust instead of the data directory's current key. */
    trustedLogKeys?: readonly string[];
    /** A signed checkpoint note of this log the stored log must extend (`--against`). */
    against?: string;
  } = {},
): Promise<AuditReport> {
  const config = readConfig(dir);
  const crypto = nodeCrypto;
  const registry = createRegistry();
  // Only public keys: an HSM-backed directory is audited without the HSM.
  const trusted = (
    options.trustedLogKeys && options.trustedLogKeys.length > 0
      ? options.trustedLogKeys
      : [currentLogVerifierKey(crypto, dir)]
  ).map((k) => {
    const parsed = parseVerifierKey(crypto, k);
    if (parsed.name !== config.origin)
      throw new RadledgerError(
        "CHECKPOINT_WRONG_ORIGIN",
        `the log key ${k} is not a key of ${config.origin}`,
      );
    return parsed.publicKey;
  });
  // The marks first, the store after: a node appending meanwhile writes its mark after each commit,
  // so what is read here never runs ahead of what the store then shows.
  const marks = highWaterMarks(dir, new FileCheckpointMark(paths(dir).mark)).marks;
  const database = paths(dir).database;
  let store: SqliteLogStore;
  try {
    store = new SqliteLogStore(database, { readonly: true });
  } catch (e) {
    // A damaged page read while opening: STORE_CORRUPT naming the file (src/adapters/sqlite/open.ts).
    throw storeError(e, database, "log") ?? e;
  }
  const scratchDir = mkdtempSync(join(tmpdir(), "radledger-verify-"));
  const scratch = new SqliteLogStore(join(scratchDir, "rebuild.sqlite"));
  const verifier =
    options.threads === 0 ? new InlineVerifier(crypto, registry) : new WorkerVerifier(options.threads);
  try {
    try {
      return await auditLog({
        origin: config.origin,
        crypto,
        registry,
        enrolment: identityEnrolment,
        store,
        scratch,
        verifier,
        trustedLogKeys: trusted,
        ...(options.against === undefined ? {} : { against: options.against }),
        marks,
        storageFault: (e) => storeError(e, database, "log"),
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    } catch (e) {
      // The size and checkpoints are read before the audit's own error handling: a damaged page there too.
      throw storeError(e, database, "log") ?? e;
    }
  } finally {
    await verifier.close();
    store.close();
    scratch.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
}
