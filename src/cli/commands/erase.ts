import type { Command } from "commander";
import { pseudonym as pseudonymSchema } from "../../domain/schemas.js";
import { erasureReasons } from "../../domain/privacy/entries.js";
import { RadledgerError } from "../../core/errors.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";

export function registerErase(program: Command): void {
  program
    .command("erase")
    .description("erase off-ledger data; the log records the erasure and still verifies")
    .command("patient")
    .description("destroy a patient's vault key, salts and content (crypto-shredding)")
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--patient <pseudonym>", "the patient's pseudonym (pt_…)")
    .option("--reason <code>", `reason code: ${erasureReasons.values.join(", ")}`, "patient-request")
    .option("--json", "print the result as JSON")
    .action(async (o: { data: string; patient: string; reason: string; json?: boolean }) => {
      if (!pseudonymSchema.safeParse(o.patient).success)
        throw new RadledgerError(
          "CLI_USAGE",
          "--patient must be a patient pseudonym (pt_ followed by 43 base64url characters)",
        );
      if (!erasureReasons.has(o.reason))
        throw new RadledgerError("CLI_USAGE", `--reason must be one of ${erasureReasons.values.join(", ")}`);
      // Through the serving node when `radledger serve` holds the data directory.
      const result = await runWritingOperation(o.data, "erase", { patient: o.patient, reason: o.reason });
      if (o.json) printJson(result);
      else
        process.stdout.write(
          `erased ${result.items} vault items of ${o.patient}${result.recorded ? "; erasure recorded on the log" : " (erasure was already recorded)"}\n`,
        );
    });
}
