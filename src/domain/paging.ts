/** Cursor paging shared by every list query: `next` is the last seq of the page, passed back as `after`. */
export interface Page<T> {
  readonly items: T[];
  /** Pass as `after` to get the next page; absent on the last page. */
  readonly next?: number;
}

export interface PageOptions {
  readonly after?: number;
  readonly limit?: number;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/** Rows fetched with limit + 1, so that a further page is known to exist. */
export function page<R extends { seq: number }, T>(
  rows: readonly R[],
  limit: number,
  map: (row: R) => T,
): Page<T> {
  const items = rows.slice(0, limit).map(map);
  return rows.length > limit ? { items, next: rows[limit - 1]!.seq } : { items };
}

export function lookupOptions(options: PageOptions): { after?: number; limit: number } {
  const limit = Math.min(Math.max(1, options.limit ?? DEFAULT_PAGE), MAX_PAGE);
  return { ...(options.after === undefined ? {} : { after: options.after }), limit };
}
