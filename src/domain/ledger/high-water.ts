/**
 * The high-water mark check (docs/security.md §High-water mark): the stored log must extend every
 * checkpoint the node recorded outside its database — the mark file (DIR/checkpoint.mark) and the
 * latest checkpoint the consortium store (DIR/consortium.sqlite) published, with any witness
 * cosignatures. A store smaller than a mark lost acknowledged entries (a damaged WAL whose tail SQLite
 * discarded, a restored older copy, a truncated file): STORE_ROLLED_BACK, naming how many. A store
 * whose first `size` entries hash to another root than the mark's is another log: STORE_FORKED.
 * A mark that does not open with this log's keys is damaged (or not this log's): STORE_CORRUPT.
 *
 * Used when a writing node opens (src/wiring/node.ts), before it serves or signs anything; the audit
 * (`verify --data`, ./audit.ts) runs the same comparison with the keys of the log's own key chain.
 */
import { bytesEqual, toHex } from "../../core/bytes.js";
import { openCheckpoint, type Checkpoint } from "../../core/checkpoint.js";
import { RadledgerError, toRadledgerError } from "../../core/errors.js";
import type { NoteVerifier } from "../../core/note.js";

/** One recorded checkpoint and where it was found (a path, for the operator). */
export interface RecordedMark {
  readonly where: string;
  readonly note: string;
}

/** 1708 → "1,708": the messages are read by operators. */
export function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The mark's checkpoint, opened with the log's keys; STORE_CORRUPT naming the mark when it does not open. */
export function openMark(mark: RecordedMark, verifiers: readonly NoteVerifier[], origin: string): Checkpoint {
  try {
    return openCheckpoint(mark.note, verifiers, origin).checkpoint;
  } catch (e) {
    const err = toRadledgerError(e);
    throw new RadledgerError(
      "STORE_CORRUPT",
      `the high-water mark ${mark.where} is damaged or not a checkpoint of this log (${err.code}: ${err.message}); restore it from a backup of the data directory`,
      { at: mark.where },
      { cause: e },
    );
  }
}

/** The refusal for a log smaller than a recorded checkpoint: what was lost, and where the proof is. */
export function rolledBack(size: number, markSize: number, where: string): RadledgerError {
  const lost = markSize - size;
  return new RadledgerError(
    "STORE_ROLLED_BACK",
    `the log has ${thousands(size)} entries; its last published checkpoint (${where}) covers ${thousands(markSize)}: ${thousands(lost)} acknowledged ${lost === 1 ? "entry is" : "entries are"} missing. ` +
      "The log database was damaged, truncated or replaced by an older copy: restore the data directory from a backup that holds them (docs/security.md §High-water mark)",
    { at: where, index: size },
  );
}

/** The refusal for a log whose prefix is not the tree a recorded checkpoint commits to. */
export function forked(size: number, markSize: number, markRoot: Uint8Array, where: string): RadledgerError {
  return new RadledgerError(
    "STORE_FORKED",
    `the log's first ${thousands(markSize)} entries (of ${thousands(size)}) do not have the root ${toHex(markRoot).slice(0, 16)}… of its last published checkpoint (${where}): ` +
      "the stored log is not the log this node published (damaged, or replaced by another copy); restore the data directory from a backup (docs/security.md §High-water mark)",
    { at: where },
  );
}

/**
 * Throws STORE_ROLLED_BACK, STORE_FORKED or STORE_CORRUPT unless the log of `size` entries, whose
 * root at any size ≤ `size` is `rootAt(size)`, extends every mark.
 */
export function checkHighWaterMarks(p: {
  readonly origin: string;
  readonly verifiers: readonly NoteVerifier[];
  readonly size: number;
  readonly rootAt: (size: number) => Uint8Array;
  readonly marks: readonly RecordedMark[];
}): void {
  for (const mark of p.marks) {
    const cp = openMark(mark, p.verifiers, p.origin);
    if (cp.size > p.size) throw rolledBack(p.size, cp.size, mark.where);
    if (!bytesEqual(cp.root, p.rootAt(cp.size))) throw forked(p.size, cp.size, cp.root, mark.where);
  }
}
