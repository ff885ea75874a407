/**
 * Offline verification of a radledger bundle (docs/bundle-format.md §4), in the pure core so that
 * the CLI and the browser run the same code. Input: the bundle's files in archive order (from a tar
 * stream or a directory) and what the verifier trusts — the log's verifier key(s) and, optionally,
 * witness keys with a quorum. Nothing else: no network, no data directory.
 *
 * Checks, in order of the archive:
 *  1. the manifest: canonical JSON, format version, layout (format.ts);
 *  2. the checkpoint: a C2SP signed note by the log key (its origin and size those of the manifest),
 *     cosignatures by the named witnesses (tlog-cosignature, type 0x04), the quorum and a policy's
 *     (checkpoint-checks.ts); the verdict is VERIFIED only with a log key the user trusts
 *     (trust.ts);
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
 *     (completeness.ts, dataset-check.ts);
 *  6. optionally, consistency of the checkpoint with a later one (RFC 9162 §2.1.4)
 *     (checkpoint-checks.ts).
 *
 * This file holds the orchestration: the stages that fill one state (BundleCheck, check-state.ts) in
 * archive order — reading the files, batching the signature checks, then the closing checks once
 * every file is read — and hand it to one builder (bundleReport, check-state.ts) that turns it into
 * the report, whether the stages ran to the end or one of them stopped the verification. The public
 * types are in types.ts.
 *
 * Whatever the input, the result is a report; hostile bytes produce failures with a code and a
 * place, never an exception.
 */
import { bytesEqual, fromUtf8, toHex } from "../bytes.js";
import { parseCheckpointText, type Checkpoint } from "../checkpoint.js";
import { decodeEntry, entryRefs, type Entry } from "../entry.js";
import { decodeEntryBundle } from "../tiles.js";
import { leafHash } from "../merkle/hash.js";
import { ed25519Verifier, formatVerifierKey, parseSignedNote } from "../note.js";
import { logKeyPeriods } from "../log-keys.js";
import { checkAgainst, checkCheckpointSignatures, chooseLogKey } from "./checkpoint-checks.js";
import { checkKind } from "./completeness.js";
import { isRadledgerError } from "../errors.js";
import { parseTrustAnchors, type TrustAnchors } from "./trust.js";
import { Fatal } from "./failures.js";
import {
  CHECKPOINT_PATH,
  disclosurePath,
  ENTRIES_PER_FILE,
  entriesPath,
  entryFileCount,
  filePath,
  imagePath,
  MANIFEST_PATH,
  MAX_CHECKPOINT_BYTES,
  MAX_DISCLOSURE_BYTES,
  MAX_MANIFEST_BYTES,
  maxEntriesFileBytes,
  maxProofBytes,
  parseManifest,
  PROOF_PATH,
  type BundleManifest,
} from "./format.js";
import { inlineEntryChecker, inlineTreeHasher, type TreeHasher } from "./entry-check.js";
import type { Included } from "./included.js";
import { checkDisclosure, collectHashes, isCommitmentField } from "./payloads.js";
import { manifestRootOf } from "../merkle/manifest.js";
import { applyIdentity, keyFor } from "./signers.js";
import { inlineSignatureVerifier } from "./signatures.js";
import type { BundleInput, BundleReport, VerifyBundleOptions } from "./types.js";

import {
  BundleCheck,
  bundleReport,
  EntriesRead,
  nextFile,
  nextFileHash,
  SignatureBatches,
} from "./check-state.js";

// Used by the exporter (src/app/bundle-export.ts) and the test fixtures, which build manifest roots.
export { manifestRootOf };
export type {
  AgainstCheckpoint,
  BundleFailure,
  BundleInput,
  BundleMember,
  BundleReport,
  SignerSummary,
  StreamedMember,
  VerifyBundleOptions,
} from "./types.js";

export async function verifyBundle(
  members: AsyncIterable<BundleInput> | Iterable<BundleInput>,
  options: VerifyBundleOptions,
): Promise<BundleReport> {
  const s = new BundleCheck(members, options);
  try {
    return await runStages(s);
  } finally {
    // A source holds open files (a directory's current file, the tar file): a verification that
    // stopped before the end releases them now rather than at exit.
    await Promise.resolve(s.iterator.return?.()).catch(() => undefined);
  }
}

async function runStages(s: BundleCheck): Promise<BundleReport> {
  try {
    const m = await readManifest(s);
    const checkpoint = await readCheckpoint(s, m);
    const batches = startEntryChecks(s);
    const read = await readEntries(s, m, batches);
    const proof = await readProof(s, m);
    await readPayloads(s, m, read);
    await readEnd(s);
    // The last signature batches may still be running (on other threads in the CLI): the proof's
    // root, the remaining references and the kind's checks go on meanwhile.
    const trees = batches.checker.trees ?? inlineTreeHasher(s.crypto);
    const inclusion = checkInclusion(s, m, checkpoint, read, proof, trees);
    checkReferences(s, m, read);
    checkLogKeyChain(s, m);
    await checkCompleteness(s, m, read, trees);
    await inclusion;
    await batches.allAnswered();
    await checkLaterCheckpoint(s, m, checkpoint);
    await batches.checker.close?.();
    return bundleReport(s);
  } catch (e) {
    if (!(e instanceof Fatal)) s.failures.addError(e, "bundle");
    s.stopped = true;
    // Verdicts of batches already sent still count: they concern entries that were read.
    await s.batches?.allSettled();
    await s.batches?.checker.close?.();
    return bundleReport(s);
  }
}

/** Stage 1: the manifest, without which nothing else can be read. */
async function readManifest(s: BundleCheck): Promise<BundleManifest> {
  try {
    s.manifest = parseManifest(await nextFile(s, MANIFEST_PATH, MAX_MANIFEST_BYTES));
    return s.manifest;
  } catch (e) {
    if (e instanceof Fatal) throw e;
    s.failures.addError(e, MANIFEST_PATH);
    throw new Fatal();
  }
}

/**
 * Stage 2: the log key, then the checkpoint with its signatures and cosignatures. A log key that
 * cannot be trusted is a failure but not a stop (the entries are still worth checking); a
 * checkpoint that cannot be read is a stop, since the proof and the sizes are against it.
 */
async function readCheckpoint(s: BundleCheck, m: BundleManifest): Promise<Checkpoint> {
  const { crypto, failures } = s;
  const anchors = trustAnchors(s);
  try {
    s.logKey = chooseLogKey(crypto, m, anchors);
    if (s.logKey.source === "bundle" && !s.logKey.viaRotation)
      s.warnings.push(
        "the log key was taken from the bundle itself, so anyone could have made this bundle: pass the log's key (--log-key) or a consortium policy (--policy) to check it against the log you trust",
      );
  } catch (e) {
    failures.addError(e, `${MANIFEST_PATH}:logKey`);
  }
  const bytes = await nextFile(s, CHECKPOINT_PATH, MAX_CHECKPOINT_BYTES);
  try {
    const note = parseSignedNote(fromUtf8(bytes));
    const checkpoint = (s.checkpoint = parseCheckpointText(note.text));
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
    if (s.logKey)
      checkCheckpointSignatures(
        crypto,
        note,
        s.logKey,
        anchors,
        failures,
        s.cosignatures,
        s.unverifiedSignatures,
      );
  } catch (e) {
    failures.addError(e, CHECKPOINT_PATH);
  }
  if (!s.checkpoint) throw new Fatal();
  return s.checkpoint;
}

/**
 * What the user trusts (trust.ts). Callers check these inputs first and refuse bad ones as input
 * errors; one that reaches the verifier anyway is a failure at the option, and nothing is trusted.
 */
function trustAnchors(s: BundleCheck): TrustAnchors {
  try {
    return parseTrustAnchors(s.crypto, s.options);
  } catch (e) {
    const at = isRadledgerError(e) && typeof e.details.at === "string" ? e.details.at : "trust";
    s.failures.add(
      isRadledgerError(e) ? e.code : "INPUT_INVALID",
      e instanceof Error ? e.message : String(e),
      at,
    );
    return { logKeys: [], witnesses: [], minWitnesses: 0 };
  }
}

/** The entry checker (the caller's, e.g. worker threads, or inline), ready for stage 3's batches. */
function startEntryChecks(s: BundleCheck): SignatureBatches {
  const { options } = s;
  const checker = options.entryChecker
    ? options.entryChecker()
    : inlineEntryChecker(options.signatures ?? inlineSignatureVerifier(s.crypto));
  return (s.batches = new SignatureBatches(checker, s.failures));
}

/**
 * Stage 3: the entries in log order, 256 to a file: decoding, leaf hashes, references and key
 * validity here (checkEntry), signatures in the entry checker.
 */
async function readEntries(
  s: BundleCheck,
  m: BundleManifest,
  batches: SignatureBatches,
): Promise<EntriesRead> {
  const { batchSize, options } = s;
  const total = m.entries.length;
  const read = new EntriesRead(m);
  for (let k = 0; k < entryFileCount(total); k++) {
    const path = entriesPath(k);
    const first = k * ENTRIES_PER_FILE;
    const count = Math.min(ENTRIES_PER_FILE, total - first);
    const file = await nextFile(s, path, maxEntriesFileBytes(count));
    const list = splitEntries(s, read, file, path, count);
    for (let j = 0; j < list.length; j++) {
      const index = m.entries[first + j]!;
      const bytes = list[j]!;
      const at = `${path}:${index}`;
      const publicKey = checkEntry(s, m, read, first + j, bytes, at);
      if (publicKey) {
        batches.add({ index, entry: bytes, publicKey }, at);
        // Smaller batches towards the end, so that no lane is left with a long queue of
        // signatures when the closing tree hashing starts.
        if (batches.waiting >= (total - first - j > 8 * batchSize ? batchSize : batchSize / 4))
          await batches.flush();
      }
    }
    if (options.onProgress) options.onProgress(first + count, total);
  }
  await batches.flush();
  return read;
}

/** An entries/<k> file's entries, or none when they are not the `count` the manifest puts there. */
function splitEntries(
  s: BundleCheck,
  read: EntriesRead,
  file: Uint8Array,
  path: string,
  count: number,
): Uint8Array[] {
  let list: Uint8Array[] = [];
  try {
    list = decodeEntryBundle(file);
    if (list.length !== count)
      s.failures.add(
        "BUNDLE_MALFORMED",
        `${path}: holds ${list.length} entries where the manifest puts ${count}`,
        path,
      );
  } catch (e) {
    s.failures.add("BUNDLE_MALFORMED", `${path}: ${e instanceof Error ? e.message : String(e)}`, path);
  }
  if (list.length === count) return list;
  // The entries of this file cannot be told apart: none is checked, and nor is the proof.
  read.allRead = false;
  return [];
}

/**
 * One entry, at manifest position `position`. The hot loop (10^5 times for a dataset version): it
 * keeps the leaf hash in the shared buffer and the position in the index, and the decoded entry
 * only if the closing checks read it again. Returns the key its signature must verify with, when
 * the bundle binds one.
 */
function checkEntry(
  s: BundleCheck,
  m: BundleManifest,
  read: EntriesRead,
  position: number,
  bytes: Uint8Array,
  at: string,
): Uint8Array | undefined {
  const { crypto, failures } = s;
  const index = m.entries[position]!;
  const leaf = leafHash(crypto, bytes);
  read.leafHashes.set(leaf, 32 * position);
  let entry: Entry;
  try {
    entry = decodeEntry(bytes);
  } catch (e) {
    failures.addError(e, at);
    return undefined;
  }
  const item: Included = { index, at, leaf: toHex(leaf), entry };
  s.decoded++;
  s.byType[entry.type] = (s.byType[entry.type] ?? 0) + 1;
  read.byLeaf.set(position);
  // An earlier entry of the bundle is known by now; anything else is looked up at the end.
  for (const r of entryRefs(entry)) {
    const target = read.byLeaf.get(r.hash);
    if (target === undefined) read.forward.push({ at, index, name: r.name, hash: r.hash });
    else if (m.entries[target]! >= index)
      failures.add("BUNDLE_MALFORMED", `${at}: refs.${r.name} names a later entry`, at);
  }
  if (entry.origin !== m.origin)
    failures.add("ENTRY_WRONG_ORIGIN", `${at}: the entry is for another log`, at);
  const publicKey = keyFor(crypto, item, s.keys, failures, s.logChain);
  applyIdentity(crypto, item, s.keys, s.actors, failures, s.logChain);
  // A dataset version's members are counted and hashed by the dataset check as they pass;
  // every other entry is kept for the closing checks.
  if (!read.dataset?.observe(item)) read.kept[position] = item;
  // Only the hashes the manifest's payloads are named by need remembering.
  if (read.payloadNames.size > 0) {
    const { payloadNames, bound } = read;
    collectHashes(entry.body, "body", (hash, field) => {
      if (payloadNames.has(hash) && !bound.has(hash)) bound.set(hash, { index, field, type: entry.type });
    });
  }
  return publicKey;
}

/** Stage 4: the inclusion proof's hashes, or undefined (a failure) when they are not whole. */
async function readProof(s: BundleCheck, m: BundleManifest): Promise<Uint8Array[] | undefined> {
  const file = await nextFile(s, PROOF_PATH, maxProofBytes(m));
  if (file.length % 32 !== 0) {
    s.failures.add(
      "BUNDLE_MALFORMED",
      `${PROOF_PATH}: ${file.length} bytes is not a whole number of 32-byte hashes`,
      PROOF_PATH,
    );
    return undefined;
  }
  const proof: Uint8Array[] = [];
  for (let o = 0; o < file.length; o += 32) proof.push(file.subarray(o, o + 32));
  return proof;
}

/**
 * Stage 5: the payloads, counted as they are read: disclosures open commitments, files and
 * instances hash to their names, image sets to their manifest roots, and each is bound to an entry.
 */
async function readPayloads(s: BundleCheck, m: BundleManifest, read: EntriesRead): Promise<void> {
  const { crypto, failures, payloads } = s;
  const { bound } = read;
  for (const c of m.disclosures) {
    const path = disclosurePath(c);
    const bytes = await nextFile(s, path, MAX_DISCLOSURE_BYTES);
    payloads.disclosures++;
    payloads.bytes += bytes.length;
    try {
      checkDisclosure(crypto, c, bytes, path);
      const b = bound.get(c);
      if (!b || !isCommitmentField(b.field))
        failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: no entry of the bundle commits to ${c}`, path);
      else s.disclosed.add(c);
    } catch (e) {
      failures.addError(e, path);
    }
  }
  for (const h of m.files) {
    const path = filePath(h);
    // Files and instances may be large (DICOM): hashed as they stream by, never held whole.
    const { sha256, bytes } = await nextFileHash(s, path);
    payloads.files++;
    payloads.bytes += bytes;
    if (sha256 !== h)
      failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: the file's SHA-256 is not its name`, path);
    else if (!bound.has(h))
      failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: no entry of the bundle commits to this file`, path);
  }
  for (const set of m.images) {
    payloads.imageSets++;
    for (const h of set.instances) {
      const path = imagePath(set.root, h);
      const { sha256, bytes } = await nextFileHash(s, path);
      payloads.instances++;
      payloads.bytes += bytes;
      if (sha256 !== h)
        failures.add("BUNDLE_PAYLOAD_MISMATCH", `${path}: the instance's SHA-256 is not its name`, path);
    }
    const at = `images/${set.root}/`;
    if (manifestRootOf(crypto, set.instances) !== set.root)
      failures.add("BUNDLE_PAYLOAD_MISMATCH", `${at}: the instances' manifest root is not ${set.root}`, at);
    else if (bound.get(set.root)?.field !== "manifestRoot")
      failures.add("BUNDLE_PAYLOAD_MISMATCH", `${at}: no entry of the bundle has this manifest root`, at);
  }
}

/** Stage 6: nothing may follow the last file the manifest lists. */
async function readEnd(s: BundleCheck): Promise<void> {
  let extra: IteratorResult<BundleInput>;
  try {
    extra = await s.iterator.next();
  } catch (e) {
    // A streaming source finds a broken end marker only now: its error names the byte.
    s.failures.addError(e, isRadledgerError(e) && typeof e.details.at === "string" ? e.details.at : "bundle");
    throw new Fatal();
  }
  if (!extra.done)
    s.failures.add(
      "BUNDLE_MALFORMED",
      `unexpected file ${JSON.stringify(extra.value.path.slice(0, 120))}: the manifest does not list it`,
      extra.value.path.slice(0, 120),
    );
}

/**
 * Closing check: all the leaf hashes against the checkpoint root with the multi-leaf inclusion
 * proof. Started here and awaited after the kind's checks, which run meanwhile; skipped when an
 * entries file or the proof could not be read (a failure already).
 */
function checkInclusion(
  s: BundleCheck,
  m: BundleManifest,
  checkpoint: Checkpoint,
  read: EntriesRead,
  proof: Uint8Array[] | undefined,
  trees: TreeHasher,
): Promise<void> | undefined {
  if (!read.allRead || !proof) return undefined;
  const { failures } = s;
  return trees.multiInclusionRoot(m.entries, m.size, read.leafHashes, proof).then(
    (root) => {
      if (!bytesEqual(root, checkpoint.root))
        failures.add(
          "ROOT_MISMATCH",
          `${PROOF_PATH}: the leaves and the inclusion proof do not lead to the root of size ${m.size}`,
          PROOF_PATH,
        );
    },
    (e: unknown) => failures.addError(e, PROOF_PATH),
  );
}

/**
 * Closing check: log order and references. Entry 0 binds the log key, so the bundle must carry it;
 * references not resolved while reading must be to entries outside the bundle, not later ones.
 */
/**
 * The log key chain (docs/log-format.md §Log key rotation): the genesis key, followed through the
 * bundle's log key rotations, must end at the key the checkpoint is signed with (the manifest's);
 * a key the user trusts that is not the manifest's must be one of the chain.
 */
function checkLogKeyChain(s: BundleCheck, m: BundleManifest): void {
  const { crypto, failures, logChain } = s;
  const genesis = logChain.genesis;
  if (!genesis || !s.logKey) return; // a bundle without genesis has failed already
  const periods = logKeyPeriods(genesis.publicKey, logChain.rotations);
  const expect = (publicKey: Uint8Array, named: string | undefined, at: string, what: string): void => {
    const vkey = formatVerifierKey(ed25519Verifier(crypto, m.origin, publicKey));
    if (named !== vkey)
      failures.add(
        "BUNDLE_KEY_INVALID",
        `${at}: ${what} names another log verifier key than the key it enrols`,
        at,
      );
  };
  expect(genesis.publicKey, genesis.verifierKey, genesis.at, "genesis");
  for (const r of logChain.rotations) expect(r.publicKey, r.verifierKey, r.at, "the log key rotation");
  if (!bytesEqual(periods.at(-1)!.publicKey, s.logKey.publicKey))
    failures.add(
      "BUNDLE_KEY_INVALID",
      logChain.rotations.length === 0
        ? `${genesis.at}: genesis enrols another key than the log key`
        : `${MANIFEST_PATH}: the log key is not the one the bundle's genesis and log key rotations lead to`,
      MANIFEST_PATH,
    );
  const via = s.logKey.viaRotation;
  if (via) {
    const trusted = via.find((t) => periods.some((p) => bytesEqual(p.publicKey, t.publicKey)));
    if (trusted) s.logKey.source = trusted.source;
    else
      failures.add(
        "NOTE_NO_VALID_SIGNATURE",
        `${MANIFEST_PATH}: the bundle's log key is not the key you gave for ${m.origin}, nor a rotation of it`,
        `${MANIFEST_PATH}:logKey`,
      );
  }
}

function checkReferences(s: BundleCheck, m: BundleManifest, read: EntriesRead): void {
  const { failures } = s;
  if (m.entries[0] !== 0)
    failures.add(
      "BUNDLE_INCOMPLETE",
      "the bundle lacks entry 0 (institution.genesis), which binds the log key",
      MANIFEST_PATH,
    );
  for (const r of read.forward) {
    const target = read.byLeaf.get(r.hash);
    if (target === undefined) s.externalRefs++;
    else if (m.entries[target]! >= r.index)
      failures.add("BUNDLE_MALFORMED", `${r.at}: refs.${r.name} names a later entry`, r.at);
  }
}

/** Closing check: the kind's completeness (completeness.ts), and a dataset version's (dataset-check.ts). */
async function checkCompleteness(
  s: BundleCheck,
  m: BundleManifest,
  read: EntriesRead,
  trees: TreeHasher,
): Promise<void> {
  const { byLeaf, kept } = read;
  const entries = {
    has: (leaf: string): boolean => byLeaf.has(leaf),
    kept: (leaf: string): Included | undefined => {
      const position = byLeaf.get(leaf);
      return position === undefined ? undefined : kept[position];
    },
  };
  // In log order (a sparse array's filter skips the holes).
  const included = kept.filter((it): it is Included => it !== undefined);
  s.completeness = await checkKind(
    m,
    included,
    entries,
    s.actors,
    s.disclosed,
    s.failures,
    trees,
    read.dataset,
  );
}

/** Closing check, when asked: the checkpoint is consistent with a later one of the log. */
async function checkLaterCheckpoint(
  s: BundleCheck,
  m: BundleManifest,
  checkpoint: Checkpoint,
): Promise<void> {
  if (s.options.against && s.logKey)
    s.against = await checkAgainst(s.crypto, s.options.against, checkpoint, s.logKey, m, s.failures);
}
