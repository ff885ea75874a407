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
 * The bundle's entries by leaf hash (hex), for references. Keyed by the hash's first 30 bits as a
 * small integer: a Map keyed by the 64-character strings costs about a microsecond per insert and per
 * lookup, 10^5 times each per bundle. Entries whose hashes share those bits (rare, or crafted) chain,
 * and every hit is confirmed on the whole hash.
 */
export class LeafIndex {
  readonly #map = new Map<number, Included | Included[]>();

  /** Adds `item` under its leaf hash `leaf` (the bytes of item.leaf); a later equal leaf replaces it. */
  set(item: Included, leaf: Uint8Array): void {
    const key = (leaf[0]! << 22) | (leaf[1]! << 14) | (leaf[2]! << 6) | (leaf[3]! >> 2);
    const found = this.#map.get(key);
    if (found === undefined || (!Array.isArray(found) && found.leaf === item.leaf)) this.#map.set(key, item);
    else if (!Array.isArray(found)) this.#map.set(key, [found, item]);
    else {
      const i = found.findIndex((f) => f.leaf === item.leaf);
      if (i >= 0) found[i] = item;
      else found.push(item);
    }
  }

  get(hex: string): Included | undefined {
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
    if (!Array.isArray(found)) return found.leaf === hex ? found : undefined;
    return found.find((f) => f.leaf === hex);
  }

  has(hex: string): boolean {
    return this.get(hex) !== undefined;
  }
}
