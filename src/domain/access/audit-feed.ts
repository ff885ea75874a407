/**
 * The audit trail as IHE RESTful ATNA's Retrieve ATNA Audit Event [ITI-81] searches it: the node's
 * own access decisions (access.recorded, the `access` projection) and the accesses other systems
 * reported (access.reported), merged into one list, newest first (log order reversed: the order
 * the node recorded them), filtered by date, patient, agent, entity type and outcome.
 *
 * Every source is an index walked newest first — a patient's (access.patient +
 * access.reported.patient), an actor's (access.actor + access.reported.source), or, with neither,
 * the entries' type index (StateReader.recentEntries) — and the other criteria are checked on each
 * record. Like ./search.ts, one page examines at most `scan` rows, so a page can be short (even
 * empty) and still carry `next`; only a page without `next` ends the list. `next` is a log index:
 * the next page holds records strictly before it, so pages neither lose nor repeat a record while
 * new ones are appended.
 */
import type { StateReader } from "../../ports/storage.js";
import type { Page } from "../paging.js";
import { mergedSource, type TaggedRow } from "./history.js";
import { reportedAt, type ReportedAccessDoc } from "./reported.js";
import { scanPage, type RowSource } from "./search.js";
import { getAccess, type AccessDoc } from "./state.js";

/** The decided and the reported rows to walk, each newest first (./search.ts indexSource). */
export interface FeedSources {
  readonly decided: RowSource;
  readonly reported: RowSource;
}

export type FeedItem =
  | { readonly kind: "access"; readonly seq: number; readonly doc: AccessDoc }
  | { readonly kind: "reported"; readonly seq: number; readonly doc: ReportedAccessDoc };

export interface FeedFilter {
  /** Inclusive bounds on the event's time (AuditEvent.recorded), canonical RFC 3339 UTC with ms. */
  readonly from?: string;
  readonly to?: string;
  readonly patient?: string;
  /** An actor id: the accessing actor of a decision; the reporting system or a participant of a report. */
  readonly agent?: string;
  /** audit-entity-type code: "1" person (every record names its patient), "2" system object. */
  readonly entityType?: string;
  readonly outcome?: "0" | "4" | "8" | "12";
}

export const MAX_FEED_SCAN = 10_000;

function matches(item: FeedItem, f: FeedFilter): boolean {
  let time: string, patient: string, outcome: string, agents: readonly string[], system: boolean;
  if (item.kind === "access") {
    const a = item.doc;
    time = a.time;
    patient = a.patient;
    outcome = a.decision === "permit" ? "0" : "4";
    agents = [a.actor];
    system = a.part.kind !== "record";
  } else {
    const b = item.doc.body;
    time = b.event.time;
    patient = b.patient;
    outcome = String(b.event.outcome);
    agents = [item.doc.reportedBy, ...b.participants.map((p) => p.userId)];
    system = (b.studies?.length ?? 0) > 0;
  }
  return (
    (f.from === undefined || time >= f.from) &&
    (f.to === undefined || time <= f.to) &&
    (f.patient === undefined || patient === f.patient) &&
    (f.agent === undefined || agents.includes(f.agent)) &&
    (f.entityType === undefined || f.entityType === "1" || (f.entityType === "2" && system)) &&
    (f.outcome === undefined || outcome === f.outcome)
  );
}

/** One page of the feed: at most `limit` matching records strictly before `before`. */
export function searchFeed(
  state: StateReader,
  sources: FeedSources,
  filter: FeedFilter,
  options: { readonly before?: number; readonly limit: number; readonly scan?: number },
): Page<FeedItem> {
  const item = (row: TaggedRow): FeedItem | undefined => {
    const found: FeedItem | undefined =
      row.origin === "decided"
        ? ((doc) => doc && { kind: "access" as const, seq: row.seq, doc })(getAccess(state, row.value))
        : ((doc) => doc && { kind: "reported" as const, seq: row.seq, doc })(reportedAt(state, row.value));
    return found !== undefined && matches(found, filter) ? found : undefined;
  };
  return scanPage(mergedSource(sources.decided, sources.reported), item, {
    ...(options.before === undefined ? {} : { after: options.before }),
    limit: options.limit,
    scan: options.scan ?? MAX_FEED_SCAN,
  });
}
