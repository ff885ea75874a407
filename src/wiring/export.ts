/**
 * Wiring of bundle export from a data directory opened read-only (src/app/bundle-export.ts): the
 * SQLite log store and vault (./vault.ts), node:crypto, and the tree over the stored tiles. It takes no writer
 * lock, so a bundle can be exported while `radledger serve` runs.
 */
import { formatVerifierKey } from "../core/note.js";
import { nodeCrypto } from "../adapters/node-crypto/crypto.js";
import type { BundleExportSource } from "../app/bundle-export.js";
import { readLogKey } from "../app/keys.js";
import { TreeReader } from "../domain/ledger/tree.js";
import type { Vault } from "../ports/vault.js";
import { openReadOnly } from "./read-only.js";
import { openVault } from "./vault.js";

export function openExportSource(dir: string): BundleExportSource & { close(): void } {
  const log = openReadOnly(dir);
  let vault: Vault | undefined;
  try {
    const logKey = readLogKey(nodeCrypto, dir);
    vault = openVault(dir, nodeCrypto);
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
        log.close();
      },
    };
  } catch (e) {
    vault?.close();
    log.close();
    throw e;
  }
}
