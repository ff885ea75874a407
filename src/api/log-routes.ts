/**
 * JSON proofs for clients that do not read tiles (RFC 9162 §2.1.3–2.1.4): hashes in standard base64
 * as in checkpoints. Sizes default to the latest checkpoint's.
 */
import type { FastifyInstance } from "fastify";
import { toBase64, toHex } from "../core/bytes.js";
import { RadledgerError } from "../core/errors.js";
import type { RadledgerNode } from "../app/node.js";

function intParam(value: unknown, name: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== "string" || !/^(0|[1-9][0-9]{0,15})$/.test(value)) {
    throw new RadledgerError("INPUT_INVALID", `query parameter ${name} must be a non-negative integer`, {
      at: name,
    });
  }
  const n = Number(value);
  if (!Number.isSafeInteger(n))
    throw new RadledgerError("INPUT_INVALID", `query parameter ${name} is too large`, { at: name });
  return n;
}

export function registerLogRoutes(app: FastifyInstance, node: RadledgerNode): void {
  app.get("/api/v1/log/proofs/inclusion", async (req) => {
    const q = req.query as Record<string, unknown>;
    const size = intParam(q.size, "size", node.ledger.size);
    const index = intParam(q.index, "index");
    if (index >= size)
      throw new RadledgerError("TREE_INDEX_OUT_OF_RANGE", `index ${index} is not below size ${size}`, {
        at: "index",
      });
    const proof = node.ledger.tree.inclusionProof(index, size);
    return { index, size, leafHash: toBase64(node.ledger.tree.node(0, index)), proof: proof.map(toBase64) };
  });

  app.get("/api/v1/log/proofs/consistency", async (req) => {
    const q = req.query as Record<string, unknown>;
    const to = intParam(q.to, "to", node.ledger.size);
    const from = intParam(q.from, "from");
    if (from > to)
      throw new RadledgerError("TREE_SIZE_INVALID", `from ${from} is larger than to ${to}`, { at: "from" });
    return { from, to, proof: node.ledger.tree.consistencyProof(from, to).map(toBase64) };
  });

  app.get("/api/v1/log", async () => {
    const size = node.ledger.size;
    return {
      origin: node.config.origin,
      size,
      root: toBase64(node.ledger.tree.root(size)),
      verifierKey: node.verifierKey,
      checkpoint: node.ledger.latestCheckpoint,
    };
  });

  app.get("/api/v1/log/entries/:index", async (req) => {
    const index = intParam((req.params as Record<string, unknown>).index, "index");
    const stored = node.store.readEntry(index);
    if (!stored) throw new RadledgerError("ENTRY_NOT_FOUND", `no entry at index ${index}`);
    const size = node.ledger.size;
    return {
      index,
      leafHash: toHex(node.ledger.tree.node(0, index)),
      entry: JSON.parse(new TextDecoder().decode(stored.bytes)) as unknown,
      inclusion: { size, proof: node.ledger.tree.inclusionProof(index, size).map(toBase64) },
      checkpoint: node.ledger.latestCheckpoint,
    };
  });
}
