/**
 * Read-only access to a data directory for queries and exports: no writer lock, so it works while
 * `radledger serve` appends (SQLite WAL readers see the last committed state).
 */
import { RadledgerError } from "../core/errors.js";
import { SqliteLogStore } from "../adapters/sqlite/log-store.js";
import { paths, readConfig, type NodeConfig } from "./data-dir.js";

/** Records kept as their entry alone, with no document: their id is the entry's leaf hash. */
const RECORDS_THAT_ARE_ENTRIES: Readonly<Record<string, string>> = { study: "study.registered" };

export interface ReadOnlyLog {
  readonly config: NodeConfig;
  readonly store: SqliteLogStore;
  /** Resolves a full id or a unique prefix (≥ 6 hex digits) of a record of `kind`. */
  resolveId(kind: string, idOrPrefix: string): string;
  close(): void;
}

export function openReadOnly(dir: string): ReadOnlyLog {
  const config = readConfig(dir);
  const store = new SqliteLogStore(paths(dir).database, { readonly: true });
  return {
    config,
    store,
    resolveId(kind, idOrPrefix) {
      const id = idOrPrefix.toLowerCase();
      if (!/^[0-9a-f]{6,64}$/.test(id))
        throw new RadledgerError(
          "INPUT_INVALID",
          `not a ${kind} id (hex, at least 6 digits): ${idOrPrefix.slice(0, 80)}`,
        );
      const entryType = RECORDS_THAT_ARE_ENTRIES[kind];
      const matches =
        entryType === undefined
          ? store.docIdsWithPrefix(kind, id, 2)
          : store.entryIdsWithPrefix(entryType, id, 2);
      if (matches.length === 0) throw new RadledgerError("RECORD_NOT_FOUND", `no ${kind} with id ${id}`);
      if (matches.length > 1)
        throw new RadledgerError(
          "INPUT_INVALID",
          `id prefix ${id} matches several ${kind} records; give more digits`,
        );
      return matches[0]!;
    },
    close: () => store.close(),
  };
}
