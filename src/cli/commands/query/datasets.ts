/** `radledger query dataset-credits`: who contributed what to a dataset version. */
import type { Command } from "commander";
import { RadledgerError } from "../../../core/errors.js";
import { creditReport } from "../../../domain/datasets/queries.js";
import { defineQuery, out, type QueryInput } from "./common.js";

export function registerDatasetQueries(query: Command): void {
  defineQuery(query, {
    command: "dataset-credits",
    description: "who contributed what to a dataset version, counted",
    options: (c) =>
      c
        .requiredOption("--dataset <id>")
        .option("--dataset-version <n>", "version (default: the latest sealed)"),
    answer: ({ log, o }: QueryInput<{ dataset: string; datasetVersion?: string }>) => {
      const version = o.datasetVersion === undefined ? undefined : Number(o.datasetVersion);
      if (version !== undefined && !Number.isSafeInteger(version))
        throw new RadledgerError("CLI_USAGE", "--dataset-version must be an integer");
      return creditReport(log.store, log.resolveId("dataset", o.dataset), version);
    },
    print: (r) => {
      out(
        `${r.dataset.name} v${r.version} (${r.sealed ? `sealed, manifest root ${r.seal?.manifestRoot}` : "open, provisional"})`,
      );
      out(
        `  ${r.totals.contributors} contributors, ${r.totals.items} items, ${r.totals.annotations} annotations, ${r.totals.vendorContributions} vendor contributions`,
      );
      for (const c of r.contributors)
        out(
          `  ${c.actor}${c.displayName ? ` (${c.displayName})` : ""}: ${c.items} items, ${c.annotations} annotations, ${c.vendorContributions} vendor contributions`,
        );
    },
  });
}
