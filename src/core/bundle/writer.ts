/**
 * Producing a bundle's files in archive order (docs/bundle-format.md §1) from a manifest and
 * callbacks that supply each part, so that an export streams: entries are read 256 at a time and
 * payloads are loaded when their turn comes. tarChunks() turns the members into the bytes of the
 * ustar archive.
 */
import { utf8 } from "../bytes.js";
import { tarEnd, tarHeader, tarPadding } from "../tar.js";
import { encodeEntryBundle } from "../tiles.js";
import {
  CHECKPOINT_PATH,
  disclosurePath,
  encodeManifest,
  ENTRIES_PER_FILE,
  entriesPath,
  filePath,
  imagePath,
  MANIFEST_PATH,
  PROOF_PATH,
  type BundleManifest,
} from "./format.js";
import type { BundleMember } from "./types.js";

export interface BundleParts {
  /** The signed checkpoint note (with any cosignatures) the proof is against. */
  readonly checkpoint: string;
  /** The multi-leaf inclusion proof of the manifest's entries against the checkpoint (src/core/merkle/multiproof.ts). */
  inclusionProof(): Promise<readonly Uint8Array[]> | readonly Uint8Array[];
  /** An entry's exact bytes. */
  entry(index: number): Promise<Uint8Array> | Uint8Array;
  /** A disclosure file (disclosures/<commitment>.json). */
  disclosure(commitment: string): Promise<Uint8Array> | Uint8Array;
  /** A file by its SHA-256 (files/<sha256>). */
  file(sha256: string): Promise<Uint8Array> | Uint8Array;
  /** A DICOM instance of an image set by its SHA-256. */
  image(root: string, sha256: string): Promise<Uint8Array> | Uint8Array;
}

export async function* bundleMembers(
  manifest: BundleManifest,
  parts: BundleParts,
): AsyncGenerator<BundleMember> {
  yield { path: MANIFEST_PATH, bytes: encodeManifest(manifest) };
  yield { path: CHECKPOINT_PATH, bytes: utf8(parts.checkpoint) };
  for (let start = 0; start < manifest.entries.length; start += ENTRIES_PER_FILE) {
    const chunk: Uint8Array[] = [];
    for (const index of manifest.entries.slice(start, start + ENTRIES_PER_FILE))
      chunk.push(await parts.entry(index));
    yield { path: entriesPath(start / ENTRIES_PER_FILE), bytes: encodeEntryBundle(chunk) };
  }
  const proof = await parts.inclusionProof();
  const proofBytes = new Uint8Array(32 * proof.length);
  proof.forEach((h, i) => proofBytes.set(h, 32 * i));
  yield { path: PROOF_PATH, bytes: proofBytes };
  for (const c of manifest.disclosures) yield { path: disclosurePath(c), bytes: await parts.disclosure(c) };
  for (const h of manifest.files) yield { path: filePath(h), bytes: await parts.file(h) };
  for (const set of manifest.images)
    for (const h of set.instances)
      yield { path: imagePath(set.root, h), bytes: await parts.image(set.root, h) };
}

/** The ustar archive of the members, as a stream of chunks (header, content, padding, …, end marker). */
export async function* tarChunks(
  members: AsyncIterable<BundleMember> | Iterable<BundleMember>,
): AsyncGenerator<Uint8Array> {
  for await (const m of members) {
    yield tarHeader(m.path, m.bytes.length);
    yield m.bytes;
    const pad = tarPadding(m.bytes.length);
    if (pad.length > 0) yield pad;
  }
  yield tarEnd();
}
