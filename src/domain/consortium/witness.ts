/**
 * The witness state machine of C2SP tlog-witness §add-checkpoint, over a durable store:
 *
 *   1. the body parses (old size line, ≤ 63 proof lines, blank line, signed checkpoint)   else 400
 *   2. the checkpoint's origin is a log this witness is configured with                  else 404
 *   3. a signature verifies with a key the witness trusts for that origin                else 403
 *   4. old size ≤ checkpoint size                                                         else 400
 *   5. atomically with 7: old size = size of the latest checkpoint cosigned for the origin (0 if
 *      none)                                                           else 409 text/x.tlog.size
 *   6. old = checkpoint size: the roots are identical                                    else 409
 *      otherwise: the consistency proof from the cosigned checkpoint verifies             else 422
 *   7. persist the checkpoint as the latest cosigned, then answer with a cosignature/v1 line.
 *
 * Misbehaviour is kept (the spec allows logging requests whose signature is valid): a signed
 * checkpoint with the cosigned size and another root is equivocation evidence, whatever old size was
 * sent; a failing proof whose own path shows that the new tree's prefix differs from the cosigned
 * root is evidence too (src/core/evidence.ts); any other failing proof is an unproven observation.
 * Once proven evidence is held against a log, the witness cosigns nothing more for it
 * (LOG_EQUIVOCATED, 403).
 *
 * Who controls the input: anyone who can reach the endpoint. Nothing is trusted before the
 * signature check, and nothing is stored for unsigned or unknown-origin requests.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { bytesEqual } from "../../core/bytes.js";
import { parseCheckpointText, type Checkpoint } from "../../core/checkpoint.js";
import { formatCosignatureResponse, parseAddCheckpointRequest } from "../../core/witness-protocol.js";
import type { Cosigner } from "../../core/cosignature.js";
import { formatEvidence, verifyEvidence, type Evidence } from "../../core/evidence.js";
import { RadledgerError, toRadledgerError } from "../../core/errors.js";
import { isPowerOfTwo } from "../../core/merkle/math.js";
import { consistencyProofRoots, verifyConsistency } from "../../core/merkle/verify.js";
import {
  parseSignedNote,
  verifyNote,
  type Ed25519NoteKey,
  type NoteVerifier,
  type SignedNote,
} from "../../core/note.js";
import type { Clock } from "../../ports/clock.js";
import type { EvidenceRecord, WitnessStore } from "../../ports/consortium.js";

/** A log key the witness trusts: its vkey text (for evidence files) and its verifier. */
export interface TrustedLogKey {
  readonly vkey: string;
  readonly verifier: NoteVerifier & Ed25519NoteKey;
}

export interface WitnessOptions {
  readonly crypto: CryptoSuite;
  readonly cosigner: Cosigner;
  /** The log keys trusted for an origin, or undefined for an unknown origin; read per request. */
  readonly logKeys: (origin: string) => readonly TrustedLogKey[] | undefined;
  readonly store: WitnessStore;
  readonly clock: Clock;
  /** Called when evidence (proven or not) is recorded: metrics, logs. */
  readonly onEvidence?: (record: EvidenceRecord) => void;
}

export interface WitnessResult {
  /** The 200 body: cosignature/v1 signature lines. */
  readonly body: string;
  readonly checkpoint: Checkpoint;
}

type Outcome = { ok: true } | { ok: false; error: RadledgerError };

export class Witness {
  constructor(private readonly o: WitnessOptions) {}

  get name(): string {
    return this.o.cosigner.name;
  }

  /** The witness's public key (its cosignature/v1 verifier key is published from it). */
  get cosignerKey(): Cosigner {
    return this.o.cosigner;
  }

  /**
   * Handles one add-checkpoint body. Returns the 200 body, or throws a RadledgerError whose code
   * decides the status; WITNESS_SIZE_CONFLICT carries `latestSize` for the text/x.tlog.size body.
   */
  addCheckpoint(body: string | Uint8Array): WitnessResult {
    const req = parseAddCheckpointRequest(body);
    let note: SignedNote;
    let cp: Checkpoint;
    try {
      note = parseSignedNote(req.checkpoint);
      cp = parseCheckpointText(note.text);
    } catch (e) {
      throw new RadledgerError("WITNESS_REQUEST_MALFORMED", `checkpoint: ${toRadledgerError(e).message}`);
    }
    const keys = this.o.logKeys(cp.origin);
    if (!keys || keys.length === 0)
      throw new RadledgerError("WITNESS_UNKNOWN_LOG", "this witness is not configured with that log origin");
    let signedBy: TrustedLogKey;
    try {
      const verified = verifyNote(
        note,
        keys.map((k) => k.verifier),
      );
      signedBy = keys.find((k) => verified.verifiedBy.includes(k.verifier))!;
    } catch (e) {
      throw new RadledgerError(
        "WITNESS_UNTRUSTED_SIGNATURE",
        `no signature verifies with a key trusted for the origin (${toRadledgerError(e).code})`,
      );
    }
    if (req.oldSize > cp.size)
      throw new RadledgerError(
        "WITNESS_OLD_SIZE_INVALID",
        `old size ${req.oldSize} is larger than the checkpoint size ${cp.size}`,
      );
    if (this.o.store.equivocated(cp.origin))
      throw new RadledgerError(
        "LOG_EQUIVOCATED",
        "this witness holds equivocation evidence against the log and cosigns nothing more for it",
      );

    const now = this.o.clock.now();
    const evidence: EvidenceRecord[] = [];
    const outcome = this.o.store.atomically((): Outcome => {
      const latest = this.o.store.latest(cp.origin);
      const latestSize = latest?.size ?? 0;
      if (latest && cp.size === latest.size && !bytesEqual(cp.root, latest.root)) {
        // Two roots for one size, both signed by the log: proof of equivocation whatever old says.
        const e = this.record(signedBy, latest.note, req.checkpoint, undefined, now);
        if (e) evidence.push(e);
        if (req.oldSize === latestSize)
          return {
            ok: false,
            error: new RadledgerError(
              "WITNESS_ROOT_CONFLICT",
              `the witness cosigned another root for size ${cp.size}; both checkpoints are kept as evidence`,
            ),
          };
      }
      if (req.oldSize !== latestSize)
        return {
          ok: false,
          error: new RadledgerError(
            "WITNESS_SIZE_CONFLICT",
            `old size ${req.oldSize} is not the latest cosigned size ${latestSize}`,
            { latestSize },
          ),
        };
      if (req.oldSize === 0 || req.oldSize === cp.size) {
        // tlog-witness: the proof MUST be empty if the old size is zero; equal sizes need none.
        if (req.proof.length !== 0)
          return {
            ok: false,
            error: new RadledgerError(
              "WITNESS_PROOF_INVALID",
              `a consistency proof from size ${req.oldSize} to ${cp.size} must be empty`,
            ),
          };
      } else {
        try {
          verifyConsistency(this.o.crypto, req.oldSize, cp.size, latest!.root, cp.root, req.proof);
        } catch (e) {
          const rec = this.inconsistency(signedBy, latest!, cp, req.checkpoint, req.proof, now);
          evidence.push(rec);
          return {
            ok: false,
            error: new RadledgerError(
              "WITNESS_PROOF_INVALID",
              `the consistency proof from size ${req.oldSize} to ${cp.size} does not verify (${toRadledgerError(e).code})`,
            ),
          };
        }
      }
      this.o.store.put({
        origin: cp.origin,
        size: cp.size,
        root: cp.root,
        note: req.checkpoint,
        updatedAt: now,
      });
      return { ok: true };
    });
    for (const e of evidence) this.o.onEvidence?.(e);
    if (!outcome.ok) throw outcome.error;
    // Persisted before answering (tlog-witness: "MUST persist the new checkpoint before responding").
    const cosignature = this.o.cosigner.cosign(note.text, Math.floor(now / 1000));
    return { body: formatCosignatureResponse([cosignature]), checkpoint: cp };
  }

  /** Records evidence if it proves misbehaviour; returns the record (proven or not). */
  private record(
    key: TrustedLogKey,
    earlier: string,
    later: string,
    proof: { prefix: Uint8Array; proof: readonly Uint8Array[] } | undefined,
    now: number,
  ): EvidenceRecord | undefined {
    const ev: Evidence = {
      logKey: key.vkey,
      checkpoints: [earlier, later],
      ...(proof ? { prefix: proof.prefix, proof: proof.proof } : {}),
    };
    let verdict;
    try {
      verdict = verifyEvidence(this.o.crypto, ev);
    } catch {
      return undefined; // the earlier note was signed by another of the log's keys: nothing proven here
    }
    return this.o.store.addEvidence({
      origin: verdict.origin,
      kind: verdict.kind,
      source: "witness",
      text: formatEvidence(ev),
      summary: verdict.summary,
      detectedAt: now,
    });
  }

  /**
   * A failing proof from the cosigned checkpoint. When the old size is not a power of two, the
   * proof path alone fixes the prefix root it claims (consistencyProofRoots): if it leads to the new
   * root but from another prefix, the log proved its own rewrite. Otherwise it is kept unproven.
   */
  private inconsistency(
    key: TrustedLogKey,
    latest: { size: number; root: Uint8Array; note: string },
    cp: Checkpoint,
    noteText: string,
    proof: readonly Uint8Array[],
    now: number,
  ): EvidenceRecord {
    if (!isPowerOfTwo(latest.size)) {
      try {
        const { fr, sr } = consistencyProofRoots(this.o.crypto, latest.size, cp.size, latest.root, proof);
        if (bytesEqual(sr, cp.root) && !bytesEqual(fr, latest.root)) {
          const proven = this.record(key, latest.note, noteText, { prefix: fr, proof }, now);
          if (proven) return proven;
        }
      } catch {
        // a malformed path proves nothing
      }
    }
    return this.o.store.addEvidence({
      origin: cp.origin,
      kind: "unproven",
      source: "witness",
      text: formatEvidence({ logKey: key.vkey, checkpoints: [latest.note, noteText] }),
      summary: `${cp.origin} sent a checkpoint of size ${cp.size} with a consistency proof from size ${latest.size} that does not verify`,
      detectedAt: now,
    });
  }
}
