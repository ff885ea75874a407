/**
 * Keyed pseudonyms (docs/design.md §5.1): HMAC-SHA-256 under the institution's secret, so an identifier is
 * stable inside the institution and unlinkable outside it. The input is domain-separated by kind so
 * a patient id and a study UID with the same text never collide. Who controls the inputs: the PACS
 * or RIS supplies the identifiers; they never leave the node — only the pseudonyms do.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { utf8 } from "../../core/bytes.js";

export type PseudonymKind = "patient" | "study" | "series" | "instance" | "trial-subject" | "workitem";

const PREFIX: Record<PseudonymKind, string> = {
  patient: "pt_",
  study: "st_",
  series: "se_",
  instance: "in_",
  "trial-subject": "ts_",
  /** A UPS workitem (IHE AIW-I) that produced an AI result: docs/intake.md. */
  workitem: "wi_",
};

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function pseudonym(
  crypto: CryptoSuite,
  secret: Uint8Array,
  kind: PseudonymKind,
  identifier: string,
  scope = "",
): string {
  const mac = crypto.hmacSha256(secret, utf8(`radledger/pseudonym/v1\n${kind}\n${scope}\n${identifier}`));
  return PREFIX[kind] + base64url(mac);
}
