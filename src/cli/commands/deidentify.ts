import type { Command } from "commander";
import { resolve } from "node:path";
import type { DeidTarget } from "../../app/deidentify.js";
import { RadledgerError } from "../../core/errors.js";
import { runWritingOperation } from "../operations.js";
import { printJson } from "../output.js";
import { orthancArchiveArgs } from "./orthanc.js";

interface Options {
  data: string;
  study: string;
  for: string;
  out: string;
  subject?: string;
  timepoint?: string;
  dataset?: string;
  modality?: string;
  signer?: string;
  linkStudy?: boolean;
  via?: string;
  orthancUrl?: string;
  orthancUser?: string;
  orthancPassword?: string;
  keepInArchive?: boolean;
  json?: boolean;
}

export function registerDeidentify(program: Command): void {
  program
    .command("deidentify")
    .description(
      "make a DICOM PS3.15 Annex E (Basic Profile) de-identified copy of a registered study for a trial or dataset, and record its manifest root",
    )
    .requiredOption("--data <dir>", "data directory")
    .requiredOption("--study <id>", "the study.registered entry id")
    .requiredOption("--for <kind>", "trial or dataset")
    .requiredOption("--out <dir>", "where the de-identified files are written (empty or absent)")
    .option("--subject <id>", "trial: the trial.subject.enrolled entry id")
    .option("--timepoint <label>", "trial: the protocol's timepoint label, e.g. baseline")
    .option("--link-study", "trial: reference the source study (links the subject to the patient pseudonym)")
    .option("--dataset <id>", "dataset: the dataset.created entry id")
    .option("--signer <actor>", "dataset: curator or admin whose held key signs (default admin)")
    .option("--modality <code>", "modality recorded (default: the study's first)")
    .option(
      "--via <how>",
      "files (our Annex E rewriter) or orthanc (/anonymize); default: files when on disk",
    )
    .option("--orthanc-url <url>", "Orthanc base URL (for --via orthanc)")
    .option("--orthanc-user <name>", "Orthanc user")
    .option("--orthanc-password <password>", "Orthanc password (or $RADLEDGER_ORTHANC_PASSWORD)")
    .option("--keep-in-archive", "keep Orthanc's de-identified copy in the archive")
    .option("--json", "print the result as JSON")
    .action(async (o: Options) => {
      let target: DeidTarget;
      if (o.for === "trial") {
        if (o.subject === undefined || o.timepoint === undefined)
          throw new RadledgerError("CLI_USAGE", "--for trial needs --subject and --timepoint");
        target = {
          kind: "trial",
          subject: o.subject,
          timepoint: o.timepoint,
          ...(o.modality === undefined ? {} : { modality: o.modality }),
          ...(o.linkStudy === true ? { linkStudy: true } : {}),
        };
      } else if (o.for === "dataset") {
        if (o.dataset === undefined) throw new RadledgerError("CLI_USAGE", "--for dataset needs --dataset");
        target = {
          kind: "dataset",
          dataset: o.dataset,
          ...(o.modality === undefined ? {} : { modality: o.modality }),
          ...(o.signer === undefined ? {} : { signer: o.signer }),
        };
      } else throw new RadledgerError("CLI_USAGE", "--for must be trial or dataset");
      if (o.via !== undefined && o.via !== "files" && o.via !== "orthanc")
        throw new RadledgerError("CLI_USAGE", "--via must be files or orthanc");
      const archive =
        o.orthancUrl === undefined
          ? undefined
          : orthancArchiveArgs({
              url: o.orthancUrl,
              ...(o.orthancUser === undefined ? {} : { user: o.orthancUser }),
              ...(o.orthancPassword === undefined ? {} : { password: o.orthancPassword }),
            });
      // Through the serving node when `radledger serve` holds the data directory; the output path is
      // absolute because that process does not share this working directory.
      const r = await runWritingOperation(o.data, "deidentify", {
        study: o.study,
        out: resolve(o.out),
        target,
        ...(o.via === undefined ? {} : { via: o.via }),
        ...(archive === undefined ? {} : { archive }),
        ...(o.keepInArchive === true ? { keepInArchive: true as const } : {}),
      });
      if (o.json) printJson(r);
      else
        process.stdout.write(
          `${r.instanceCount} de-identified instances (${r.via}) in ${o.out}; manifest root ${r.manifestRoot}; ` +
            `${r.entryType} at index ${r.index} (${r.entryId})\n`,
        );
    });
}
