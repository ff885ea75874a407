/**
 * Wiring of bundle export from a data directory opened read-only (src/app/bundle-export.ts): the
 * SQLite log store and vault, node:crypto, and the tree over the stored tiles. It takes no writer
 * lock, so a bundle can be exported while `radledger serve` runs.
 */
import { formatVerifierKey } from "../core/note.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import { SqliteVault } from "../adapters/sqlite/vault.js";
import type { BundleExportSource } from "../app/bundle-export.js";
import { paths } from "../app/data-dir.js";
import type { NodeKeys } from "../ports/keys.js";
import { openNodeKeys } from "./keys.js";
import { TreeReader } from "../domain/ledger/tree.js";
import { openReadOnly } from "./read-only.js";

export function openExportSource(dir: string): BundleExportSource & { close(): void } {
  const log = openReadOnly(dir);
  let vault: SqliteVault | undefined;
  let keys: NodeKeys | undefined;
  try {
    keys = openNodeKeys(nodeCrypto, dir, log.config);
    const openKeys = keys;
    const logKey = keys.log;
    vault = new SqliteVault(paths(dir).vault, nodeCrypto, keys.vault);
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
        openKeys.close();
        log.close();
      },
    };
  } catch (e) {
    vault?.close();
    keys?.close();
    log.close();
    throw e;
  }
}
