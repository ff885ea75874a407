/**
 * The log as JSON for clients that do not read tiles: size and root, RFC 9162 §2.1.3–2.1.4 proofs and
 * the latest checkpoint are public like the tiles they mirror (hashes only; docs/design.md §2.8:
 * anyone verifies). One entry by index or leaf hash, with its inclusion proof against the latest
 * checkpoint, returns the entry itself: pseudonymous personal data, so only consortium peers (signed
 * requests) and admins and auditors read it (entry-access.ts, docs/privacy.md). Hashes are standard
 * base64 as in checkpoints; sizes default to the latest checkpoint's.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { toBase64 } from "../core/bytes.js";
import { RadledgerError } from "../core/errors.js";
import { entryWithProof } from "./entries.js";
import { defineRoute, type Api, type RouteGate } from "./route.js";
import { registerLogExplorerRoutes, type ExplorerConsortium } from "./log-explorer.js";

const uint = z.string().regex(/^(0|[1-9][0-9]{0,15})$/, "expected a non-negative integer");

function intParam(value: string | undefined, name: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new RadledgerError("INPUT_INVALID", `query parameter ${name} is required`, { at: `query.${name}` });
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new RadledgerError("INPUT_INVALID", `query parameter ${name} is too large`, {
      at: `query.${name}`,
    });
  return n;
}

const entryResponse = z.object({
  index: z.number().int(),
  leafHash: z.string(),
  entry: z.record(z.string(), z.unknown()),
  inclusion: z.object({ size: z.number().int(), proof: z.array(z.string()) }),
  checkpoint: z.string(),
});

/**
 * `entries` authenticates the readers of entries (entry-access.ts entryReaderGate); `consortium`
 * (cosignatures, anchors), when the node has one, annotates the public checkpoint history.
 */
export function registerLogRoutes(
  app: FastifyInstance,
  api: Api,
  entries: RouteGate,
  consortium?: ExplorerConsortium,
): void {
  const node = api.node;
  registerLogExplorerRoutes(app, api, consortium);

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/log/proofs/inclusion",
    tag: "log",
    summary: "RFC 9162 inclusion proof of the leaf at `index` in the tree of `size` (default: latest).",
    auth: "public",
    query: z.strictObject({ index: uint, size: uint.optional() }),
    response: {
      description: "the proof",
      schema: z.object({
        index: z.number(),
        size: z.number(),
        leafHash: z.string(),
        proof: z.array(z.string()),
      }),
    },
    errors: ["TREE_INDEX_OUT_OF_RANGE", "TREE_SIZE_INVALID"],
    async handler({ query }) {
      const size = intParam(query.size, "size", node.ledger.size);
      const index = intParam(query.index, "index");
      if (size > node.ledger.size)
        throw new RadledgerError("TREE_SIZE_INVALID", `size ${size} is beyond the log`, { at: "query.size" });
      if (index >= size)
        throw new RadledgerError("TREE_INDEX_OUT_OF_RANGE", `index ${index} is not below size ${size}`, {
          at: "query.index",
        });
      const proof = node.ledger.tree.inclusionProof(index, size);
      return { index, size, leafHash: toBase64(node.ledger.tree.node(0, index)), proof: proof.map(toBase64) };
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/log/proofs/consistency",
    tag: "log",
    summary: "RFC 9162 consistency proof between tree sizes `from` and `to` (default: latest).",
    auth: "public",
    query: z.strictObject({ from: uint, to: uint.optional() }),
    response: {
      description: "the proof",
      schema: z.object({ from: z.number(), to: z.number(), proof: z.array(z.string()) }),
    },
    errors: ["TREE_SIZE_INVALID"],
    async handler({ query }) {
      const to = intParam(query.to, "to", node.ledger.size);
      const from = intParam(query.from, "from");
      if (to > node.ledger.size)
        throw new RadledgerError("TREE_SIZE_INVALID", `size ${to} is beyond the log`, { at: "query.to" });
      if (from > to)
        throw new RadledgerError("TREE_SIZE_INVALID", `from ${from} is larger than to ${to}`, {
          at: "query.from",
        });
      return { from, to, proof: node.ledger.tree.consistencyProof(from, to).map(toBase64) };
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/log",
    tag: "log",
    summary: "The log's origin, size, root, verifier key and latest checkpoint.",
    auth: "public",
    response: {
      description: "the log",
      schema: z.object({
        origin: z.string(),
        size: z.number(),
        root: z.string(),
        verifierKey: z.string(),
        checkpoint: z.string().optional(),
      }),
    },
    async handler() {
      const size = node.ledger.size;
      return {
        origin: node.config.origin,
        size,
        root: toBase64(node.ledger.tree.root(size)),
        verifierKey: node.verifierKey,
        checkpoint: node.ledger.latestCheckpoint,
      };
    },
  });

  defineRoute(app, api, {
    method: "GET",
    url: "/api/v1/log/entries/:ref",
    tag: "log",
    summary:
      "One entry by log index or lowercase hex leaf hash, with its inclusion proof against the latest checkpoint.",
    auth: entries,
    // The log is the audit trail: an admin's or auditor's read of a whole entry is one 110101 event
    // (a consortium peer's signed replication read is not: its own log records what it mirrors).
    audit: "audit-log-used",
    params: z.strictObject({
      ref: z.string().regex(/^([0-9]{1,16}|[0-9a-f]{64})$/, "expected an index or a leaf hash"),
    }),
    response: { description: "the entry and its proof", schema: entryResponse },
    errors: [
      "ENTRY_NOT_FOUND",
      "AUTH_SIGNATURE_INVALID",
      "AUTH_SIGNATURE_EXPIRED",
      "AUTH_SIGNATURE_REPLAYED",
    ],
    async handler({ params, reply }) {
      void reply.header("cache-control", "private, no-cache");
      return entryWithProof(api, params.ref);
    },
  });
}
