/**
 * Wiring of bundle export from a data directory opened read-only (src/app/bundle-export.ts): the
 * SQLite log store and vault (./vault.ts), node:crypto, and the tree over the stored tiles. It takes no writer
 * lock, so a bundle can be exported while `radledger serve` runs.
 */
import { formatVerifierKey } from "../core/note.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import type { BundleExportSource } from "../app/bundle-export.js";
import type { NodeKeys } from "../ports/keys.js";
import { openNodeKeys } from "./keys.js";
import { TreeReader } from "../domain/ledger/tree.js";
import type { Vault } from "../ports/vault.js";
import { openReadOnly } from "./read-only.js";
import { openVault } from "./vault.js";

export function openExportSource(dir: string): BundleExportSource & { close(): void } {
  const log = openReadOnly(dir);
  let vault: Vault | undefined;
  let keys: NodeKeys | undefined;
  try {
    keys = openNodeKeys(nodeCrypto, dir, log.config);
    const openKeys = keys;
    const logKey = keys.log;
    vault = openVault(dir, nodeCrypto, keys.vault);
    const opened = vault;
    return {
      crypto: nodeCrypto,
      origin: log.config.origin,
      verifierKey: formatVerifierKey(logKey),
      logPublicKey: logKey.publicKey,
      store: log.store,
      tree: new TreeReader(nodeCrypto, log.store),
      vault: opened,
      close() {
        opened.close();
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
