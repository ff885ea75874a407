/**
 * A deliberately naive RFC 9162 §2.1.1 / §2.1.3.1 / §2.1.4.1 implementation, transcribed from the
 * recursive definitions with no tiles, no caching and no iteration tricks. It is the oracle that
 * property tests compare the real core against.
 */
import { nobleCrypto } from "../../src/core/crypto-noble.js";

const sha = (...parts: Uint8Array[]): Uint8Array => nobleCrypto.sha256Parts(...parts);

export function refLeafHash(entry: Uint8Array): Uint8Array {
  return sha(new Uint8Array([0]), entry);
}

function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

/** MTH(D[n]) over leaf *entries*. */
export function refMth(entries: readonly Uint8Array[]): Uint8Array {
  const n = entries.length;
  if (n === 0) return sha(new Uint8Array(0));
  if (n === 1) return refLeafHash(entries[0]!);
  const split = k(n);
  return sha(new Uint8Array([1]), refMth(entries.slice(0, split)), refMth(entries.slice(split)));
}

/** PATH(m, D[n]). */
export function refPath(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  const n = entries.length;
  if (n <= 1) return [];
  const split = k(n);
  if (m < split) return [...refPath(m, entries.slice(0, split)), refMth(entries.slice(split))];
  return [...refPath(m - split, entries.slice(split)), refMth(entries.slice(0, split))];
}

function subproof(m: number, entries: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = entries.length;
  if (m === n) return b ? [] : [refMth(entries)];
  const split = k(n);
  if (m <= split) return [...subproof(m, entries.slice(0, split), b), refMth(entries.slice(split))];
  return [...subproof(m - split, entries.slice(split), false), refMth(entries.slice(0, split))];
}

/** PROOF(m, D[n]) for 0 < m < n. */
export function refConsistency(m: number, entries: readonly Uint8Array[]): Uint8Array[] {
  return subproof(m, entries, true);
}

export function makeEntries(n: number, seed = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => new TextEncoder().encode(`entry-${seed}-${i}`));
}
