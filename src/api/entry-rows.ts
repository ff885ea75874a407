/**
 * Every entry of one type as a list of rows, newest first, from the entries' type index
 * (StorageReader.recentEntries: no scan of the log for a rare type): a row's seq is the entry's
 * index, its value the entry's leaf hash — an access's id, a reported access's id. Used where a
 * list has no narrower index to walk (the auditor's access search and the ITI-81 search without a
 * patient or a known actor); callers bound how many rows one page examines (scanPage).
 */
import { toHex } from "../core/bytes.js";
import type { RadledgerNode } from "../app/node.js";
import type { RowSource } from "../domain/access/search.js";

export function entryTypeSource(node: RadledgerNode, type: string): RowSource {
  return (cursor, limit) =>
    node.store
      .recentEntries({ type, before: Math.min(cursor ?? Number.MAX_SAFE_INTEGER, node.ledger.size), limit })
      .map((e) => ({ seq: e.index, value: toHex(node.ledger.tree.node(0, e.index)) }));
}
