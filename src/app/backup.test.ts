import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, test } from "vitest";
import { BACKUP_FORMAT, checkBackup } from "./backup.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");

/** A one-file data backup whose manifest `edit` may spoil. */
function backup(edit: (m: Record<string, unknown>) => void = () => undefined, raw?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "radledger-backup-unit-"));
  dirs.push(dir);
  writeFileSync(join(dir, "config.json"), "{}\n");
  const manifest: Record<string, unknown> = {
    format: BACKUP_FORMAT,
    kind: "data",
    createdAt: "2026-12-07T00:00:00.000Z",
    origin: "o.example/log",
    logSize: 0,
    rootHash: null,
    checkpoint: null,
    files: [{ path: "config.json", bytes: 3, sha256: sha("{}\n"), sqlite: false }],
  };
  edit(manifest);
  writeFileSync(join(dir, "backup.json"), raw ?? JSON.stringify(manifest));
  return dir;
}

test("a sound manifest passes", async () => {
  await expect(checkBackup(backup(), "data")).resolves.toMatchObject({ kind: "data", logSize: 0 });
});

test("hostile or broken manifests are BACKUP_MANIFEST_INVALID, never a crash", async () => {
  const invalid = { code: "BACKUP_MANIFEST_INVALID" };
  await expect(checkBackup(backup(undefined, "not json"), "data")).rejects.toMatchObject(invalid);
  await expect(checkBackup(backup(undefined, '{"format":1,"format":2}'), "data")).rejects.toMatchObject(
    invalid,
  );
  for (const path of [
    "../escape",
    "/etc/passwd",
    "a//b",
    "./config.json",
    "a\\b",
    "backup.json",
    "keys/log.key",
  ])
    await expect(
      checkBackup(
        backup((m) => ((m.files as { path: string }[])[0]!.path = path)),
        "data",
      ),
    ).rejects.toMatchObject(invalid);
  await expect(
    checkBackup(
      backup((m) => {
        m.rootHash = "0".repeat(64);
        m.checkpoint = "no checkpoint at all";
      }),
      "data",
    ),
  ).rejects.toMatchObject(invalid);
  await expect(checkBackup(backup(), "keys")).rejects.toMatchObject(invalid); // the other kind
  await expect(
    checkBackup(
      backup((m) => (m.extra = true)),
      "data",
    ),
  ).rejects.toMatchObject(invalid);
  const empty = mkdtempSync(join(tmpdir(), "radledger-backup-unit-"));
  dirs.push(empty);
  await expect(checkBackup(empty, "data")).rejects.toMatchObject(invalid); // no manifest
});

test("files that differ from the manifest are BACKUP_MANIFEST_MISMATCH", async () => {
  const mismatch = { code: "BACKUP_MANIFEST_MISMATCH" };
  await expect(
    checkBackup(
      backup((m) => ((m.files as { sha256: string }[])[0]!.sha256 = sha("other"))),
      "data",
    ),
  ).rejects.toMatchObject(mismatch);
  const missing = backup((m) =>
    (m.files as unknown[]).push({ path: "ledger.sqlite", bytes: 1, sha256: sha("x"), sqlite: true }),
  );
  await expect(checkBackup(missing, "data")).rejects.toMatchObject(mismatch);
  const extra = backup();
  mkdirSync(join(extra, "sub"));
  writeFileSync(join(extra, "sub", "planted"), "x");
  await expect(checkBackup(extra, "data")).rejects.toMatchObject(mismatch);
  // A link in place of a listed file is not the file.
  const linked = backup();
  rmSync(join(linked, "config.json"));
  writeFileSync(join(linked, "..", `${linked.split("/").pop()}-target`), "{}\n");
  dirs.push(`${linked}-target`);
  symlinkSync(`${linked}-target`, join(linked, "config.json"));
  await expect(checkBackup(linked, "data")).rejects.toMatchObject(mismatch);
});
