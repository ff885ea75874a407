/**
 * Producing a bundle's files in archive order (docs/bundle-format.md §2) from a manifest and
 * callbacks that supply each part, so that an export streams: entries and proofs are read one at a
 * time and payloads are loaded when their turn comes. tarChunks() turns the members into the bytes
 * of the ustar archive.
 */
import { utf8 } from "../bytes.js";
import { tarEnd, tarHeader, tarPadding } from "../tar.js";
import { formatTlogProof } from "../tlog-proof.js";
import {
  CHECKPOINT_PATH,
  disclosurePath,
  encodeManifest,
  entryPath,
  filePath,
  imagePath,
  MANIFEST_PATH,
  proofPath,
  type BundleManifest,
} from "./format.js";
import type { BundleMember } from "./verify.js";

export interface BundleParts {
  /** The signed checkpoint note (with any cosignatures) the proofs are against. */
  readonly checkpoint: string;
  /** An entry's exact bytes and its RFC 9162 inclusion proof against the checkpoint. */
  entry(
    index: number,
  ):
    | Promise<{ bytes: Uint8Array; proof: readonly Uint8Array[] }>
    | { bytes: Uint8Array; proof: readonly Uint8Array[] };
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
  for (const index of manifest.entries) {
    const { bytes, proof } = await parts.entry(index);
    yield { path: entryPath(index), bytes };
    yield {
      path: proofPath(index),
      bytes: utf8(formatTlogProof({ index, proof, checkpoint: parts.checkpoint })),
    };
  }
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
