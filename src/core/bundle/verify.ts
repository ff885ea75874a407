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
 *  3. per entry, in log order: framing, envelope, origin, leaf hash, references, the Ed25519
 *     signature by the key the bundle's own earlier enrolment entries bind to the actor and that no
 *     earlier entry of the bundle retired or revoked (log order decides, as at admission:
 *     docs/log-format.md §1.3) (signers.ts for the keys; entry-check.ts runs the signature checks,
 *     in batches, beside this loop); then all the leaf hashes at once against the checkpoint root
 *     with the multi-leaf inclusion proof (src/core/merkle/multiproof.ts);
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
import { decodeEntry, entryRefs, type Entry } from "../entry.js";
import { decodeEntryBundle } from "../tiles.js";
import { isRadledgerError } from "../errors.js";
import { leafHash } from "../merkle/hash.js";
import { parseSignedNote } from "../note.js";
import { checkAgainst, checkCheckpointSignatures, chooseLogKey } from "./checkpoint-checks.js";
import { checkKind } from "./completeness.js";
import { DatasetCheck } from "./dataset-check.js";
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
import { LeafIndex, type Included } from "./included.js";
import { checkDisclosure, collectHashes, isCommitmentField } from "./payloads.js";
import { manifestRootOf } from "../merkle/manifest.js";
import { applyIdentity, keyFor, signerSummaries, type ActorInfo, type KeyState } from "./signers.js";
import { inlineSignatureVerifier } from "./signatures.js";
import type { BundleMember, BundleReport, VerifyBundleOptions } from "./types.js";

// Used by the exporter (src/app/bundle-export.ts) and the test fixtures, which build manifest roots.
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
  /** Per manifest position, the entry as the closing checks may read it (for a dataset, every entry
   * but the version's members, which the dataset check counts as they pass). */
  const kept: (Included | undefined)[] = [];
  let decoded = 0;
  const byType: Record<string, number> = {};
  const keys = new Map<string, KeyState>();
  const actors = new Map<string, ActorInfo>();
  const bound = new Map<string, { index: number; field: string; type: string }>();
  const payloads = { disclosures: 0, files: 0, imageSets: 0, instances: 0, bytes: 0 };
  const disclosed = new Set<string>();
  let againstReport: BundleReport["against"];

  // Signature checks go out in batches; several may be in flight.
  let checker: EntryChecker | undefined;
  let tasks: EntryTask[] = [];
  /** Where each task's entry is (for a failure): only the place is kept while a batch is out, not
   * the decoded entry, so that a batch in flight holds no parsed JSON. */
  let taskPlaces: string[] = [];
  const inFlight: Promise<void>[] = [];
  /** Batches not yet answered (a checker may answer some at once, on this thread). */
  const unanswered = new Set<Promise<void>>();
  const flush = async (): Promise<void> => {
    if (tasks.length === 0 || !checker) return;
    const batch = tasks;
    const places = taskPlaces;
    tasks = [];
    taskPlaces = [];
    const answered = checker.check(batch).then(
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
      : inlineEntryChecker(options.signatures ?? inlineSignatureVerifier(crypto));

    // 3. The entries in log order, 256 to a file (decoding, leaf hashes, references and key validity
    // here, signatures in the entry checker), then the inclusion proof of them all.
    const total = m.entries.length;
    // Leaf hashes are computed here, at the entry's position in the manifest, for references and
    // the inclusion proof.
    const leafHashes = new Uint8Array(32 * total);
    const byLeaf = new LeafIndex(leafHashes);
    const dataset = m.kind === "dataset" ? new DatasetCheck(m.subject.id, m.subject.version ?? 0) : undefined;
    const payloadNames = new Set([...m.disclosures, ...m.files, ...m.images.map((set) => set.root)]);
    let allRead = true;
    /** References not (yet) to an entry of the bundle: a later entry, or one outside the bundle. */
    const forward: { at: string; index: number; name: string; hash: string }[] = [];
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
      if (list.length !== count) {
        // The entries of this file cannot be told apart: none is checked, and nor is the proof.
        allRead = false;
        list = [];
      }
      for (let j = 0; j < list.length; j++) {
        const index = m.entries[first + j]!;
        const bytes = list[j]!;
        const at = `${path}:${index}`;
        const leaf = leafHash(crypto, bytes);
        leafHashes.set(leaf, 32 * (first + j));
        let entry: Entry;
        try {
          entry = decodeEntry(bytes);
        } catch (e) {
          failures.addError(e, at);
          continue;
        }
        const item: Included = { index, at, leaf: toHex(leaf), entry };
        decoded++;
        byType[entry.type] = (byType[entry.type] ?? 0) + 1;
        byLeaf.set(first + j);
        // An earlier entry of the bundle is known by now; anything else is looked up at the end.
        for (const r of entryRefs(entry)) {
          const target = byLeaf.get(r.hash);
          if (target === undefined) forward.push({ at, index, name: r.name, hash: r.hash });
          else if (m.entries[target]! >= index)
            failures.add("BUNDLE_MALFORMED", `${at}: refs.${r.name} names a later entry`, at);
        }
        if (entry.origin !== m.origin)
          failures.add("ENTRY_WRONG_ORIGIN", `${at}: the entry is for another log`, at);
        const publicKey = keyFor(crypto, item, keys, logKey, m, failures);
        applyIdentity(crypto, item, keys, actors, failures);
        // A dataset version's members are counted and hashed by the dataset check as they pass;
        // every other entry is kept for the closing checks.
        if (!dataset?.observe(item)) kept[first + j] = item;
        // Only the hashes the manifest's payloads are named by need remembering.
        if (payloadNames.size > 0)
          collectHashes(entry.body, "body", (hash, field) => {
            if (payloadNames.has(hash) && !bound.has(hash))
              bound.set(hash, { index, field, type: entry.type });
          });
        if (publicKey) {
          tasks.push({ index, entry: bytes, publicKey });
          taskPlaces.push(at);
          // Smaller batches towards the end, so that no lane is left with a long queue of
          // signatures when the closing tree hashing starts.
          if (tasks.length >= (total - first - j > 8 * batchSize ? batchSize : batchSize / 4)) await flush();
        }
      }
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
    // The last signature batches may still be running (on other threads in the CLI): the proof's
    // root, the remaining references and the kind's checks go on meanwhile.
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

    // 5. Log order, references and the kind's checks.
    if (m.entries[0] !== 0)
      failures.add(
        "BUNDLE_INCOMPLETE",
        "the bundle lacks entry 0 (institution.genesis), which binds the log key",
        MANIFEST_PATH,
      );
    let externalRefs = 0;
    for (const r of forward) {
      const target = byLeaf.get(r.hash);
      if (target === undefined) externalRefs++;
      else if (m.entries[target]! >= r.index)
        failures.add("BUNDLE_MALFORMED", `${r.at}: refs.${r.name} names a later entry`, r.at);
    }
    const entries = {
      has: (leaf: string): boolean => byLeaf.has(leaf),
      kept: (leaf: string): Included | undefined => {
        const position = byLeaf.get(leaf);
        return position === undefined ? undefined : kept[position];
      },
    };
    // In log order (a sparse array's filter skips the holes).
    const included = kept.filter((it): it is Included => it !== undefined);
    const kindResult = await checkKind(m, included, entries, actors, disclosed, failures, trees, dataset);
    await proofRoot;
    await Promise.all(inFlight);

    // 6. A later checkpoint.
    if (options.against && logKey) {
      againstReport = await checkAgainst(crypto, options.against, checkpoint, logKey, m, failures);
    }

    await checker.close?.();
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
      entries: decoded,
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
      entries: decoded,
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
