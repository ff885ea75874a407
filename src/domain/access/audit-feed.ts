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
import { fromUtf8 } from "../../core/bytes.js";
import type { AccessReportedBody, ReportedAccessDoc } from "./reported.js";
import { getAccess, type AccessDoc } from "./state.js";

export interface FeedRow {
  readonly seq: number;
  readonly kind: "access" | "reported";
  /** The entry's leaf hash (an access's id, a reported access's entry id). */
  readonly id: string;
}

/** Rows newest first, strictly before `before` (all without it), at most `limit`. */
export type FeedSource = (before: number | undefined, limit: number) => FeedRow[];

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
const CHUNK = 512;

/** A projection index (newest first) as a FeedSource of one kind. */
export function indexFeed(state: StateReader, name: string, key: string, kind: FeedRow["kind"]): FeedSource {
  return (before, limit) =>
    state
      .lookup(name, key, { ...(before === undefined ? {} : { after: before }), limit, reverse: true })
      .map((r) => ({ seq: r.seq, kind, id: r.value }));
}

/** Two newest-first sources as one (their seqs are log indexes: disjoint). */
export function mergeFeeds(a: FeedSource, b: FeedSource): FeedSource {
  return (before, limit) =>
    [...a(before, limit), ...b(before, limit)].sort((x, y) => y.seq - x.seq).slice(0, limit);
}

/** Reads the reported access stored at `id` (the entry itself: access.reported keeps no document). */
export function reportedAt(state: StateReader, id: string): ReportedAccessDoc | undefined {
  const stored = state.entryByLeafHash(id);
  if (stored === undefined || stored.type !== "access.reported") return undefined;
  const e = JSON.parse(fromUtf8(stored.bytes)) as { time: string; actor: string; body: AccessReportedBody };
  return { id, index: stored.index, time: e.time, reportedBy: e.actor, body: e.body };
}

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
  source: FeedSource,
  filter: FeedFilter,
  options: { readonly before?: number; readonly limit: number; readonly scan?: number },
): { items: FeedItem[]; next?: number } {
  const budget = Math.max(1, options.scan ?? MAX_FEED_SCAN);
  const items: FeedItem[] = [];
  let cursor = options.before;
  let scanned = 0;
  while (scanned < budget) {
    const want = Math.min(CHUNK, budget - scanned);
    const rows = source(cursor, want);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      scanned++;
      cursor = row.seq;
      const item: FeedItem | undefined =
        row.kind === "access"
          ? ((doc) => doc && { kind: "access" as const, seq: row.seq, doc })(getAccess(state, row.id))
          : ((doc) => doc && { kind: "reported" as const, seq: row.seq, doc })(reportedAt(state, row.id));
      if (item !== undefined && matches(item, filter)) {
        items.push(item);
        if (items.length === options.limit)
          return i === rows.length - 1 && rows.length < want ? { items } : { items, next: row.seq };
      }
    }
    if (rows.length < want) return { items };
  }
  return cursor === undefined ? { items } : { items, next: cursor };
}
