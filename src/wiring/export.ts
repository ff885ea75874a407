/**
 * Wiring of bundle export from a data directory opened read-only (src/app/bundle-export.ts): the
 * SQLite log store and vault, node:crypto, and the tree over the stored tiles. It takes no writer
 * lock, so a bundle can be exported while `radledger serve` runs.
 */
import { fromBase64 } from "../core/bytes.js";
import { formatVerifierKey } from "../core/note.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { SqliteVault } from "../adapters/sqlite/vault.js";
import type { BundleExportSource } from "../app/bundle-export.js";
import { paths, readSecret } from "../app/data-dir.js";
import { readLogKey } from "../app/keys.js";
import { TreeReader } from "../domain/ledger/tree.js";
import { openReadOnly } from "./read-only.js";

export function openExportSource(dir: string): BundleExportSource & { close(): void } {
  const log = openReadOnly(dir);
  let vault: SqliteVault | undefined;
  try {
    const logKey = readLogKey(nodeCrypto, dir);
    vault = new SqliteVault(paths(dir).vault, nodeCrypto, fromBase64(readSecret(paths(dir).vaultMasterKey)));
    const openVault = vault;
    return {
      crypto: nodeCrypto,
      origin: log.config.origin,
      verifierKey: formatVerifierKey(logKey),
      logPublicKey: logKey.publicKey,
      store: log.store,
      tree: new TreeReader(nodeCrypto, log.store),
      vault: openVault,
      close() {
        openVault.close();
        log.close();
      },
    };
  } catch (e) {
    vault?.close();
    log.close();
    throw e;
  }
}
