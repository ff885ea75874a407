/**
 * DICOM hashing throughput vs `sha256sum` on the same files (DESIGN §8: DICOM registration
 * ≥ 0.8 of sha256sum speed).
 *
 *   npx tsx bench/dicom-hash.ts [--dir DIR] [--mb 1024] [--runs 3] [--workers N] [--out FILE]
 *
 * Generates a synthetic folder (512×512 16-bit CT instances, test/fixtures/dicom/make-study.ts)
 * in DIR if it is empty, warms the page cache, then alternates sha256sum (one process over all
 * files, as a user would run it) and hashDicomFolder (file SHA-256 + pixel-data SHA-256 + header
 * parse, i.e. about twice the hashing work), both on a pool of N worker threads (default: all
 * cores) and on the main thread alone, and reports the best run of each. Every file hash we
 * compute is checked against sha256sum's. Exits 1 if the pooled ratio is below 0.8.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { parseArgs, promisify } from "node:util";
import { availableParallelism } from "node:os";
import { DicomHashPool } from "../src/adapters/dicom/hash-pool.js";
import { hashDicomFolder, type FolderEntry, listFiles } from "../src/adapters/dicom/hasher.js";
import { writeLargeFolder } from "../test/fixtures/dicom/make-study.js";

const run = promisify(execFile);

async function sha256sum(files: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  // One sha256sum process per 1000 files keeps argv well under ARG_MAX; process start-up is
  // negligible next to hashing ~500 MB per batch.
  for (let i = 0; i < files.length; i += 1000) {
    const { stdout } = await run("sha256sum", files.slice(i, i + 1000), { maxBuffer: 64 * 1024 * 1024 });
    for (const line of stdout.split("\n")) {
      if (line.length > 66) out.set(line.slice(66), line.slice(0, 64));
    }
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: "string", default: "bench-results/dicom-1g" },
      mb: { type: "string", default: "1024" },
      runs: { type: "string", default: "3" },
      workers: { type: "string", default: String(availableParallelism()) },
      out: { type: "string" },
    },
  });
  const dir = values.dir;
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length === 0) {
    process.stderr.write(`generating ${values.mb} MiB of synthetic DICOM in ${dir} …\n`);
    await writeLargeFolder(dir, { seed: "bench", targetBytes: Number(values.mb) * 1024 * 1024 });
  }
  const files = await listFiles(dir);
  const { stdout: du } = await run("du", ["-sb", dir]);
  const bytes = Number(du.split("\t")[0]);
  const mb = bytes / 1e6;

  // Warm the page cache so both sides read from memory, not from the disk.
  const reference = await sha256sum(files);

  const runs = Number(values.runs);
  const pool = new DicomHashPool(Number(values.workers));
  const check = (entries: FolderEntry[]): void => {
    for (const e of entries) {
      if (e.result === undefined) throw new Error(`${e.path}: ${e.error?.code ?? "?"}`);
      if (reference.get(e.path) !== e.result.fileSha256)
        throw new Error(`${e.path}: file hash differs from sha256sum`);
      if (e.result.pixelDataSha256 === null) throw new Error(`${e.path}: no pixel hash`);
    }
  };
  let bestSum = Infinity;
  let bestPool = Infinity;
  let bestThread = Infinity;
  try {
    for (let r = 0; r < runs; r++) {
      let t = performance.now();
      await sha256sum(files);
      bestSum = Math.min(bestSum, performance.now() - t);

      t = performance.now();
      const pooled = await hashDicomFolder(dir, { pool });
      bestPool = Math.min(bestPool, performance.now() - t);
      check(pooled);

      t = performance.now();
      const inThread = await hashDicomFolder(dir, { concurrency: 2 });
      bestThread = Math.min(bestThread, performance.now() - t);
      check(inThread);
    }
  } finally {
    await pool.close();
  }
  const mbps = (ms: number): number => Math.round(mb / (ms / 1000));
  const result = {
    files: files.length,
    bytes,
    sha256sumMBps: mbps(bestSum),
    radledgerMBps: mbps(bestPool),
    radledgerMainThreadMBps: mbps(bestThread),
    ratio: Math.round((bestSum / bestPool) * 100) / 100,
    ratioMainThread: Math.round((bestSum / bestThread) * 100) / 100,
    workers: pool.size,
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    node: process.version,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (values.out !== undefined) await writeFile(values.out, JSON.stringify(result, null, 2) + "\n");
  if (result.ratio < 0.8) process.exitCode = 1;
}

await main();
