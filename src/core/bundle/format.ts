/**
 * The radledger bundle format, version 2 (normative text: docs/bundle-format.md). A bundle is a
 * sequence of files, as a POSIX ustar archive (src/core/tar.ts) or as a directory with the same
 * paths, in this order:
 *
 *   bundle.json                       the manifest (canonical JSON, below)
 *   checkpoint                        the signed checkpoint (C2SP signed note, cosignatures kept)
 *   entries/<k>                       the manifest's entries 256·k … 256·k+255, in ascending log
 *                                     index, framed as a C2SP tlog-tiles entry bundle
 *   inclusion-proof                   the multi-leaf inclusion proof of all the entries against the
 *                                     checkpoint (src/core/merkle/multiproof.ts): 32-byte hashes
 *   disclosures/<commitment>.json     disclosed content: canonical {"content":…,"salt":"<base64>"}
 *   files/<sha256>                    files an entry commits to by SHA-256 (annotations, …)
 *   images/<root>/<sha256>.dcm        de-identified DICOM instances of a manifest root
 *
 * Every byte is checked: the manifest holds nothing the verifier cannot recompute or check.
 */
import { canonicalBytes, parseCanonicalText, type JsonValue } from "../canonical-json.js";
import { fromUtf8 } from "../bytes.js";
import { RadledgerError } from "../errors.js";

export const BUNDLE_FORMAT = "radledger-bundle";
export const BUNDLE_VERSION = 2;
export const MANIFEST_PATH = "bundle.json";
export const CHECKPOINT_PATH = "checkpoint";
export const PROOF_PATH = "inclusion-proof";
/** Entries per entries/<k> file: a full tlog-tiles entry bundle. */
export const ENTRIES_PER_FILE = 256;
/**
 * What a verifier reads into memory per structured file (docs/bundle-format.md §4.2); anything
 * larger is BUNDLE_MEMBER_TOO_LARGE, refused from its declared size before its content is read.
 * Payloads (files/, images/) have no bound: they are hashed as they stream by, never held.
 */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
export const MAX_CHECKPOINT_BYTES = 1024 * 1024;
export const MAX_DISCLOSURE_BYTES = 16 * 1024 * 1024;
/** An entry as framed in entries/<k>: a uint16 length and at most 65,535 bytes (§2). */
export const MAX_FRAMED_ENTRY_BYTES = 2 + 65535;

/** The most an entries/<k> file holding `count` entries can be: each at its longest. */
export const maxEntriesFileBytes = (count: number): number => count * MAX_FRAMED_ENTRY_BYTES;

/**
 * The most a well-formed inclusion proof for this manifest can be: each of the manifest's entries
 * adds at most one node per tree level to NODES(0, size) (§2), and a tree of `size` leaves has
 * ⌈log2 size⌉ levels; never less than one hash.
 */
export function maxProofBytes(m: BundleManifest): number {
  const levels = Math.max(1, Math.ceil(Math.log2(Math.max(2, m.size))));
  return 32 * Math.max(1, Math.min(m.size, m.entries.length * levels));
}

/** Media type of the tar form, and its usual file name extension. */
export const BUNDLE_MEDIA_TYPE = "application/x-tar";
export const BUNDLE_EXTENSION = ".radledger.tar";

export const BUNDLE_KINDS = ["report", "trial", "trial-subject", "dataset", "access"] as const;
export type BundleKind = (typeof BUNDLE_KINDS)[number];

export interface BundleSubject {
  /** The record's id: a leaf hash (report, trial, trial subject, dataset) or a patient pseudonym (access). */
  readonly id: string;
  /** Dataset bundles: the sealed version. */
  readonly version?: number;
}

export interface BundleImageSet {
  /** The manifest root (hex) an entry commits to. */
  readonly root: string;
  /** SHA-256 (hex) of each instance file, sorted, unique. */
  readonly instances: readonly string[];
}

export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly version: typeof BUNDLE_VERSION;
  readonly kind: BundleKind;
  readonly subject: BundleSubject;
  /** The log's origin (= the checkpoint's first line). */
  readonly origin: string;
  /** The log's checkpoint verifier key (`<origin>+<hex id>+<base64(0x01 || key)>`). */
  readonly logKey: string;
  /** The checkpoint's tree size. */
  readonly size: number;
  /** Log indexes of the entries, strictly ascending. */
  readonly entries: readonly number[];
  /** Commitments (hex) with a disclosure file, sorted, unique. */
  readonly disclosures: readonly string[];
  /** SHA-256 (hex) of each file under files/, sorted, unique. */
  readonly files: readonly string[];
  /** Image sets, sorted by root, unique. */
  readonly images: readonly BundleImageSet[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const SUBJECT_ID = /^[A-Za-z0-9_:.-]{1,128}$/;

export const entriesPath = (k: number): string => `entries/${k}`;
/** How many entries/<k> files a bundle of `count` entries has. */
export const entryFileCount = (count: number): number => Math.ceil(count / ENTRIES_PER_FILE);

export const disclosurePath = (commitment: string): string => `disclosures/${commitment}.json`;
export const filePath = (sha256: string): string => `files/${sha256}`;
export const imagePath = (root: string, sha256: string): string => `images/${root}/${sha256}.dcm`;

/** Every path after bundle.json, in the order the archive holds them. */
export function* expectedPaths(m: BundleManifest): Generator<string> {
  yield CHECKPOINT_PATH;
  for (let k = 0; k < entryFileCount(m.entries.length); k++) yield entriesPath(k);
  yield PROOF_PATH;
  for (const c of m.disclosures) yield disclosurePath(c);
  for (const f of m.files) yield filePath(f);
  for (const set of m.images) for (const h of set.instances) yield imagePath(set.root, h);
}

export function encodeManifest(m: BundleManifest): Uint8Array {
  return canonicalBytes(m);
}

function bad(message: string, at = MANIFEST_PATH): never {
  throw new RadledgerError("BUNDLE_MALFORMED", `${MANIFEST_PATH}: ${message}`, { at });
}

function sortedUnique(list: readonly string[], what: string): void {
  for (let i = 1; i < list.length; i++)
    if (list[i - 1]! >= list[i]!) bad(`${what} must be sorted and unique`, `${MANIFEST_PATH}:${what}`);
}

function hexList(value: JsonValue | undefined, what: string): string[] {
  if (!Array.isArray(value)) return bad(`${what} must be an array`);
  for (const v of value) if (typeof v !== "string" || !HEX64.test(v)) bad(`${what} holds a non-hash value`);
  sortedUnique(value as string[], what);
  return value as string[];
}

/**
 * Parses and validates the manifest: canonical JSON (so no byte is free), known format and version,
 * exactly the members above with their types and orders. Semantic checks against the entries and
 * checkpoint are the verifier's.
 */
export function parseManifest(bytes: Uint8Array): BundleManifest {
  let value: JsonValue;
  try {
    value = parseCanonicalText(fromUtf8(bytes));
  } catch (e) {
    return bad(`not canonical JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof value !== "object" || Array.isArray(value)) return bad("not a JSON object");
  const o = value;
  if (o.format !== BUNDLE_FORMAT)
    throw new RadledgerError(
      "BUNDLE_VERSION_UNSUPPORTED",
      `${MANIFEST_PATH}: format is not ${BUNDLE_FORMAT}`,
      {
        at: MANIFEST_PATH,
      },
    );
  if (o.version !== BUNDLE_VERSION)
    throw new RadledgerError(
      "BUNDLE_VERSION_UNSUPPORTED",
      `${MANIFEST_PATH}: bundle version ${JSON.stringify(o.version)} is not supported (this verifier reads version ${BUNDLE_VERSION})`,
      { at: MANIFEST_PATH },
    );
  const allowed = [
    "disclosures",
    "entries",
    "files",
    "format",
    "images",
    "kind",
    "logKey",
    "origin",
    "size",
    "subject",
    "version",
  ];
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) bad(`unknown member ${JSON.stringify(k.slice(0, 40))}`);
  if (typeof o.kind !== "string" || !(BUNDLE_KINDS as readonly string[]).includes(o.kind))
    bad(`kind must be one of ${BUNDLE_KINDS.join(", ")}`);
  const kind = o.kind as BundleKind;
  const subject = o.subject;
  if (typeof subject !== "object" || Array.isArray(subject)) return bad("subject must be an object");
  const s = subject;
  for (const k of Object.keys(s))
    if (k !== "id" && k !== "version") bad(`unknown subject member ${JSON.stringify(k.slice(0, 40))}`);
  if (typeof s.id !== "string" || !SUBJECT_ID.test(s.id)) bad("subject.id is not an id");
  if (kind === "dataset") {
    if (typeof s.version !== "number" || !Number.isSafeInteger(s.version) || s.version < 1)
      bad("subject.version must be the sealed version (an integer ≥ 1)");
  } else if (s.version !== undefined) bad("subject.version is for dataset bundles only");
  if (kind !== "access" && !HEX64.test(s.id)) bad("subject.id must be an entry id (64 lowercase hex)");
  if (typeof o.origin !== "string" || o.origin.length === 0) bad("origin must be a log origin");
  if (typeof o.logKey !== "string" || o.logKey.length === 0) bad("logKey must be a verifier key");
  if (typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 1)
    bad("size must be a tree size ≥ 1");
  const entries = o.entries;
  if (!Array.isArray(entries) || entries.length === 0) return bad("entries must be a non-empty array");
  let prev = -1;
  for (const i of entries) {
    if (typeof i !== "number" || !Number.isSafeInteger(i) || i <= prev || i >= o.size)
      bad("entries must be strictly ascending log indexes below size", `${MANIFEST_PATH}:entries`);
    prev = i;
  }
  const disclosures = hexList(o.disclosures, "disclosures");
  const files = hexList(o.files, "files");
  if (!Array.isArray(o.images)) return bad("images must be an array");
  const images: BundleImageSet[] = [];
  for (const set of o.images) {
    if (typeof set !== "object" || Array.isArray(set)) return bad("images holds a non-object");
    const keys = Object.keys(set);
    if (keys.length !== 2 || typeof set.root !== "string" || !HEX64.test(set.root))
      bad("an image set is {instances, root}");
    const instances = hexList(set.instances, "images.instances");
    if (instances.length === 0) bad("an image set has at least one instance");
    images.push({ root: set.root, instances });
  }
  sortedUnique(
    images.map((i) => i.root),
    "images",
  );
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    kind,
    subject: kind === "dataset" ? { id: s.id, version: s.version as number } : { id: s.id },
    origin: o.origin,
    logKey: o.logKey,
    size: o.size,
    entries: entries as number[],
    disclosures,
    files,
    images,
  };
}

/** A disclosure file: canonical {"content": <JSON>, "salt": "<base64 of 32 bytes>"}. */
export function encodeDisclosure(content: JsonValue, saltBase64: string): Uint8Array {
  return canonicalBytes({ content, salt: saltBase64 });
}
