/**
 * An entry of the bundle as the verifier holds it once decoded (docs/bundle-format.md §4 step 4), and
 * small readers of its body and references shared by the identity replay (signers.ts) and the kind's
 * checks (completeness.ts). Entry bodies are the exporter's: every reader tolerates a missing or
 * mistyped member.
 */
import type { JsonObject } from "../canonical-json.js";
import type { Entry } from "../entry.js";

export interface Included {
  readonly index: number;
  /** Where it is, for failure reports: `entries/<k>:<index>` (format.ts entryPlace). */
  readonly at: string;
  /** Hex leaf hash. */
  readonly leaf: string;
  readonly entry: Entry;
}

export function str(o: JsonObject, k: string): string | undefined {
  const v = o[k];
  return typeof v === "string" ? v : undefined;
}

export function refOf(entry: Entry, name: string): string[] {
  const r = entry.refs?.[name];
  return r === undefined ? [] : Array.isArray(r) ? r : [r];
}

/** Digit value per character code of lowercase hex, -1 otherwise (leaf ids are lowercase). */
const HEX_DIGIT = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_DIGIT["0123456789abcdef".charCodeAt(i)] = i;

/**
 * The bundle's entries by leaf hash, for references: a leaf hash (hex, as references name it) to the
 * entry's position in the manifest. The hashes themselves stay in the verifier's one buffer of leaf
 * hashes (32 bytes per position): the index holds small integers only, keyed by the hash's first 30
 * bits — a Map keyed by 64-character strings costs about a microsecond per insert and per lookup,
 * 10^5 times each per bundle, and keeps 10^5 strings alive. Positions whose hashes share those bits
 * (rare, or crafted) chain, and every hit is confirmed on the whole hash.
 */
export class LeafIndex {
  readonly #map = new Map<number, number | number[]>();

  /** `leafHashes`: 32 bytes per manifest position, filled before the position is `set`. */
  constructor(private readonly leafHashes: Uint8Array) {}

  /** Adds the entry at `position`; a later equal leaf replaces an earlier one (as Map.set does). */
  set(position: number): void {
    const h = this.leafHashes;
    const o = 32 * position;
    const key = (h[o]! << 22) | (h[o + 1]! << 14) | (h[o + 2]! << 6) | (h[o + 3]! >> 2);
    const found = this.#map.get(key);
    if (found === undefined || (!Array.isArray(found) && this.#same(found, o))) this.#map.set(key, position);
    else if (!Array.isArray(found)) this.#map.set(key, [found, position]);
    else {
      const i = found.findIndex((f) => this.#same(f, o));
      if (i >= 0) found[i] = position;
      else found.push(position);
    }
  }

  /** The position of the entry whose leaf hash is `hex` (lowercase), if the bundle has one. */
  get(hex: string): number | undefined {
    if (hex.length !== 64) return undefined;
    let v = 0;
    for (let i = 0; i < 8; i++) {
      const c = hex.charCodeAt(i);
      const d = c < 128 ? HEX_DIGIT[c]! : -1;
      if (d < 0) return undefined;
      v = v * 16 + d;
    }
    const found = this.#map.get(Math.floor(v / 4));
    if (found === undefined) return undefined;
    if (!Array.isArray(found)) return this.#isHex(found, hex) ? found : undefined;
    return found.find((f) => this.#isHex(f, hex));
  }

  has(hex: string): boolean {
    return this.get(hex) !== undefined;
  }

  /** Whether the leaf at `position` equals the one at byte offset `o`. */
  #same(position: number, o: number): boolean {
    const h = this.leafHashes;
    const p = 32 * position;
    for (let i = 0; i < 32; i++) if (h[p + i] !== h[o + i]) return false;
    return true;
  }

  /** Whether the leaf at `position` is `hex` (64 characters, lowercase digits only). */
  #isHex(position: number, hex: string): boolean {
    const h = this.leafHashes;
    const p = 32 * position;
    for (let i = 0; i < 32; i++) {
      const hi = hex.charCodeAt(2 * i);
      const lo = hex.charCodeAt(2 * i + 1);
      const b = h[p + i]!;
      if (hi >= 128 || lo >= 128 || HEX_DIGIT[hi] !== b >> 4 || HEX_DIGIT[lo] !== (b & 15)) return false;
    }
    return true;
  }
}
