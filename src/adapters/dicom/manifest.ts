/**
 * Study manifest root: an RFC 6962 §2.1 Merkle Tree Hash over a study's instance hashes.
 *
 *   leaf hash  = SHA-256(0x00 || instance hash bytes)
 *   node hash  = SHA-256(0x01 || left || right)
 *   MTH({})    = SHA-256("")
 *
 * The leaves are the 32-byte instance hashes sorted bytewise, duplicates removed: a manifest
 * describes a set of instances, so it must not depend on the order in which a PACS lists them,
 * nor change when the same instance is stored twice (Orthanc ignores duplicate stores, DESIGN
 * §6). Which hash goes in (fileSha256 or pixelDataSha256) is the caller's choice.
 *
 * Self-contained for now; it will later delegate to the log's RFC 9162 core, which computes the
 * same function.
 */
import { createHash } from "node:crypto";

export type InstanceHash = Uint8Array | string;

function toBytes(h: InstanceHash): Uint8Array {
  if (typeof h !== "string") {
    if (h.length !== 32) throw new RangeError(`instance hash must be 32 bytes, got ${h.length}`);
    return h;
  }
  if (!/^[0-9a-fA-F]{64}$/.test(h)) throw new RangeError("instance hash must be 64 hex digits");
  return Buffer.from(h, "hex");
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

const LEAF = Buffer.from([0x00]);
const NODE = Buffer.from([0x01]);

/** The sorted, de-duplicated leaves of the manifest tree. */
export function manifestLeaves(instanceHashes: readonly InstanceHash[]): Uint8Array[] {
  const sorted = instanceHashes.map(toBytes).sort(compareBytes);
  return sorted.filter((h, i) => i === 0 || compareBytes(h, sorted[i - 1]!) !== 0);
}

/**
 * RFC 6962 Merkle Tree Hash, computed bottom-up: pairing neighbours level by level and carrying
 * an unpaired last node up unchanged yields exactly the tree of the RFC's recursive definition
 * (split at the largest power of two smaller than n).
 */
export function merkleTreeHash(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return createHash("sha256").digest();
  let level: Uint8Array[] = leaves.map((l) => createHash("sha256").update(LEAF).update(l).digest());
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(
        createHash("sha256")
          .update(NODE)
          .update(level[i]!)
          .update(level[i + 1]!)
          .digest(),
      );
    }
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

/** Manifest root (32 bytes) of a study given its instances' SHA-256 hashes (bytes or hex). */
export function studyManifestRoot(instanceHashes: readonly InstanceHash[]): Uint8Array {
  return merkleTreeHash(manifestLeaves(instanceHashes));
}

export function studyManifestRootHex(instanceHashes: readonly InstanceHash[]): string {
  return Buffer.from(studyManifestRoot(instanceHashes)).toString("hex");
}
