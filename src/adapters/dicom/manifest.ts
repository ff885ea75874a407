/**
 * Study manifest root: an RFC 6962 §2.1 Merkle Tree Hash over a study's instance hashes.
 *
 *   leaf hash  = SHA-256(0x00 || instance hash bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *
 * The leaves are the 32-byte instance hashes sorted bytewise, duplicates removed: a manifest
 * describes a set of instances, so it must not depend on the order in which a PACS lists them,
 * nor change when the same instance is stored twice (Orthanc ignores duplicate stores, docs/design.md
 * §8.2). Which hash goes in (fileSha256 or pixelDataSha256) is the caller's choice.
 *
 * The tree is the core's (src/core/merkle/manifest.ts, RFC 9162 = RFC 6962 §2.1): the same
 * construction as the dataset and timepoint manifests a bundle verifier recomputes. This adapter adds
 * the inputs a DICOM caller has: hashes as bytes or hex of either case.
 */
import { nodeCrypto } from "../node-crypto/crypto.js";
import { gather, merkleRootOfHashes, sortedUniqueOrder } from "../../core/merkle/manifest.js";

export type InstanceHash = Uint8Array | string;

function toBytes(h: InstanceHash): Uint8Array {
  if (typeof h !== "string") {
    if (h.length !== 32) throw new RangeError(`instance hash must be 32 bytes, got ${h.length}`);
    return h;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new RangeError("instance hash must be 64 hex digits");
  return Buffer.from(h, "hex");
}

/** The hashes, 32 bytes each, concatenated in sorted order with duplicates removed. */
function sortedUnique(instanceHashes: readonly InstanceHash[]): Uint8Array {
  const raw = new Uint8Array(32 * instanceHashes.length);
  instanceHashes.forEach((h, i) => raw.set(toBytes(h), 32 * i));
  return gather(raw, sortedUniqueOrder(raw));
}

/** The sorted, de-duplicated leaves of the manifest tree. */
export function manifestLeaves(instanceHashes: readonly InstanceHash[]): Uint8Array[] {
  const joined = sortedUnique(instanceHashes);
  return Array.from({ length: joined.length / 32 }, (_, k) => joined.slice(32 * k, 32 * k + 32));
}

/** Manifest root (32 bytes) of a study given its instances' SHA-256 hashes (bytes or hex). */
export function studyManifestRoot(instanceHashes: readonly InstanceHash[]): Uint8Array {
  return merkleRootOfHashes(nodeCrypto, sortedUnique(instanceHashes));
}

export function studyManifestRootHex(instanceHashes: readonly InstanceHash[]): string {
  return Buffer.from(studyManifestRoot(instanceHashes)).toString("hex");
}
