/**
 * The vault of a data directory (docs/security.md §Erasure and backups): the key store
 * DIR/keys/patient-keys.sqlite, the items DIR/vault.sqlite, and the vault master key behind the
 * `KeyWrap` port — here the file key DIR/keys/vault.master. The vault never sees the master key's
 * bytes, only the port, so another key backend (an HSM) is chosen here alone.
 */
import { fromBase64 } from "../core/bytes.js";
import type { CryptoSuite } from "../core/crypto.js";
import { fileKeyWrap } from "../adapters/node-crypto/key-wrap.js";
import { SqliteVault } from "../adapters/sqlite/vault.js";
import { paths, readSecret } from "../app/data-dir.js";
import type { KeyWrap, Vault } from "../ports/vault.js";

/** The vault master key of the data directory. */
export function vaultKeyWrap(dir: string): KeyWrap {
  return fileKeyWrap(fromBase64(readSecret(paths(dir).vaultMasterKey)));
}

export function openVault(dir: string, crypto: CryptoSuite): Vault {
  const p = paths(dir);
  return new SqliteVault({ keys: p.vaultKeys, items: p.vault }, crypto, vaultKeyWrap(dir));
}
