/** `radledger query consent-decision | grants`: what consent allows now, and a patient's grants. */
import type { Command } from "commander";
import { formatTime } from "../../../core/entry.js";
import { RadledgerError } from "../../../core/errors.js";
import { decide, accessQuery, type AccessQuery } from "../../../domain/consent/decide.js";
import { breakGlassReasons } from "../../../domain/access/break-glass.js";
import { admissionPolicy } from "../../../app/data-dir.js";
import { grantsOfPatient } from "../../../domain/consent/queries.js";
import { defineQuery, knownPatient, out, type QueryInput } from "./common.js";

/** Parses --part kind:id[:study[:report]] into a decide() part. */
function parsePart(text: string): AccessQuery["part"] {
  const [kind, id, study, report] = text.split(":");
  const part: Record<string, string> = { kind: kind ?? "", id: id ?? "" };
  if (kind === "report-section") {
    if (report !== undefined) part.report = report;
    if (study !== undefined) part.study = study;
  } else if (study !== undefined) part.study = study;
  return part as unknown as AccessQuery["part"];
}

type DecisionInput = QueryInput<{
  actor: string;
  patient: string;
  part: string;
  purpose: string;
  time?: string;
  breakGlass?: string;
}>;

export function registerConsentQueries(query: Command): void {
  defineQuery(query, {
    command: "consent-decision",
    description: "what the gatekeeper would decide now (nothing is recorded)",
    options: (c) =>
      c
        .requiredOption("--actor <id>")
        .requiredOption("--patient <pseudonym>")
        .requiredOption(
          "--part <kind:id[:study]>",
          "e.g. study:<id>, report:<id>:<study id>, series:<se_…>:<study id>",
        )
        .requiredOption("--purpose <code>", "HL7 PurposeOfUse, e.g. TREAT, ETREAT, HRESCH")
        .option("--time <rfc3339>", "decision time (default now)")
        .option(
          "--break-glass <reason>",
          `request break-glass with a reason code: ${breakGlassReasons.values.join(", ")}`,
        ),
    answer: ({ log, o }: DecisionInput) => {
      knownPatient(log, o.patient);
      const parsed = accessQuery.safeParse({
        actor: o.actor,
        patient: o.patient,
        part: parsePart(o.part),
        purpose: o.purpose,
        time: o.time ?? formatTime(Date.now()),
        ...(o.breakGlass === undefined ? {} : { breakGlass: { reason: o.breakGlass } }),
      });
      if (!parsed.success)
        throw new RadledgerError(
          "CLI_USAGE",
          `invalid query: ${parsed.error.issues[0]!.path.join(".")}: ${parsed.error.issues[0]!.message}`,
        );
      return decide(log.store, parsed.data as AccessQuery, admissionPolicy(log.config));
    },
    print: (d) => {
      out(
        d.decision === "permit"
          ? `permit (basis ${d.basis.kind}${d.review ? ", flagged for review" : ""})`
          : `deny (${d.reason})`,
      );
    },
  });

  defineQuery(query, {
    command: "grants",
    description: "a patient's consent grants with their status",
    options: (c) => c.requiredOption("--patient <pseudonym>"),
    answer: ({ log, o }: QueryInput<{ patient: string }>) =>
      grantsOfPatient(log.store, knownPatient(log, o.patient)),
    print: (grants) => {
      for (const g of grants)
        out(
          `${g.id}  ${g.status.padEnd(8)} to ${g.grantee.kind} ${g.grantee.id}  scope ${g.scope}  purposes ${g.purposes.join(",")}`,
        );
      if (grants.length === 0) out("no grants");
    },
  });
}
