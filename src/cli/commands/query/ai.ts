/** `radledger query ai-recall`: everything a model version touched (the AI recall of mission area 2). */
import type { Command } from "commander";
import { RadledgerError } from "../../../core/errors.js";
import { aiRecall } from "../../../domain/ai/queries.js";
import { defineQuery, out, type QueryInput } from "./common.js";

export function registerAiQueries(query: Command): void {
  defineQuery(query, {
    command: "ai-recall",
    description:
      "every report, study and patient touched by a model version, directly or through an amendment",
    options: (c) =>
      c
        .option("--model <id>", "model version id (ai.model.registered entry)")
        .option("--vendor <vendor>")
        .option("--name <name>")
        .option("--model-version <version>"),
    answer: ({
      log,
      o,
    }: QueryInput<{ model?: string; vendor?: string; name?: string; modelVersion?: string }>) => {
      if (o.model !== undefined) return aiRecall(log.store, { id: log.resolveId("ai.model", o.model) });
      if (o.vendor !== undefined && o.name !== undefined && o.modelVersion !== undefined)
        return aiRecall(log.store, { vendor: o.vendor, name: o.name, version: o.modelVersion });
      throw new RadledgerError("CLI_USAGE", "give --model ID, or --vendor, --name and --model-version");
    },
    print: (r) => {
      out(
        `${r.model.vendor} ${r.model.name} ${r.model.version} (${r.model.status}): ${r.reports.length} reports, ${r.studies.length} studies, ${r.patients.length} patients`,
      );
      for (const id of r.reports) out(`  report  ${id}`);
      for (const id of r.studies) out(`  study   ${id}`);
      for (const id of r.patients) out(`  patient ${id}`);
    },
  });
}
