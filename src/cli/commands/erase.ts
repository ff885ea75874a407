import type { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { pseudonym as pseudonymSchema } from "../../domain/schemas.js";
import { erasureReasons } from "../../domain/privacy/entries.js";
import { RadledgerError } from "../../core/errors.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";

/** Where the confirmation question is asked: the terminal, or nothing when stdin is not one. */
export interface ConfirmIo {
  readonly isTTY: boolean;
  ask(question: string): Promise<string>;
}

/**
 * Erasure cannot be undone (docs/security.md §Erasure and backups), so the command line erases only
 * when told twice: `--yes`, or the patient's pseudonym typed again on a terminal. Without a terminal
 * and without `--yes` — a script that forgot the flag, input piped from elsewhere — it refuses
 * (CONFIRMATION_REQUIRED) and erases nothing, rather than take silence for consent.
 */
export async function confirmErasure(patient: string, yes: boolean, io: ConfirmIo): Promise<void> {
  if (yes) return;
  if (!io.isTTY)
    throw new RadledgerError(
      "CONFIRMATION_REQUIRED",
      "erasure cannot be undone: run it on a terminal to confirm, or pass --yes; nothing was erased",
    );
  const answer = await io.ask(
    `Erasing ${patient} destroys their data key and vault content for good.\nType the patient pseudonym to confirm: `,
  );
  if (answer.trim() !== patient)
    throw new RadledgerError(
      "CONFIRMATION_REQUIRED",
      "the pseudonym typed does not match; nothing was erased",
    );
}

const terminal: ConfirmIo = {
  // undefined (falsy) when stdin is not a terminal, whatever its declared type says.
  isTTY: process.stdin.isTTY,
  async ask(question) {
    // The question on stderr: stdout stays the command's result (--json).
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  },
};

export function registerErase(program: Command): void {
  program
    .command("erase")
    .description("erase off-ledger data; the log records the erasure and still verifies")
    .command("patient")
    .description(
      "destroy a patient's vault key, salts and content (crypto-shredding); asks for the pseudonym again unless --yes",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--patient <pseudonym>", "the patient's pseudonym (pt_…)")
    .option("--reason <code>", `reason code: ${erasureReasons.values.join(", ")}`, "patient-request")
    .option("--yes", "do not ask for confirmation (required when stdin is not a terminal)")
    .option("--json", "print the result as JSON")
    .action(async (o: { data: string; patient: string; reason: string; yes?: boolean; json?: boolean }) => {
      if (!pseudonymSchema.safeParse(o.patient).success)
        throw new RadledgerError(
          "CLI_USAGE",
          "--patient must be a patient pseudonym (pt_ followed by 43 base64url characters)",
        );
      if (!erasureReasons.has(o.reason))
        throw new RadledgerError("CLI_USAGE", `--reason must be one of ${erasureReasons.values.join(", ")}`);
      await confirmErasure(o.patient, o.yes === true, terminal);
      // Through the serving node when `radledger serve` holds the data directory.
      const result = await runWritingOperation(o.data, "erase", { patient: o.patient, reason: o.reason });
      if (o.json) printJson(result);
      else
        process.stdout.write(
          `erased ${result.items} vault items of ${o.patient}${result.recorded ? "; erasure recorded on the log" : " (erasure was already recorded)"}\n`,
        );
    });
}
