/**
 * `radledger backup` and `radledger restore` (docs/backup.md).
 *
 * `backup` is a local operation of the node (src/app/operations.ts): while `radledger serve` holds the
 * data directory it runs inside the serving node through its local socket — the one process whose
 * writes it must see at one instant (src/app/backup.ts) — and in this process otherwise. `restore`
 * needs no node: it checks every byte of the backup against its manifest, then writes a new directory.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import { restoreBackup, type BackupProgress } from "../../app/backup.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";

/** The rule of docs/security.md §Erasure and backups, printed with every key backup. */
export const KEY_BACKUP_WARNING =
  "warning: this key backup holds every patient's wrapped data key. Store it apart from the data backups, " +
  "and after every erasure take a new key backup and destroy this one and every older one: " +
  "until then an erased patient's data in any data backup can still be decrypted (docs/security.md §Erasure and backups).";

/**
 * Progress on stderr: a line per database (the long part), per tenth of a large one's pages, and one
 * line when the hashing of all files begins.
 */
function progressPrinter(quiet: boolean): (p: BackupProgress) => void {
  let lastTenth = -1;
  let lastFile = "";
  let hashing = false;
  return (p) => {
    if (quiet) return;
    if (p.phase === "hash") {
      if (!hashing) process.stderr.write(`checking the SHA-256 of ${p.total} files\n`);
      hashing = true;
      return;
    }
    if (p.file !== lastFile) {
      lastFile = p.file;
      lastTenth = -1;
      if (p.sqlite) process.stderr.write(`copying ${p.file} (file ${p.done + 1} of ${p.total})\n`);
    }
    // Only databases of more than 1,000 pages (4 MB) are worth a line per tenth.
    if (p.pages === undefined || p.pages.total < 1000) return;
    const tenth = Math.floor((10 * (p.pages.total - p.pages.remaining)) / p.pages.total);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      process.stderr.write(`  ${p.file}: ${tenth * 10}% of ${p.pages.total} pages\n`);
    }
  };
}

export function registerBackup(program: Command): void {
  program
    .command("backup")
    .description(
      "copy a data directory, online and consistent across its databases, to a new directory (keys apart: --keys-to)",
    )
    .requiredOption("--data <dir>", "data directory (may be served by `radledger serve` meanwhile)")
    .requiredOption("--to <dir>", "where the backup goes: a new or empty directory")
    .option(
      "--keys-to <dir>",
      "also copy the keys (DIR/keys/) at the same instant to this separate new or empty directory",
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the result as JSON")
    .action(async (o: { data: string; to: string; keysTo?: string; quiet?: boolean; json?: boolean }) => {
      if (o.keysTo !== undefined && !o.quiet) process.stderr.write(`${KEY_BACKUP_WARNING}\n`);
      // Absolute: the serving node does not share this process's working directory.
      const result = await runWritingOperation(
        o.data,
        "backup",
        { to: resolve(o.to), ...(o.keysTo === undefined ? {} : { keysTo: resolve(o.keysTo) }) },
        { onProgress: progressPrinter(o.quiet ?? false) },
      );
      if (o.json) printJson(result);
      else
        process.stdout.write(
          `backed up ${result.files} files (${result.bytes} bytes) of a log of ${result.logSize} entries, root ${result.rootHash ?? "-"}, to ${result.to}` +
            (result.keysTo === null ? "" : `; ${result.keyFiles} key files to ${result.keysTo}`) +
            `; the node paused ${result.pausedMillis} ms\n`,
        );
    });
}

export function registerRestore(program: Command): void {
  program
    .command("restore")
    .description(
      "restore a backup into a new data directory, after checking every file against its manifest; then run `radledger verify --data`",
    )
    .requiredOption("--from <dir>", "the backup (a directory written by `radledger backup --to`)")
    .requiredOption("--data <dir>", "the new data directory: absent or empty")
    .option(
      "--keys-from <dir>",
      "the key backup to restore with it (written by `radledger backup --keys-to`)",
    )
    .option("--quiet", "no progress on stderr")
    .option("--json", "print the result as JSON")
    .action(async (o: { from: string; data: string; keysFrom?: string; quiet?: boolean; json?: boolean }) => {
      const result = await restoreBackup(
        {
          from: resolve(o.from),
          data: resolve(o.data),
          ...(o.keysFrom === undefined ? {} : { keysFrom: resolve(o.keysFrom) }),
        },
        progressPrinter(o.quiet ?? false),
      );
      if (o.json) printJson(result);
      else {
        process.stdout.write(
          `restored ${result.files} files${result.keyFiles > 0 ? ` and ${result.keyFiles} key files` : ""} of ${result.origin} as of ${result.createdAt} (log of ${result.logSize} entries, root ${result.rootHash ?? "-"}) into ${result.data}\n`,
        );
        // verify --data reads the log's public key from the key backend, so it needs the keys too.
        process.stdout.write(
          result.keyFiles === 0
            ? `no keys restored: put the directory's keys (a key backup, or the HSM) in place, then: radledger verify --data ${result.data}\n`
            : `next: radledger verify --data ${result.data}\n`,
        );
      }
    });
}
