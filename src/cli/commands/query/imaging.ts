/** `radledger query study`: a study's record and every entry that references it. */
import type { Command } from "commander";
import { studyRecord } from "../../../domain/imaging/queries.js";
import { defineQuery, out } from "./common.js";

export function registerImagingQueries(query: Command): void {
  defineQuery(query, {
    command: "study <id>",
    description: "a study's record and every entry that references it",
    answer: ({ log, args }) => studyRecord(log.store, log.resolveId("study", args[0]!)),
    print: (r) => {
      out(
        `study ${r.study.id}  patient ${r.study.patient}  ${r.study.modalities.join(",")} ${r.study.bodyPart ?? ""}  ${r.study.instanceCount} instances`,
      );
      for (const e of r.referencedBy) out(`  #${e.index} ${e.time} ${e.type} by ${e.actor} (as ${e.ref})`);
    },
  });
}
