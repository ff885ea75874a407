/**
 * Checking an equivocation evidence file (docs/consortium.md §Evidence) offline: the proof that a log
 * signed two inconsistent checkpoints, checked with the pure core (src/core/evidence.ts) against the
 * log keys the checker trusts.
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { CryptoSuite } from "../core/crypto.js";
import { isEvidenceText, verifyEvidence, type EvidenceVerdict } from "../core/evidence.js";

/** An evidence file is recognised by its first line; anything else (a bundle) is not one. */
export function isEvidenceFile(path: string): boolean {
  let fd: number;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, "r");
  } catch {
    return false; // the bundle reader reports a missing path with its own code
  }
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return isEvidenceText(head.subarray(0, n).toString("utf8"));
  } finally {
    closeSync(fd);
  }
}

/** Proves that the file's two checkpoints are inconsistent, or throws the coded reason why not. */
export function checkEvidenceFile(
  crypto: CryptoSuite,
  path: string,
  trustedLogKeys: readonly string[],
): EvidenceVerdict {
  return verifyEvidence(crypto, new Uint8Array(readFileSync(path)), trustedLogKeys);
}
