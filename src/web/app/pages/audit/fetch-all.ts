/**
 * Every page of a list endpoint, for a download: the CSV holds the whole result, not only the
 * rows loaded on screen. Bounded (MAX_ROWS) so that a search over a huge log cannot hang the tab;
 * a download that hit the bound says so.
 */
import { api, type Page, type Query } from "../../api.js";
import type { AccessRow } from "./access-table.js";

export const MAX_ROWS = 100_000;

export async function fetchAll(
  path: string,
  query: Query,
): Promise<{ items: AccessRow[]; truncated: boolean }> {
  const items: AccessRow[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await api<Page<AccessRow>>(path, {
      query: { ...query, limit: 1000, ...(after ? { after } : {}) },
    });
    items.push(...page.items);
    if (page.next === undefined) return { items, truncated: false };
    if (items.length >= MAX_ROWS) return { items, truncated: true };
    after = page.next;
  }
}
