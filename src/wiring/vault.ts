/**
 * The vault of a data directory (docs/security.md §Erasure and backups): the key store
 * DIR/keys/patient-keys.sqlite, the items DIR/vault.sqlite, and the vault master key behind the
 * `KeyWrap` port — the file key DIR/keys/vault.master or an HSM key, as the node's key backend
 * (src/wiring/keys.ts) gives it. The vault never sees the master key's bytes, only the port.
 */
import type { CryptoSuite } from "../core/crypto.js";
import { SqliteVault } from "../adapters/sqlite/vault.js";
import { paths } from "../app/data-dir.js";
import type { KeyWrap } from "../ports/vault.js";
import type { WriteObserver } from "../adapters/sqlite/open.js";

/** `options.onWrite`: the node's storage health (src/app/storage-health.ts). */
export function openVault(
  dir: string,
  crypto: CryptoSuite,
  masterKey: KeyWrap,
  options: { readonly onWrite?: WriteObserver } = {},
): SqliteVault {
  const p = paths(dir);
  return new SqliteVault({ keys: p.vaultKeys, items: p.vault }, crypto, masterKey, options);
}
