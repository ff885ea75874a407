/**
 * The log explorer's public reads (issue 20, item 7): the checkpoint history with its witnesses'
 * cosignatures and anchoring, the recent entries with counts by type, and one entry's inclusion
 * proof. Public like the tiles and proofs they summarise, so they carry nothing the tiles do not
 * already show but an entry's **type** and its **time to the minute**: never the actor, the
 * references or the body (a patient's pseudonym is personal data; docs/privacy.md §The log
 * explorer, where the reasoning about what types and times could still tell is written down).
 *
 * Every list is bounded by an index (src/adapters/sqlite/log-store.ts entries_type, the checkpoints'
 * primary key), so no query of an anonymous caller scans the log.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { fromHex, fromUtf8, toBase64, toHex } from "../core/bytes.js";
import { RadledgerError } from "../core/errors.js";
import type { StoredEntry } from "../ports/storage.js";
import type { AnchorStore, CosignatureStore } from "../ports/consortium.js";
import { defineRoute, type Api } from "./route.js";

/** What the explorer reads of the consortium side, when the node has one. */
export type ExplorerConsortium = Pick<CosignatureStore, "cosignedBetween"> &
  Pick<AnchorStore, "anchorsBetween" | "latestAnchor">;

const uint = z.string().regex(/^(0|[1-9][0-9]{0,15})$/, "expected a non-negative integer");
const small = (max: number) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,3}$/, `expected an integer 1..${max}`)
    .refine((v) => Number(v) <= max, `expected an integer 1..${max}`);

/** An integer query parameter within the safe range (16 digits may still exceed 2^53). */
function safeInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new RadledgerError("INPUT_INVALID", `query.${name}: too large`, { at: `query.${name}` });
  return n;
}

/**
 * An entry's time to the minute, `YYYY-MM-DDTHH:MMZ` (ISO 8601 reduced precision). Entry times are
 * canonical (`…:SS.sssZ`, src/core/entry.ts isCanonicalTime): the minute is their first 16 characters.
 */
export function entryMinute(bytes: Uint8Array): string | undefined {
  try {
    const time = (JSON.parse(fromUtf8(bytes)) as { time?: unknown }).time;
    return typeof time === "string" && time.length >= 16 ? `${time.slice(0, 16)}Z` : undefined;
  } catch {
    return undefined;
  }
}

const publicEntry = z.object({
  index: z.number().int(),
  leafHash: z.string().describe("lowercase hex leaf hash (RFC 9162 §2.1.1): the entry's id"),
  type: z.string(),
  time: z.string().optional().describe("the entry's time to the minute, e.g. 2026-01-02T03:04Z"),
});

const checkpointItem = z.object({
  size: z.number().int(),
  root: z.string().describe("base64 root hash"),
  time: z
    .string()
    .optional()
    .describe("the time of the newest entry it covers, to the minute (a checkpoint carries no time)"),
  note: z.string().describe("the checkpoint as the log signed it (C2SP tlog-checkpoint signed note)"),
  cosigned: z
    .object({
      witnesses: z.array(z.string()),
      count: z.number().int(),
      final: z.boolean().describe("the cosignatures meet the node's quorum"),
      publishedAt: z.string(),
    })
    .optional()
    .describe("when published with witness cosignatures"),
  anchor: z
    .object({ txHash: z.string(), blockNumber: z.number().int(), anchoredAt: z.string() })
    .optional()
    .describe("when this very checkpoint was anchored on the consortium chain"),
});

/** The root line of a signed checkpoint note (`origin\nsize\nroot\n…`). */
function rootOf(note: string): string {
  return note.split("\n")[2] ?? "";
}

export function registerLogExplorerRoutes(
  app: FastifyInstance,
  api: Api,
  consortium: ExplorerConsortium | undefined,
): void {
  const node = api.node;
  const store = node.store;
  const minuteAt = (index: number): string | undefined => {
    const e = store.readEntry(index);
    return e && entryMinute(e.bytes);
  };

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/log/checkpoints",
    tag: "log",
    summary:
      "The checkpoint history, newest first (page with `before`, the `next` of the previous page), or `sample` checkpoints spread over the log's sizes, oldest first: size, root, time, the signed note, witness cosignatures and anchoring where known.",
    auth: "public",
    query: z.strictObject({
      before: uint.optional(),
      limit: small(100).optional(),
      sample: small(500).optional(),
    }),
    response: {
      description: "checkpoints",
      schema: z.object({
        items: z.array(checkpointItem),
        next: z.string().optional(),
        size: z.number().int().describe("the log's size now"),
        anchoredSize: z
          .number()
          .int()
          .optional()
          .describe("the largest anchored size: every checkpoint up to it is anchored through consistency"),
      }),
    },
    async handler({ query, reply }) {
      if (query.sample !== undefined && (query.before !== undefined || query.limit !== undefined))
        throw new RadledgerError("INPUT_INVALID", "query.sample: not with before or limit", {
          at: "query.sample",
        });
      const size = node.ledger.size;
      let rows: { size: number; note: string }[];
      let next: string | undefined;
      if (query.sample !== undefined) {
        // Evenly spaced target sizes; each is one primary-key seek, duplicates dropped.
        const n = Number(query.sample);
        const seen = new Set<number>();
        rows = [];
        for (let i = 1; i <= n; i++) {
          const cp = store.checkpointAtLeast(Math.ceil((size * i) / n));
          if (cp && !seen.has(cp.size)) {
            seen.add(cp.size);
            rows.push(cp);
          }
        }
      } else {
        const limit = Number(query.limit ?? 25);
        const before = query.before === undefined ? undefined : safeInt(query.before, "before");
        rows = store.checkpointsBefore(before, limit + 1);
        if (rows.length > limit) {
          rows = rows.slice(0, limit);
          next = String(rows[limit - 1]!.size);
        }
      }
      const sizes = rows.map((r) => r.size);
      const low = Math.min(...sizes);
      const high = Math.max(...sizes);
      const cosigned = new Map(
        rows.length > 0 && consortium ? consortium.cosignedBetween(low, high).map((c) => [c.size, c]) : [],
      );
      const anchors = new Map(
        rows.length > 0 && consortium ? consortium.anchorsBetween(low, high).map((a) => [a.size, a]) : [],
      );
      const items = rows.map((r) => {
        const c = cosigned.get(r.size);
        const a = anchors.get(r.size);
        const time = r.size > 0 ? minuteAt(r.size - 1) : undefined;
        return {
          size: r.size,
          root: rootOf(r.note),
          ...(time === undefined ? {} : { time }),
          note: r.note,
          ...(c
            ? {
                cosigned: {
                  witnesses: [...c.witnesses],
                  count: c.witnesses.length,
                  final: c.final,
                  publishedAt: new Date(c.publishedAt).toISOString(),
                },
              }
            : {}),
          ...(a
            ? {
                anchor: {
                  txHash: a.txHash,
                  blockNumber: a.blockNumber,
                  anchoredAt: new Date(a.anchoredAt).toISOString(),
                },
              }
            : {}),
        };
      });
      const anchoredSize = consortium?.latestAnchor()?.size;
      void reply.header("cache-control", "no-cache");
      return {
        items,
        ...(next === undefined ? {} : { next }),
        size,
        ...(anchoredSize === undefined ? {} : { anchoredSize }),
      };
    },
  });

  // Counts by type, kept current from the last counted size: the first request counts the whole
  // log from the type index, later ones only the entries appended since (a rowid range).
  let counted = { size: 0, counts: {} as Record<string, number> };
  const typeCounts = (): Record<string, number> => {
    const size = store.size();
    if (size !== counted.size) {
      const tail = store.entryTypeCounts(counted.size);
      const counts = { ...counted.counts };
      for (const [type, n] of Object.entries(tail)) counts[type] = (counts[type] ?? 0) + n;
      counted = { size, counts };
    }
    return counted.counts;
  };

  const publicView = (e: StoredEntry) => {
    const time = entryMinute(e.bytes);
    return {
      index: e.index,
      leafHash: toHex(node.ledger.tree.node(0, e.index)),
      type: e.type,
      ...(time === undefined ? {} : { time }),
    };
  };

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/log/recent",
    tag: "log",
    summary:
      "Recent entries, newest first, of one `type` or all: index, leaf hash, type and time to the minute only (no actor, references or body); with the count of entries of each type.",
    auth: "public",
    query: z.strictObject({
      type: z
        .string()
        .regex(/^[a-z][a-z0-9.-]{0,63}$/, "expected an entry type, e.g. study.registered")
        .optional(),
      before: uint.optional(),
      limit: small(100).optional(),
    }),
    response: {
      description: "a page of entries and the counts by type",
      schema: z.object({
        items: z.array(publicEntry),
        next: z.string().optional(),
        size: z.number().int(),
        counts: z.record(z.string(), z.number().int()).describe("entries of each type in the whole log"),
      }),
    },
    async handler({ query, reply }) {
      if (query.type !== undefined && !node.registry.get(query.type))
        throw new RadledgerError("INPUT_INVALID", `query.type: no entry type ${query.type}`, {
          at: "query.type",
        });
      const limit = Number(query.limit ?? 25);
      const size = node.ledger.size;
      // Never past the latest checkpoint: what is listed can be proved (and a leaf's hash read).
      const requested = query.before === undefined ? size : safeInt(query.before, "before");
      const rows = store.recentEntries({
        ...(query.type === undefined ? {} : { type: query.type }),
        before: Math.min(requested, size),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      void reply.header("cache-control", "no-cache");
      return {
        items: page.map(publicView),
        ...(rows.length > limit ? { next: String(page[limit - 1]!.index) } : {}),
        size,
        counts: typeCounts(),
      };
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/log/entries/:ref/proof",
    tag: "log",
    summary:
      "One entry's public view by log index or lowercase hex leaf hash: index, leaf hash, type, time to the minute and its RFC 9162 inclusion proof against the latest checkpoint (the entry itself is for peers, admins and auditors: GET /api/v1/log/entries/:ref).",
    auth: "public",
    params: z.strictObject({
      ref: z.string().regex(/^([0-9]{1,16}|[0-9a-f]{64})$/, "expected an index or a leaf hash"),
    }),
    response: {
      description: "the entry's public view and proof",
      schema: publicEntry.extend({
        inclusion: z.object({ size: z.number().int(), proof: z.array(z.string()) }),
        checkpoint: z.string(),
      }),
    },
    errors: ["ENTRY_NOT_FOUND"],
    async handler({ params, reply }) {
      const size = node.ledger.size;
      let index: number;
      if (params.ref.length === 64) {
        const found = store.indexOfLeafHash(fromHex(params.ref));
        if (found === undefined)
          throw new RadledgerError("ENTRY_NOT_FOUND", `no entry with leaf hash ${params.ref}`);
        index = found;
      } else {
        index = Number(params.ref);
        if (!Number.isSafeInteger(index))
          throw new RadledgerError("INPUT_INVALID", "path.ref: too large", { at: "path.ref" });
      }
      const stored = index < size ? store.readEntry(index) : undefined;
      if (!stored) throw new RadledgerError("ENTRY_NOT_FOUND", `no entry at index ${index}`);
      void reply.header("cache-control", "no-cache");
      return {
        ...publicView(stored),
        inclusion: { size, proof: node.ledger.tree.inclusionProof(index, size).map(toBase64) },
        checkpoint: node.ledger.latestCheckpoint!,
      };
    },
  });
}
