/**
 * RFC 9162 §2.1.1 Merkle hashing with SHA-256 (identical to RFC 6962 §2.1, which every C2SP log uses):
 * leaf hash = SHA-256(0x00 || entry), node hash = SHA-256(0x01 || left || right), and the hash of
 * the empty tree is SHA-256 of the empty string. The 0x00/0x01 prefixes keep a leaf from being
 * passed off as an interior node (second-preimage resistance).
 */
import type { CryptoSuite } from "../crypto.js";

export const HASH_SIZE = 32;
const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

export function leafHash(crypto: CryptoSuite, entry: Uint8Array): Uint8Array {
  return crypto.sha256Parts(LEAF_PREFIX, entry);
}

export function nodeHash(crypto: CryptoSuite, left: Uint8Array, right: Uint8Array): Uint8Array {
  return crypto.sha256Parts(NODE_PREFIX, left, right);
}

export function emptyRoot(crypto: CryptoSuite): Uint8Array {
  return crypto.sha256(new Uint8Array(0));
}
