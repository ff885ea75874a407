/**
 * `radledger access review`: an auditor closes a break-glass access with an outcome and a note
 * (docs/families/access.md). access.reviewed is the auditor's own statement — only auditors sign
 * it — so the command line does not make it on the operator's say-so: the auditor authenticates
 * with their own API token or session ($RADLEDGER_TOKEN, kept out of the process list), and the key
 * the node holds for them signs, exactly as POST /api/v1/entries/access.reviewed does for the same
 * auditor. The note goes to the patient's vault; the log keeps its commitment.
 *
 * A local operation of the node (src/app/operations.ts): run here, or inside a running
 * `radledger serve` through its local socket.
 */
import type { Command } from "commander";
import { RadledgerError } from "../../core/errors.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";

export const TOKEN_ENV = "RADLEDGER_TOKEN";

/** The acting person's bearer token from $RADLEDGER_TOKEN (AUTH_REQUIRED without one). */
export function tokenFromEnvironment(what: string): string {
  const token = process.env[TOKEN_ENV];
  if (token === undefined || token.trim() === "")
    throw new RadledgerError(
      "AUTH_REQUIRED",
      `${what} is signed by the person who acts: set ${TOKEN_ENV} to their API token or session (radledger never takes a token on the command line)`,
    );
  return token.trim();
}

const OUTCOMES = ["justified", "unjustified", "escalated"] as const;

export function registerAccess(program: Command): void {
  const access = program.command("access").description("review recorded accesses");

  access
    .command("review")
    .description(
      `close a break-glass access with an outcome, as the auditor whose token is in $${TOKEN_ENV} (see: radledger query break-glass-queue)`,
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--access <id>", "the break-glass access (access.recorded entry id or a unique prefix)")
    .requiredOption("--outcome <outcome>", OUTCOMES.join(", "))
    .option("--note <text>", "the reviewer's note (to the patient's vault; the log keeps its commitment)")
    .option("--json", "print the entry and the reviewed access as JSON")
    .action(async (o: { data: string; access: string; outcome: string; note?: string; json?: boolean }) => {
      if (!(OUTCOMES as readonly string[]).includes(o.outcome))
        throw new RadledgerError("CLI_USAGE", `--outcome must be one of ${OUTCOMES.join(", ")}`);
      if (o.note !== undefined && (o.note.trim() === "" || o.note.length > 10_000))
        throw new RadledgerError("CLI_USAGE", "--note has 1 to 10,000 characters");
      const token = tokenFromEnvironment("a review");
      const r = await runWritingOperation(o.data, "access-review", {
        access: o.access,
        outcome: o.outcome as (typeof OUTCOMES)[number],
        ...(o.note === undefined ? {} : { note: o.note }),
        credential: { token },
      });
      if (o.json) printJson(r);
      else
        process.stdout.write(
          `reviewed access ${r.record.id}: ${o.outcome}, by ${r.record.review?.by ?? "?"} (log index ${r.index}); it has left the review queue\n`,
        );
    });
}
