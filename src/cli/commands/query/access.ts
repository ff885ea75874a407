/** `radledger query access-history | break-glass-queue | accesses-by-actor`: the recorded accesses. */
import type { Command } from "commander";
import { accessesByActor, breakGlassQueue, type AccessView } from "../../../domain/access/queries.js";
import { searchHistory, type HistoryItem } from "../../../domain/access/history.js";
import { indexSource } from "../../../domain/access/search.js";
import { defineQuery, knownPatient, out, short, type QueryInput } from "./common.js";

function printAccess(a: AccessView): void {
  const who = a.who.displayName ? `${a.who.actor} (${a.who.displayName})` : a.who.actor;
  const why = a.decision === "permit" ? `basis ${a.basis?.kind ?? "?"}` : `reason ${a.reason ?? "?"}`;
  const part = a.part.kind === "record" ? "whole record" : `${a.part.kind} ${short(a.part.id)}`;
  out(
    `${a.time}  ${a.decision.padEnd(6)} ${who}  ${a.action} ${part}  purpose ${a.purpose}  ${why}${a.review?.open ? "  [break-glass: awaiting review]" : ""}`,
  );
}

/**
 * One access of the history: a decided one as printAccess, a reported one says so — the system
 * that reported it, how authentic its transport is, the requestor, the event and its outcome.
 */
function printHistoryItem(a: HistoryItem): void {
  if (a.origin === "decided") {
    printAccess(a);
    return;
  }
  const by = a.reportedBy.displayName
    ? `${a.reportedBy.actor} (${a.reportedBy.displayName})`
    : a.reportedBy.actor;
  const who = a.participants.map((p) => p.userId).join(", ");
  const what = a.event.id.display ?? a.event.id.code;
  out(
    `${a.time}  reported by ${by} via ${a.transport} (authenticated by ${a.authenticatedBy}; recorded ${a.recordedAt})  ${who}  ${what}  outcome ${a.outcome}`,
  );
}

export function registerAccessQueries(query: Command): void {
  defineQuery(query, {
    command: "access-history",
    description:
      "who accessed which part of a patient's record, when, why, on what basis — decided by this node or reported by another system (newest first)",
    options: (c) => c.requiredOption("--patient <pseudonym>"),
    paged: true,
    answer: ({ log, o, page }: QueryInput<{ patient: string }>) => {
      const patient = knownPatient(log, o.patient);
      // Decided and reported accesses merged in log order (src/domain/access/history.ts).
      return searchHistory(
        log.store,
        {
          decided: indexSource(log.store, "access.patient", patient),
          reported: indexSource(log.store, "access.reported.patient", patient),
        },
        {},
        page,
      );
    },
    print: (page) => {
      page.items.forEach(printHistoryItem);
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
