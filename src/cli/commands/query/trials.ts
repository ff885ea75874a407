/** `radledger query trial-timeline`: a trial subject's timeline, corrections and all. */
import type { Command } from "commander";
import { subjectTimeline } from "../../../domain/trials/queries.js";
import { defineQuery, out, short, type QueryInput } from "./common.js";

export function registerTrialQueries(query: Command): void {
  defineQuery(query, {
    command: "trial-timeline",
    description: "a trial subject's timeline with every correction visible",
    options: (c) => c.requiredOption("--subject <id>", "trial.subject.enrolled entry id"),
    answer: ({ log, o }: QueryInput<{ subject: string }>) =>
      subjectTimeline(log.store, log.resolveId("trial.subject", o.subject), { limit: 1000 }),
    print: (t) => {
      out(`trial ${t.trial.sponsor} ${t.trial.protocolId}, subject ${t.subject.subject}`);
      for (const item of t.items) {
        const flags = [
          item.current ? "current" : "superseded",
          item.corrects ? `corrects ${short(item.corrects)}` : "",
          item.correctedBy ? `corrected by ${short(item.correctedBy)}` : "",
        ]
          .filter(Boolean)
          .join(", ");
        out(
          `  ${item.time}  ${(item.timepoint ? `${item.kind} ${item.timepoint}` : item.kind).padEnd(18)} ${short(item.id)}  by ${item.actor}  (${flags})`,
        );
      }
    },
  });
}
