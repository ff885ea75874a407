/**
 * Payload checks of a bundle (docs/bundle-format.md §1.2–1.3, §4 step 5): a disclosure opens the
 * commitment an entry carries (SHA-256 of salt ‖ canonical content), a file or DICOM instance hashes
 * to its name, an image set's instances hash to its manifest root, and each payload is bound to a
 * hash some entry of the bundle commits to. The payload bytes are the exporter's; the hashes the
 * signed entries'.
 */
import type { CryptoSuite } from "../crypto.js";
import { fromBase64, fromUtf8, toHex } from "../bytes.js";
import { canonicalBytes, parseCanonicalText, type JsonValue } from "../canonical-json.js";
import { RadledgerError } from "../errors.js";

const HEX64 = /^[0-9a-f]{64}$/;

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
