/**
 * Offline verification of a radledger bundle (docs/bundle-format.md §4), in the pure core so that
 * the CLI and the browser run the same code. Input: the bundle's files in archive order (from a tar
 * stream or a directory) and what the verifier trusts — the log's verifier key(s) and, optionally,
 * witness keys with a quorum. Nothing else: no network, no data directory.
 *
 * Checks, in order of the archive:
 *  1. the manifest: canonical JSON, format version, layout (format.ts);
 *  2. the checkpoint: a C2SP signed note by the log key (its origin and size those of the manifest),
 *     cosignatures by the named witnesses (tlog-cosignature, type 0x04), the quorum;
 *  3. per entry, in log order: envelope, origin, an RFC 9162 inclusion proof in C2SP tlog-proof@v1
 *     form whose checkpoint is byte-for-byte the bundle's, the Ed25519 signature by the key the
 *     bundle's own earlier enrolment entries bind to the actor and that no earlier entry of the
 *     bundle retired or revoked (log order decides, as at admission: docs/log-format.md §1.3);
 *  4. per payload: disclosures against their commitments, files and DICOM instances against the
 *     hashes and manifest roots entries commit to;
 *  5. the kind's own completeness checks (a signed report lists its contributions; a sealed dataset
 *     version's manifest root and contributor list are recomputed from the bundle's entries);
 *  6. optionally, consistency of the checkpoint with a later one (RFC 9162 §2.1.4).
 *
 * Whatever the input, the result is a report; hostile bytes produce failures with a code and a
 * place, never an exception.
 */
import type { CryptoSuite } from "../crypto.js";
import { bytesEqual, fromBase64, fromHex, fromUtf8, toBase64, toHex, utf8 } from "../bytes.js";
import { canonicalBytes, parseCanonicalText, type JsonObject, type JsonValue } from "../canonical-json.js";
import { parseCheckpointText, type Checkpoint } from "../checkpoint.js";
import { actorKeyId, decodeEntryWithText, entryRefs, type Entry } from "../entry.js";
import { isRadledgerError, RadledgerError, type ErrorCode } from "../errors.js";
import { CompactRange } from "../merkle/compact-range.js";
import { leafHash } from "../merkle/hash.js";
import { verifyConsistency } from "../merkle/verify.js";
import {
  ed25519Verifier,
  parseSignedNote,
  parseVerifierKey,
  SIG_TYPE_ED25519,
  type NoteSignature,
  type SignedNote,
} from "../note.js";
import {
  cosignatureMessage,
  cosignatureTimestamp,
  matchCosignatures,
  parseWitnessKey,
  type CosignatureResult,
  type WitnessKey,
} from "./cosignatures.js";
import {
  CHECKPOINT_PATH,
  disclosurePath,
  entryPath,
  filePath,
  imagePath,
  MANIFEST_PATH,
  parseManifest,
  proofPath,
  type BundleKind,
  type BundleManifest,
  type BundleSubject,
} from "./format.js";
import {
  inlineEntryChecker,
  type CheckpointContext,
  type EntryChecker,
  type EntryTask,
} from "./entry-check.js";
import { inlineSignatureVerifier, type BatchSignatureVerifier } from "./signatures.js";

export interface BundleMember {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export interface AgainstCheckpoint {
  /** The later checkpoint (signed note text), e.g. a log's /checkpoint saved to a file. */
  readonly checkpoint: string;
  /** RFC 9162 consistency proof from the bundle's size to the later size, if the caller has one. */
  readonly proof?: readonly Uint8Array[];
  /** Otherwise, how to get one (from the log's API or its tiles); called only when sizes differ. */
  readonly fetchProof?: (from: number, to: number) => Promise<readonly Uint8Array[]>;
}

export interface VerifyBundleOptions {
  readonly crypto: CryptoSuite;
  /** Ed25519 verification engine for the inline entry checker; default: inline through `crypto`. */
  readonly signatures?: BatchSignatureVerifier;
  /**
   * Runs the per-entry checks (leaf hash, tlog-proof, signature) for the bundle's checkpoint, e.g. on
   * worker threads; default: inline, with `signatures`. The verifier closes what this returns.
   */
  readonly entryChecker?: (checkpoint: CheckpointContext) => EntryChecker;
  /** Log verifier keys the user trusts. None: the bundle's own key is used and the report says so. */
  readonly logKeys?: readonly string[];
  readonly witnessKeys?: readonly string[];
  /** Valid cosignatures by distinct named witnesses the checkpoint needs (default 0). */
  readonly minWitnesses?: number;
  readonly against?: AgainstCheckpoint;
  readonly onProgress?: (done: number, total: number) => void;
  /** Entries per batch of entry checks (default 512). */
  readonly batchSize?: number;
}

export interface BundleFailure {
  readonly code: ErrorCode;
  readonly message: string;
  /** The file (and line or byte) concerned. */
  readonly at?: string;
}

export interface SignerSummary {
  readonly actor: string;
  readonly key: string;
  readonly kind?: string;
  readonly displayName?: string;
  readonly roles?: readonly string[];
  readonly specialty?: string;
  /** Log index of the entry that enrolled the key (genesis, actor.enrolled or key.rotated). */
  readonly enrolledAt: number;
  readonly enrolledBy: string;
  /** Entries of the bundle this key signed. */
  readonly signed: number;
  /** The key's state as far as the bundle shows: retired or revoked entries end it (after what it signed). */
  readonly status: "active" | "retired" | "revoked";
  readonly endedAt?: number;
  readonly reason?: string;
}

export interface BundleReport {
  readonly ok: boolean;
  readonly kind?: BundleKind;
  readonly subject?: BundleSubject;
  readonly log?: { readonly origin: string; readonly key: string; readonly keyPinned: boolean };
  readonly checkpoint?: {
    readonly size: number;
    readonly root: string;
    readonly cosignatures: readonly CosignatureResult[];
    /** Names on signature lines by keys the verifier was not given (not checked, not trusted). */
    readonly unverifiedSignatures: readonly string[];
  };
  readonly against?: { readonly size: number; readonly root: string; readonly consistent: boolean };
  readonly entries: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly signers: readonly SignerSummary[];
  readonly payloads: {
    readonly disclosures: number;
    readonly files: number;
    readonly imageSets: number;
    readonly instances: number;
    readonly bytes: number;
  };
  /** References from the bundle's entries to entries it does not carry. */
  readonly externalRefs: number;
  /** What the kind's checks established, as sentences. */
  readonly findings: readonly string[];
  /** The record, summarised for display (per kind). */
  readonly record?: JsonObject;
  readonly warnings: readonly string[];
  readonly failures: readonly BundleFailure[];
  /** Failures beyond those listed (the list is capped). */
  readonly moreFailures: number;
}

const MAX_FAILURES = 200;
const HEX64 = /^[0-9a-f]{64}$/;

interface Included {
  readonly index: number;
  /** Hex leaf hash, filled in when the entry's batch of checks completes. */
  leaf: string;
  readonly entry: Entry;
}

interface KeyState {
  readonly id: string;
  readonly actor: string;
  readonly publicKey: Uint8Array;
  readonly enrolledAt: number;
  readonly enrolledBy: string;
  status: "active" | "retired" | "revoked";
  endedAt?: number;
  reason?: string;
  signed: number;
}

interface ActorInfo {
  kind?: string;
  displayName?: string;
  roles?: string[];
  specialty?: string;
}

class Failures {
  readonly list: BundleFailure[] = [];
  more = 0;

  add(code: ErrorCode, message: string, at?: string): void {
    if (this.list.length >= MAX_FAILURES) {
      this.more++;
      return;
    }
    this.list.push(at === undefined ? { code, message } : { code, message, at });
  }

  addError(e: unknown, at: string): void {
    if (isRadledgerError(e)) this.add(e.code, `${at}: ${e.message}`, at);
    else this.add("BUNDLE_MALFORMED", `${at}: ${e instanceof Error ? e.message : String(e)}`, at);
  }

  get count(): number {
    return this.list.length + this.more;
  }

  /**
   * The failures in archive order of the files they concern (checks that run in parallel report
   * late), so that the first failure is the first place where the bundle is wrong.
   */
  ordered(positions: ReadonlyMap<string, number>): BundleFailure[] {
    const rank = (f: BundleFailure): number => {
      const at = f.at ?? "";
      const p = positions.get(at) ?? positions.get(at.split(":")[0]!);
      if (p !== undefined) return p;
      if (at.startsWith("images/")) return positions.size + 1;
      return at === "--against" ? positions.size + 3 : positions.size + 2;
    };
    return this.list
      .map((f, i) => ({ f, i, r: rank(f) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.f);
  }
}

/** A stop after which nothing further can be checked meaningfully (the layout is broken). */
class Fatal extends Error {}

function str(o: JsonObject, k: string): string | undefined {
  const v = o[k];
  return typeof v === "string" ? v : undefined;
}

function refOf(entry: Entry, name: string): string[] {
  const r = entry.refs?.[name];
  return r === undefined ? [] : Array.isArray(r) ? r : [r];
}

/** Hex hashes in an entry body, with the member name that holds each (for payload bindings). */
function collectHashes(value: JsonValue, name: string, out: (hash: string, field: string) => void): void {
  if (typeof value === "string") {
    if (HEX64.test(value)) out(value, name);
  } else if (Array.isArray(value)) {
    for (const v of value) collectHashes(v, name, out);
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collectHashes(v, k, out);
  }
}

const isCommitmentField = (field: string): boolean =>
  field.endsWith("Commitment") || field === "measurements";

/**
 * Manifest root of a set of 32-byte hashes (hex): RFC 9162 Merkle tree hash over them sorted bytewise,
 * duplicates removed, each as one leaf (the construction of study, timepoint and dataset manifests).
 */
export function manifestRootOf(crypto: CryptoSuite, hashes: readonly string[]): string {
  const range = new CompactRange(crypto);
  for (const h of [...new Set(hashes)].sort()) range.append(leafHash(crypto, fromHex(h)));
  return toHex(range.root());
}

export async function verifyBundle(
  members: AsyncIterable<BundleMember> | Iterable<BundleMember>,
  options: VerifyBundleOptions,
): Promise<BundleReport> {
  const { crypto } = options;
  const failures = new Failures();
  const warnings: string[] = [];
  const batchSize = options.batchSize ?? 512;

  const iterator: AsyncIterator<BundleMember> | Iterator<BundleMember> =
    Symbol.asyncIterator in members ? members[Symbol.asyncIterator]() : members[Symbol.iterator]();
  let position = 0;
  const positions = new Map<string, number>();
  /** The next member, which must be at `path`; a missing or different one is fatal. */
  const next = async (path: string): Promise<Uint8Array> => {
    let r: IteratorResult<BundleMember>;
    try {
      r = await iterator.next();
    } catch (e) {
      failures.addError(e, isRadledgerError(e) && typeof e.details.at === "string" ? e.details.at : "bundle");
      throw new Fatal();
    }
    position++;
    if (!r.done) positions.set(r.value.path, position);
    if (r.done) {
      failures.add(
        "BUNDLE_INCOMPLETE",
        `${path} is missing: the bundle ends after ${position - 1} files`,
        path,
      );
      throw new Fatal();
    }
    if (r.value.path !== path) {
      failures.add(
        "BUNDLE_MALFORMED",
        `file ${position} is ${JSON.stringify(r.value.path.slice(0, 120))} where ${path} belongs (docs/bundle-format.md §2)`,
        r.value.path.slice(0, 120),
      );
      throw new Fatal();
    }
    return r.value.bytes;
  };

  let manifest: BundleManifest | undefined;
  let checkpoint: Checkpoint | undefined;
  let logKey: { text: string; publicKey: Uint8Array; pinned: boolean } | undefined;
  const cosignatures: CosignatureResult[] = [];
  const unverifiedSignatures: string[] = [];
  const included: Included[] = [];
  const byLeaf = new Map<string, Included>();
  const keys = new Map<string, KeyState>();
  const actors = new Map<string, ActorInfo>();
  const bound = new Map<string, { index: number; field: string; type: string }>();
  const payloads = { disclosures: 0, files: 0, imageSets: 0, instances: 0, bytes: 0 };
  const disclosed = new Set<string>();
  let againstReport: BundleReport["against"];

  // Entry checks (leaf, proof, signature) go out in batches; several may be in flight.
  let checker: EntryChecker | undefined;
  let tasks: EntryTask[] = [];
  let taskItems: (Included | undefined)[] = [];
  const inFlight: Promise<void>[] = [];
  const flush = async (): Promise<void> => {
    if (tasks.length === 0 || !checker) return;
    const batch = tasks;
    const items = taskItems;
    tasks = [];
    taskItems = [];
    inFlight.push(
      checker.check(batch).then(
        (v) => {
          items.forEach((it, i) => {
            if (it) it.leaf = toHex(v.leafHashes.subarray(32 * i, 32 * i + 32));
          });
          for (const f of v.failures) failures.add(f.code, f.message, f.at);
        },
        (e: unknown) => failures.addError(e, "entry checks"),
      ),
    );
    while (inFlight.length > Math.max(1, checker.parallelism) * 2) await inFlight.shift();
  };

  try {
    // 1. Manifest.
    try {
      manifest = parseManifest(await next(MANIFEST_PATH));
    } catch (e) {
      if (e instanceof Fatal) throw e;
      failures.addError(e, MANIFEST_PATH);
      throw new Fatal();
    }
    const m = manifest;

    // 2. Log key and checkpoint.
    try {
      logKey = chooseLogKey(crypto, m, options.logKeys ?? []);
      if (!logKey.pinned)
        warnings.push(
          "the log key was taken from the bundle itself: pass the log's key (--log-key) to check the bundle against the log you trust",
        );
    } catch (e) {
      failures.addError(e, `${MANIFEST_PATH}:logKey`);
    }
    const checkpointBytes = await next(CHECKPOINT_PATH);
    let checkpointText = "";
    try {
      checkpointText = fromUtf8(checkpointBytes);
      const note = parseSignedNote(checkpointText);
      checkpoint = parseCheckpointText(note.text);
      if (checkpoint.origin !== m.origin)
        failures.add(
          "CHECKPOINT_WRONG_ORIGIN",
          `checkpoint: origin is not the manifest's ${m.origin}`,
          CHECKPOINT_PATH,
        );
      if (checkpoint.size !== m.size)
        failures.add(
          "BUNDLE_MALFORMED",
          `checkpoint: size ${checkpoint.size} is not the manifest's ${m.size}`,
          CHECKPOINT_PATH,
        );
      if (logKey)
        checkCheckpointSignatures(
          crypto,
          note,
          logKey,
          options,
          failures,
          cosignatures,
          unverifiedSignatures,
        );
    } catch (e) {
      failures.addError(e, CHECKPOINT_PATH);
    }
    if (!checkpoint) throw new Fatal();
    const context: CheckpointContext = { text: checkpointText, size: checkpoint.size, root: checkpoint.root };
    checker = options.entryChecker
      ? options.entryChecker(context)
      : inlineEntryChecker(crypto, context, options.signatures ?? inlineSignatureVerifier(crypto));

    // 3. Entries and proofs, in log order: decoding and key validity here, hashing, proofs and
    // signatures in the entry checker.
    const total = m.entries.length;
    for (let n = 0; n < total; n++) {
      const index = m.entries[n]!;
      const ePath = entryPath(index);
      const bytes = await next(ePath);
      const proofBytes = await next(proofPath(index));
      let decoded: { entry: Entry; text: string } | undefined;
      try {
        decoded = decodeEntryWithText(bytes);
      } catch (e) {
        failures.addError(e, ePath);
      }
      let publicKey: Uint8Array | undefined;
      let item: Included | undefined;
      if (decoded) {
        const entry = decoded.entry;
        item = { index, leaf: "", entry };
        included.push(item);
        if (entry.origin !== m.origin)
          failures.add("ENTRY_WRONG_ORIGIN", `${ePath}: the entry is for another log`, ePath);
        publicKey = keyFor(crypto, item, keys, logKey, m, failures);
        applyIdentity(crypto, item, keys, actors, failures);
        collectHashes(entry.body, "body", (hash, field) => {
          if (!bound.has(hash)) bound.set(hash, { index, field, type: entry.type });
        });
      }
      tasks.push(
        publicKey
          ? { index, entry: bytes, proof: proofBytes, publicKey }
          : { index, entry: bytes, proof: proofBytes },
      );
      taskItems.push(item);
      if (tasks.length >= batchSize) await flush();
      if (options.onProgress && (n % 1024 === 1023 || n === total - 1)) options.onProgress(n + 1, total);
    }
    await flush();

    // 4. Payloads.
    for (const c of m.disclosures) {
      const path = disclosurePath(c);
      const bytes = await next(path);
      payloads.disclosures++;
      payloads.bytes += bytes.length;
      try {
        checkDisclosure(crypto, c, bytes, path);
        const b = bound.get(c);
        if (!b || !isCommitmentField(b.field))
          failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: no entry of the bundle commits to ${c}`, path);
        else disclosed.add(c);
      } catch (e) {
        failures.addError(e, path);
      }
    }
    for (const h of m.files) {
      const path = filePath(h);
      const bytes = await next(path);
      payloads.files++;
      payloads.bytes += bytes.length;
      if (toHex(crypto.sha256(bytes)) !== h)
        failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: the file's SHA-256 is not its name`, path);
      else if (!bound.has(h))
        failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: no entry of the bundle commits to this file`, path);
    }
    for (const set of m.images) {
      payloads.imageSets++;
      for (const h of set.instances) {
        const path = imagePath(set.root, h);
        const bytes = await next(path);
        payloads.instances++;
        payloads.bytes += bytes.length;
        if (toHex(crypto.sha256(bytes)) !== h)
          failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: the instance's SHA-256 is not its name`, path);
      }
      const at = `images/${set.root}/`;
      if (manifestRootOf(crypto, set.instances) !== set.root)
        failures.add("BUNDLE_PAYLOAD_MISMATCH", `${at}: the instances' manifest root is not ${set.root}`, at);
      else if (bound.get(set.root)?.field !== "manifestRoot")
        failures.add("BUNDLE_PAYLOAD_MISMATCH", `${at}: no entry of the bundle has this manifest root`, at);
    }

    // Nothing may follow.
    let extra: IteratorResult<BundleMember>;
    try {
      extra = await iterator.next();
    } catch (e) {
      failures.addError(e, "bundle");
      throw new Fatal();
    }
    if (!extra.done)
      failures.add(
        "BUNDLE_MALFORMED",
        `unexpected file ${JSON.stringify(extra.value.path.slice(0, 120))}: the manifest does not list it`,
        extra.value.path.slice(0, 120),
      );
    await Promise.all(inFlight);
    for (const it of included) byLeaf.set(it.leaf, it);

    // 5. Log order, references and the kind's checks.
    if (m.entries[0] !== 0)
      failures.add(
        "BUNDLE_INCOMPLETE",
        "the bundle lacks entry 0 (institution.genesis), which binds the log key",
        entryPath(0),
      );
    let externalRefs = 0;
    for (const it of included) {
      for (const r of entryRefs(it.entry)) {
        const target = byLeaf.get(r.hash);
        if (!target) externalRefs++;
        else if (target.index >= it.index)
          failures.add(
            "BUNDLE_MALFORMED",
            `${entryPath(it.index)}: refs.${r.name} names a later entry`,
            entryPath(it.index),
          );
      }
    }
    const kindResult = checkKind(crypto, m, included, byLeaf, actors, disclosed, failures);

    // 6. A later checkpoint.
    if (options.against && logKey) {
      againstReport = await checkAgainst(crypto, options.against, checkpoint, logKey, m, failures);
    }

    await checker.close?.();
    const byType: Record<string, number> = {};
    for (const it of included) byType[it.entry.type] = (byType[it.entry.type] ?? 0) + 1;
    return {
      ok: failures.count === 0,
      kind: m.kind,
      subject: m.subject,
      ...(logKey ? { log: { origin: m.origin, key: logKey.text, keyPinned: logKey.pinned } } : {}),
      checkpoint: {
        size: checkpoint.size,
        root: toBase64(checkpoint.root),
        cosignatures,
        unverifiedSignatures,
      },
      ...(againstReport ? { against: againstReport } : {}),
      entries: included.length,
      byType,
      signers: signerSummaries(keys, actors),
      payloads,
      externalRefs,
      findings: kindResult.findings,
      record: kindResult.record,
      warnings,
      failures: failures.ordered(positions),
      moreFailures: failures.more,
    };
  } catch (e) {
    if (!(e instanceof Fatal)) failures.addError(e, "bundle");
    await Promise.allSettled(inFlight);
    await checker?.close?.();
    return {
      ok: false,
      ...(manifest ? { kind: manifest.kind, subject: manifest.subject } : {}),
      ...(manifest && logKey
        ? { log: { origin: manifest.origin, key: logKey.text, keyPinned: logKey.pinned } }
        : {}),
      ...(checkpoint
        ? {
            checkpoint: {
              size: checkpoint.size,
              root: toBase64(checkpoint.root),
              cosignatures,
              unverifiedSignatures,
            },
          }
        : {}),
      entries: included.length,
      byType: {},
      signers: [],
      payloads,
      externalRefs: 0,
      findings: [],
      warnings,
      failures:
        failures.list.length > 0
          ? failures.ordered(positions)
          : [{ code: "BUNDLE_MALFORMED", message: "the bundle could not be read" }],
      moreFailures: failures.more,
    };
  }
}

function chooseLogKey(
  crypto: CryptoSuite,
  m: BundleManifest,
  pinned: readonly string[],
): { text: string; publicKey: Uint8Array; pinned: boolean } {
  const parseLog = (text: string): { name: string; publicKey: Uint8Array } => {
    const k = parseVerifierKey(crypto, text);
    if (k.type !== SIG_TYPE_ED25519)
      throw new RadledgerError("KEY_STRING_MALFORMED", "a log key is an Ed25519 verifier key (type 0x01)");
    return k;
  };
  if (pinned.length === 0) {
    const k = parseLog(m.logKey);
    if (k.name !== m.origin)
      throw new RadledgerError("BUNDLE_MALFORMED", `${MANIFEST_PATH}: logKey is not a key of ${m.origin}`);
    return { text: m.logKey, publicKey: k.publicKey, pinned: false };
  }
  const keys = pinned.map((t) => ({ text: t.trim(), key: parseLog(t) }));
  const match = keys.find((k) => k.text === m.logKey);
  if (!match) {
    const names = keys.some((k) => k.key.name === m.origin);
    throw new RadledgerError(
      names ? "NOTE_NO_VALID_SIGNATURE" : "CHECKPOINT_WRONG_ORIGIN",
      names
        ? `${MANIFEST_PATH}: the bundle's log key is not the key you gave for ${m.origin}`
        : `${MANIFEST_PATH}: the bundle is from log ${m.origin}, not from a log whose key you gave`,
    );
  }
  return { text: match.text, publicKey: match.key.publicKey, pinned: true };
}

function checkCheckpointSignatures(
  crypto: CryptoSuite,
  note: SignedNote,
  logKey: { text: string; publicKey: Uint8Array },
  options: VerifyBundleOptions,
  failures: Failures,
  cosignatures: CosignatureResult[],
  unverified: string[],
): void {
  const parsed = parseVerifierKey(crypto, logKey.text);
  const verifier = ed25519Verifier(crypto, parsed.name, parsed.publicKey);
  const text = utf8(note.text);
  const logLines: NoteSignature[] = [];
  const rest: NoteSignature[] = [];
  for (const s of note.signatures)
    (s.name === verifier.name && bytesEqual(s.keyId, verifier.keyId) ? logLines : rest).push(s);
  for (const s of logLines) {
    if (!verifier.verify(text, s.signature))
      failures.add("NOTE_BAD_SIGNATURE", "checkpoint: the log's signature does not verify", CHECKPOINT_PATH);
  }
  if (logLines.length === 0)
    failures.add("NOTE_NO_VALID_SIGNATURE", "checkpoint: no signature by the log key", CHECKPOINT_PATH);
  let witnesses: WitnessKey[] = [];
  try {
    witnesses = (options.witnessKeys ?? []).map((w) => parseWitnessKey(crypto, w));
  } catch (e) {
    failures.addError(e, "--witness-key");
  }
  const matched = matchCosignatures(rest, witnesses);
  const valid = new Set<string>();
  for (const { line, witness } of matched) {
    const timestamp = cosignatureTimestamp(line.signature);
    const ok =
      timestamp !== undefined &&
      crypto.ed25519Verify(
        witness.publicKey,
        cosignatureMessage(note.text, timestamp),
        line.signature.subarray(8),
      );
    cosignatures.push({ witness: witness.name, vkey: witness.vkey, timestamp: timestamp ?? 0, valid: ok });
    if (ok) valid.add(witness.vkey);
    else
      failures.add(
        "NOTE_BAD_SIGNATURE",
        `checkpoint: the cosignature by witness ${witness.name} does not verify`,
        CHECKPOINT_PATH,
      );
  }
  for (const s of rest) if (!matched.some((x) => x.line === s)) unverified.push(s.name);
  const min = options.minWitnesses ?? 0;
  if (valid.size < min)
    failures.add(
      "BUNDLE_WITNESS_QUORUM",
      `checkpoint: ${valid.size} valid cosignature${valid.size === 1 ? "" : "s"} by the named witnesses; at least ${min} required`,
      CHECKPOINT_PATH,
    );
}

/** The public key that must have signed `item`, if the bundle shows it valid at that point of the log. */
function keyFor(
  crypto: CryptoSuite,
  item: Included,
  keys: Map<string, KeyState>,
  logKey: { publicKey: Uint8Array; text: string } | undefined,
  m: BundleManifest,
  failures: Failures,
): Uint8Array | undefined {
  const { entry, index } = item;
  const at = entryPath(index);
  if (index === 0) {
    if (entry.type !== "institution.genesis" || entry.actor !== "institution") {
      failures.add("BUNDLE_MALFORMED", `${at}: entry 0 of a log is institution.genesis`, at);
      return undefined;
    }
    const pk = str(entry.body, "publicKey");
    let publicKey: Uint8Array | undefined;
    try {
      publicKey = pk === undefined ? undefined : fromBase64(pk);
    } catch {
      publicKey = undefined;
    }
    if (!publicKey || publicKey.length !== 32) {
      failures.add("ENTRY_MALFORMED", `${at}: genesis carries no Ed25519 public key`, at);
      return undefined;
    }
    if (logKey && !bytesEqual(publicKey, logKey.publicKey))
      failures.add("BUNDLE_KEY_INVALID", `${at}: genesis enrols another key than the log key`, at);
    if (str(entry.body, "logVerifierKey") !== m.logKey)
      failures.add(
        "BUNDLE_KEY_INVALID",
        `${at}: genesis names another log verifier key than the manifest`,
        at,
      );
    if (actorKeyId(crypto, publicKey) !== entry.key)
      failures.add("BUNDLE_KEY_INVALID", `${at}: genesis is not signed by the key it enrols`, at);
    return publicKey;
  }
  const k = keys.get(entry.key);
  if (!k) {
    failures.add(
      "BUNDLE_KEY_INVALID",
      `${at}: ${entry.type} by ${entry.actor} is signed by key ${entry.key}, which no earlier entry of the bundle enrols`,
      at,
    );
    return undefined;
  }
  if (k.actor !== entry.actor) {
    failures.add(
      "BUNDLE_KEY_INVALID",
      `${at}: key ${entry.key} is enrolled for ${k.actor}, not ${entry.actor}`,
      at,
    );
    return undefined;
  }
  if (k.status !== "active") {
    failures.add(
      "BUNDLE_KEY_INVALID",
      `${at}: key ${entry.key} of ${entry.actor} was ${k.status} at index ${k.endedAt} and signs nothing after it`,
      at,
    );
    return undefined;
  }
  k.signed++;
  return k.publicKey;
}

/** Identity entries change which keys sign what from the next index on (docs/log-format.md §1.3). */
function applyIdentity(
  crypto: CryptoSuite,
  item: Included,
  keys: Map<string, KeyState>,
  actors: Map<string, ActorInfo>,
  failures: Failures,
): void {
  const { entry, index } = item;
  const b = entry.body;
  const at = entryPath(index);
  const addKey = (actor: string, publicKeyB64: string | undefined): void => {
    let publicKey: Uint8Array | undefined;
    try {
      publicKey = publicKeyB64 === undefined ? undefined : fromBase64(publicKeyB64);
    } catch {
      publicKey = undefined;
    }
    if (!publicKey || publicKey.length !== 32) {
      failures.add("ENTRY_MALFORMED", `${at}: ${entry.type} carries no Ed25519 public key`, at);
      return;
    }
    const id = actorKeyId(crypto, publicKey);
    if (keys.has(id)) {
      failures.add("BUNDLE_KEY_INVALID", `${at}: key ${id} is enrolled twice`, at);
      return;
    }
    keys.set(id, {
      id,
      actor,
      publicKey,
      enrolledAt: index,
      enrolledBy: entry.actor,
      status: "active",
      signed: index === 0 ? 1 : 0,
    });
  };
  const end = (keyId: string | undefined, status: "retired" | "revoked", reason?: string): void => {
    const k = keyId === undefined ? undefined : keys.get(keyId);
    if (!k) return; // a key the bundle never uses: nothing to end
    k.status = status;
    k.endedAt = index;
    if (reason !== undefined) k.reason = reason;
  };
  switch (entry.type) {
    case "institution.genesis":
      if (index === 0) {
        addKey("institution", str(b, "publicKey"));
        actors.set("institution", {
          kind: "institution",
          roles: ["institution", "admin"],
          ...(str(b, "name") ? { displayName: str(b, "name")! } : {}),
        });
      }
      break;
    case "actor.enrolled": {
      const actor = str(b, "actorId");
      if (actor === undefined) return;
      addKey(actor, str(b, "publicKey"));
      const roles = Array.isArray(b.roles) ? b.roles.filter((r): r is string => typeof r === "string") : [];
      actors.set(actor, {
        ...(str(b, "kind") ? { kind: str(b, "kind")! } : {}),
        ...(str(b, "displayName") ? { displayName: str(b, "displayName")! } : {}),
        ...(str(b, "specialty") ? { specialty: str(b, "specialty")! } : {}),
        roles,
      });
      break;
    }
    case "key.rotated": {
      const actor = str(b, "actorId");
      if (actor === undefined) return;
      end(str(b, "oldKey"), "retired");
      addKey(actor, str(b, "newPublicKey"));
      break;
    }
    case "key.revoked":
      end(str(b, "keyId"), "revoked", str(b, "reason"));
      break;
    case "role.granted":
    case "role.revoked": {
      const a = actors.get(str(b, "actorId") ?? "");
      const role = str(b, "role");
      if (a && role) {
        const roles = (a.roles ?? []).filter((r) => r !== role);
        a.roles = entry.type === "role.granted" ? [...roles, role] : roles;
      }
      break;
    }
  }
}

function checkDisclosure(crypto: CryptoSuite, commitment: string, bytes: Uint8Array, path: string): void {
  let value: JsonValue;
  try {
    value = parseCanonicalText(fromUtf8(bytes));
  } catch (e) {
    throw new RadledgerError(
      "BUNDLE_MALFORMED",
      `not canonical JSON (${e instanceof Error ? e.message : String(e)})`,
      { at: path },
    );
  }
  if (
    typeof value !== "object" ||
    Array.isArray(value) ||
    Object.keys(value).length !== 2 ||
    typeof value.salt !== "string" ||
    value.content === undefined
  )
    throw new RadledgerError("BUNDLE_MALFORMED", 'a disclosure is {"content": …, "salt": "<base64>"}', {
      at: path,
    });
  let salt: Uint8Array;
  try {
    salt = fromBase64(value.salt);
  } catch {
    throw new RadledgerError("BUNDLE_MALFORMED", "salt is not canonical base64", { at: path });
  }
  if (salt.length !== 32) throw new RadledgerError("BUNDLE_MALFORMED", "salt is not 32 bytes", { at: path });
  const computed = toHex(crypto.sha256Parts(salt, canonicalBytes(value.content)));
  if (computed !== commitment)
    throw new RadledgerError("COMMITMENT_MISMATCH", "content and salt do not hash to the commitment", {
      at: path,
    });
}

async function checkAgainst(
  crypto: CryptoSuite,
  against: AgainstCheckpoint,
  checkpoint: Checkpoint,
  logKey: { text: string; publicKey: Uint8Array },
  m: BundleManifest,
  failures: Failures,
): Promise<BundleReport["against"]> {
  const at = "--against";
  try {
    const note = parseSignedNote(against.checkpoint);
    const later = parseCheckpointText(note.text);
    if (later.origin !== m.origin)
      throw new RadledgerError(
        "CHECKPOINT_WRONG_ORIGIN",
        `the later checkpoint is for ${later.origin}, not ${m.origin}`,
      );
    const parsed = parseVerifierKey(crypto, logKey.text);
    const verifier = ed25519Verifier(crypto, parsed.name, parsed.publicKey);
    const lines = note.signatures.filter(
      (s) => s.name === verifier.name && bytesEqual(s.keyId, verifier.keyId),
    );
    if (lines.length === 0)
      throw new RadledgerError(
        "NOTE_NO_VALID_SIGNATURE",
        "the later checkpoint has no signature by the log key",
      );
    if (!lines.every((s) => verifier.verify(utf8(note.text), s.signature)))
      throw new RadledgerError("NOTE_BAD_SIGNATURE", "the later checkpoint's log signature does not verify");
    if (later.size < checkpoint.size)
      throw new RadledgerError(
        "TREE_SIZE_INVALID",
        `the later checkpoint (size ${later.size}) is older than the bundle's (size ${checkpoint.size})`,
      );
    let proof: readonly Uint8Array[] = against.proof ?? [];
    if (against.proof === undefined && later.size !== checkpoint.size) {
      if (!against.fetchProof)
        throw new RadledgerError(
          "BUNDLE_INCOMPLETE",
          "no consistency proof to the later checkpoint (give a proof file or the log's URL)",
        );
      proof = await against.fetchProof(checkpoint.size, later.size);
    }
    verifyConsistency(crypto, checkpoint.size, later.size, checkpoint.root, later.root, proof);
    return { size: later.size, root: toBase64(later.root), consistent: true };
  } catch (e) {
    failures.addError(e, at);
    return undefined;
  }
}

function signerSummaries(keys: Map<string, KeyState>, actors: Map<string, ActorInfo>): SignerSummary[] {
  const out: SignerSummary[] = [];
  for (const k of keys.values()) {
    const a = actors.get(k.actor);
    out.push({
      actor: k.actor,
      key: k.id,
      ...(a?.kind ? { kind: a.kind } : {}),
      ...(a?.displayName ? { displayName: a.displayName } : {}),
      ...(a?.roles ? { roles: a.roles } : {}),
      ...(a?.specialty ? { specialty: a.specialty } : {}),
      enrolledAt: k.enrolledAt,
      enrolledBy: k.enrolledBy,
      signed: k.signed,
      status: k.status,
      ...(k.endedAt === undefined ? {} : { endedAt: k.endedAt }),
      ...(k.reason === undefined ? {} : { reason: k.reason }),
    });
  }
  return out.sort((a, b) => a.enrolledAt - b.enrolledAt);
}

// ---------------------------------------------------------------------------------------------
// Per-kind checks: what the bundle is about, and what its entries prove about completeness.

interface KindResult {
  readonly findings: string[];
  readonly record: JsonObject;
}

const short = (id: string): string => id.slice(0, 12);

function checkKind(
  crypto: CryptoSuite,
  m: BundleManifest,
  included: readonly Included[],
  byLeaf: Map<string, Included>,
  actors: Map<string, ActorInfo>,
  disclosed: Set<string>,
  failures: Failures,
): KindResult {
  const name = (actor: string): string => {
    const d = actors.get(actor)?.displayName;
    return d ? `${d} (${actor})` : actor;
  };
  const subjectOf = (type: string): Included | undefined => {
    const s = byLeaf.get(m.subject.id);
    if (!s || s.entry.type !== type) {
      failures.add(
        "BUNDLE_INCOMPLETE",
        `the bundle does not carry the ${type} entry ${m.subject.id} it is about`,
        MANIFEST_PATH,
      );
      return undefined;
    }
    return s;
  };
  const findings: string[] = [];
  switch (m.kind) {
    case "report": {
      const opened = subjectOf("report.opened");
      if (!opened) return { findings, record: {} };
      const id = opened.leaf;
      const consults = new Set(
        included
          .filter((i) => i.entry.type === "consult.requested" && refOf(i.entry, "report").includes(id))
          .map((i) => i.leaf),
      );
      const sections = included.filter(
        (i) =>
          ((i.entry.type === "report.contribution" || i.entry.type === "report.amended") &&
            refOf(i.entry, "report").includes(id)) ||
          (i.entry.type === "consult.answered" && refOf(i.entry, "consult").some((c) => consults.has(c))),
      );
      const signed = included.filter(
        (i) => i.entry.type === "report.signed" && refOf(i.entry, "report").includes(id),
      );
      const dispositions = included.filter((i) => i.entry.type === "ai.finding.disposition");
      const inferences = included.filter((i) => i.entry.type === "ai.inference");
      for (const s of signed) {
        const listed = refOf(s.entry, "contributions");
        const missing = listed.filter((c) => !byLeaf.has(c));
        if (missing.length > 0)
          failures.add(
            "BUNDLE_INCOMPLETE",
            `${entryPath(s.index)}: the sign-off lists ${listed.length} contributions; ${missing.length} are not in the bundle`,
            entryPath(s.index),
          );
        else
          findings.push(
            `The sign-off by ${name(s.entry.actor)} lists ${listed.length} contributions; all are in the bundle and verified.`,
          );
      }
      if (signed.length === 0) findings.push("The report is not signed as of this checkpoint.");
      const rows: JsonObject[] = sections.map((s) => {
        const b = s.entry.body;
        const commitment = str(b, "contentCommitment");
        return {
          index: s.index,
          type: s.entry.type,
          section: str(b, "section") ?? "",
          author: s.entry.actor,
          role: str(b, "role") ?? "",
          origin: str(b, "origin") ?? "",
          time: s.entry.time,
          disclosed: commitment !== undefined && disclosed.has(commitment),
          ...(refOf(s.entry, "inference")[0] ? { inference: refOf(s.entry, "inference")[0]! } : {}),
        };
      });
      findings.push(
        `Report ${short(id)} opened by ${name(opened.entry.actor)}: ${sections.length} attributed section${sections.length === 1 ? "" : "s"} ` +
          `(${sections.filter((s) => str(s.entry.body, "origin") !== "human").length} from AI), ${consults.size} consultation${consults.size === 1 ? "" : "s"}, ` +
          `${inferences.length} AI inference${inferences.length === 1 ? "" : "s"}, ${dispositions.length} disposition${dispositions.length === 1 ? "" : "s"}, ` +
          `${rows.filter((r) => r.disclosed === true).length} section text${rows.filter((r) => r.disclosed === true).length === 1 ? "" : "s"} disclosed.`,
      );
      return {
        findings,
        record: {
          report: id,
          sections: rows,
          signedBy: signed.map((s) => s.entry.actor),
          consultations: consults.size,
          inferences: inferences.length,
          dispositions: dispositions.length,
        },
      };
    }
    case "dataset":
      return checkDataset(crypto, m, included, subjectOf, name, findings, failures);
    case "trial":
    case "trial-subject": {
      const s = subjectOf(m.kind === "trial" ? "trial.registered" : "trial.subject.enrolled");
      if (!s) return { findings, record: {} };
      const count = (t: string): number => included.filter((i) => i.entry.type === t).length;
      const record = {
        subjects: count("trial.subject.enrolled"),
        timepoints: count("trial.timepoint.imaged"),
        reads: count("trial.read.recorded"),
        corrections: count("trial.correction"),
      };
      findings.push(
        `${m.kind === "trial" ? "Trial" : "Trial subject"} ${short(s.leaf)}: ${record.subjects} subject${record.subjects === 1 ? "" : "s"}, ` +
          `${record.timepoints} timepoint${record.timepoints === 1 ? "" : "s"}, ${record.reads} read${record.reads === 1 ? "" : "s"}, ` +
          `${record.corrections} correction${record.corrections === 1 ? "" : "s"} (every correction references the version it replaces).`,
      );
      return { findings, record: { id: s.leaf, ...record } };
    }
    case "access": {
      const accesses = included.filter((i) => i.entry.type === "access.recorded");
      for (const a of accesses)
        if (str(a.entry.body, "patient") !== m.subject.id)
          failures.add(
            "BUNDLE_MALFORMED",
            `${entryPath(a.index)}: an access to another patient's record`,
            entryPath(a.index),
          );
      const permits = accesses.filter((a) => str(a.entry.body, "decision") === "permit").length;
      const breakGlass = accesses.filter((a) => {
        const basis = a.entry.body.basis;
        return typeof basis === "object" && !Array.isArray(basis) && basis.kind === "break-glass";
      }).length;
      const who = new Set(accesses.map((a) => str(a.entry.body, "actor") ?? ""));
      findings.push(
        `Access history of ${m.subject.id}: ${accesses.length} recorded decision${accesses.length === 1 ? "" : "s"} ` +
          `(${permits} permitted, ${accesses.length - permits} denied, ${breakGlass} break-glass) by ${who.size} actor${who.size === 1 ? "" : "s"}.`,
      );
      return {
        findings,
        record: {
          patient: m.subject.id,
          accesses: accesses.length,
          permits,
          denies: accesses.length - permits,
          breakGlass,
        },
      };
    }
  }
}

function checkDataset(
  crypto: CryptoSuite,
  m: BundleManifest,
  included: readonly Included[],
  subjectOf: (type: string) => Included | undefined,
  name: (actor: string) => string,
  findings: string[],
  failures: Failures,
): KindResult {
  const created = subjectOf("dataset.created");
  if (!created) return { findings, record: {} };
  const id = created.leaf;
  const version = m.subject.version ?? 0;
  const seal = included.find(
    (i) =>
      i.entry.type === "dataset.version.sealed" &&
      refOf(i.entry, "dataset").includes(id) &&
      i.entry.body.version === version,
  );
  if (!seal) {
    failures.add(
      "BUNDLE_INCOMPLETE",
      `the seal of version ${version} of dataset ${short(id)} is not in the bundle`,
      MANIFEST_PATH,
    );
    return { findings, record: {} };
  }
  const members = included.filter((i) => i.index < seal.index && refOf(i.entry, "dataset").includes(id));
  const items = members.filter((i) => i.entry.type === "dataset.item.added");
  const annotations = members.filter((i) => i.entry.type === "dataset.annotation.added");
  const vendor = members.filter((i) => i.entry.type === "dataset.contribution.vendor");
  const hashes = [
    ...items.map((i) => str(i.entry.body, "manifestRoot") ?? ""),
    ...annotations.map((i) => str(i.entry.body, "contentHash") ?? ""),
  ];
  const sb = seal.entry.body;
  const at = entryPath(seal.index);
  if (hashes.some((h) => !HEX64.test(h))) {
    failures.add("ENTRY_MALFORMED", "an item or annotation carries no content hash", at);
    return { findings, record: {} };
  }
  if (items.length !== sb.items || annotations.length !== sb.annotations)
    failures.add(
      "BUNDLE_INCOMPLETE",
      `${at}: version ${version} has ${JSON.stringify(sb.items)} items and ${JSON.stringify(sb.annotations)} annotations; the bundle carries ${items.length} and ${annotations.length}`,
      at,
    );
  else if (manifestRootOf(crypto, hashes) !== sb.manifestRoot)
    failures.add(
      "BUNDLE_INCOMPLETE",
      `${at}: the bundle's items and annotations do not hash to the sealed manifest root`,
      at,
    );
  else
    findings.push(
      `Version ${version} of dataset ${short(id)} is complete: its ${items.length} items and ${annotations.length} annotations hash to the sealed manifest root.`,
    );
  const credit = new Map<string, { items: number; annotations: number; vendor: number }>();
  for (const [list, k] of [
    [items, "items"],
    [annotations, "annotations"],
    [vendor, "vendor"],
  ] as const) {
    for (const i of list) {
      const c = credit.get(i.entry.actor) ?? { items: 0, annotations: 0, vendor: 0 };
      c[k]++;
      credit.set(i.entry.actor, c);
    }
  }
  const contributors = [...credit.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const sealed = Array.isArray(sb.contributors) ? sb.contributors : [];
  if (contributors.length !== sealed.length || contributors.some((c, i) => c !== sealed[i]))
    failures.add(
      "BUNDLE_INCOMPLETE",
      `${at}: the sealed contributor list (${sealed.length}) is not the signers of the bundle's additions (${contributors.length})`,
      at,
    );
  else
    findings.push(
      `The sealed contributor list (${contributors.length}) matches the signers of every addition.`,
    );
  const shares = included.filter((i) => i.entry.type === "dataset.shared").length;
  const validations = included.filter((i) => i.entry.type === "model.validation.recorded").length;
  if (shares + validations > 0)
    findings.push(
      `${shares} share${shares === 1 ? "" : "s"} and ${validations} model validation${validations === 1 ? "" : "s"} of this version.`,
    );
  return {
    findings,
    record: {
      dataset: id,
      version,
      seal: seal.leaf,
      manifestRoot: typeof sb.manifestRoot === "string" ? sb.manifestRoot : "",
      credit: contributors.map((c) => ({ actor: c, name: name(c), ...credit.get(c)! })),
    },
  };
}
