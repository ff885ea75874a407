/**
 * A read-only view of a data directory for queries and exports: it takes no writer lock, so it works
 * while `radledger serve` appends (SQLite WAL readers see the last committed state). Opened by the
 * wiring (src/wiring/read-only.ts).
 */
import { RadledgerError } from "../core/errors.js";
import type { LogReader } from "../ports/storage.js";
import type { NodeConfig } from "./data-dir.js";

/** Records kept as their entry alone, with no document: their id is the entry's leaf hash. */
const RECORDS_THAT_ARE_ENTRIES: Readonly<Record<string, string>> = { study: "study.registered" };

export interface ReadOnlyLog {
  readonly config: NodeConfig;
  readonly store: LogReader;
  /** Resolves a full id or a unique prefix (≥ 6 hex digits) of a record of `kind`. */
  resolveId(kind: string, idOrPrefix: string): string;
  close(): void;
}

/** A full id or a unique prefix (≥ 6 hex digits, as people type them) of a record of `kind`. */
export function resolveRecordId(store: LogReader, kind: string, idOrPrefix: string): string {
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
}
