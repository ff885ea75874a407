import type { Command } from "commander";
import { verifyDataDir } from "../../app/verify.js";
import { RadledgerError } from "../../core/errors.js";
import { AlreadyReported, printJson, Progress } from "../output.js";

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description("re-check a whole log from scratch: signatures, enrolment, tree, checkpoints, projections")
    .requiredOption("--data <dir>", "data directory")
    .option("--json", "print the report as JSON")
    .option("--quiet", "no progress output")
    .action(async (o: { data: string; json?: boolean; quiet?: boolean }) => {
      const progress = new Progress("verify", "entries", !o.quiet && !o.json);
      const report = await verifyDataDir(o.data, { onProgress: (d, t) => progress.update(d, t) });
      progress.done();
      if (o.json) printJson(report);
      if (report.ok) {
        if (!o.json)
          process.stdout.write(
            `ok: ${report.entries} entries, ${report.checkpoints} checkpoints verified; latest checkpoint covers size ${report.latestCheckpointSize}\n`,
          );
        return;
      }
      const f = report.failure!;
      const error = new RadledgerError(
        "VERIFY_FAILED",
        `${f.message} (${f.code})`,
        f.index === undefined ? {} : { index: f.index },
      );
      throw o.json ? new AlreadyReported(error) : error;
    });
}
