/**
 * `radledger ingest`: registers every DICOM study found under some paths (Part 10 files).
 *
 * Files are hashed on worker threads (the DICOM toolkit's hash pool: whole-file and pixel-data SHA-256 in one
 * streaming pass, never a whole file in memory), pseudonymised on the main thread and staged in the
 * manifest store, so memory stays flat however big the folder. Once the walk is done, every study
 * staged is registered by one `study.registered` entry signed by the institution
 * (src/app/register-study.ts). Re-ingesting a study is idempotent ("already registered"); files
 * that are not DICOM or cannot be read are reported with their code and skipped.
 */
import { availableParallelism } from "node:os";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { RadledgerError, toRadledgerError, type ErrorCode } from "../core/errors.js";
import type { AiResultObject, DicomInstanceHashes, StagedInstance } from "../ports/imaging.js";
import { readAiResultFile, recordAiResult, type AiResultOutcome } from "./ai-results.js";
import type { RadledgerNode } from "./node.js";
import {
  duplicateConflict,
  registerStaged,
  toStaged,
  withStaging,
  type StudyOutcome,
  type StudySource,
} from "./register-study.js";

export interface IngestProgress {
  readonly files: number;
  readonly totalFiles: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

export interface IngestOptions {
  /** Hashing threads (default: one per core). */
  readonly workers?: number;
  /** Label of the source in the entries (default "folder"). */
  readonly sourceName?: string;
  readonly onProgress?: (p: IngestProgress) => void;
}

export interface SkippedFile {
  readonly path: string;
  readonly code: ErrorCode;
  readonly message: string;
}

export interface IngestSummary {
  readonly files: number;
  readonly bytes: number;
  readonly seconds: number;
  /** Instances staged (distinct SOP instances). */
  readonly instances: number;
  /** Files that were byte-identical copies of an instance already seen in this run. */
  readonly duplicates: number;
  readonly skipped: SkippedFile[];
  readonly studies: StudyOutcome[];
  /** AI result objects found (TID 1500 SR, SEG, Parametric Map): recorded as ai.inference or refused. */
  readonly aiResults: AiResultOutcome[];
}

interface FileItem {
  path: string;
  size: number;
}

/** Regular files under the given paths (files as given, directories recursively, sorted). */
async function collect(inputs: readonly string[], skipped: SkippedFile[]): Promise<FileItem[]> {
  const out: FileItem[] = [];
  const walk = async (p: string): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      skipped.push({ path: p, code: "DICOM_IO", message: `cannot stat: ${code}` });
      return;
    }
    if (st.isDirectory()) {
      let names: string[];
      try {
        names = (await readdir(p)).sort();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "error";
        skipped.push({ path: p, code: "DICOM_IO", message: `cannot list directory: ${code}` });
        return;
      }
      for (const n of names) await walk(join(p, n));
    } else if (st.isFile()) {
      // PS3.10 §8: a DICOMDIR is a directory of the media, not an instance.
      if (/(^|\/)DICOMDIR$/i.test(p)) return;
      out.push({ path: p, size: st.size });
    }
  };
  for (const p of inputs) await walk(p);
  return out;
}

export async function ingestPaths(
  node: RadledgerNode,
  inputs: readonly string[],
  options: IngestOptions = {},
): Promise<IngestSummary> {
  if (inputs.length === 0)
    throw new RadledgerError("CLI_USAGE", "name at least one file or folder to ingest");
  const started = performance.now();
  const skipped: SkippedFile[] = [];
  const files = await collect(inputs, skipped);
  const totalBytes = files.reduce((n, f) => n + f.size, 0);
  return withStaging(node, async (store) => {
    const pool = node.dicom.hashPool(options.workers ?? availableParallelism());
    let done = 0;
    let bytes = 0;
    let instances = 0;
    let duplicates = 0;
    const source: StudySource = { kind: "folder", name: options.sourceName ?? "folder" };
    try {
      store.clearStaging();
      // Staged rows are flushed in batches: one transaction (one fsync) per batch, not per file.
      let batch: { item: FileItem; staged: StagedInstance }[] = [];
      // AI results are outputs, not inputs: kept out of the study's manifest, recorded once the
      // studies they were made from are registered (src/app/ai-results.ts).
      const aiFound: { path: string; object: AiResultObject; hashes: DicomInstanceHashes }[] = [];
      const flush = (): void => {
        const outcomes = store.stageMany(batch.map((b) => b.staged));
        outcomes.forEach((o, i) => {
          if (o === "added") instances++;
          else if (o === "duplicate") duplicates++;
          else {
            const e = duplicateConflict();
            skipped.push({ path: batch[i]!.item.path, code: e.code, message: e.message });
          }
        });
        batch = [];
      };
      const report = (): void =>
        options.onProgress?.({ files: done, totalFiles: files.length, bytes, totalBytes });
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < files.length) {
          const item = files[next++]!;
          let h: DicomInstanceHashes | undefined;
          try {
            h = await pool.hash(item.path);
            const object = node.dicom.mayBeAiResult(h.sopClassUid)
              ? node.dicom.readAiResult(await readAiResultFile(item.path))
              : null;
            if (object !== null) aiFound.push({ path: item.path, object, hashes: h });
            else batch.push({ item, staged: toStaged(node, h, item.path) });
            if (batch.length >= 256) flush();
          } catch (e) {
            const err = toRadledgerError(e);
            if (err.code === "INTERNAL") throw e;
            skipped.push({ path: item.path, code: err.code, message: err.message });
          }
          done++;
          bytes += item.size;
          report();
        }
      };
      // Two files in flight per worker keep every worker busy while the next file is opened.
      await Promise.all(Array.from({ length: 2 * pool.size }, lane));
      flush();
      report();

      const studies: StudyOutcome[] = [];
      for (const key of store.stagedStudyKeys()) studies.push(await registerStaged(node, store, key, source));
      const aiResults: AiResultOutcome[] = [];
      // In path order (the hashing lanes finish in any order): the same folder, the same entries.
      aiFound.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      for (const { object, hashes } of aiFound)
        aiResults.push(
          await recordAiResult(node, object, { sha256: hashes.fileSha256, bytes: hashes.bytes }, source),
        );
      return {
        files: files.length,
        bytes: totalBytes,
        seconds: (performance.now() - started) / 1000,
        instances,
        duplicates,
        skipped,
        studies,
        aiResults,
      };
    } finally {
      await pool.close();
    }
  });
}
