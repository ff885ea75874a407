/**
 * Wiring of the node's credentials store (src/ports/auth.ts): SQLite in DIR/auth.sqlite, shared in WAL
 * mode by `radledger serve` and `radledger token` (a revocation from the command line takes effect
 * at the server's next request).
 */
import { SqliteAuthStore, type AuthStoreOptions } from "../adapters/sqlite/auth-store.js";
import { paths } from "../app/data-dir.js";
import type { AuthStore } from "../ports/auth.js";

export function openAuthStore(dir: string, options?: AuthStoreOptions): AuthStore {
  return new SqliteAuthStore(paths(dir).auth, options);
}
