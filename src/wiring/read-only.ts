/** Wiring of the read-only view of a data directory (src/app/read-only.ts) over the SQLite log store. */
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { paths, readConfig } from "../app/data-dir.js";
import { resolveRecordId, type ReadOnlyLog } from "../app/read-only.js";

export type { ReadOnlyLog } from "../app/read-only.js";

export function openReadOnly(dir: string): ReadOnlyLog {
  const config = readConfig(dir);
  const store = new SqliteLogStore(paths(dir).database, { readonly: true });
  return {
    config,
    store,
    resolveId: (kind, idOrPrefix) => resolveRecordId(store, kind, idOrPrefix),
    close: () => store.close(),
  };
}
