/**
 * The high-water mark as a file of the data directory (DIR/checkpoint.mark, port CheckpointMark in
 * src/ports/storage.ts): the latest signed checkpoint note, replaced atomically and durably on every
 * commit. The replacement is the classic sequence for a file that must be either the old or the new
 * version after a crash, never empty or half written: write a temporary file, fsync it, rename it
 * over the mark (rename(2) is atomic within a file system), then fsync the directory so that the
 * rename itself is on disk (POSIX leaves a rename's durability to the directory's fsync).
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { RadledgerError } from "../../core/errors.js";
import type { CheckpointMark } from "../../ports/storage.js";

/** A checkpoint note is at most 64 KiB (src/core/note.ts MAX_NOTE_SIZE); anything larger is not a mark. */
const MAX_MARK_BYTES = 64 * 1024;

function errno(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "";
}

export class FileCheckpointMark implements CheckpointMark {
  readonly location: string;

  constructor(path: string) {
    this.location = path;
  }

  read(): string | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.location);
    } catch (e) {
      if (errno(e) === "ENOENT") return undefined;
      throw new RadledgerError(
        "STORE_IO",
        `cannot read the high-water mark ${this.location} (${errno(e) || "error"})`,
        { at: this.location },
        { cause: e },
      );
    }
    if (bytes.length > MAX_MARK_BYTES)
      throw new RadledgerError(
        "STORE_CORRUPT",
        `the high-water mark ${this.location} is ${bytes.length} bytes: not a checkpoint`,
        { at: this.location },
      );
    return bytes.toString("utf8");
  }

  write(note: string): void {
    const tmp = `${this.location}.tmp`;
    try {
      const fd = openSync(tmp, "w", 0o600);
      try {
        const bytes = Buffer.from(note, "utf8");
        let done = 0;
        while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.location);
      const dir = openSync(dirname(this.location), "r");
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (e) {
      const full = errno(e) === "ENOSPC" || errno(e) === "EDQUOT";
      throw new RadledgerError(
        full ? "STORE_FULL" : "STORE_IO",
        `cannot write the high-water mark ${this.location} (${errno(e) || "error"})${full ? ": the disk is full" : ""}`,
        { at: this.location },
        { cause: e },
      );
    }
  }
}
