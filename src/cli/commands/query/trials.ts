/**
 * `radledger query trial-subjects | trial-timeline`: a trial's subjects (the ids trial-timeline takes),
 * and a trial subject's timeline, corrections and all.
 */
import type { Command } from "commander";
import { RadledgerError } from "../../../core/errors.js";
import { keyedId } from "../../../domain/schemas.js";
import { findTrialSubject, subjectsOfTrial } from "../../../domain/trials/queries.js";
import { subjectTimeline } from "../../../domain/trials/queries.js";
import { defineQuery, out, short, type QueryInput } from "./common.js";

const trialPseudonym = keyedId("ts_");

export function registerTrialQueries(query: Command): void {
  defineQuery(query, {
    command: "trial-subjects",
    description:
      "a trial's subjects in enrolment order: record id (for trial-timeline), trial pseudonym, site, who enrolled them",
    options: (c) =>
      c
        .requiredOption("--trial <id>", "trial.registered entry id (or a unique prefix, ≥ 6 hex digits)")
        .option("--subject <ts_…>", "only the subject enrolled under this trial pseudonym"),
    paged: true,
    answer: ({ log, o, page }: QueryInput<{ trial: string; subject?: string }>) => {
      const trial = log.resolveId("trial", o.trial);
      if (o.subject === undefined) return subjectsOfTrial(log.store, trial, page);
      if (!trialPseudonym.safeParse(o.subject).success)
        throw new RadledgerError("CLI_USAGE", "--subject must be a trial pseudonym (ts_…)");
      const found = findTrialSubject(log.store, trial, o.subject);
      if (!found) throw new RadledgerError("RECORD_NOT_FOUND", "no such subject in this trial");
      return { items: [found] };
    },
    print: (p: {
      items: { id: string; subject: string; site?: string; enrolledBy: string; enrolledAt: string }[];
      next?: number | string;
    }) => {
      for (const s of p.items)
        out(
          `${s.id}  ${s.subject}  ${s.site ? `site ${s.site}  ` : ""}enrolled ${s.enrolledAt} by ${s.enrolledBy}`,
        );
      if (p.items.length === 0) out("no subjects enrolled");
      if (p.next !== undefined) out(`more: --after ${p.next}`);
    },
  });

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
