/**
 * The per-entry check of bundle verification that needs no log state — the Ed25519 signature with
 * the key the caller resolved from the bundle's enrolments — so that it can run beside the
 * verifier's main loop: on worker threads in the CLI, inline with WebCrypto signatures in the
 * browser. The verdict is the same either way. Leaf hashes are the verifier's own (verify.ts): it
 * needs them at once for references and the inclusion proof, and one SHA-256 of an entry costs a
 * few hundredths of its signature check.
 */
import type { CryptoSuite } from "../crypto.js";
import { fromBase64 } from "../bytes.js";
import { decodeEntryWithText, signingMessage, signingPartsFromBytes } from "../entry.js";
import { rootFromMultiInclusionProof } from "../merkle/multiproof.js";
import { merkleRootOfHashes } from "../merkle/manifest.js";
import type { BatchSignatureVerifier, SignatureCheck } from "./signatures.js";

export interface EntryTask {
  readonly index: number;
  /** The entry's exact bytes (its leaf). */
  readonly entry: Uint8Array;
  /** The key that must have signed it (entries whose key the bundle does not bind are a failure already). */
  readonly publicKey: Uint8Array;
}

export interface EntryVerdicts {
  /** Positions (in the batch) of the tasks whose signature does not verify with their key. */
  readonly badSignatures: readonly number[];
}

/** Runs batches of entry checks; several batches may be in flight. */
export interface EntryChecker {
  readonly parallelism: number;
  check(tasks: readonly EntryTask[]): Promise<EntryVerdicts>;
  /** Where the verifier's tree hashing runs; default inline. */
  readonly trees?: TreeHasher;
  close?(): Promise<void>;
}

/**
 * The verifier's last hashing, once every entry is hashed: the root the multi-leaf inclusion proof
 * implies, and manifest roots (a sealed dataset's 10^5 items). Both may run at once on other threads
 * while the verifier's own thread follows references.
 */
export interface TreeHasher {
  /** rootFromMultiInclusionProof (coded errors as it throws them). */
  multiInclusionRoot(
    indexes: readonly number[],
    size: number,
    leafHashes: Uint8Array,
    proof: readonly Uint8Array[],
  ): Promise<Uint8Array>;
  /** merkleRootOfHashes: RFC 9162 MTH with each 32-byte hash as one leaf. */
  merkleRootOfHashes(hashes: Uint8Array): Promise<Uint8Array>;
}

export function inlineTreeHasher(crypto: CryptoSuite): TreeHasher {
  return {
    async multiInclusionRoot(indexes, size, leafHashes, proof) {
      return rootFromMultiInclusionProof(crypto, indexes, size, leafHashes, proof);
    },
    async merkleRootOfHashes(hashes) {
      return merkleRootOfHashes(crypto, hashes);
    },
  };
}

/**
 * The signature of an entry and its signing message, cut from its bytes (canonical entries need no
 * re-serialising); with `scratch`, the message may be a view of it (signingPartsFromBytes).
 */
export function signatureOf(
  bytes: Uint8Array,
  scratch?: Uint8Array,
): { message: Uint8Array; signature: Uint8Array } | undefined {
  try {
    const fast = signingPartsFromBytes(bytes, scratch);
    if (fast) return { message: fast.message, signature: fromBase64(fast.signature) };
    const { entry } = decodeEntryWithText(bytes);
    return { message: signingMessage(entry), signature: fromBase64(entry.sig) };
  } catch {
    return undefined;
  }
}

/**
 * The signature checks of a batch (with their task positions); tasks whose signature cannot even be
 * read go straight to `bad`.
 */
export function signatureChecks(tasks: readonly EntryTask[]): {
  signatures: { i: number; check: SignatureCheck }[];
  bad: number[];
} {
  const signatures: { i: number; check: SignatureCheck }[] = [];
  const bad: number[] = [];
  tasks.forEach((t, i) => {
    const s = signatureOf(t.entry);
    if (!s) bad.push(i);
    else
      signatures.push({ i, check: { publicKey: t.publicKey, message: s.message, signature: s.signature } });
  });
  return { signatures, bad };
}

/** The signing message buffer of badSignatures, grown to the largest entry seen. */
let scratch = new Uint8Array(4096);

/**
 * The positions (ascending) of the tasks whose signature cannot be read or does not verify, checked
 * one after another by a synchronous `verify` (node:crypto on a verification lane): each signing
 * message is cut into one reused buffer instead of an array of its own.
 */
export function badSignatures(
  tasks: readonly EntryTask[],
  verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean,
): number[] {
  const bad: number[] = [];
  tasks.forEach((t, i) => {
    // The prefix is a few bytes; twice the entry always has room.
    if (scratch.length < 2 * t.entry.length) scratch = new Uint8Array(2 * t.entry.length);
    const s = signatureOf(t.entry, scratch);
    if (!s || !verify(t.publicKey, s.message, s.signature)) bad.push(i);
  });
  return bad;
}

/** Signatures through a (possibly asynchronous) batch verifier. */
export function inlineEntryChecker(signatures: BatchSignatureVerifier): EntryChecker {
  return {
    parallelism: signatures.parallelism,
    async check(tasks) {
      const { signatures: checks, bad } = signatureChecks(tasks);
      const verdicts = await signatures.verifyBatch(checks.map((c) => c.check));
      verdicts.forEach((ok, k) => {
        if (!ok) bad.push(checks[k]!.i);
      });
      return { badSignatures: bad.sort((a, b) => a - b) };
    },
  };
}

/** Packs tasks for another thread: one buffer (per task its 32-byte key, then the entry), offsets, indexes. */
export function packTasks(tasks: readonly EntryTask[]): {
  data: Uint8Array;
  offsets: Uint32Array;
  indexes: Float64Array;
} {
  let total = 0;
  for (const t of tasks) total += 32 + t.entry.length;
  const data = new Uint8Array(total);
  // offsets: each entry's start (after its key), then the end.
  const offsets = new Uint32Array(tasks.length + 1);
  const indexes = new Float64Array(tasks.length);
  let o = 0;
  tasks.forEach((t, i) => {
    indexes[i] = t.index;
    // A key of another length is copied short: the signature check then fails, as it must.
    data.set(t.publicKey.subarray(0, 32), o);
    o += 32;
    offsets[i] = o;
    data.set(t.entry, o);
    o += t.entry.length;
  });
  offsets[tasks.length] = o;
  return { data, offsets, indexes };
}

export function unpackTasks(data: Uint8Array, offsets: Uint32Array, indexes: Float64Array): EntryTask[] {
  const out: EntryTask[] = [];
  for (let i = 0; i < indexes.length; i++) {
    const start = offsets[i]!;
    // The next task's 32-byte key slot follows this entry; the last offset is the end of the data.
    const end = i + 1 < indexes.length ? offsets[i + 1]! - 32 : offsets[i + 1]!;
    out.push({
      index: indexes[i]!,
      entry: data.subarray(start, end),
      publicKey: data.subarray(start - 32, start),
    });
  }
  return out;
}
