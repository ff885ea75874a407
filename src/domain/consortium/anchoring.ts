/**
 * Anchoring this node's log on the consortium chain (docs/design.md §4.7): on a schedule, the
 * newest *final* checkpoint (cosigned per the policy; the newest checkpoint when no witnessing is
 * required) is sent to RadledgerConsortium.anchor with the RFC 9162 consistency proof from the
 * checkpoint the chain holds. The chain refuses anything else, so the node checks first, locally,
 * that its own tree extends what is anchored — a node whose log was rewritten learns it here
 * (ANCHOR_INCONSISTENT) without paying for a refused transaction.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { bytesEqual, toBase64, utf8 } from "../../core/bytes.js";
import { parseCheckpointText } from "../../core/checkpoint.js";
import { RadledgerError } from "../../core/errors.js";
import { emptyRoot } from "../../core/merkle/hash.js";
import { parseSignedNote } from "../../core/note.js";
import type { Clock } from "../../ports/clock.js";
import type { AnchorRecord, AnchorStore } from "../../ports/consortium.js";

/** What the anchorer needs from the chain (src/adapters/evm ConsortiumClient provides it). */
export interface AnchorChain {
  latest(origin: string): Promise<{ size: bigint; rootHash: Uint8Array } | undefined>;
  anchor(
    origin: string,
    size: number,
    rootHash: Uint8Array,
    proof: readonly Uint8Array[],
    noteHash: Uint8Array,
  ): Promise<{ txHash: string; gasUsed: bigint; blockNumber: bigint }>;
}

export interface AnchorerOptions {
  readonly crypto: CryptoSuite;
  readonly origin: string;
  readonly chain: AnchorChain;
  readonly store: AnchorStore;
  /** The signed note (cosignatures included) of the checkpoint to anchor now, if any. */
  readonly checkpoint: () => string | undefined;
  /** The root of this node's own tree at a size it holds. */
  readonly rootAt: (size: number) => Uint8Array;
  readonly consistencyProof: (from: number, to: number) => Uint8Array[];
  readonly clock: Clock;
}

export type AnchorOutcome =
  | { readonly anchored: true; readonly record: AnchorRecord }
  | { readonly anchored: false; readonly reason: string; readonly size?: number };

export class Anchorer {
  #running: Promise<AnchorOutcome> | undefined;
  #last: AnchorOutcome | undefined;
  #lastError: { code: string; message: string; at: number } | undefined;

  constructor(private readonly o: AnchorerOptions) {}

  get lastOutcome(): AnchorOutcome | undefined {
    return this.#last;
  }

  get lastError(): { code: string; message: string; at: number } | undefined {
    return this.#lastError;
  }

  /** Anchors the current final checkpoint if the chain holds an older one; one attempt at a time. */
  anchorNow(): Promise<AnchorOutcome> {
    this.#running ??= this.attempt()
      .then(
        (out) => {
          this.#last = out;
          this.#lastError = undefined;
          return out;
        },
        (e: unknown) => {
          const err = e instanceof RadledgerError ? e : new RadledgerError("INTERNAL", String(e));
          this.#lastError = { code: err.code, message: err.message, at: this.o.clock.now() };
          throw err;
        },
      )
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  private async attempt(): Promise<AnchorOutcome> {
    const { crypto, origin } = this.o;
    const note = this.o.checkpoint();
    if (note === undefined) return { anchored: false, reason: "no final checkpoint yet" };
    const cp = parseCheckpointText(parseSignedNote(note).text);
    const onChain = await this.o.chain.latest(origin);
    let proof: Uint8Array[] = [];
    if (onChain) {
      const anchoredSize = Number(onChain.size);
      if (anchoredSize > cp.size)
        return { anchored: false, reason: "the chain holds a larger checkpoint", size: anchoredSize };
      const ours = anchoredSize === 0 ? emptyRoot(crypto) : this.o.rootAt(anchoredSize);
      if (!bytesEqual(ours, onChain.rootHash))
        throw new RadledgerError(
          "ANCHOR_INCONSISTENT",
          `the chain anchored size ${anchoredSize} with another root than this log's: the log's history differs from what it anchored`,
        );
      if (anchoredSize === cp.size) return { anchored: false, reason: "already anchored", size: cp.size };
      if (anchoredSize > 0) proof = this.o.consistencyProof(anchoredSize, cp.size);
    }
    const tx = await this.o.chain.anchor(origin, cp.size, cp.root, proof, crypto.sha256(utf8(note)));
    const record: AnchorRecord = {
      size: cp.size,
      root: toBase64(cp.root),
      txHash: tx.txHash,
      gasUsed: Number(tx.gasUsed),
      blockNumber: Number(tx.blockNumber),
      anchoredAt: this.o.clock.now(),
    };
    this.o.store.saveAnchor(record);
    return { anchored: true, record };
  }
}
