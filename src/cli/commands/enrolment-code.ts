/**
 * `radledger actor enrolment-code`: the registrar's one-time code with which a patient enrols a key of
 * their own, in their browser (docs/security.md "Key custody"). A local operation of the node
 * (src/app/operations.ts): run in this process, or inside a running `radledger serve` through its
 * local socket; on the log either way (enrolment-code.issued, issued by the institution — the
 * operator who holds the data directory). The code is printed once; the node keeps only its hash.
 *
 * It attaches to the `actor` verb (src/cli/commands/actor.ts, when present, defines the others).
 */
import type { Command } from "commander";
import { RadledgerError } from "../../core/errors.js";
import { ACTOR_ID_PATTERN } from "../../core/entry.js";
import { enrolmentCodeView } from "../../api/enrolment.js";
import {
  ENROLMENT_CODE_TTL_SECONDS,
  MAX_ENROLMENT_CODE_TTL_SECONDS,
  MIN_ENROLMENT_CODE_TTL_SECONDS,
} from "../../ports/auth.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";

/** `--ttl-hours` as whole seconds within the API's limits (1 minute to 30 days). */
export function ttlHoursToSeconds(text: string): number {
  const seconds = /^[0-9]{1,4}(\.[0-9]{1,12})?$/.test(text) ? Math.round(Number(text) * 3600) : NaN;
  if (
    !Number.isSafeInteger(seconds) ||
    seconds < MIN_ENROLMENT_CODE_TTL_SECONDS ||
    seconds > MAX_ENROLMENT_CODE_TTL_SECONDS
  )
    throw new RadledgerError(
      "CLI_USAGE",
      `--ttl-hours must be a decimal number of hours from 1 minute to ${MAX_ENROLMENT_CODE_TTL_SECONDS / 3600} hours`,
    );
  return seconds;
}

export function registerEnrolmentCode(program: Command): void {
  const actor =
    program.commands.find((c) => c.name() === "actor") ??
    program.command("actor").description("manage enrolled actors");
  actor
    .command("enrolment-code")
    .description(
      "issue a one-time enrolment code for a patient actor, with which they enrol a key of their own in their browser (printed once)",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--actor <id>", "the enrolled patient actor")
    .option("--ttl-hours <hours>", "lifetime in hours", String(ENROLMENT_CODE_TTL_SECONDS / 3600))
    .option("--json", "print the code and its record as JSON")
    .action(async (o: { data: string; actor: string; ttlHours: string; json?: boolean }) => {
      const ttlSeconds = ttlHoursToSeconds(o.ttlHours);
      if (!ACTOR_ID_PATTERN.test(o.actor))
        throw new RadledgerError("CLI_USAGE", "--actor is not an actor id");
      const issued = await runWritingOperation(o.data, "enrolment-code-issue", {
        actor: o.actor,
        ttlSeconds,
      });
      if (o.json) {
        printJson({ code: issued.code, record: enrolmentCodeView(issued.record) });
        return;
      }
      process.stdout.write(`${issued.code}\n`);
      process.stderr.write(
        `enrolment code ${issued.record.id} for ${issued.record.actor}, expires ${new Date(issued.record.expiresAt).toISOString()}; it is shown only now and works once; its issuance is on the log\n`,
      );
    });
}
