/**
 * The access history as people read it (issue 21 §2/§3): the accesses this node decided
 * (access.recorded, ./state.ts) and the accesses another hospital system reported in an IHE ATNA
 * audit message (access.reported, ./reported.ts), merged into one list in log order, each item
 * saying its `origin`.
 *
 * Merging: both indexes are keyed by log index (a row's seq), which is one sequence for the whole
 * log, so a page's cursor — the last seq it examined — continues both lists at once: rows after it
 * in each index, merged by seq. No row is skipped or repeated however the two interleave. The list
 * is therefore in the order the node RECORDED the accesses; a reported item's `time` is when the
 * event happened in the reporting system (it may be earlier), `recordedAt` when the node wrote it.
 *
 * Filters (./search.ts AccessFilter) apply where they have a meaning for a report: from/to to the
 * event's time, actor to a participant's user id or the reporting system's actor, decision to the
 * outcome (permit ↔ EventOutcomeIndicator 0, deny ↔ a failure, DICOM PS3.15 A.5.1), purpose to the
 * event's PurposeOfUse codes. Part kind and basis are the node's decision vocabulary: a report has
 * neither, so those filters leave reports out. A page examines at most MAX_SCAN rows of both lists
 * together, as ./search.ts does, and may be short with `next`.
 */
import type { IndexRow, StateReader } from "../../ports/storage.js";
import { getActor } from "../identity/state.js";
import { lookupOptions, type Page, type PageOptions } from "../paging.js";
import { viewer, type AccessView } from "./queries.js";
import { reportedAt, type AccessReportedBody, type ReportTransport } from "./reported.js";
import { accessMatches, isFiltered, scanPage, type AccessFilter, type RowSource } from "./search.js";
import { getAccess } from "./state.js";

export type AccessOrigin = "decided" | "reported";

export interface HistoryFilter extends AccessFilter {
  /** Only decided (access.recorded) or only reported (access.reported) accesses; default both. */
  readonly origin?: AccessOrigin;
  /**
   * Leave out the accesses of this actor (a patient's own views, issue 21 §3): decided ones whose
   * actor it is, reported ones whose requestor's user id it is.
   */
  readonly excludeActor?: string;
}

/**
 * EventOutcomeIndicator (DICOM PS3.15 A.5.1): 0 success, 4 minor failure, 8 serious failure,
 * 12 major failure.
 */
export const OUTCOMES = {
  0: "success",
  4: "minor-failure",
  8: "serious-failure",
  12: "major-failure",
} as const;

export interface ReportedAccessView {
  readonly origin: "reported";
  readonly id: string;
  readonly index: number;
  /** When the event happened, as the reporting system said (EventDateTime). */
  readonly time: string;
  /** When the node recorded the report (the entry's time). */
  readonly recordedAt: string;
  readonly patient: string;
  /** The system actor whose statement this is (it signed the entry). */
  readonly reportedBy: { readonly actor: string; readonly displayName?: string };
  /**
   * How the message came and so how far the sender is authenticated (docs/audit.md): syslog-tls by
   * the client certificate an admin bound to the system actor; syslog-tcp/udp only by the sender's
   * network address, which anyone on that network path can use.
   */
  readonly transport: ReportTransport;
  readonly authenticatedBy: "certificate" | "credential" | "network-address";
  /** The audit source as the system names itself. */
  readonly source: AccessReportedBody["source"];
  readonly event: {
    readonly id: AccessReportedBody["event"]["id"];
    readonly types?: AccessReportedBody["event"]["types"];
    readonly action?: AccessReportedBody["event"]["action"];
    readonly purposes?: AccessReportedBody["event"]["purposes"];
  };
  readonly outcome: (typeof OUTCOMES)[keyof typeof OUTCOMES];
  /** Who: the participants' user ids as the reporting system knows them, the requestor first. */
  readonly participants: readonly { readonly userId: string; readonly requestor: boolean }[];
  /** The studies the event names: the pseudonym, and this node's study id where registered. */
  readonly studies: readonly { readonly key: string; readonly study?: string }[];
}

/**
 * How far each transport authenticates its sender: syslog over TLS by the client certificate an
 * admin bound to the system actor; the FHIR feed (ITI-20) by the system actor's API token or bound
 * client certificate; plain syslog TCP/UDP only by the sender's network address.
 */
const AUTHENTICATED_BY: Record<ReportTransport, ReportedAccessView["authenticatedBy"]> = {
  "syslog-tls": "certificate",
  "fhir-iti20": "credential",
  "syslog-tcp": "network-address",
  "syslog-udp": "network-address",
};

export type HistoryItem = (AccessView & { readonly origin: "decided" }) | ReportedAccessView;

/** Rows of both lists, tagged. */
export interface TaggedRow extends IndexRow {
  readonly origin: AccessOrigin;
}

/**
 * The rows of two sources in their common order (newest first unless `oldestFirst`), merged by
 * seq: those after `cursor`, at most `limit`. Each source gives at most `limit` rows per call.
 */
export function mergedSource(
  decided: RowSource | undefined,
  reported: RowSource | undefined,
  oldestFirst = false,
): (cursor: number | undefined, limit: number) => TaggedRow[] {
  return (cursor, limit) => {
    const a = decided ? decided(cursor, limit).map((r) => ({ ...r, origin: "decided" as const })) : [];
    const b = reported ? reported(cursor, limit).map((r) => ({ ...r, origin: "reported" as const })) : [];
    const all = [...a, ...b].sort((x, y) => (oldestFirst ? x.seq - y.seq : y.seq - x.seq));
    return all.slice(0, limit);
  };
}

/** Reads reported accesses as views; caches actor names. */
export function reportedViewer(state: StateReader): (id: string) => ReportedAccessView | undefined {
  const names = new Map<string, string | undefined>();
  return (id) => {
    const r = reportedAt(state, id);
    if (r === undefined) return undefined;
    const b = r.body;
    if (!names.has(r.reportedBy)) {
      const doc = getActor(state, r.reportedBy);
      names.set(r.reportedBy, typeof doc?.displayName === "string" ? doc.displayName : undefined);
    }
    const displayName = names.get(r.reportedBy);
    const participants = [...b.participants]
      .sort((x, y) => Number(y.requestor) - Number(x.requestor))
      .map((p) => ({ userId: p.userId, requestor: p.requestor }));
    return {
      origin: "reported",
      id,
      index: r.index,
      time: b.event.time,
      recordedAt: r.time,
      patient: b.patient,
      reportedBy: { actor: r.reportedBy, ...(displayName === undefined ? {} : { displayName }) },
      transport: b.transport,
      authenticatedBy: AUTHENTICATED_BY[b.transport],
      source: b.source,
      event: {
        id: b.event.id,
        ...(b.event.types ? { types: b.event.types } : {}),
        ...(b.event.action ? { action: b.event.action } : {}),
        ...(b.event.purposes ? { purposes: b.event.purposes } : {}),
      },
      outcome: OUTCOMES[b.event.outcome],
      participants,
      studies: (b.studies ?? []).map((key) => {
        const study = state.lookup("study.key", key, { limit: 1 })[0]?.value;
        return study === undefined ? { key } : { key, study };
      }),
    };
  };
}

/** Whether a reported access matches (the module comment says which filters apply and how). */
export function reportedMatches(r: ReportedAccessView, f: HistoryFilter): boolean {
  const requestor = r.participants.find((p) => p.requestor)?.userId;
  return (
    f.origin !== "decided" &&
    f.part === undefined &&
    f.basis === undefined &&
    (f.from === undefined || r.time >= f.from) &&
    (f.to === undefined || r.time < f.to) &&
    (f.patient === undefined || r.patient === f.patient) &&
    (f.actor === undefined ||
      r.reportedBy.actor === f.actor ||
      r.participants.some((p) => p.userId === f.actor)) &&
    (f.purpose === undefined || (r.event.purposes ?? []).some((p) => p.code === f.purpose)) &&
    (f.decision === undefined || (f.decision === "permit") === (r.outcome === "success")) &&
    (f.excludeActor === undefined || requestor !== f.excludeActor)
  );
}

/**
 * One page of the merged history: `decided` and `reported` list the two kinds of row in the same
 * order; `options.after` is the previous page's `next`.
 */
export function searchHistory(
  state: StateReader,
  sources: { readonly decided?: RowSource; readonly reported?: RowSource; readonly oldestFirst?: boolean },
  filter: HistoryFilter,
  options: PageOptions & { readonly scan?: number } = {},
): Page<HistoryItem> {
  const o = lookupOptions(options);
  const { origin, excludeActor, ...rest } = filter;
  const source = mergedSource(
    origin === "reported" ? undefined : sources.decided,
    origin === "decided" ? undefined : sources.reported,
    sources.oldestFirst,
  );
  const viewDecided = viewer(state);
  const viewReported = reportedViewer(state);
  const item = (row: TaggedRow): HistoryItem | undefined => {
    if (row.origin === "decided") {
      const doc = getAccess(state, row.value);
      if (!doc) return undefined;
      if (!accessMatches(doc, rest) || (excludeActor !== undefined && doc.actor === excludeActor))
        return undefined;
      return { ...viewDecided(row), origin: "decided" };
    }
    const r = viewReported(row.value);
    return r && reportedMatches(r, filter) ? r : undefined;
  };
  // Unfiltered, every row is an item: fetching one row more than the page says whether more follow.
  return scanPage(source, item, {
    ...o,
    everyRowAnItem: !isFiltered(filter),
    ...(options.scan === undefined ? {} : { scan: options.scan }),
  });
}
