/**
 * Offline verification of a radledger bundle (docs/bundle-format.md §4), in the pure core so that
 * the CLI and the browser run the same code. Input: the bundle's files in archive order (from a tar
 * stream or a directory) and what the verifier trusts — the log's verifier key(s) and, optionally,
 * witness keys with a quorum. Nothing else: no network, no data directory.
 *
 * Checks, in order of the archive:
 *  1. the manifest: canonical JSON, format version, layout (format.ts);
 *  2. the checkpoint: a C2SP signed note by the log key (its origin and size those of the manifest),
 *     cosignatures by the named witnesses (tlog-cosignature, type 0x04), the quorum
 *     (checkpoint-checks.ts);
 *  3. per entry, in log order: framing, envelope, origin, the Ed25519 signature by the key the
 *     bundle's own earlier enrolment entries bind to the actor and that no earlier entry of the
 *     bundle retired or revoked (log order decides, as at admission: docs/log-format.md §1.3)
 *     (entry-check.ts for leaf hash and signature; signers.ts for the keys); then all the leaf
 *     hashes at once against the checkpoint root with the multi-leaf inclusion proof
 *     (src/core/merkle/multiproof.ts);
 *  4. per payload: disclosures against their commitments, files and DICOM instances against the
 *     hashes and manifest roots entries commit to (payloads.ts);
 *  5. the kind's own completeness checks (a signed report lists its contributions; a sealed dataset
 *     version's manifest root and contributor list are recomputed from the bundle's entries)
 *     (completeness.ts);
 *  6. optionally, consistency of the checkpoint with a later one (RFC 9162 §2.1.4)
 *     (checkpoint-checks.ts).
 *
 * This file holds the orchestration: reading the archive in order, batching entry checks, and
 * assembling the report; the public types are in types.ts.
 *
 * Whatever the input, the result is a report; hostile bytes produce failures with a code and a
 * place, never an exception.
 */
import { bytesEqual, fromUtf8, toBase64, toHex } from "../bytes.js";
import { parseCheckpointText, type Checkpoint } from "../checkpoint.js";
import { decodeEntryWithText, entryRefs, type Entry } from "../entry.js";
import { decodeEntryBundle } from "../tiles.js";
import { isRadledgerError } from "../errors.js";
import { parseSignedNote } from "../note.js";
import { checkAgainst, checkCheckpointSignatures, chooseLogKey } from "./checkpoint-checks.js";
import { checkKind } from "./completeness.js";
import type { CosignatureResult } from "./cosignatures.js";
import { Failures, Fatal } from "./failures.js";
import {
  CHECKPOINT_PATH,
  disclosurePath,
  ENTRIES_PER_FILE,
  entriesPath,
  entryFileCount,
  filePath,
  imagePath,
  MANIFEST_PATH,
  parseManifest,
  PROOF_PATH,
  type BundleManifest,
} from "./format.js";
import { inlineEntryChecker, inlineTreeHasher, type EntryChecker, type EntryTask } from "./entry-check.js";
import type { Included } from "./included.js";
import { checkDisclosure, collectHashes, isCommitmentField, manifestRootOf } from "./payloads.js";
import { applyIdentity, keyFor, signerSummaries, type ActorInfo, type KeyState } from "./signers.js";
import { inlineSignatureVerifier } from "./signatures.js";
import type { BundleMember, BundleReport, VerifyBundleOptions } from "./types.js";

// Used by the exporter (src/app/bundles.ts) and the test fixtures, which build manifest roots.
export { manifestRootOf };
export type {
  AgainstCheckpoint,
  BundleFailure,
  BundleMember,
  BundleReport,
  SignerSummary,
  VerifyBundleOptions,
} from "./types.js";

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

  // Entry checks (leaf hash, signature) go out in batches; several may be in flight. Leaf hashes
  // land at the entry's position in the manifest, for the inclusion proof.
  let checker: EntryChecker | undefined;
  let leafHashes = new Uint8Array(0);
  let tasks: EntryTask[] = [];
  let taskItems: (Included | undefined)[] = [];
  let taskStart = 0;
  const inFlight: Promise<void>[] = [];
  /** Batches not yet answered (a checker may answer some at once, on this thread). */
  const unanswered = new Set<Promise<void>>();
  const flush = async (): Promise<void> => {
    if (tasks.length === 0 || !checker) return;
    const batch = tasks;
    const items = taskItems;
    const start = taskStart;
    taskStart += tasks.length;
    tasks = [];
    taskItems = [];
    const answered = checker.check(batch).then(
      (v) => {
        leafHashes.set(v.leafHashes, 32 * start);
        items.forEach((it, i) => {
          if (it) it.leaf = toHex(v.leafHashes.subarray(32 * i, 32 * i + 32));
        });
        for (const i of v.badSignatures) {
          const at = items[i]?.at ?? entriesPath(Math.floor((start + i) / ENTRIES_PER_FILE));
          failures.add(
            "ENTRY_BAD_SIGNATURE",
            `${at}: the signature does not verify with the key its enrolment binds`,
            at,
          );
        }
      },
      (e: unknown) => failures.addError(e, "entry checks"),
    );
    inFlight.push(answered);
    unanswered.add(answered);
    void answered.finally(() => unanswered.delete(answered));
    // Bounded memory: at most two unanswered batches per lane.
    while (unanswered.size > Math.max(1, checker.parallelism) * 2) await Promise.race(unanswered);
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
    checker = options.entryChecker
      ? options.entryChecker()
      : inlineEntryChecker(crypto, options.signatures ?? inlineSignatureVerifier(crypto));

    // 3. The entries in log order, 256 to a file (decoding and key validity here, leaf hashes and
    // signatures in the entry checker), then the inclusion proof of them all.
    const total = m.entries.length;
    leafHashes = new Uint8Array(32 * total);
    const payloadNames = new Set([...m.disclosures, ...m.files, ...m.images.map((set) => set.root)]);
    let allRead = true;
    for (let k = 0; k < entryFileCount(total); k++) {
      const path = entriesPath(k);
      const file = await next(path);
      const first = k * ENTRIES_PER_FILE;
      const count = Math.min(ENTRIES_PER_FILE, total - first);
      let list: Uint8Array[] = [];
      try {
        list = decodeEntryBundle(file);
        if (list.length !== count)
          failures.add(
            "BUNDLE_MALFORMED",
            `${path}: holds ${list.length} entries where the manifest puts ${count}`,
            path,
          );
      } catch (e) {
        failures.add("BUNDLE_MALFORMED", `${path}: ${e instanceof Error ? e.message : String(e)}`, path);
      }
      const readable = list.length === count;
      if (!readable) {
        // The entries of this file cannot be told apart: none is checked, and nor is the proof.
        allRead = false;
        list = Array.from({ length: count }, () => new Uint8Array(0));
      }
      for (let j = 0; j < count; j++) {
        const index = m.entries[first + j]!;
        const bytes = list[j]!;
        const at = `${path}:${index}`;
        let decoded: { entry: Entry; text: string } | undefined;
        if (readable)
          try {
            decoded = decodeEntryWithText(bytes);
          } catch (e) {
            failures.addError(e, at);
          }
        let publicKey: Uint8Array | undefined;
        let item: Included | undefined;
        if (decoded) {
          const entry = decoded.entry;
          item = { index, at, leaf: "", entry };
          included.push(item);
          if (entry.origin !== m.origin)
            failures.add("ENTRY_WRONG_ORIGIN", `${at}: the entry is for another log`, at);
          publicKey = keyFor(crypto, item, keys, logKey, m, failures);
          applyIdentity(crypto, item, keys, actors, failures);
          // Only the hashes the manifest's payloads are named by need remembering.
          if (payloadNames.size > 0)
            collectHashes(entry.body, "body", (hash, field) => {
              if (payloadNames.has(hash) && !bound.has(hash))
                bound.set(hash, { index, field, type: entry.type });
            });
        }
        tasks.push(publicKey ? { index, entry: bytes, publicKey } : { index, entry: bytes });
        taskItems.push(item);
      }
      if (tasks.length >= batchSize) await flush();
      if (options.onProgress) options.onProgress(first + count, total);
    }
    await flush();
    const proofFile = await next(PROOF_PATH);
    let proof: Uint8Array[] | undefined;
    if (proofFile.length % 32 !== 0)
      failures.add(
        "BUNDLE_MALFORMED",
        `${PROOF_PATH}: ${proofFile.length} bytes is not a whole number of 32-byte hashes`,
        PROOF_PATH,
      );
    else {
      proof = [];
      for (let o = 0; o < proofFile.length; o += 32) proof.push(proofFile.subarray(o, o + 32));
    }

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
    // The proof's root is computed where the checker runs (another thread in the CLI) while this
    // thread follows references and runs the kind's checks.
    const trees = checker.trees ?? inlineTreeHasher(crypto);
    const checkpointRoot = checkpoint.root;
    const proofRoot =
      allRead && proof
        ? trees.multiInclusionRoot(m.entries, m.size, leafHashes, proof).then(
            (root) => {
              if (!bytesEqual(root, checkpointRoot))
                failures.add(
                  "ROOT_MISMATCH",
                  `${PROOF_PATH}: the leaves and the inclusion proof do not lead to the root of size ${m.size}`,
                  PROOF_PATH,
                );
            },
            (e: unknown) => failures.addError(e, PROOF_PATH),
          )
        : undefined;
    for (const it of included) byLeaf.set(it.leaf, it);

    // 5. Log order, references and the kind's checks.
    if (m.entries[0] !== 0)
      failures.add(
        "BUNDLE_INCOMPLETE",
        "the bundle lacks entry 0 (institution.genesis), which binds the log key",
        MANIFEST_PATH,
      );
    let externalRefs = 0;
    for (const it of included) {
      for (const r of entryRefs(it.entry)) {
        const target = byLeaf.get(r.hash);
        if (!target) externalRefs++;
        else if (target.index >= it.index)
          failures.add("BUNDLE_MALFORMED", `${it.at}: refs.${r.name} names a later entry`, it.at);
      }
    }
    const kindResult = await checkKind(m, included, byLeaf, actors, disclosed, failures, trees);
    await proofRoot;

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
