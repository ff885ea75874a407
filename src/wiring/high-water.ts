/**
 * Where a data directory's high-water marks are (docs/security.md §High-water mark): the mark file
 * DIR/checkpoint.mark (src/adapters/fs/checkpoint-mark.ts) and the latest checkpoint the consortium
 * side published, with its witnesses' cosignatures, in DIR/consortium.sqlite. Read by the writing
 * node when it opens (./node.ts) and by `verify --data` (./audit.ts).
 */
import { existsSync } from "node:fs";
import { SqliteConsortiumStore } from "../adapters/sqlite/consortium-store.js";
import { consortiumPaths } from "../app/consortium/config.js";
import type { RecordedMark } from "../domain/ledger/high-water.js";
import type { CheckpointMark } from "../ports/storage.js";

export function highWaterMarks(
  dir: string,
  file: CheckpointMark,
): { readonly file: string | undefined; readonly marks: RecordedMark[] } {
  const marks: RecordedMark[] = [];
  const note = file.read();
  if (note !== undefined) marks.push({ where: file.location, note });
  const db = consortiumPaths(dir).consortiumDb;
  if (existsSync(db)) {
    const store = new SqliteConsortiumStore(db, { readonly: true });
    try {
      const latest = store.latestCosigned();
      if (latest) marks.push({ where: db, note: latest.note });
    } finally {
      store.close();
    }
  }
  return { file: note, marks };
}
