/** `radledger query access-history | break-glass-queue | accesses-by-actor`: the recorded accesses. */
import type { Command } from "commander";
import {
  accessHistory,
  accessesByActor,
  breakGlassQueue,
  type AccessView,
} from "../../../domain/access/queries.js";
import { defineQuery, knownPatient, out, short, type QueryInput } from "./common.js";

function printAccess(a: AccessView): void {
  const who = a.who.displayName ? `${a.who.actor} (${a.who.displayName})` : a.who.actor;
  const why = a.decision === "permit" ? `basis ${a.basis?.kind ?? "?"}` : `reason ${a.reason ?? "?"}`;
  const part = a.part.kind === "record" ? "whole record" : `${a.part.kind} ${short(a.part.id)}`;
  out(
    `${a.time}  ${a.decision.padEnd(6)} ${who}  ${a.action} ${part}  purpose ${a.purpose}  ${why}${a.review?.open ? "  [break-glass: awaiting review]" : ""}`,
  );
}

export function registerAccessQueries(query: Command): void {
  defineQuery(query, {
    command: "access-history",
    description: "who accessed which part of a patient's record, when, why, on what basis (newest first)",
    options: (c) => c.requiredOption("--patient <pseudonym>"),
    paged: true,
    answer: ({ log, o, page }: QueryInput<{ patient: string }>) =>
      accessHistory(log.store, knownPatient(log, o.patient), page),
    print: (page) => {
      page.items.forEach(printAccess);
      if (page.items.length === 0) out("no accesses recorded");
      if (page.next !== undefined) out(`more: --after ${page.next}`);
    },
  });

  defineQuery(query, {
    command: "break-glass-queue",
    description: "break-glass accesses awaiting an auditor's review (oldest first)",
    paged: true,
    answer: ({ log, page }) => breakGlassQueue(log.store, page),
    print: (page) => {
      page.items.forEach(printAccess);
      if (page.items.length === 0) out("the review queue is empty");
    },
  });

  defineQuery(query, {
    command: "accesses-by-actor",
    description: "every access decision about one actor",
    options: (c) => c.requiredOption("--actor <id>"),
    paged: true,
    answer: ({ log, o, page }: QueryInput<{ actor: string }>) => accessesByActor(log.store, o.actor, page),
    print: (page) => {
      page.items.forEach(printAccess);
    },
  });
}
