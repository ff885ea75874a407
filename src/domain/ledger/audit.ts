/**
 * Whole-log verification from scratch (`radledger verify --data DIR`): every stored entry is
 * replayed through the same append path into an empty scratch store — decoding, signature, enrolment
 * at its position, roles, references and family rules — and then everything stored is compared with
 * what the replay produced: every leaf and interior hash of every tile, the leaf-hash index, every
 * published checkpoint (signature, root at its size, consistency with the previous one) and every
 * projection row. The first difference is reported with the entry index or tile it concerns.
 * Given a checkpoint published earlier (`--against`), the stored log must also be at least its size
 * and consistent with it: a smaller store was rolled back or truncated, another root was forked.
 * The data directory's own high-water marks (the mark file, the consortium store's latest published
 * checkpoint: ./high-water.ts) are checked the same way without being asked, so a log that silently
 * lost its acknowledged tail (a damaged WAL) fails with STORE_ROLLED_BACK naming what is missing.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { bytesEqual, toHex } from "../../core/bytes.js";
import { openCheckpoint } from "../../core/checkpoint.js";
import { RadledgerError, toRadledgerError, type ErrorCode } from "../../core/errors.js";
import { verifyConsistency } from "../../core/merkle/verify.js";
import { fromBase64, fromUtf8 } from "../../core/bytes.js";
import { ed25519Verifier } from "../../core/note.js";
import {
  checkpointVerifiersAt,
  logKeyPeriods,
  requireTrustedInChain,
  type LogKeyPeriod,
  type LogKeyRotation,
} from "../../core/log-keys.js";
import { TILE_WIDTH } from "../../core/tiles.js";
import type { LogStore } from "../../ports/storage.js";
import type { EntryVerifier } from "../../ports/verifier.js";
import type { EnrolmentReader, EntryTypeRegistry } from "./entry-types.js";
import { createAppender } from "./appender.js";
import { Ledger } from "./ledger.js";
import { TILE_NODE_COUNT, TreeReader, tileLevelOffset } from "./tree.js";
import { forked, openMark, rolledBack, type RecordedMark } from "./high-water.js";
import { HASH_SIZE } from "../../core/merkle/hash.js";

export interface AuditFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly index?: number;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly checkpoints: number;
  readonly latestCheckpointSize: number;
  readonly failure?: AuditFailure;
}

export interface AuditParams {
  readonly origin: string;
  readonly crypto: CryptoSuite;
  readonly registry: EntryTypeRegistry;
  readonly enrolment: EnrolmentReader;
  /** The stored log, read only. */
  readonly store: LogStore;
  /** An empty store to replay into. */
  readonly scratch: LogStore;
  readonly verifier: EntryVerifier;
  /**
   * The log keys the auditor trusts (raw Ed25519 public keys): the chain of log keys the log itself
   * records (genesis, then key.rotated entries of the institution) must contain one of them, and each
   * checkpoint must be signed by the chain's key for its size (docs/log-format.md §Log key rotation).
   */
  readonly trustedLogKeys: readonly Uint8Array[];
  /**
   * A signed checkpoint note published by this log (`verify --data DIR --against FILE`), signed by a
   * trusted key or the chain's key for its size: the stored log must be at least its size and
   * consistent with it.
   */
  readonly against?: string;
  /**
   * The data directory's high-water marks (the mark file, the consortium store's latest published
   * checkpoint), read before the store: the stored log must extend each (./high-water.ts).
   */
  readonly marks?: readonly RecordedMark[];
  readonly onProgress?: (done: number, total: number) => void;
  /**
   * The coded error for a storage engine's failure while reading the stored log (a damaged page:
   * STORE_CORRUPT naming the file), given by the wiring; undefined for anything else.
   */
  readonly storageFault?: (e: unknown) => RadledgerError | undefined;
}

class AuditStop extends Error {
  constructor(readonly failure: AuditFailure) {
    super(failure.message);
  }
}

function stop(code: ErrorCode, message: string, index?: number): never {
  throw new AuditStop(index === undefined ? { code, message } : { code, message, index });
}

export async function auditLog(p: AuditParams): Promise<AuditReport> {
  const size = p.store.size();
  const checkpoints = p.store.checkpoints();
  const base = {
    entries: size,
    checkpoints: checkpoints.length,
    latestCheckpointSize: checkpoints.at(-1)?.size ?? 0,
  };
  try {
    const chain = await replay(p, size);
    compareTree(p, size);
    checkCheckpoints(p, size, checkpoints, chain);
    if (p.against !== undefined) checkAgainst(p, size, p.against, chain);
    for (const mark of p.marks ?? []) checkMark(p, size, mark, chain);
    compareProjections(p);
    return { ok: true, ...base };
  } catch (e) {
    if (e instanceof AuditStop) return { ok: false, ...base, failure: e.failure };
    const err = p.storageFault?.(e) ?? toRadledgerError(e);
    return { ok: false, ...base, failure: { code: err.code, message: err.message } };
  }
}

/** The genesis entry's log key (what the replay checks entry 0 against). */
function genesisKey(p: AuditParams): Uint8Array {
  const first = p.store.readEntries(0, 1)[0];
  if (!first) return p.trustedLogKeys[0] ?? new Uint8Array(32);
  try {
    const body = (JSON.parse(fromUtf8(first.bytes)) as { body?: { publicKey?: unknown } }).body;
    if (typeof body?.publicKey === "string") return fromBase64(body.publicKey);
  } catch {
    // the replay reports the precise decoding error
  }
  return stop("GENESIS_REQUIRED", "entry 0 is not a genesis entry naming the log key", 0);
}

/** The institution's key.rotated entries, in log order (the replay admitted them). */
function logKeyRotation(bytes: Uint8Array, index: number): LogKeyRotation | undefined {
  const entry = JSON.parse(fromUtf8(bytes)) as { body?: { actorId?: unknown; newPublicKey?: unknown } };
  const body = entry.body;
  if (body?.actorId !== "institution" || typeof body.newPublicKey !== "string") return undefined;
  return { index, publicKey: fromBase64(body.newPublicKey) };
}

async function replay(p: AuditParams, size: number): Promise<LogKeyPeriod[]> {
  const genesis = genesisKey(p);
  const rotations: LogKeyRotation[] = [];
  const ledger = new Ledger({
    origin: p.origin,
    crypto: p.crypto,
    store: p.scratch,
    verifier: p.verifier,
    registry: p.registry,
    enrolment: p.enrolment,
    logPublicKey: genesis,
    clock: { now: () => 0 },
    maxBatch: 8192,
    // Stored history: what was valid when appended replays (legacy codes, the policy of the time).
    replay: true,
  });
  const appender = createAppender((entries, parsed) => ledger.append(entries, parsed));
  const step = 4096;
  for (let start = 0; start < size; start += step) {
    const stored = p.store.readEntries(start, Math.min(size, start + step));
    stored.forEach((e, i) => {
      if (e.index !== start + i)
        stop("STORE_CORRUPT", `entry ${start + i} is missing from storage`, start + i);
    });
    const results = await appender.appendAll(stored.map((e) => e.bytes));
    results.forEach((r, i) => {
      const index = start + i;
      if (!r.ok) stop(r.error.code, `entry ${index}: ${r.error.message}`, index);
      if (r.index !== index) stop("STORE_CORRUPT", `entry ${index} replays at index ${r.index}`, index);
    });
    // The type column is what reference checks read: it must say what the entry says.
    p.scratch.readEntries(start, start + stored.length).forEach((e, i) => {
      if (e.type !== stored[i]!.type)
        stop("STORE_CORRUPT", `entry ${e.index}: stored type column differs from the entry`, e.index);
      if (e.type === "key.rotated") {
        const rotation = logKeyRotation(e.bytes, e.index);
        if (rotation) rotations.push(rotation);
      }
    });
    p.onProgress?.(Math.min(size, start + step), size);
  }
  await ledger.idle();
  const periods = logKeyPeriods(genesis, rotations);
  try {
    requireTrustedInChain(periods, p.trustedLogKeys, p.origin);
  } catch (e) {
    const err = toRadledgerError(e);
    stop(err.code, err.message);
  }
  return periods;
}

function compareTree(p: AuditParams, size: number): void {
  for (let level = 0; size >= TILE_WIDTH ** level; level++) {
    const count = Math.ceil(Math.floor(size / TILE_WIDTH ** level) / TILE_WIDTH);
    for (let n = 0; n < count; n++) {
      const rebuilt = p.scratch.readTile(level, n)!;
      const stored = p.store.readTile(level, n);
      if (!stored)
        stop(
          "STORE_CORRUPT",
          `tile ${level}/${n} is missing from storage`,
          level === 0 ? n * TILE_WIDTH : undefined,
        );
      if (stored.width !== rebuilt.width)
        stop("STORE_CORRUPT", `tile ${level}/${n}: stored width ${stored.width}, log has ${rebuilt.width}`);
      if (bytesEqual(stored.nodes, rebuilt.nodes)) continue;
      for (let slot = 0; slot < TILE_NODE_COUNT; slot++) {
        const a = stored.nodes.subarray(slot * HASH_SIZE, (slot + 1) * HASH_SIZE);
        const b = rebuilt.nodes.subarray(slot * HASH_SIZE, (slot + 1) * HASH_SIZE);
        if (bytesEqual(a, b)) continue;
        let r = 0;
        while (r < 7 && slot >= tileLevelOffset(r + 1)) r++;
        const k = slot - tileLevelOffset(r);
        if (level === 0 && r === 0) {
          const index = n * TILE_WIDTH + k;
          stop(
            "STORE_CORRUPT",
            `entry ${index}: stored leaf hash differs from the hash of the stored entry`,
            index,
          );
        }
        stop(
          "STORE_CORRUPT",
          `tile ${level}/${n}: stored hash of tree node (level ${8 * level + r}, index ${n * 2 ** (8 - r) + k}) differs from the recomputed one`,
        );
      }
    }
  }
  // The leaf-hash index must point every leaf at its own entry.
  const reader = new TreeReader(p.crypto, p.scratch);
  for (let i = 0; i < size; i++) {
    const leaf = reader.node(0, i);
    if (p.store.indexOfLeafHash(leaf) !== i)
      stop("STORE_CORRUPT", `entry ${i}: the leaf-hash index does not point at it`, i);
  }
  // …and every row of it must be one the replay made: no hash pointed at another index, no extra row.
  const rows = p.store.leafIndexRows();
  try {
    for (const row of rows) {
      const replayed = p.scratch.indexOfLeafHash(row.hash);
      if (replayed === undefined)
        stop(
          "STORE_CORRUPT",
          `the leaf-hash index has a row for ${toHex(row.hash).slice(0, 16)}… (at ${row.index}), which is no leaf of the log`,
        );
      if (replayed !== row.index)
        stop(
          "STORE_CORRUPT",
          `entry ${replayed}: the leaf-hash index points its hash at ${row.index}`,
          replayed,
        );
    }
  } finally {
    rows.return?.();
  }
}

function checkCheckpoints(
  p: AuditParams,
  size: number,
  checkpoints: readonly { size: number; note: string }[],
  chain: readonly LogKeyPeriod[],
): void {
  const rebuilt = new TreeReader(p.crypto, p.scratch);
  let previous: { size: number; root: Uint8Array } | undefined;
  for (const stored of checkpoints) {
    let cp;
    try {
      cp = openCheckpoint(
        stored.note,
        checkpointVerifiersAt(p.crypto, p.origin, chain, stored.size),
        p.origin,
      ).checkpoint;
    } catch (e) {
      const err = e instanceof RadledgerError ? e : toRadledgerError(e);
      return stop(err.code, `checkpoint at size ${stored.size}: ${err.message}`);
    }
    if (cp.size !== stored.size)
      stop("STORE_CORRUPT", `checkpoint stored for size ${stored.size} says size ${cp.size}`);
    if (cp.size > size)
      stop("STORE_CORRUPT", `checkpoint at size ${cp.size} is beyond the log (size ${size})`);
    if (!bytesEqual(cp.root, rebuilt.root(cp.size)))
      stop(
        "ROOT_MISMATCH",
        `checkpoint at size ${cp.size}: root ${toHex(cp.root).slice(0, 16)}… is not the root of the stored entries`,
      );
    if (previous) {
      try {
        verifyConsistency(
          p.crypto,
          previous.size,
          cp.size,
          previous.root,
          cp.root,
          rebuilt.consistencyProof(previous.size, cp.size),
        );
      } catch (e) {
        const err = toRadledgerError(e);
        stop(
          err.code,
          `checkpoints at sizes ${previous.size} and ${cp.size} are not consistent: ${err.message}`,
        );
      }
    }
    previous = { size: cp.size, root: cp.root };
  }
  if (size > 0 && (previous?.size ?? 0) !== size)
    stop(
      "STORE_CORRUPT",
      `entries ${previous?.size ?? 0}..${size - 1} are not covered by a published checkpoint`,
      previous?.size ?? 0,
    );
}

/** The stored log must extend the checkpoint given: not rolled back, truncated or forked. */
function checkAgainst(p: AuditParams, size: number, note: string, chain: readonly LogKeyPeriod[]): void {
  const verifiers = [
    ...p.trustedLogKeys.map((k) => ed25519Verifier(p.crypto, p.origin, k)),
    ...chain.map((period) => ed25519Verifier(p.crypto, p.origin, period.publicKey)),
  ];
  let cp;
  try {
    cp = openCheckpoint(note, verifiers, p.origin).checkpoint;
  } catch (e) {
    const err = toRadledgerError(e);
    return stop(err.code, `the checkpoint given with --against: ${err.message}`);
  }
  // Above the store's size only a key the auditor trusts vouches for it; at or below, the key the
  // log's own chain names for that size must have signed it.
  if (cp.size <= size) {
    try {
      openCheckpoint(note, checkpointVerifiersAt(p.crypto, p.origin, chain, cp.size), p.origin);
    } catch (e) {
      const err = toRadledgerError(e);
      return stop(err.code, `the checkpoint given with --against (size ${cp.size}): ${err.message}`);
    }
  }
  if (cp.size > size)
    stop(
      "STORE_ROLLED_BACK",
      `the stored log has ${size} entries but the checkpoint given with --against covers ${cp.size}: the data directory was rolled back or truncated`,
      size,
    );
  const rebuilt = new TreeReader(p.crypto, p.scratch);
  if (cp.size === size) {
    if (!bytesEqual(cp.root, rebuilt.root(size)))
      stop(
        "ROOT_MISMATCH",
        `the stored log (size ${size}) has another root than the checkpoint given with --against at the same size: the log was forked`,
      );
    return;
  }
  try {
    verifyConsistency(
      p.crypto,
      cp.size,
      size,
      cp.root,
      rebuilt.root(size),
      rebuilt.consistencyProof(cp.size, size),
    );
  } catch (e) {
    const err = toRadledgerError(e);
    stop(
      err.code,
      `the stored log (size ${size}) is not consistent with the checkpoint given with --against (size ${cp.size}): the log was forked (${err.message})`,
    );
  }
}

/** The stored log must extend a high-water mark of its data directory (./high-water.ts). */
function checkMark(p: AuditParams, size: number, mark: RecordedMark, chain: readonly LogKeyPeriod[]): void {
  // A mark beyond the store is vouched for by any key of the chain or a trusted one; at or below,
  // by the key the chain names for its size (as for --against above).
  const any = [
    ...p.trustedLogKeys.map((k) => ed25519Verifier(p.crypto, p.origin, k)),
    ...chain.map((period) => ed25519Verifier(p.crypto, p.origin, period.publicKey)),
  ];
  const cp = openMark(mark, any, p.origin);
  if (cp.size > size) throw rolledBack(size, cp.size, mark.where);
  openMark(mark, checkpointVerifiersAt(p.crypto, p.origin, chain, cp.size), p.origin);
  if (!bytesEqual(cp.root, new TreeReader(p.crypto, p.scratch).root(cp.size)))
    throw forked(size, cp.size, cp.root, mark.where);
}

function compareProjections(p: AuditParams): void {
  const live = p.store.stateRows();
  const rebuilt = p.scratch.stateRows();
  try {
    compareRows(live, rebuilt);
  } finally {
    // Close both cursors even when stopping early: an open iterator keeps its connection busy.
    live.return?.();
    rebuilt.return?.();
  }
}

function compareRows(live: IterableIterator<string>, rebuilt: IterableIterator<string>): void {
  for (let n = 0; ; n++) {
    const a = live.next();
    const b = rebuilt.next();
    if (a.done && b.done) return;
    if (a.done || b.done || a.value !== b.value) {
      const shown = (r: IteratorResult<string>) => (r.done ? "(nothing)" : r.value.slice(0, 160));
      stop(
        "STORE_CORRUPT",
        `projection row ${n} differs from the rebuild: stored ${shown(a)}; rebuilt ${shown(b)}`,
      );
    }
  }
}
