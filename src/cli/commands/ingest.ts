import type { Command } from "commander";
import { resolve } from "node:path";
import { RadledgerError } from "../../core/errors.js";
import { runWritingOperation } from "../operations.js";
import { AlreadyReported, printJson, Progress } from "../output.js";

const mb = (b: number): string => (b / 1e6).toFixed(1);

export function registerIngest(program: Command): void {
  program
    .command("ingest")
    .description(
      "register every DICOM study found under the given files and folders (Part 10 files); idempotent",
    )
    .argument("<paths...>", "files or folders to walk")
    .requiredOption("--data <dir>", "data directory")
    .option("--source <name>", "label of the source recorded in the entries", "folder")
    .option("--workers <n>", "hashing threads (default: one per core)")
    .option("--json", "print the summary as JSON")
    .option("--quiet", "no progress output")
    .action(
      async (
        inputs: string[],
        o: { data: string; source: string; workers?: string; json?: boolean; quiet?: boolean },
      ) => {
        const workers = o.workers === undefined ? undefined : Number(o.workers);
        if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 64))
          throw new RadledgerError("CLI_USAGE", "--workers must be 1..64");
        if (inputs.length === 0)
          throw new RadledgerError("CLI_USAGE", "name at least one file or folder to ingest");
        const progress = new Progress("ingest", "files", !o.quiet && !o.json);
        const started = Date.now();
        // Paths absolute: a serving node that runs the ingest does not share this working directory.
        const args = {
          paths: inputs.map((p) => resolve(p)),
          sourceName: o.source,
          ...(workers === undefined ? {} : { workers }),
        };
        const summary = await runWritingOperation(o.data, "ingest", args, {
          onProgress: (p) => {
            const s = Math.max(0.001, (Date.now() - started) / 1000);
            progress.update(
              p.files,
              p.totalFiles,
              `${mb(p.bytes)}/${mb(p.totalBytes)} MB ${mb(p.bytes / s)} MB/s`,
            );
          },
        });
        progress.done();
        const failed = summary.studies.filter((s) => s.status === "failed");
        if (o.json) printJson(summary);
        else {
          for (const f of summary.skipped)
            process.stderr.write(`skipped ${f.path}: ${f.code}: ${f.message}\n`);
          for (const s of summary.studies) {
            const what =
              s.status === "registered"
                ? `registered at index ${s.index ?? "?"} as ${s.studyId ?? "?"}`
                : s.status === "already-registered"
                  ? `already registered as ${s.studyId ?? "?"}${s.differs === true ? " (with a different set of instances: not changed)" : ""}`
                  : `failed: ${s.error?.code ?? "?"}: ${s.error?.message ?? ""}`;
            process.stdout.write(`study ${s.studyKey} (${s.instanceCount} instances): ${what}\n`);
          }
          for (const a of summary.aiResults) {
            const model = `${a.model?.vendor ?? "?"} / ${a.model?.name ?? "?"} / ${a.model?.version ?? "?"}`;
            const what =
              a.status === "recorded"
                ? `recorded as ai.inference at index ${a.index ?? "?"} (${a.findingCount} findings)`
                : a.status === "already-recorded"
                  ? `already recorded at index ${a.index ?? "?"}`
                  : `${a.status}: ${a.error?.code ?? "?"}: ${a.error?.message ?? ""}`;
            process.stdout.write(`AI result ${a.instanceKey} (${a.kind.toUpperCase()}, ${model}): ${what}\n`);
          }
          const count = (st: string): number => summary.studies.filter((s) => s.status === st).length;
          process.stdout.write(
            `${summary.files} files, ${mb(summary.bytes)} MB in ${summary.seconds.toFixed(1)} s ` +
              `(${mb(summary.bytes / Math.max(summary.seconds, 0.001))} MB/s): ${count("registered")} studies registered, ` +
              `${count("already-registered")} already registered, ${failed.length} failed; ` +
              `${summary.instances} instances, ${summary.duplicates} duplicate files, ${summary.skipped.length} files skipped\n`,
          );
        }
        // An AI result refused (unknown model, study not registered…) fails the run like a study
        // that could not be registered: the exit code is the first refusal's (docs/errors.md).
        const aiRefused = summary.aiResults.filter((a) => a.error !== undefined);
        if (failed.length === 0 && aiRefused.length > 0) {
          const e = aiRefused[0]!.error!;
          const err = new RadledgerError(
            e.code,
            `${aiRefused.length} AI results not recorded; first: ${e.message}`,
          );
          throw o.json ? new AlreadyReported(err) : err;
        }
        if (failed.length > 0) {
          const e = failed[0]!.error!;
          const err = new RadledgerError(
            e.code,
            `${failed.length} studies not registered; first: ${e.message}`,
          );
          throw o.json ? new AlreadyReported(err) : err;
        }
      },
    );
}
