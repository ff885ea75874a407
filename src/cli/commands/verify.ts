import type { Command } from "commander";
import { readFileSync } from "node:fs";
import { verifyDataDir } from "../../app/verify.js";
import { nodeCrypto } from "../../adapters/node-crypto/crypto.js";
import { RadledgerError } from "../../core/errors.js";
import { isEvidenceText, verifyEvidence } from "../../core/evidence.js";
import { AlreadyReported, printJson, Progress } from "../output.js";

/**
 * `radledger verify FILE` for an equivocation evidence file (recognised by its first line,
 * docs/consortium.md §Evidence): proves offline that a log signed two inconsistent checkpoints.
 */
function verifyEvidenceFile(file: string, o: { json?: boolean; logKey?: string[] }): void {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new RadledgerError("STORE_NOT_FOUND", `cannot read ${file}`);
  }
  const head = bytes.subarray(0, 64).toString("utf8");
  if (!isEvidenceText(head))
    throw new RadledgerError(
      "CLI_USAGE",
      `${file} is not an equivocation evidence file (first line radledger-equivocation-evidence/v1)`,
    );
  const verdict = verifyEvidence(nodeCrypto, new Uint8Array(bytes), o.logKey);
  if (o.json)
    printJson({
      ok: true,
      origin: verdict.origin,
      kind: verdict.kind,
      first: { size: verdict.first.size, root: Buffer.from(verdict.first.root).toString("base64") },
      second: { size: verdict.second.size, root: Buffer.from(verdict.second.root).toString("base64") },
      summary: verdict.summary,
    });
  else process.stdout.write(`proven: ${verdict.summary}\n`);
}

export function registerVerify(program: Command): void {
  program
    .command("verify")
    .description(
      "re-check a whole log from scratch (--data), or check an equivocation evidence file offline (FILE)",
    )
    .argument("[file]", "an evidence file (radledger consortium evidence ID > FILE)")
    .option("--data <dir>", "data directory")
    .option("--log-key <vkey...>", "with FILE: only accept evidence signed by one of these log keys")
    .option("--json", "print the report as JSON")
    .option("--quiet", "no progress output")
    .action(
      async (
        file: string | undefined,
        o: { data?: string; json?: boolean; quiet?: boolean; logKey?: string[] },
      ) => {
        if (file !== undefined) {
          verifyEvidenceFile(file, o);
          return;
        }
        if (o.data === undefined)
          throw new RadledgerError("CLI_USAGE", "give --data DIR (whole log) or an evidence FILE");
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
      },
    );
}
