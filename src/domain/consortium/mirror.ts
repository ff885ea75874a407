/**
 * Mirroring a peer's log (C2SP tlog-mirror, pulled rather than pushed): read the peer's signed
 * checkpoint and its tlog-tiles, check them, and replay its entries into a node-local copy, so that
 * consortium-wide questions are answered from local data.
 *
 * One round, following tlog-mirror's stages:
 *  1. *pending checkpoint*: the peer's /checkpoint, verified with its log key and origin, and proven
 *     consistent with what is mirrored (a consistency proof computed from the peer's tiles and
 *     checked against the local tree's root);
 *  2. it is cosigned as the consortium policy requires (else wait: nothing unwitnessed is mirrored);
 *  3. *entries*, bundle by bundle: every batch (≤ 4,096 entries) is authenticated before it is
 *     stored — the local tree extended by its leaf hashes must be consistent with the pending
 *     checkpoint (tlog-mirror's "entry package" check, with the proof read from tiles) — then
 *     replayed through this node's own Ledger (signatures, enrolment, family rules) into the mirror
 *     store, exactly as `radledger verify` replays a log;
 *  4. *mirror checkpoint*: the peer's signed note (with its cosignatures) is stored once the tree
 *     reached its size.
 *
 * Equivocation: a checkpoint with the mirrored size and another root, a smaller one that is not a
 * prefix of the mirrored tree, or a larger one whose tiles show another prefix, is kept as evidence
 * (src/core/evidence.ts: both signed notes, and the prefix root with its proof); mirroring of that
 * peer stops. Everything read from the peer is untrusted until a signature or a proof binds it.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { bytesEqual, fromUtf8 } from "../../core/bytes.js";
import { openCheckpoint, parseCheckpointText, type Checkpoint } from "../../core/checkpoint.js";
import { RadledgerError, toRadledgerError } from "../../core/errors.js";
import { formatEvidence, verifyEvidence, type Evidence } from "../../core/evidence.js";
import { credentialHeaders, type LogCredentials } from "../../core/http-signature.js";
import { CompactRange } from "../../core/merkle/compact-range.js";
import { emptyRoot, leafHash } from "../../core/merkle/hash.js";
import { perfectNodesOfRange } from "../../core/merkle/prove.js";
import { verifyConsistency } from "../../core/merkle/verify.js";
import { parseSignedNote } from "../../core/note.js";
import { evaluatePolicy, type Policy } from "../../core/policy.js";
import { TileClient } from "../../core/tile-client.js";
import { TILE_WIDTH } from "../../core/tiles.js";
import type { Clock } from "../../ports/clock.js";
import type { EvidenceRecord, EvidenceSink, HttpClient } from "../../ports/consortium.js";
import type { LogStore } from "../../ports/storage.js";
import type { Appender } from "../ledger/appender.js";
import type { LedgerView } from "../ledger/ledger.js";
import type { TrustedLogKey } from "./witness.js";

export interface MirrorPeer {
  readonly origin: string;
  /** The peer's monitoring prefix: `<url>/checkpoint`, `<url>/tile/…`. */
  readonly url: string;
  readonly key: TrustedLogKey;
}

export interface MirrorOptions {
  readonly crypto: CryptoSuite;
  readonly peer: MirrorPeer;
  /** Which cosignatures a checkpoint needs before it is mirrored. */
  readonly policy: Policy;
  /** A Ledger in replay mode (no signer, no time window) for the peer's origin over `store`… */
  readonly ledger: LedgerView;
  /** …and the appender in front of it, through which the peer's entries are replayed. */
  readonly appender: Appender;
  readonly store: LogStore;
  readonly http: HttpClient;
  /**
   * How this node authenticates to the peer: entry bundles are served only to consortium peers
   * (docs/privacy.md), so every request is signed (RFC 9421) with this node's log key.
   */
  readonly credentials?: LogCredentials;
  readonly evidence: EvidenceSink;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  /** Entries authenticated and stored per step (default 4,096). */
  readonly batchEntries?: number;
  readonly onEvidence?: (record: EvidenceRecord) => void;
}

/** idle: not synced yet; waiting: the peer's newest checkpoint lacks the cosignatures the policy needs;
 * stored: read from the files of a node that is not running here (status without the node). */
export type MirrorState = "idle" | "ok" | "waiting" | "error" | "equivocated" | "stored";

export interface MirrorStatus {
  readonly origin: string;
  readonly url: string;
  readonly state: MirrorState;
  /** Entries held locally. */
  readonly mirroredSize: number;
  /** Size of the stored mirror checkpoint (the peer's signed note). */
  readonly checkpointSize: number;
  /** Size of the peer's last checkpoint seen, cosigned or not. */
  readonly peerSize?: number;
  readonly lastSyncAt?: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: number };
}

class Stop extends Error {
  constructor(
    readonly state: MirrorState,
    readonly error: RadledgerError,
  ) {
    super(error.message);
  }
}

export class Mirror {
  readonly #o: MirrorOptions;
  #state: MirrorState = "idle";
  #peerSize: number | undefined;
  #lastSyncAt: number | undefined;
  #lastError: MirrorStatus["lastError"];
  #failed = false;
  #running: Promise<MirrorStatus> | undefined;

  constructor(options: MirrorOptions) {
    this.#o = options;
    if (options.evidence.equivocated(options.peer.origin)) this.#state = "equivocated";
  }

  get origin(): string {
    return this.#o.peer.origin;
  }

  get store(): LogStore {
    return this.#o.store;
  }

  status(): MirrorStatus {
    const stored = this.#o.store.latestCheckpoint();
    return {
      origin: this.#o.peer.origin,
      url: this.#o.peer.url,
      state: this.#state,
      mirroredSize: this.#o.ledger.size,
      checkpointSize: stored?.size ?? 0,
      ...(this.#peerSize === undefined ? {} : { peerSize: this.#peerSize }),
      ...(this.#lastSyncAt === undefined ? {} : { lastSyncAt: this.#lastSyncAt }),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** One mirroring round; concurrent callers share it. Never throws: the status says what happened. */
  sync(): Promise<MirrorStatus> {
    this.#running ??= this.round().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  private async round(): Promise<MirrorStatus> {
    if (this.#state === "equivocated" || this.#failed) return this.status();
    try {
      this.#state = await this.advance();
      this.#lastError = undefined;
    } catch (e) {
      const stop = e instanceof Stop ? e : undefined;
      const err = stop?.error ?? toRadledgerError(e);
      this.#state = stop?.state ?? "error";
      if (err.code === "MIRROR_ENTRY_REFUSED") this.#failed = true;
      this.#lastError = { code: err.code, message: err.message, at: this.#o.clock.now() };
    }
    this.#lastSyncAt = this.#o.clock.now();
    return this.status();
  }

  private async fetch(path: string): Promise<Uint8Array> {
    const url = `${this.#o.peer.url}/${path}`;
    let res;
    try {
      const credentials = this.#o.credentials;
      res = await this.#o.http.get(
        url,
        this.#o.timeoutMs ?? 10_000,
        credentials ? credentialHeaders(credentials, "GET", url) : undefined,
      );
    } catch (e) {
      throw new RadledgerError("PEER_UNAVAILABLE", `${path}: ${toRadledgerError(e).message}`);
    }
    if (res.status !== 200)
      throw new RadledgerError("PEER_UNAVAILABLE", `${path}: the peer answered ${res.status}`);
    return res.body;
  }

  private async advance(): Promise<MirrorState> {
    const { crypto, peer, ledger, store } = this.#o;
    const noteText = fromUtf8(await this.fetch("checkpoint"));
    const { checkpoint: cp, note } = openCheckpoint(noteText, [peer.key.verifier], peer.origin);
    this.#peerSize = cp.size;

    const stored = store.latestCheckpoint();
    const mirrored: Checkpoint | undefined = stored
      ? parseCheckpointText(parseSignedNote(stored.note).text)
      : undefined;
    const local = ledger.size;
    const localRoot = (size: number): Uint8Array => (size === 0 ? emptyRoot(crypto) : ledger.tree.root(size));

    if (cp.size <= local) {
      // Nothing new; the checkpoint must describe a prefix of what is held.
      if (!bytesEqual(localRoot(cp.size), cp.root)) this.equivocation(stored?.note, noteText, mirrored, cp);
      // Entries stored before a crash, whose mirror checkpoint was not: store it now.
      if (cp.size === local && (stored?.size ?? -1) < cp.size && evaluatePolicy(this.#o.policy, note).ok)
        store.commit({
          entries: [],
          tiles: [],
          mutations: [],
          checkpoint: { size: cp.size, note: noteText },
        });
      return "ok";
    }

    const tiles = new TileClient(crypto, (path) => this.fetch(path), cp);
    if (local > 0) {
      const proof = await tiles.consistencyProof(local);
      try {
        verifyConsistency(crypto, local, cp.size, localRoot(local), cp.root, proof);
      } catch (e) {
        await this.proveRewrite(tiles, stored?.note, noteText, mirrored, cp, proof);
        throw new Stop(
          this.#o.evidence.equivocated(peer.origin) ? "equivocated" : "error",
          new RadledgerError(
            "MIRROR_INCONSISTENT",
            `checkpoint ${cp.size} is not consistent with the ${local} entries mirrored (${toRadledgerError(e).code})`,
          ),
        );
      }
    }

    if (!evaluatePolicy(this.#o.policy, note).ok) return "waiting";

    // Entries, authenticated per batch against the pending checkpoint before they are stored.
    const edge =
      local === 0 ? [] : perfectNodesOfRange(0, local).map((n) => ledger.tree.node(n.level, n.index));
    let range = new CompactRange(crypto, local, edge);
    const step = this.#o.batchEntries ?? 4096;
    for (let start = local; start < cp.size;) {
      const end = Math.min(cp.size, start + step);
      const entries: Uint8Array[] = [];
      for (let bundle = Math.floor(start / TILE_WIDTH); bundle * TILE_WIDTH < end; bundle++) {
        const got = await tiles.entryBundle(bundle);
        const first = bundle * TILE_WIDTH;
        for (let i = Math.max(start, first); i < Math.min(end, first + got.length); i++)
          entries.push(got[i - first]!);
      }
      const next = range.clone();
      for (const e of entries) next.append(leafHash(crypto, e));
      try {
        if (end < cp.size)
          verifyConsistency(crypto, end, cp.size, next.root(), cp.root, await tiles.consistencyProof(end));
        else if (!bytesEqual(next.root(), cp.root))
          throw new RadledgerError("ROOT_MISMATCH", "the entries do not hash to the checkpoint's root");
      } catch (e) {
        throw new Stop(
          "error",
          new RadledgerError(
            "MIRROR_INCONSISTENT",
            `entries ${start}..${end - 1} served by the peer are not those of checkpoint ${cp.size} (${toRadledgerError(e).code})`,
          ),
        );
      }
      const results = await this.#o.appender.appendAll(entries);
      results.forEach((r, i) => {
        if (!r.ok || r.index !== start + i)
          throw new Stop(
            "error",
            new RadledgerError(
              "MIRROR_ENTRY_REFUSED",
              `entry ${start + i} of ${peer.origin} was refused on replay: ${r.ok ? "wrong index" : `${r.error.code}: ${r.error.message}`}`,
              { index: start + i },
            ),
          );
      });
      range = next;
      start = end;
    }
    await ledger.idle();
    if (!bytesEqual(ledger.tree.root(cp.size), cp.root))
      throw new RadledgerError("STORE_CORRUPT", "the mirrored tree does not have the checkpoint's root");
    // The mirror checkpoint: the peer's note, cosignatures included.
    if ((stored?.size ?? -1) < cp.size)
      store.commit({ entries: [], tiles: [], mutations: [], checkpoint: { size: cp.size, note: noteText } });
    return "ok";
  }

  /**
   * A checkpoint of a size already held, or smaller, whose root is not the held tree's: with the
   * stored mirror checkpoint (signed by the same key) this proves equivocation.
   */
  private equivocation(
    storedNote: string | undefined,
    noteText: string,
    mirrored: Checkpoint | undefined,
    cp: Checkpoint,
  ): never {
    if (storedNote && mirrored && mirrored.size >= cp.size) {
      const ev: Evidence =
        mirrored.size === cp.size
          ? { logKey: this.#o.peer.key.vkey, checkpoints: [storedNote, noteText] }
          : {
              logKey: this.#o.peer.key.vkey,
              checkpoints: [noteText, storedNote],
              prefix: this.#o.ledger.tree.root(cp.size),
              proof: this.#o.ledger.tree.consistencyProof(cp.size, mirrored.size),
            };
      this.keep(ev);
    }
    throw new Stop(
      this.#o.evidence.equivocated(cp.origin) ? "equivocated" : "error",
      new RadledgerError(
        "MIRROR_INCONSISTENT",
        `the peer's checkpoint of size ${cp.size} has another root than the mirrored tree`,
      ),
    );
  }

  /**
   * The new checkpoint is not consistent with the mirrored one: read from the peer's own tiles which
   * prefix its new tree commits to, bound by the consistency proof it serves. If that prefix differs
   * from the signed mirrored checkpoint, the peer rewrote its history — evidence. Otherwise the
   * tiles are merely wrong (unproven).
   */
  private async proveRewrite(
    tiles: TileClient,
    storedNote: string | undefined,
    noteText: string,
    mirrored: Checkpoint | undefined,
    cp: Checkpoint,
    proof: Uint8Array[],
  ): Promise<void> {
    if (!storedNote || !mirrored || mirrored.size === 0 || mirrored.size >= cp.size) return;
    let prefix: Uint8Array;
    let path = proof;
    try {
      prefix = await tiles.rootAt(mirrored.size);
      if (mirrored.size !== this.#o.ledger.size) path = await tiles.consistencyProof(mirrored.size);
    } catch {
      return;
    }
    this.keep({ logKey: this.#o.peer.key.vkey, checkpoints: [storedNote, noteText], prefix, proof: path });
  }

  /** Stores the evidence if it verifies offline (only proofs anyone can check become alarms). */
  private keep(ev: Evidence): void {
    let verdict;
    try {
      verdict = verifyEvidence(this.#o.crypto, ev);
    } catch {
      return;
    }
    const record = this.#o.evidence.addEvidence({
      origin: verdict.origin,
      kind: verdict.kind,
      source: "mirror",
      text: formatEvidence(ev),
      summary: verdict.summary,
      detectedAt: this.#o.clock.now(),
    });
    this.#state = "equivocated";
    this.#o.onEvidence?.(record);
  }
}
