/**
 * `radledger export bundle`: a record with its proofs and payloads as one file (ustar) or one
 * directory (docs/bundle-format.md), for a sponsor, regulator, research group or patient to verify
 * offline with `radledger verify BUNDLE` or the browser verifier.
 */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import {
  payloadCatalog,
  prepareBundle,
  writeBundleDirectory,
  writeBundleFile,
} from "../../app/bundle-export.js";
import { openExportSource } from "../../wiring/export.js";
import { RadledgerError } from "../../core/errors.js";
import { BUNDLE_KINDS } from "../../core/bundle/format.js";
import { printJson, Progress } from "../output.js";
import { recordCliRead } from "../audit.js";

interface ExportBundleOptions {
  data: string;
  kind: string;
  id: string;
  version?: string;
  out?: string;
  outDir?: string;
  files?: string;
  disclose: boolean;
  checkpoint?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerExport(program: Command): void {
  const exp = program.command("export").description("export records for verification elsewhere");
  exp
    .command("bundle")
    .description(
      "export a record with its entries, inclusion proofs, checkpoint, signer enrolments and payloads as a verifiable bundle",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--kind <kind>", `what to export: ${BUNDLE_KINDS.join(", ")}`)
    .requiredOption("--id <id>", "the record's id (entry id), or the patient's pseudonym for kind access")
    .option("--version <n>", "dataset bundles: the sealed version (default: the latest)")
    .option("--out <file>", "write one ustar file (e.g. report.radledger.tar)")
    .option("--out-dir <dir>", "write a directory with the same files instead")
    .option(
      "--files <dir>",
      "files to include where entries commit to their hashes (annotations, DICOM folders)",
    )
    .option("--no-disclose", "leave out the vault content (report texts, salts) behind commitments")
    .option(
      "--checkpoint <file>",
      "prove against this checkpoint of the log (e.g. one with witness cosignatures)",
    )
    .option("--json", "print the result as JSON")
    .option("--quiet", "no progress output")
    .action(async (o: ExportBundleOptions) => {
      if ((o.out === undefined) === (o.outDir === undefined))
        throw new RadledgerError("CLI_USAGE", "give exactly one of --out FILE or --out-dir DIR");
      let version: number | undefined;
      if (o.version !== undefined) {
        if (!/^[1-9][0-9]{0,8}$/.test(o.version))
          throw new RadledgerError("CLI_USAGE", "--version must be a positive integer");
        version = Number(o.version);
      }
      const checkpoint = o.checkpoint === undefined ? undefined : readFileSync(o.checkpoint, "utf8");
      // Read-only: no writer lock, so a bundle can be exported while the node serves.
      const source = openExportSource(o.data);
      try {
        const payload = o.files === undefined ? undefined : await payloadCatalog(source.crypto, o.files);
        const progress = new Progress("export", "entries", !o.quiet && !o.json);
        const { manifest, members } = prepareBundle(
          source,
          { kind: o.kind, id: o.id, ...(version === undefined ? {} : { version }) },
          {
            disclose: o.disclose,
            ...(payload ? { payload } : {}),
            ...(checkpoint === undefined ? {} : { checkpoint }),
            onProgress: (d, t) => progress.update(d, t),
          },
        );
        // On the log before a byte is written (docs/audit.md): the export (110106); an access history
        // is also a use of the audit trail (110101); a report's disclosed text is an access to it.
        const report =
          manifest.kind === "report" && o.disclose
            ? (source.store.getDoc("report", manifest.subject.id) as
                { patient?: unknown; study?: unknown } | undefined)
            : undefined;
        await recordCliRead(o.data, {
          event: "export",
          verb: "export bundle",
          object: {
            kind: manifest.kind,
            ...(/^[0-9a-f]{64}$/.test(manifest.subject.id) ? { id: manifest.subject.id } : {}),
          },
          ...(manifest.kind === "access" ? { patient: manifest.subject.id, alsoAuditLog: true } : {}),
          ...(typeof report?.patient === "string" && typeof report.study === "string"
            ? {
                patient: report.patient,
                accesses: [
                  {
                    patient: report.patient,
                    part: { kind: "report" as const, id: manifest.subject.id, study: report.study },
                    action: "export" as const,
                  },
                ],
              }
            : {}),
        });
        const target = o.out ?? o.outDir!;
        const { bytes } =
          o.out !== undefined
            ? await writeBundleFile(members, o.out)
            : await writeBundleDirectory(members, o.outDir!);
        progress.done();
        const result = {
          ok: true,
          path: target,
          bytes,
          kind: manifest.kind,
          subject: manifest.subject,
          size: manifest.size,
          entries: manifest.entries.length,
          disclosures: manifest.disclosures.length,
          files: manifest.files.length,
          instances: manifest.images.reduce((n, s) => n + s.instances.length, 0),
          logKey: manifest.logKey,
        };
        if (o.json) printJson(result);
        else
          process.stdout.write(
            `wrote ${target}: ${result.entries} entries with proofs against tree size ${result.size}, ` +
              `${result.disclosures} disclosures, ${result.files} files, ${result.instances} instances (${bytes} bytes)\n` +
              `verify with: radledger verify ${target} --log-key '${manifest.logKey}'\n` +
              "(give the recipient this log key by a channel they trust, not inside the bundle: a key taken from the bundle proves nothing)\n",
          );
      } finally {
        source.close();
      }
    });
}
