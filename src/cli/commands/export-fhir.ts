import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { openReadOnly } from "../../wiring/read-only.js";
import { recordCliRead } from "../audit.js";
import { nodeFactory } from "../../wiring/node.js";
import { formatTime } from "../../core/entry.js";
import { RadledgerError } from "../../core/errors.js";
import { fhirExport, type FhirScope } from "../../domain/fhir/export.js";
import { pseudonym } from "../../domain/schemas.js";

/** `radledger export fhir`: a FHIR R4 Bundle of Provenance, AuditEvent, Consent, Device, DiagnosticReport. */
export function registerExportFhir(program: Command): void {
  // `export` may hold other formats (bundles): attach to it when another verb created it.
  const exp =
    program.commands.find((c) => c.name() === "export") ??
    program.command("export").description("export records");
  exp
    .command("fhir")
    .description(
      "FHIR R4 Bundle (Provenance, AuditEvent, Consent, Device, DiagnosticReport) for a patient, a report, or since a time",
    )
    .requiredOption("--data <dir>", "data directory")
    .option("--patient <pseudonym>", "one patient (pt_ pseudonym)")
    .option("--report <id>", "one report (report.opened entry id)")
    .option("--since <time>", "everything recorded since (RFC 3339 UTC with milliseconds)")
    .option("--base <url>", "base URL for Bundle.entry.fullUrl")
    .option("--out <file>", "write the Bundle to a file instead of stdout")
    .action(
      async (o: {
        data: string;
        patient?: string;
        report?: string;
        since?: string;
        base?: string;
        out?: string;
      }) => {
        const given = [o.patient, o.report, o.since].filter((x) => x !== undefined);
        if (given.length !== 1)
          throw new RadledgerError("CLI_USAGE", "give exactly one of --patient, --report, --since");
        if (o.patient !== undefined && !pseudonym.safeParse(o.patient).success)
          throw new RadledgerError(
            "CLI_USAGE",
            "--patient must be a patient pseudonym (pt_ followed by 43 base64url characters)",
          );
        const scope: FhirScope =
          o.patient !== undefined
            ? { patient: o.patient }
            : o.report !== undefined
              ? { report: o.report }
              : { since: o.since! };
        // Read-only: no writer lock, so it works while `radledger serve` runs.
        const log = openReadOnly(o.data);
        try {
          // On the log before anything is written: the export (110106), which holds AuditEvents (110101).
          await recordCliRead(o.data, {
            event: "export",
            verb: "export fhir",
            object: { kind: "Bundle", ...("report" in scope ? { id: scope.report } : {}) },
            ...("patient" in scope ? { patient: scope.patient } : {}),
            alsoAuditLog: true,
          });
          const bundle = fhirExport(log.store, nodeFactory.crypto, log.config.origin, scope, {
            now: formatTime(Date.now()),
            ...(o.base === undefined ? {} : { base: o.base }),
          });
          const text = JSON.stringify(bundle, null, 2) + "\n";
          if (o.out === undefined) process.stdout.write(text);
          else {
            writeFileSync(o.out, text, { flag: "wx" });
            process.stderr.write(`${bundle.entry?.length ?? 0} resources written to ${o.out}\n`);
          }
        } finally {
          log.close();
        }
      },
    );
}
