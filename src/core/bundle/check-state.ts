/**
 * The state of one bundle verification (src/core/bundle/verify.ts): what has been read and found so
 * far (BundleCheck), what only the closing checks read again (EntriesRead), the signature checks in
 * flight (SignatureBatches), reading the next file in archive order, and the one builder that turns
 * the state into the report — after the last stage, or when a stage stopped the verification.
 */
import { toBase64, toHex } from "../bytes.js";
import type { Checkpoint } from "../checkpoint.js";
import type { CryptoSuite } from "../crypto.js";
import { isRadledgerError, RadledgerError } from "../errors.js";
import type { ChosenLogKey } from "./checkpoint-checks.js";
import type { KindResult } from "./completeness.js";
import { trustState } from "./trust.js";
import { DatasetCheck } from "./dataset-check.js";
import type { CosignatureResult } from "./cosignatures.js";
import { Failures, Fatal } from "./failures.js";
import type { BundleManifest } from "./format.js";
import type { EntryChecker, EntryTask } from "./entry-check.js";
import { LeafIndex, type Included } from "./included.js";
import { signerSummaries, type ActorInfo, type KeyState } from "./signers.js";
import type { BundleInput, BundleReport, VerifyBundleOptions } from "./types.js";

/** The log keys the bundle's identity entries name: the genesis key, then the institution's rotations. */
export interface LogKeyChain {
  genesis?: { publicKey: Uint8Array; verifierKey: string | undefined; at: string };
  readonly rotations: { index: number; publicKey: Uint8Array; verifierKey: string | undefined; at: string }[];
}

/**
 * One verification: what has been read and found so far. The stages fill it in archive order, and
 * bundleReport() reads it, so that a verification stopped midway reports exactly what it had
 * established. The later stages also take the manifest and checkpoint as arguments, typed as
 * present once read, and the entries as read (EntriesRead), which only they need.
 */
export class BundleCheck {
  readonly crypto: CryptoSuite;
  readonly batchSize: number;
  readonly failures = new Failures();
  readonly warnings: string[] = [];
  readonly iterator: AsyncIterator<BundleInput> | Iterator<BundleInput>;
  /** Files taken from the iterator so far. */
  position = 0;
  /** Each file's archive position (from 1), by which the failures are ordered. */
  readonly positions = new Map<string, number>();

  manifest: BundleManifest | undefined;
  logKey: ChosenLogKey | undefined;
  checkpoint: Checkpoint | undefined;
  readonly cosignatures: CosignatureResult[] = [];
  readonly unverifiedSignatures: string[] = [];
  /** The signature checks sent out, once the entries are read. */
  batches: SignatureBatches | undefined;

  /** Entries decoded, in all and per type. */
  decoded = 0;
  readonly byType: Record<string, number> = {};
  /** The identity replay (signers.ts): keys by id, and what the identity entries say of each actor. */
  readonly keys = new Map<string, KeyState>();
  readonly actors = new Map<string, ActorInfo>();
  readonly logChain: LogKeyChain = { rotations: [] };
  readonly payloads = { disclosures: 0, files: 0, imageSets: 0, instances: 0, bytes: 0 };
  /** Commitments whose disclosure opened them, for the report kind's record. */
  readonly disclosed = new Set<string>();

  /** References to entries outside the bundle (checkReferences). */
  externalRefs = 0;
  completeness: KindResult | undefined;
  against: BundleReport["against"];
  /** Set when a stage stopped the verification (Fatal, or anything thrown). */
  stopped = false;

  constructor(
    members: AsyncIterable<BundleInput> | Iterable<BundleInput>,
    readonly options: VerifyBundleOptions,
  ) {
    this.crypto = options.crypto;
    this.batchSize = options.batchSize ?? 512;
    this.iterator =
      Symbol.asyncIterator in members ? members[Symbol.asyncIterator]() : members[Symbol.iterator]();
  }
}

/** A reference not (yet) to an entry of the bundle: a later entry, or one outside the bundle. */
interface ForwardRef {
  readonly at: string;
  readonly index: number;
  readonly name: string;
  readonly hash: string;
}

/**
 * The manifest's entries as read (stage 3), for the payload and closing checks. Nothing here holds a
 * decoded entry except `kept`, and that not for a dataset version's members (10^5 of them).
 */
export class EntriesRead {
  /** 32 bytes per manifest position, computed as each entry is read, for references and the proof. */
  readonly leafHashes: Uint8Array;
  readonly byLeaf: LeafIndex;
  /** Per manifest position, the entry as the closing checks may read it (for a dataset, every entry
   * but the version's members, which the dataset check counts as they pass). */
  readonly kept: (Included | undefined)[] = [];
  readonly forward: ForwardRef[] = [];
  readonly dataset: DatasetCheck | undefined;
  /** The hashes the manifest's payloads are named by: only those need remembering from the bodies. */
  readonly payloadNames: Set<string>;
  /** Per payload name, the first entry whose body holds it, and in which member. */
  readonly bound = new Map<string, { index: number; field: string; type: string }>();
  /** False once an entries/<k> file cannot be split into its entries: then the proof is not checked. */
  allRead = true;

  constructor(m: BundleManifest) {
    this.leafHashes = new Uint8Array(32 * m.entries.length);
    this.byLeaf = new LeafIndex(this.leafHashes);
    this.dataset = m.kind === "dataset" ? new DatasetCheck(m.subject.id, m.subject.version ?? 0) : undefined;
    this.payloadNames = new Set([...m.disclosures, ...m.files, ...m.images.map((set) => set.root)]);
  }
}

/**
 * The signature checks, sent to the entry checker in batches while the entries are read; several
 * batches may be in flight. Only each task's place is kept while its batch is out, not the decoded
 * entry, so that a batch in flight holds no parsed JSON; a verdict names its failures by position.
 */
export class SignatureBatches {
  #tasks: EntryTask[] = [];
  #places: string[] = [];
  /** Every batch sent, each settled once its verdicts are recorded. */
  readonly #sent: Promise<void>[] = [];
  /** Batches not yet answered (a checker may answer some at once, on this thread). */
  readonly #unanswered = new Set<Promise<void>>();

  constructor(
    readonly checker: EntryChecker,
    private readonly failures: Failures,
  ) {}

  /** Tasks waiting for the next batch. */
  get waiting(): number {
    return this.#tasks.length;
  }

  add(task: EntryTask, at: string): void {
    this.#tasks.push(task);
    this.#places.push(at);
  }

  /** Sends the waiting tasks, then waits while too many batches are unanswered. */
  async flush(): Promise<void> {
    if (this.#tasks.length === 0) return;
    const batch = this.#tasks;
    const places = this.#places;
    this.#tasks = [];
    this.#places = [];
    const failures = this.failures;
    const answered = this.checker.check(batch).then(
      (v) => {
        for (const i of v.badSignatures) {
          const at = places[i]!;
          failures.add(
            "ENTRY_BAD_SIGNATURE",
            `${at}: the signature does not verify with the key its enrolment binds`,
            at,
          );
        }
      },
      (e: unknown) => failures.addError(e, "entry checks"),
    );
    this.#sent.push(answered);
    this.#unanswered.add(answered);
    void answered.finally(() => this.#unanswered.delete(answered));
    // Bounded memory: at most two unanswered batches per lane.
    while (this.#unanswered.size > Math.max(1, this.checker.parallelism) * 2)
      await Promise.race(this.#unanswered);
  }

  /** Every batch sent has its verdicts recorded. */
  allAnswered(): Promise<unknown> {
    return Promise.all(this.#sent);
  }

  /** Every batch sent has answered or failed (after a stop). */
  allSettled(): Promise<unknown> {
    return Promise.allSettled(this.#sent);
  }
}

/** The next file, which must be at `path`: a missing or different one stops the verification. */
async function nextMember(s: BundleCheck, path: string): Promise<BundleInput> {
  let r: IteratorResult<BundleInput>;
  try {
    r = await s.iterator.next();
  } catch (e) {
    s.failures.addError(e, isRadledgerError(e) && typeof e.details.at === "string" ? e.details.at : "bundle");
    throw new Fatal();
  }
  const position = ++s.position;
  if (r.done) {
    s.failures.add(
      "BUNDLE_INCOMPLETE",
      `${path} is missing: the bundle ends after ${position - 1} files`,
      path,
    );
    throw new Fatal();
  }
  s.positions.set(r.value.path, position);
  if (r.value.path !== path) {
    s.failures.add(
      "BUNDLE_MALFORMED",
      `file ${position} is ${JSON.stringify(r.value.path.slice(0, 120))} where ${path} belongs (docs/bundle-format.md §2)`,
      r.value.path.slice(0, 120),
    );
    throw new Fatal();
  }
  return r.value;
}

/**
 * The next file, which must be at `path`, read into memory: a structured file (manifest,
 * checkpoint, entries, proof, disclosure) of at most `limit` bytes (format.ts). A larger one stops
 * the verification with BUNDLE_MEMBER_TOO_LARGE — from its declared size, before its content is
 * read, so that a hostile size costs nothing; a source that delivers more than it declared is
 * stopped at the bound as well.
 */
export async function nextFile(s: BundleCheck, path: string, limit: number): Promise<Uint8Array> {
  const m = await nextMember(s, path);
  try {
    return await readWhole(m, path, limit);
  } catch (e) {
    s.failures.addError(e, path);
    throw new Fatal();
  }
}

async function readWhole(m: BundleInput, path: string, limit: number): Promise<Uint8Array> {
  const tooLarge = (size: number): RadledgerError =>
    new RadledgerError(
      "BUNDLE_MEMBER_TOO_LARGE",
      `${size} bytes, more than the ${limit} a verifier reads for this file (docs/bundle-format.md §4.2)`,
      { at: path },
    );
  if ("bytes" in m) {
    if (m.bytes.length > limit) throw tooLarge(m.bytes.length);
    return m.bytes;
  }
  if (m.size > limit) throw tooLarge(m.size);
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const c of m.chunks()) {
    length += c.length;
    if (length > limit) throw tooLarge(length);
    parts.push(c);
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(length);
  let o = 0;
  for (const c of parts) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/**
 * The next file, which must be at `path`, hashed chunk by chunk as it streams by (payloads: files
 * and DICOM instances of any size), never held whole: its SHA-256 (hex) and length.
 */
export async function nextFileHash(
  s: BundleCheck,
  path: string,
): Promise<{ readonly sha256: string; readonly bytes: number }> {
  const m = await nextMember(s, path);
  if ("bytes" in m) return { sha256: toHex(s.crypto.sha256(m.bytes)), bytes: m.bytes.length };
  const h = s.crypto.sha256Stream();
  let bytes = 0;
  try {
    for await (const c of m.chunks()) {
      h.update(c);
      bytes += c.length;
    }
  } catch (e) {
    s.failures.addError(e, path);
    throw new Fatal();
  }
  return { sha256: toHex(h.digest()), bytes };
}

/**
 * The report, from the state alone: after every stage, or after a stop. A stopped verification
 * reports what it read (manifest, checkpoint, entries decoded, payloads, failures) but none of the
 * results about the bundle as a whole — types, signers, references, the kind's findings — which
 * would describe the part read as if it were all of it.
 */
export function bundleReport(s: BundleCheck): BundleReport {
  const { manifest: m, logKey, checkpoint, failures } = s;
  const whole = s.stopped ? undefined : s.completeness;
  const trust = trustState(whole !== undefined && failures.count === 0, logKey?.source);
  return {
    ok: trust === "verified",
    trust,
    ...(m ? { kind: m.kind, subject: m.subject } : {}),
    ...(m && logKey
      ? {
          log: {
            origin: m.origin,
            key: logKey.text,
            keyPinned: logKey.source !== "bundle",
            keySource: logKey.source,
          },
        }
      : {}),
    ...(checkpoint
      ? {
          checkpoint: {
            size: checkpoint.size,
            root: toBase64(checkpoint.root),
            cosignatures: s.cosignatures,
            unverifiedSignatures: s.unverifiedSignatures,
          },
        }
      : {}),
    ...(whole && s.against ? { against: s.against } : {}),
    entries: s.decoded,
    byType: whole ? s.byType : {},
    signers: whole ? signerSummaries(s.keys, s.actors) : [],
    payloads: s.payloads,
    externalRefs: whole ? s.externalRefs : 0,
    findings: whole ? whole.findings : [],
    ...(whole ? { record: whole.record } : {}),
    warnings: s.warnings,
    // A stop records its cause as a failure; should none be listed, the report still says why.
    failures:
      whole || failures.list.length > 0
        ? failures.ordered(s.positions)
        : [{ code: "BUNDLE_MALFORMED", message: "the bundle could not be read" }],
    moreFailures: failures.more,
  };
}
