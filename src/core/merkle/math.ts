/**
 * Tree-size arithmetic that stays exact up to 2^53 (the largest size a JavaScript number holds
 * exactly). JavaScript's bitwise operators truncate to 32 bits, so nothing here uses them on sizes or
 * indexes; a property test checks every function against a bigint oracle around 2^31, 2^32 and 2^53.
 */
import { RadledgerError } from "../errors.js";

export const MAX_TREE_SIZE = Number.MAX_SAFE_INTEGER;

export function assertTreeSize(n: number, what = "tree size"): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RadledgerError("TREE_SIZE_INVALID", `${what} must be an integer in [0, 2^53)`);
}

export function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n > 1) {
    if (n % 2 !== 0) return false;
    n /= 2;
  }
  return true;
}

/** The largest power of two strictly less than n (n ≥ 2): the split point k of RFC 9162 §2.1.1. */
export function largestPowerOfTwoBelow(n: number): number {
  if (n < 2) throw new RadledgerError("TREE_SIZE_INVALID", "split point needs n ≥ 2");
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** floor(n / 2^bits) without 32-bit truncation. */
export function shiftRight(n: number, bits = 1): number {
  return Math.floor(n / 2 ** bits);
}

export function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** Whether bit `bit` of n is set (n < 2^53). */
export function bitSet(n: number, bit: number): boolean {
  return Math.floor(n / 2 ** bit) % 2 === 1;
}

/** log2 of a power of two. */
export function log2Exact(n: number): number {
  let level = 0;
  while (n > 1) {
    n /= 2;
    level++;
  }
  return level;
}
