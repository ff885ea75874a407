/**
 * The per-entry checks of bundle verification that need no log state — the leaf hash, the C2SP
 * tlog-proof (its index, its checkpoint being the bundle's, the RFC 9162 inclusion path) and the
 * Ed25519 signature with the key the caller resolved from the bundle's enrolments — so that they can
 * run beside the verifier's main loop: on worker threads in the CLI (each with its own memo of proven
 * nodes), inline with WebCrypto signatures in the browser. The verdict is the same either way.
 */
import type { CryptoSuite } from "../crypto.js";
import { fromBase64, fromUtf8 } from "../bytes.js";
import { decodeEntryWithText, signingMessage, signingMessageFromText } from "../entry.js";
import { isRadledgerError, type ErrorCode } from "../errors.js";
import { leafHash } from "../merkle/hash.js";
import { parseTlogProof } from "../tlog-proof.js";
import { entryPath, proofPath } from "./format.js";
import { InclusionVerifier } from "./inclusion.js";
import type { BatchSignatureVerifier, SignatureCheck } from "./signatures.js";

export interface EntryTask {
  readonly index: number;
  /** The bytes of entries/<index>.json. */
  readonly entry: Uint8Array;
  /** The bytes of proofs/<index>.tlog-proof. */
  readonly proof: Uint8Array;
  /** The key that must have signed it; absent when the bundle does not bind one (already a failure). */
  readonly publicKey?: Uint8Array;
}

export interface EntryFailure {
  readonly code: ErrorCode;
  readonly message: string;
  readonly at: string;
}

export interface EntryVerdicts {
  /** 32 bytes per task, in order. */
  readonly leafHashes: Uint8Array;
  readonly failures: readonly EntryFailure[];
}

/** Runs batches of entry checks; several batches may be in flight. */
export interface EntryChecker {
  readonly parallelism: number;
  check(tasks: readonly EntryTask[]): Promise<EntryVerdicts>;
  close?(): Promise<void>;
}

/** What every checker is configured with: the bundle's checkpoint. */
export interface CheckpointContext {
  readonly text: string;
  readonly size: number;
  readonly root: Uint8Array;
}

/** The signature of an entry and its signing message, from its text (canonical entries need no re-serialising). */
export function signatureOf(bytes: Uint8Array): { message: Uint8Array; signature: Uint8Array } | undefined {
  try {
    const text = fromUtf8(bytes);
    const start = text.lastIndexOf(',"sig":"');
    const end = start < 0 ? -1 : text.indexOf('"', start + 8);
    const fast = end < 0 ? undefined : signingMessageFromText(text);
    if (fast) return { message: fast, signature: fromBase64(text.slice(start + 8, end)) };
    const { entry } = decodeEntryWithText(bytes);
    return { message: signingMessage(entry), signature: fromBase64(entry.sig) };
  } catch {
    return undefined;
  }
}

/** Synchronous proof checks of one batch; returns the signature checks still to do. */
export class EntryProofChecker {
  readonly #inclusion: InclusionVerifier;
  readonly #checkpoint: string;

  constructor(
    private readonly crypto: CryptoSuite,
    checkpoint: CheckpointContext,
  ) {
    this.#inclusion = new InclusionVerifier(crypto, checkpoint.size, checkpoint.root);
    this.#checkpoint = checkpoint.text;
  }

  /** Leaf hash and proof of each task; failures appended; signature checks returned with their task positions. */
  checkProofs(
    tasks: readonly EntryTask[],
    failures: EntryFailure[],
  ): { leafHashes: Uint8Array; signatures: { i: number; check: SignatureCheck }[] } {
    const leafHashes = new Uint8Array(32 * tasks.length);
    const signatures: { i: number; check: SignatureCheck }[] = [];
    tasks.forEach((t, i) => {
      const leaf = leafHash(this.crypto, t.entry);
      leafHashes.set(leaf, 32 * i);
      const pPath = proofPath(t.index);
      try {
        const proof = parseTlogProof(t.proof, pPath);
        if (proof.index !== t.index)
          failures.push({
            code: "BUNDLE_MALFORMED",
            message: `${pPath}: proves index ${proof.index}, not ${t.index}`,
            at: pPath,
          });
        else if (proof.checkpoint !== this.#checkpoint)
          failures.push({
            code: "BUNDLE_MALFORMED",
            message: `${pPath}: its checkpoint is not the bundle's checkpoint`,
            at: pPath,
          });
        else this.#inclusion.verify(t.index, leaf, proof.proof);
      } catch (e) {
        failures.push({
          code: isRadledgerError(e) ? e.code : "BUNDLE_MALFORMED",
          message: `${pPath}: ${e instanceof Error ? e.message : String(e)}`,
          at: pPath,
        });
      }
      if (t.publicKey) {
        const s = signatureOf(t.entry);
        if (!s) failures.push(badSignature(t.index));
        else
          signatures.push({
            i,
            check: { publicKey: t.publicKey, message: s.message, signature: s.signature },
          });
      }
    });
    return { leafHashes, signatures };
  }
}

export function badSignature(index: number): EntryFailure {
  const at = entryPath(index);
  return {
    code: "ENTRY_BAD_SIGNATURE",
    message: `${at}: the signature does not verify with the key its enrolment binds`,
    at,
  };
}

/** Proofs on the calling thread, signatures through a (possibly asynchronous) batch verifier. */
export function inlineEntryChecker(
  crypto: CryptoSuite,
  checkpoint: CheckpointContext,
  signatures: BatchSignatureVerifier,
): EntryChecker {
  const proofs = new EntryProofChecker(crypto, checkpoint);
  return {
    parallelism: signatures.parallelism,
    async check(tasks) {
      const failures: EntryFailure[] = [];
      const { leafHashes, signatures: checks } = proofs.checkProofs(tasks, failures);
      const verdicts = await signatures.verifyBatch(checks.map((c) => c.check));
      verdicts.forEach((ok, k) => {
        if (!ok) failures.push(badSignature(tasks[checks[k]!.i]!.index));
      });
      return { leafHashes, failures };
    },
  };
}

/** Packs tasks for another thread: one buffer, offsets, and which tasks carry a key. */
export function packTasks(tasks: readonly EntryTask[]): {
  data: Uint8Array;
  offsets: Uint32Array;
  indexes: Float64Array;
} {
  let total = 0;
  for (const t of tasks) total += 32 + t.entry.length + t.proof.length;
  const data = new Uint8Array(total);
  // Per task: [key or 32 zero bytes][entry][proof]; offsets: 2 per task (entry start, proof start) + end.
  const offsets = new Uint32Array(2 * tasks.length + 1);
  const indexes = new Float64Array(tasks.length);
  let o = 0;
  tasks.forEach((t, i) => {
    indexes[i] = t.publicKey ? t.index : -1 - t.index;
    if (t.publicKey && t.publicKey.length === 32) data.set(t.publicKey, o);
    o += 32;
    offsets[2 * i] = o;
    data.set(t.entry, o);
    o += t.entry.length;
    offsets[2 * i + 1] = o;
    data.set(t.proof, o);
    o += t.proof.length;
  });
  offsets[2 * tasks.length] = o;
  return { data, offsets, indexes };
}

export function unpackTasks(data: Uint8Array, offsets: Uint32Array, indexes: Float64Array): EntryTask[] {
  const out: EntryTask[] = [];
  for (let i = 0; i < indexes.length; i++) {
    const start = offsets[2 * i]!;
    const mid = offsets[2 * i + 1]!;
    // The next task's 32-byte key slot follows this proof; the last offset is the end of the data.
    const end = i + 1 < indexes.length ? offsets[2 * i + 2]! - 32 : offsets[2 * i + 2]!;
    const signed = indexes[i]! >= 0;
    const index = signed ? indexes[i]! : -1 - indexes[i]!;
    const entry = data.subarray(start, mid);
    const proof = data.subarray(mid, end);
    out.push(
      signed ? { index, entry, proof, publicKey: data.subarray(start - 32, start) } : { index, entry, proof },
    );
  }
  return out;
}
