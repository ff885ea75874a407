/**
 * DICOM benchmarks (issue 5, docs/performance.md), measured side by side in one run (dicomweb in dicomweb.ts):
 *
 *  registration  `radledger ingest` of a folder of synthetic studies (≥ 1 GB by default) into a
 *                fresh node — hashing (file + pixel data, worker threads), pseudonymising, staging,
 *                one study.registered per study — as MB/s and as a ratio to `sha256sum` over the
 *                same files (one process, as a user runs it; target ≥ 0.8). The hasher alone
 *                (DicomHashPool over the folder) and `sha256sum` on every core (xargs -P) are
 *                reported beside it. Every file hash the node stored is checked against sha256sum.
 *  dicomweb      WADO-RS retrieval of whole instances (transfer-syntax=*, as stored) through the
 *                node's gatekeeper (decide + access.recorded + proxy) and directly from Orthanc's
 *                DICOMweb plugin, same requests and concurrency: MB/s each and the ratio (target
 *                ≥ 0.8). Needs Orthanc + orthanc-dicomweb (RADLEDGER_TEST_ORTHANC_* or started
 *                with scripts/services/orthanc.sh).
 *
 * Library: runDicomRegistrationBench(opts), runDicomwebBench(opts). Command line (built):
 *   node dist/bench/dicom.js registration [--dir DIR] [--mb 1024] [--workers N]
 *   node dist/bench/dicom.js dicomweb [--instances 40] [--rounds 5] [--concurrency 4]
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { DicomHashPool } from "../adapters/dicom/hash-pool.js";
import { hashDicomFolder, listFiles } from "../adapters/dicom/hasher.js";
import { ingestPaths } from "../app/ingest.js";
import { initDataDir } from "../app/init.js";
import { openNode, nodeFactory } from "../wiring/node.js";
import { ORIGIN, round2, writeSyntheticFolder } from "./dicom-fixtures.js";
import { runDicomwebBench } from "./dicomweb.js";

const run = promisify(execFile);

async function sha256sum(files: string[], parallel: number): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const parse = (stdout: string): void => {
    for (const line of stdout.split("\n")) if (line.length > 66) out.set(line.slice(66), line.slice(0, 64));
  };
  if (parallel <= 1) {
    // One process per 1000 files keeps argv short; start-up is negligible next to ~500 MB each.
    for (let i = 0; i < files.length; i += 1000)
      parse((await run("sha256sum", files.slice(i, i + 1000), { maxBuffer: 64 * 1024 * 1024 })).stdout);
    return out;
  }
  const chunk = Math.ceil(files.length / parallel);
  const parts = await Promise.all(
    Array.from({ length: parallel }, (_, k) => files.slice(k * chunk, (k + 1) * chunk)).map(async (fs) => {
      let s = "";
      for (let i = 0; i < fs.length; i += 1000)
        s += (await run("sha256sum", fs.slice(i, i + 1000), { maxBuffer: 64 * 1024 * 1024 })).stdout;
      return s;
    }),
  );
  parts.forEach(parse);
  return out;
}

// --- registration -------------------------------------------------------------------------------

export interface RegistrationBenchOptions {
  /** Folder of DICOM files; generated (≥ mb MiB) when absent or empty. Default: a temporary one. */
  readonly dir?: string;
  readonly mb?: number;
  readonly workers?: number;
  readonly log?: (line: string) => void;
}

export interface RegistrationBenchResult {
  readonly files: number;
  readonly bytes: number;
  readonly studies: number;
  readonly workers: number;
  readonly sha256sumMBps: number;
  readonly sha256sumParallelMBps: number;
  readonly hasherMBps: number;
  readonly registrationMBps: number;
  /** registration ÷ sha256sum (one process): the docs/performance.md target ≥ 0.8. */
  readonly ratioToSha256sum: number;
  readonly ratioToSha256sumParallel: number;
  readonly peakRssMB: number;
}

export async function runDicomRegistrationBench(
  o: RegistrationBenchOptions = {},
): Promise<RegistrationBenchResult> {
  const log = o.log ?? ((): void => undefined);
  const tmp = mkdtempSync(join(tmpdir(), "radledger-bench-dicom-"));
  const dir = o.dir ?? join(tmp, "dicom");
  const workers = o.workers ?? availableParallelism();
  try {
    if (!existsSync(dir) || readdirSync(dir).length === 0) {
      mkdirSync(dir, { recursive: true });
      log(`generating ${o.mb ?? 1024} MiB of synthetic DICOM in ${dir}`);
      writeSyntheticFolder(dir, (o.mb ?? 1024) * 1024 * 1024);
    }
    const files = await listFiles(dir);
    const { stdout: du } = await run("du", ["-sb", dir]);
    const bytes = Number(du.split("\t")[0]);
    const mb = bytes / 1e6;
    log(`${files.length} files, ${Math.round(mb)} MB; warming the page cache`);
    const reference = await sha256sum(files, 1); // warm-up, and the reference hashes

    let t = performance.now();
    await sha256sum(files, 1);
    const sumMs = performance.now() - t;
    t = performance.now();
    await sha256sum(files, workers);
    const sumParMs = performance.now() - t;

    const pool = new DicomHashPool(workers);
    t = performance.now();
    try {
      await hashDicomFolder(dir, { pool });
    } finally {
      await pool.close();
    }
    const hashMs = performance.now() - t;

    const data = join(tmp, "node");
    await initDataDir(data, { origin: ORIGIN, institutionName: "Bench Hospital" }, nodeFactory);
    const node = openNode(data);
    let studies = 0;
    let regMs = 0;
    try {
      t = performance.now();
      const s = await ingestPaths(node, [dir], { workers });
      regMs = performance.now() - t;
      studies = s.studies.filter((x) => x.status === "registered").length;
      if (s.skipped.length > 0) throw new Error(`${s.skipped.length} files skipped: ${s.skipped[0]!.code}`);
      // Every stored file hash is sha256sum's.
      const want = new Set(reference.values());
      for (const st of s.studies)
        for (const r of node.manifests.instances(st.studyKey))
          if (!want.has(r.fileSha256)) throw new Error("a stored file hash differs from sha256sum's");
    } finally {
      await node.close();
    }
    const mbps = (ms: number): number => Math.round(mb / (ms / 1000));
    return {
      files: files.length,
      bytes,
      studies,
      workers,
      sha256sumMBps: mbps(sumMs),
      sha256sumParallelMBps: mbps(sumParMs),
      hasherMBps: mbps(hashMs),
      registrationMBps: mbps(regMs),
      ratioToSha256sum: round2(sumMs / regMs),
      ratioToSha256sumParallel: round2(sumParMs / regMs),
      peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  const [what, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      dir: { type: "string" },
      mb: { type: "string", default: "1024" },
      workers: { type: "string" },
      instances: { type: "string", default: "40" },
      rounds: { type: "string", default: "5" },
      concurrency: { type: "string", default: "4" },
    },
  });
  const log = (l: string): void => void process.stderr.write(`${l}\n`);
  let result: unknown;
  if (what === "registration")
    result = await runDicomRegistrationBench({
      mb: Number(values.mb),
      log,
      ...(values.dir === undefined ? {} : { dir: values.dir }),
      ...(values.workers === undefined ? {} : { workers: Number(values.workers) }),
    });
  else if (what === "dicomweb")
    result = await runDicomwebBench({
      instances: Number(values.instances),
      rounds: Number(values.rounds),
      concurrency: Number(values.concurrency),
      log,
    });
  else {
    process.stderr.write(
      "usage: dicom.js registration [--dir D] [--mb 1024] [--workers N] | dicomweb [--instances 40] [--rounds 5] [--concurrency 4]\n",
    );
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(process.argv.slice(2));
}
