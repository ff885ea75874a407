/**
 * `radledger consent grant|revoke`: consent from the command line, for scripts and the registrar's
 * desk. The operator who holds the data directory acts as the institution, so both are signed by the
 * institution on the patient's documented request (docs/families/consent.md, `onBehalf`): the
 * request's reason code (--on-behalf) and its document (--document: the text, or where the signed
 * form is kept), which goes to the patient's vault while the log keeps its commitment. The log shows
 * both who acted (the institution) and for whom (the patient). A patient's own grants are signed with
 * the patient's key (the API, or the browser).
 *
 * Both are local operations of the node (src/app/operations.ts): run here, or inside a running
 * `radledger serve` through its local socket.
 */
import type { Command } from "commander";
import { formatTime } from "../../core/entry.js";
import { RadledgerError } from "../../core/errors.js";
import {
  onBehalfReasons,
  PURPOSES_OF_USE,
  revocationReasons,
  SCOPE_KINDS,
  type Grantee,
  type PurposeOfUse,
  type ScopeKind,
} from "../../domain/consent/entries.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";

const GRANTEE_KINDS = {
  person: "actor",
  institution: "institution",
  trial: "trial",
  dataset: "dataset",
} as const;

/** `--to kind:id`: person:<actor id>, institution:<log origin>, trial:<id>, dataset:<id>. */
export function parseGrantee(text: string): Grantee {
  const colon = text.indexOf(":");
  const kind = colon < 0 ? "" : text.slice(0, colon);
  const id = colon < 0 ? "" : text.slice(colon + 1);
  if (!Object.hasOwn(GRANTEE_KINDS, kind) || id.length === 0)
    throw new RadledgerError(
      "CLI_USAGE",
      "--to is kind:id with kind person, institution, trial or dataset (e.g. person:rad-neuro-1)",
    );
  // The id's form (actor id, log origin, entry id) is checked by the operation's schema.
  return { kind: GRANTEE_KINDS[kind as keyof typeof GRANTEE_KINDS], id };
}

/** A time as typed (any RFC 3339 / ISO 8601 instant) in the log's canonical form, or CLI_USAGE. */
export function parseTime(option: string, text: string): string {
  const ms = /^\d{4}-\d{2}-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms))
    throw new RadledgerError(
      "CLI_USAGE",
      `${option} must be a date or an RFC 3339 time, e.g. 2027-01-31T00:00:00Z`,
    );
  return formatTime(ms);
}

function onBehalf(o: { onBehalf: string; document: string }): { reason: string; document: string } {
  if (!onBehalfReasons.has(o.onBehalf))
    throw new RadledgerError("CLI_USAGE", `--on-behalf must be one of ${onBehalfReasons.values.join(", ")}`);
  if (o.document.trim().length === 0 || o.document.length > 10_000)
    throw new RadledgerError("CLI_USAGE", "--document has 1 to 10,000 characters");
  return { reason: o.onBehalf, document: o.document };
}

interface GrantOptions {
  data: string;
  patient: string;
  to: string;
  scope: string;
  study?: string;
  purpose: string;
  from?: string;
  until?: string;
  days?: string;
  onBehalf: string;
  document: string;
  json?: boolean;
}

export function registerConsent(program: Command): void {
  const consent = program
    .command("consent")
    .description(
      "grant and revoke consent on a patient's documented request (signed by the institution, on the log)",
    );

  consent
    .command("grant")
    .description(
      "grant a person, institution, trial or dataset access to part of a patient's imaging record, for some purposes, until an expiry",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--patient <pseudonym>", "the patient's pseudonym (pt_…)")
    .requiredOption(
      "--to <kind:id>",
      "the grantee: person:<actor id>, institution:<log origin>, trial:<id>, dataset:<id>",
    )
    .option("--scope <scope>", `what it covers: ${SCOPE_KINDS.join(", ")}`, "all-imaging")
    .option("--study <id>", "the study, for scopes study and study-reports (id or unique prefix)")
    .requiredOption(
      "--purpose <codes>",
      `HL7 PurposeOfUse codes, comma-separated (${PURPOSES_OF_USE.slice(0, 5).join(", ")}, …)`,
    )
    .option("--from <time>", "start (default now)")
    .option("--until <time>", "expiry (exclusive), an RFC 3339 time or a date")
    .option("--days <n>", "or: expiry this many days after the start")
    .requiredOption("--on-behalf <reason>", `why the institution signs: ${onBehalfReasons.values.join(", ")}`)
    .requiredOption(
      "--document <text>",
      "the patient's request: its text, or where the signed form is kept (to the vault)",
    )
    .option("--json", "print the entry and the grant as JSON")
    .action(async (o: GrantOptions) => {
      const grantee = parseGrantee(o.to);
      if (!(SCOPE_KINDS as readonly string[]).includes(o.scope))
        throw new RadledgerError("CLI_USAGE", `--scope must be one of ${SCOPE_KINDS.join(", ")}`);
      const studyScope = o.scope === "study" || o.scope === "study-reports";
      if (studyScope !== (o.study !== undefined))
        throw new RadledgerError(
          "CLI_USAGE",
          "--study is given exactly for the scopes study and study-reports",
        );
      const purposes = o.purpose.split(",").map((p) => p.trim());
      const unknown = purposes.find((p) => !(PURPOSES_OF_USE as readonly string[]).includes(p));
      if (unknown !== undefined)
        throw new RadledgerError(
          "CLI_USAGE",
          `--purpose: ${unknown.slice(0, 40)} is not an HL7 PurposeOfUse code radledger accepts`,
        );
      if (o.until !== undefined && o.days !== undefined)
        throw new RadledgerError("CLI_USAGE", "give --until or --days, not both");
      const start = o.from === undefined ? formatTime(Date.now()) : parseTime("--from", o.from);
      let end: string | undefined;
      if (o.until !== undefined) end = parseTime("--until", o.until);
      if (o.days !== undefined) {
        if (!/^[1-9]\d{0,4}$/.test(o.days))
          throw new RadledgerError("CLI_USAGE", "--days is a whole number from 1 to 99999");
        end = formatTime(Date.parse(start) + Number(o.days) * 86_400_000);
      }
      if (end !== undefined && end <= start)
        throw new RadledgerError("CLI_USAGE", "the expiry must be after the start");
      const r = await runWritingOperation(o.data, "consent-grant", {
        patient: o.patient,
        grantee,
        scope: o.scope as ScopeKind,
        ...(o.study === undefined ? {} : { study: o.study }),
        purposes: purposes as PurposeOfUse[],
        start,
        ...(end === undefined ? {} : { end }),
        onBehalf: onBehalf(o),
      });
      if (o.json) printJson(r);
      else
        process.stdout.write(
          `granted ${r.record.scope} to ${o.to} for ${r.record.purposes.join(",")} until ${r.record.period.end ?? "revoked"}: grant ${r.leafHash} (log index ${r.index}), signed by the institution on the patient's request\n`,
        );
    });

  consent
    .command("revoke")
    .description("revoke a grant at once, on the patient's documented request (signed by the institution)")
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--grant <id>", "the grant (consent.granted entry id or a unique prefix)")
    .option("--reason <code>", `why: ${revocationReasons.values.join(", ")}`, "patient-request")
    .requiredOption("--on-behalf <reason>", `why the institution signs: ${onBehalfReasons.values.join(", ")}`)
    .requiredOption(
      "--document <text>",
      "the patient's request: its text, or where the signed form is kept (to the vault)",
    )
    .option("--json", "print the entry and the revoked grant as JSON")
    .action(
      async (o: {
        data: string;
        grant: string;
        reason: string;
        onBehalf: string;
        document: string;
        json?: boolean;
      }) => {
        if (!revocationReasons.has(o.reason))
          throw new RadledgerError(
            "CLI_USAGE",
            `--reason must be one of ${revocationReasons.values.join(", ")}`,
          );
        const r = await runWritingOperation(o.data, "consent-revoke", {
          grant: o.grant,
          reason: o.reason,
          onBehalf: onBehalf(o),
        });
        if (o.json) printJson(r);
        else process.stdout.write(`revoked grant ${r.record.id} (revocation at log index ${r.index})\n`);
      },
    );
}
