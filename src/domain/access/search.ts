/**
 * Filtered access lists: a patient's history or an actor's accesses narrowed by time, accessing
 * actor, part, purpose, decision and basis (the patient's "who looked at my record" filters and the
 * auditor's access search, issue 20).
 *
 * The access projection indexes accesses by patient and by actor only; the other criteria are
 * checked on each access document while walking an index. So that no request walks an
 * unbounded list, one page examines at most `scan` rows (default MAX_SCAN): a page can then hold
 * fewer than `limit` items — even none — and still carry `next`, the cursor to continue from.
 * Only a page without `next` says the list is exhausted. Unfiltered lists keep the plain paging of
 * ./queries.ts.
 */
import type { IndexRow, StateReader } from "../../ports/storage.js";
import type { PartKind, PurposeOfUse } from "../consent/entries.js";
import { lookupOptions, page, type Page, type PageOptions } from "../paging.js";
import { viewer, type AccessView } from "./queries.js";
import { getAccess, type AccessDoc } from "./state.js";

export interface AccessFilter {
  /** Accesses at or after this time (canonical RFC 3339 UTC with milliseconds). */
  readonly from?: string;
  /** Accesses before this time (exclusive). */
  readonly to?: string;
  /** The accessing actor. */
  readonly actor?: string;
  readonly patient?: string;
  readonly part?: PartKind;
  readonly purpose?: PurposeOfUse;
  readonly decision?: "permit" | "deny";
  readonly basis?: NonNullable<AccessDoc["basis"]>["kind"];
}

/** Rows one filtered page examines at most: a patient with 10,000 accesses is one page's walk. */
export const MAX_SCAN = 10_000;
const CHUNK = 512;

/**
 * Rows of a list in its order (newest first, or log order): those after `cursor` in that order (all
 * without it), at most `limit`. A row's value is an access id.
 */
export type RowSource = (cursor: number | undefined, limit: number) => IndexRow[];

export function isFiltered(f: AccessFilter): boolean {
  return Object.values(f).some((v) => v !== undefined);
}

/**
 * Whether an access matches. Canonical times have one fixed width and format
 * (src/core/entry.ts isCanonicalTime), so they compare as strings.
 */
export function accessMatches(a: AccessDoc, f: AccessFilter): boolean {
  return (
    (f.from === undefined || a.time >= f.from) &&
    (f.to === undefined || a.time < f.to) &&
    (f.actor === undefined || a.actor === f.actor) &&
    (f.patient === undefined || a.patient === f.patient) &&
    (f.part === undefined || a.part.kind === f.part) &&
    (f.purpose === undefined || a.purpose === f.purpose) &&
    (f.decision === undefined || a.decision === f.decision) &&
    (f.basis === undefined || a.basis?.kind === f.basis)
  );
}

/** The rows of one index, newest first unless `oldestFirst`, as a RowSource. */
export function indexSource(state: StateReader, name: string, key: string, oldestFirst = false): RowSource {
  return (cursor, limit) =>
    state.lookup(name, key, {
      ...(cursor === undefined ? {} : { after: cursor }),
      limit,
      reverse: !oldestFirst,
    });
}

/**
 * One page of the accesses `source` lists, in its order, that match `filter`; `options.after` is
 * the previous page's `next`.
 */
export function searchAccesses(
  state: StateReader,
  source: RowSource,
  filter: AccessFilter,
  options: PageOptions & { readonly scan?: number } = {},
): Page<AccessView> {
  const o = lookupOptions(options);
  const view = viewer(state);
  if (!isFiltered(filter)) return page(source(o.after, o.limit + 1), o.limit, view);
  return scanPage(
    source,
    (row) => {
      const doc = getAccess(state, row.value);
      return doc && accessMatches(doc, filter) ? view(row) : undefined;
    },
    { ...o, ...(options.scan === undefined ? {} : { scan: options.scan }) },
  );
}

/**
 * The walk every filtered access list shares: rows from `source` after `after`, in chunks, each
 * turned into an item or skipped, until the page holds `limit` items or `scan` rows (default
 * MAX_SCAN) were examined. A page cut short by the budget carries `next` — the last row examined —
 * so a short or even empty page is not the end; only a page without `next` is. `everyRowAnItem`
 * (an unfiltered list) fetches only one row more than the page needs, to know whether more follow.
 */
export function scanPage<R extends { readonly seq: number }, T>(
  source: (cursor: number | undefined, limit: number) => readonly R[],
  item: (row: R) => T | undefined,
  options: {
    readonly after?: number;
    readonly limit: number;
    readonly scan?: number;
    readonly everyRowAnItem?: boolean;
  },
): Page<T> {
  const budget = Math.max(1, options.scan ?? MAX_SCAN);
  const items: T[] = [];
  let cursor = options.after;
  let scanned = 0;
  while (scanned < budget) {
    const want = Math.min(
      CHUNK,
      budget - scanned,
      options.everyRowAnItem === true ? options.limit - items.length + 1 : CHUNK,
    );
    const rows = source(cursor, want);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      scanned++;
      cursor = row.seq;
      const it = item(row);
      if (it === undefined) continue;
      items.push(it);
      // A full page: more may follow unless this was the list's very last row.
      if (items.length === options.limit)
        return i === rows.length - 1 && rows.length < want ? { items } : { items, next: row.seq };
    }
    if (rows.length < want) return { items };
  }
  // The scan budget is spent: the caller continues from where this page stopped.
  return cursor === undefined ? { items } : { items, next: cursor };
}
