/**
 * Bundle export on the node (docs/bundle-format.md): a record with its proofs and payloads as a tar
 * file or a directory. The selection is the domain's (src/domain/bundles), the format is the pure
 * core's (src/core/bundle); this module adds storage, the vault and files. Offline verification of a
 * bundle is bundle-verify.ts, which loads none of this.
 */
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { createHash } from "node:crypto";
import { toBase64, toHex } from "../core/bytes.js";
import type { JsonValue } from "../core/canonical-json.js";
import { openCheckpoint } from "../core/checkpoint.js";
import { decodeEntry } from "../core/entry.js";
import { RadledgerError } from "../core/errors.js";
import { ed25519Verifier } from "../core/note.js";
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  encodeDisclosure,
  type BundleImageSet,
  type BundleManifest,
} from "../core/bundle/format.js";
import { manifestRootOf, type BundleMember } from "../core/bundle/verify.js";
import { bundleMembers, tarChunks } from "../core/bundle/writer.js";
import { selectBundle, type BundleRequest, type SelectionSource } from "../domain/bundles/select.js";
import type { CryptoSuite } from "../core/crypto.js";
import type { StoredEntry } from "../ports/storage.js";
import type { Vault } from "../ports/vault.js";
import type { RadledgerNode } from "./node.js";

const HEX64 = /^[0-9a-f]{64}$/;

/** Files offered for a bundle's payload: by SHA-256, and grouped by folder as DICOM image sets. */
export interface PayloadCatalog {
  /** SHA-256 (hex) → path. */
  readonly files: ReadonlyMap<string, string>;
  /** Manifest root (hex) of each folder's files (recursively) → their SHA-256s. */
  readonly sets: ReadonlyMap<string, readonly string[]>;
}

export interface ExportOptions {
  /** A checkpoint note to prove against instead of the latest (e.g. one carrying witness cosignatures). */
  readonly checkpoint?: string;
  /** Disclose the content behind commitments that the vault holds (default true). */
  readonly disclose?: boolean;
  /** Files to match against the hashes and manifest roots the entries commit to. */
  readonly payload?: PayloadCatalog;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * What an export reads: the log's store (entries, projections, references, tiles), its tree, its
 * identity and, for disclosures, the vault. A running node provides it (exportSourceOf), and so does
 * a read-only opening of a data directory (src/wiring/export.ts), which needs no writer lock and so works
 * beside `radledger serve`.
 */
export interface BundleExportSource {
  readonly crypto: CryptoSuite;
  readonly origin: string;
  readonly verifierKey: string;
  readonly logPublicKey: Uint8Array;
  readonly store: SelectionSource & {
    readEntry(index: number): StoredEntry | undefined;
    latestCheckpoint(): { size: number; note: string } | undefined;
    size(): number;
  };
  readonly tree: {
    multiInclusionProof(indexes: readonly number[], size: number): Uint8Array[];
    root(size: number): Uint8Array;
  };
  readonly vault?: Pick<Vault, "get">;
}

export function exportSourceOf(node: RadledgerNode): BundleExportSource {
  return {
    crypto: node.crypto,
    origin: node.config.origin,
    verifierKey: node.verifierKey,
    logPublicKey: node.logKey.publicKey,
    store: node.store,
    tree: node.ledger.tree,
    vault: node.vault,
  };
}

export interface PreparedBundle {
  readonly manifest: BundleManifest;
  /** The bundle's files in archive order, produced as they are read (streaming). */
  readonly members: AsyncGenerator<BundleMember>;
}

/** Hashes every file under dir (streaming) and forms one image set per folder, the top folder included. */
export async function payloadCatalog(crypto: CryptoSuite, dir: string): Promise<PayloadCatalog> {
  const files = new Map<string, string>();
  const byFolder = new Map<string, string[]>();
  const walk = async (d: string): Promise<void> => {
    const items = await readdir(d, { withFileTypes: true });
    items.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const it of items) {
      const p = join(d, it.name);
      if (it.isDirectory()) await walk(p);
      else if (it.isFile()) {
        const h = createHash("sha256");
        for await (const chunk of createReadStream(p)) h.update(chunk as Buffer);
        const hex = h.digest("hex");
        files.set(hex, p);
        // Every ancestor folder up to dir holds this file.
        for (let f = dirname(p); ; f = dirname(f)) {
          const list = byFolder.get(f) ?? [];
          list.push(hex);
          byFolder.set(f, list);
          if (f === dir || relative(dir, f).startsWith("..") || f === dirname(f)) break;
        }
      }
    }
  };
  const top = (await stat(dir)).isDirectory();
  if (!top) throw new RadledgerError("INPUT_INVALID", `${dir} is not a directory`, { at: "--files" });
  await walk(dir);
  const sets = new Map<string, string[]>();
  for (const list of byFolder.values()) {
    const unique = [...new Set(list)].sort();
    sets.set(manifestRootOf(crypto, unique), unique);
  }
  return { files, sets };
}

/**
 * Selects a record's entries and prepares its bundle against the latest checkpoint (or the one
 * given). Entries and proofs are read as the members are consumed.
 */
export function prepareBundle(
  from: RadledgerNode | BundleExportSource,
  request: BundleRequest,
  options: ExportOptions = {},
): PreparedBundle {
  const src = "ledger" in from ? exportSourceOf(from) : from;
  const crypto = src.crypto;
  let checkpointNote = src.store.latestCheckpoint()?.note;
  if (options.checkpoint !== undefined) {
    // A caller-supplied checkpoint must be this log's, signed by its key, and a tree the log has.
    const verifier = ed25519Verifier(crypto, src.origin, src.logPublicKey);
    const cp = openCheckpoint(options.checkpoint, [verifier], src.origin).checkpoint;
    if (cp.size > src.store.size() || toHex(src.tree.root(cp.size)) !== toHex(cp.root))
      throw new RadledgerError(
        "ROOT_MISMATCH",
        `the given checkpoint (size ${cp.size}) is not a tree of this log`,
      );
    checkpointNote = options.checkpoint;
  }
  if (checkpointNote === undefined)
    throw new RadledgerError("STORE_NOT_FOUND", "the log has no checkpoint yet");
  const note = checkpointNote;
  const size = openCheckpoint(note, [ed25519Verifier(crypto, src.origin, src.logPublicKey)]).checkpoint.size;
  const selection = selectBundle(src.store, request, size);

  // Payloads: scan the selected entries' bodies for what they commit to.
  const disclosures = new Map<string, Uint8Array>();
  const files = new Set<string>();
  const images = new Map<string, readonly string[]>();
  const catalog = options.payload;
  for (const index of selection.entries) {
    const entry = decodeEntry(src.store.readEntry(index)!.bytes);
    walkHashes(entry.body, "body", (hash, field) => {
      if (
        (field.endsWith("Commitment") || field === "measurements") &&
        options.disclose !== false &&
        !disclosures.has(hash)
      ) {
        const rec = src.vault?.get(hash);
        if (rec) disclosures.set(hash, encodeDisclosure(rec.content, toBase64(rec.salt)));
      }
      if (!catalog) return;
      if (field === "manifestRoot" && catalog.sets.has(hash)) images.set(hash, catalog.sets.get(hash)!);
      else if (catalog.files.has(hash)) files.add(hash);
    });
  }
  if (catalog && catalog.files.size > 0 && files.size === 0 && images.size === 0)
    throw new RadledgerError(
      "BUNDLE_PAYLOAD_UNMATCHED",
      "none of the given files (or folders of DICOM instances) matches a hash or manifest root the bundle's entries commit to",
      { at: "--files" },
    );
  const imageSets: BundleImageSet[] = [...images.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([root, instances]) => ({ root, instances: [...instances] }));
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    kind: selection.kind,
    subject: selection.subject,
    origin: src.origin,
    logKey: src.verifierKey,
    size,
    entries: selection.entries,
    disclosures: [...disclosures.keys()].sort(),
    files: [...files].sort(),
    images: imageSets,
  };
  const total = selection.entries.length;
  let done = 0;
  const members = bundleMembers(manifest, {
    checkpoint: note,
    entry(index) {
      const stored = src.store.readEntry(index);
      if (!stored) throw new RadledgerError("STORE_CORRUPT", `entry ${index} is missing`);
      done++;
      if (options.onProgress && (done % 1024 === 0 || done === total)) options.onProgress(done, total);
      return stored.bytes;
    },
    inclusionProof: () => src.tree.multiInclusionProof(selection.entries, size),
    disclosure: (c) => disclosures.get(c)!,
    file: (h) => readFile(catalog!.files.get(h)!),
    image: (_root, h) => readFile(catalog!.files.get(h)!),
  });
  return { manifest, members };
}

function walkHashes(value: JsonValue, name: string, out: (hash: string, field: string) => void): void {
  if (typeof value === "string") {
    if (HEX64.test(value)) out(value, name);
  } else if (Array.isArray(value)) for (const v of value) walkHashes(v, name, out);
  else if (typeof value === "object") for (const [k, v] of Object.entries(value)) walkHashes(v, k, out);
}

async function writeChunk(stream: WriteStream, chunk: Uint8Array): Promise<void> {
  if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once("drain", resolve));
}

/** Writes the bundle as a ustar file (atomically: a temporary file renamed when complete). */
export async function writeBundleFile(
  members: AsyncIterable<BundleMember>,
  path: string,
): Promise<{ bytes: number }> {
  const tmp = `${path}.partial`;
  const stream = createWriteStream(tmp);
  let bytes = 0;
  try {
    for await (const chunk of tarChunks(members)) {
      bytes += chunk.length;
      await writeChunk(stream, chunk);
    }
    await new Promise<void>((resolve, reject) =>
      stream.end((e?: Error | null) => (e ? reject(e) : resolve())),
    );
    await rename(tmp, path);
  } catch (e) {
    stream.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
  return { bytes };
}

/** Writes the bundle as a directory with the same paths (refuses an existing directory). */
export async function writeBundleDirectory(
  members: AsyncIterable<BundleMember>,
  dir: string,
): Promise<{ bytes: number }> {
  try {
    await mkdir(dir, { recursive: false });
  } catch {
    throw new RadledgerError("STORE_EXISTS", `${dir} already exists or cannot be created`);
  }
  let bytes = 0;
  for await (const m of members) {
    const p = join(dir, ...m.path.split("/"));
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, m.bytes);
    bytes += m.bytes.length;
  }
  return { bytes };
}
