/**
 * Building blocks shared by every family's body schemas. Strings are bounded and patterned so that a
 * schema is also the first line of defence against PHI: free text is allowed only where a family
 * needs it (names of institutions and staff), never for patients; content travels as commitments.
 */
import { z } from "zod";
import { ACTOR_ID_PATTERN, isCanonicalTime, KEY_ID_PATTERN, LEAF_HASH_PATTERN } from "../core/entry.js";

/** SHA-256 in lowercase hex: content commitments, file and manifest hashes. */
export const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "expected a lowercase hex SHA-256");
/** The leaf hash of an earlier entry (lowercase hex), also the id of the record it created. */
export const entryId = z.string().regex(LEAF_HASH_PATTERN, "expected an entry id (lowercase hex leaf hash)");
export const actorId = z.string().regex(ACTOR_ID_PATTERN, "expected an actor id");
export const keyId = z.string().regex(KEY_ID_PATTERN, "expected a key id");
/** A 32-byte Ed25519 public key in standard base64. */
export const publicKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/, "expected a base64 Ed25519 public key");
/** Keyed pseudonym of a patient: "pt_" + base64url of HMAC-SHA-256(institution secret, patient id). */
export const pseudonym = z.string().regex(/^pt_[A-Za-z0-9_-]{43}$/, "expected a patient pseudonym");
/** Keyed pseudonym of another identifier (study "st_", series "se_", trial subject "ts_"). */
export const keyedId = (prefix: "st_" | "se_" | "in_" | "ts_") =>
  z.string().regex(new RegExp(`^${prefix}[A-Za-z0-9_-]{43}$`), `expected a ${prefix} pseudonym`);
export const timestamp = z.string().refine(isCanonicalTime, "expected RFC 3339 UTC time with milliseconds");
/** A short machine code (modality, role, section kind…): lowercase or uppercase letters, digits, dashes. */
export const code = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected a short code");
/** Human-readable label for staff, institutions, products; never used for patients. */
export const label = z
  .string()
  .min(1)
  .max(200)
  .refine((s) => !Array.from(s).some((c) => c.charCodeAt(0) < 0x20), "control characters are not allowed");
export const positiveInt = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
