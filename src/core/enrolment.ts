/**
 * Browser-key enrolment (docs/security.md "Key custody"): the text form of a one-time enrolment code
 * and the challenge a new key signs to prove it holds its private half. Pure and shared: the node
 * checks what the patient's browser (src/web/app/lib/patient-key.ts) builds with the same functions.
 *
 * A code is 24 characters of Crockford's base32 (https://www.crockford.com/base32.html), shown in
 * six groups of four (`ABCD-EFGH-…`): the first 8 characters are the code's public id (40 bits,
 * named on the log), the last 16 its secret (80 bits, of which the node keeps only a slow hash).
 * Crockford's alphabet has no I, L, O or U, and reading I and L as 1 and O as 0 forgives the usual
 * misreadings of a code read off paper or a screen.
 *
 * The challenge is the domain-separation prefix "radledger/browser-key/v1\n" followed by the
 * canonical JSON (RFC 8785, canonical-json.ts) of { actor, code, origin, publicKey }: a proof binds
 * the key to one actor, one code and one log, and can never be replayed as an entry signature
 * (whose prefix is "radledger/entry/v1\n", entry.ts) or for another actor, code or log.
 */
import { concatBytes, utf8 } from "./bytes.js";
import { canonicalBytes } from "./canonical-json.js";

export const ENROLMENT_CHALLENGE_PREFIX = "radledger/browser-key/v1\n";

/** Crockford base32 digits, in value order. */
export const CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const ENROLMENT_CODE_ID_LENGTH = 8;
export const ENROLMENT_CODE_SECRET_LENGTH = 16;
/** An enrolment code's public id as the log names it: 8 Crockford base32 digits. */
export const ENROLMENT_CODE_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{8}$/;

/** 24 random Crockford digits from 15 random bytes (120 bits, 5 bits a digit). */
export function formatEnrolmentCode(random: Uint8Array): { code: string; id: string; secret: string } {
  if (random.length !== 15) throw new RangeError("an enrolment code takes 15 random bytes");
  let digits = "";
  let acc = 0;
  let bits = 0;
  for (const byte of random) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      digits += CROCKFORD_ALPHABET.charAt((acc >> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  const code = digits.match(/.{4}/g)!.join("-");
  return {
    code,
    id: digits.slice(0, ENROLMENT_CODE_ID_LENGTH),
    secret: digits.slice(ENROLMENT_CODE_ID_LENGTH),
  };
}

/**
 * A code as a person typed or pasted it: hyphens and white space dropped, case folded, I and L read
 * as 1, O as 0. Its id and secret, or undefined when it is not 24 Crockford digits.
 */
export function parseEnrolmentCode(text: string): { id: string; secret: string } | undefined {
  if (text.length > 64) return undefined;
  const digits = text.replace(/[\s-]/g, "").toUpperCase().replace(/[IL]/g, "1").replace(/O/g, "0");
  if (!/^[0-9A-HJKMNP-TV-Z]{24}$/.test(digits)) return undefined;
  return { id: digits.slice(0, ENROLMENT_CODE_ID_LENGTH), secret: digits.slice(ENROLMENT_CODE_ID_LENGTH) };
}

export interface EnrolmentChallenge {
  /** The log's origin. */
  readonly origin: string;
  /** The actor the key is for. */
  readonly actor: string;
  /** The enrolment code's public id. */
  readonly codeId: string;
  /** The new key: standard base64 of the 32-byte Ed25519 public key. */
  readonly publicKey: string;
}

/** The bytes a new key signs to prove it holds its private half (see above). */
export function enrolmentChallenge(c: EnrolmentChallenge): Uint8Array {
  return concatBytes(
    utf8(ENROLMENT_CHALLENGE_PREFIX),
    canonicalBytes({ actor: c.actor, code: c.codeId, origin: c.origin, publicKey: c.publicKey }),
  );
}
