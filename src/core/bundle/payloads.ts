/**
 * Payload checks of a bundle (docs/bundle-format.md §1.2–1.3, §4 step 5): a disclosure opens the
 * commitment an entry carries (SHA-256 of salt ‖ canonical content), a file or DICOM instance hashes
 * to its name, an image set's instances hash to its manifest root, and each payload is bound to a
 * hash some entry of the bundle commits to. The payload bytes are the exporter's; the hashes the
 * signed entries'.
 */
import type { CryptoSuite } from "../crypto.js";
import { fromBase64, fromHex, fromUtf8, toHex } from "../bytes.js";
import { canonicalBytes, parseCanonicalText, type JsonValue } from "../canonical-json.js";
import { RadledgerError } from "../errors.js";
import { CompactRange } from "../merkle/compact-range.js";
import { leafHash } from "../merkle/hash.js";

export const HEX64 = /^[0-9a-f]{64}$/;

/** Hex hashes in an entry body, with the member name that holds each (for payload bindings). */
export function collectHashes(
  value: JsonValue,
  name: string,
  out: (hash: string, field: string) => void,
): void {
  if (typeof value === "string") {
    if (value.length === 64 && HEX64.test(value)) out(value, name);
  } else if (Array.isArray(value)) {
    for (const v of value) collectHashes(v, name, out);
  } else if (typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collectHashes(v, k, out);
  }
}

export const isCommitmentField = (field: string): boolean =>
  field.endsWith("Commitment") || field === "measurements";

/**
 * Manifest root of a set of 32-byte hashes (hex): RFC 9162 Merkle tree hash over them sorted bytewise,
 * duplicates removed, each as one leaf (the construction of study, timepoint and dataset manifests).
 */
export function manifestRootOf(crypto: CryptoSuite, hashes: readonly string[]): string {
  return toHex(merkleRootOfHashes(crypto, manifestLeaves(hashes)));
}

/** The manifest's leaves: the hashes sorted bytewise (as lowercase hex sorts), unique, 32 bytes each. */
export function manifestLeaves(hashes: readonly string[]): Uint8Array {
  const sorted = [...new Set(hashes)].sort();
  const out = new Uint8Array(32 * sorted.length);
  sorted.forEach((h, i) => out.set(fromHex(h), 32 * i));
  return out;
}

/** RFC 9162 MTH with each 32-byte hash of `hashes`, in order, as one leaf. */
export function merkleRootOfHashes(crypto: CryptoSuite, hashes: Uint8Array): Uint8Array {
  const range = new CompactRange(crypto);
  for (let o = 0; o < hashes.length; o += 32) range.append(leafHash(crypto, hashes.subarray(o, o + 32)));
  return range.root();
}

export function checkDisclosure(
  crypto: CryptoSuite,
  commitment: string,
  bytes: Uint8Array,
  path: string,
): void {
  let value: JsonValue;
  try {
    value = parseCanonicalText(fromUtf8(bytes));
  } catch (e) {
    throw new RadledgerError(
      "BUNDLE_MALFORMED",
      `not canonical JSON (${e instanceof Error ? e.message : String(e)})`,
      { at: path },
    );
  }
  if (
    typeof value !== "object" ||
    Array.isArray(value) ||
    Object.keys(value).length !== 2 ||
    typeof value.salt !== "string" ||
    value.content === undefined
  )
    throw new RadledgerError("BUNDLE_MALFORMED", 'a disclosure is {"content": …, "salt": "<base64>"}', {
      at: path,
    });
  let salt: Uint8Array;
  try {
    salt = fromBase64(value.salt);
  } catch {
    throw new RadledgerError("BUNDLE_MALFORMED", "salt is not canonical base64", { at: path });
  }
  if (salt.length !== 32) throw new RadledgerError("BUNDLE_MALFORMED", "salt is not 32 bytes", { at: path });
  const computed = toHex(crypto.sha256Parts(salt, canonicalBytes(value.content)));
  if (computed !== commitment)
    throw new RadledgerError("COMMITMENT_MISMATCH", "content and salt do not hash to the commitment", {
      at: path,
    });
}
