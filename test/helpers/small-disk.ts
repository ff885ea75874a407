/**
 * A small disk for tests of a full or read-only filesystem: a tmpfs of a given size mounted on a
 * temporary folder (the tests run as root, here and on CI). `fill()` writes a filler file until the
 * kernel answers ENOSPC, `free()` deletes it; `readOnly()` / `writable()` remount the tmpfs, which
 * the kernel allows only while no file on it is open for writing (so: with the node closed).
 *
 * Not root: the mount fails and the test fails with that message — it is never skipped.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallDisk {
  /** The mount point. */
  readonly path: string;
  /** Writes a filler file until the disk is full (ENOSPC). */
  fill(): void;
  /** Leaves only about `bytes` free (a disk nearly full: opens work, bigger writes fail). */
  fillLeaving(bytes: number): void;
  /** Deletes the filler: the space returns. */
  free(): void;
  /** Bytes available. */
  available(): number;
  readOnly(): void;
  writable(): void;
  unmount(): void;
}

function run(cmd: string, args: readonly string[]): void {
  try {
    execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`${cmd} ${args.join(" ")} failed (the disk tests need root): ${stderr || String(e)}`, {
      cause: e,
    });
  }
}

export function mountSmallDisk(sizeBytes: number): SmallDisk {
  const path = mkdtempSync(join(tmpdir(), "radledger-small-disk-"));
  run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0755`, "tmpfs", path]);
  const filler = join(path, "filler");
  const available = (): number => {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  };
  const write = (limit: number): void => {
    const fd = openSync(filler, "a");
    const chunk = Buffer.alloc(64 * 1024);
    let left = limit;
    try {
      while (left > 0) {
        const n = writeSync(fd, chunk, 0, Math.min(chunk.length, left));
        left -= n;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
    } finally {
      closeSync(fd);
    }
  };
  return {
    path,
    fill: () => write(Number.MAX_SAFE_INTEGER),
    fillLeaving: (bytes) => write(Math.max(0, available() - bytes)),
    free: () => rmSync(filler, { force: true }),
    available,
    readOnly: () => run("mount", ["-o", "remount,ro", path]),
    writable: () => run("mount", ["-o", "remount,rw", path]),
    unmount: () => {
      run("umount", [path]);
      rmSync(path, { recursive: true, force: true });
    },
  };
}
