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
