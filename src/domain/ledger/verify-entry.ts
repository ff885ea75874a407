/**
 * Stateless checks of one submitted entry, the part of admission that needs no log state and so runs
 * on worker threads: size, canonical JSON, envelope, known type, body schema, reference names, the
 * Ed25519 signature (when the caller supplies the enrolled key), and the RFC 9162 leaf hash.
 */
import type { CryptoSuite } from "../../core/crypto.js";
import { decodeEntryWithText, verifyEntrySignature, type Entry } from "../../core/entry.js";
import { isRadledgerError, RadledgerError } from "../../core/errors.js";
import { leafHash } from "../../core/merkle/hash.js";
import type { VerifyOutcome } from "../../ports/verifier.js";
import type { EntryTypeRegistry } from "./entry-types.js";

/** Checks the body and references of a decoded entry against its type's schema. */
export function checkEntryShape(registry: EntryTypeRegistry, entry: Entry): void {
  const def = registry.get(entry.type);
  if (!def)
    throw new RadledgerError("ENTRY_UNKNOWN_TYPE", `unknown entry type ${entry.type}`, { at: "type" });
  const parsed = def.body.safeParse(entry.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = ["body", ...issue.path.map(String)].join(".");
    throw new RadledgerError("ENTRY_SCHEMA_INVALID", `${entry.type}: ${at}: ${issue.message}`, { at });
  }
  const refs = entry.refs ?? {};
  for (const name of Object.keys(refs)) {
    if (!(name in def.refs))
      throw new RadledgerError("ENTRY_SCHEMA_INVALID", `${entry.type} takes no reference named ${name}`, {
        at: `refs.${name}`,
      });
  }
  for (const [name, spec] of Object.entries(def.refs)) {
    const ref = refs[name];
    if (ref === undefined) {
      if (!spec.optional)
        throw new RadledgerError("ENTRY_SCHEMA_INVALID", `${entry.type} needs reference ${name}`, {
          at: `refs.${name}`,
        });
      continue;
    }
    if (Array.isArray(ref) !== Boolean(spec.many)) {
      throw new RadledgerError(
        "ENTRY_SCHEMA_INVALID",
        `reference ${name} must be ${spec.many ? "a list" : "a single leaf hash"}`,
        { at: `refs.${name}` },
      );
    }
  }
}

export function verifyEntryBytes(
  crypto: CryptoSuite,
  registry: EntryTypeRegistry,
  bytes: Uint8Array,
  publicKey?: Uint8Array,
): VerifyOutcome {
  try {
    const { entry, text } = decodeEntryWithText(bytes);
    checkEntryShape(registry, entry);
    let signatureChecked = false;
    if (publicKey) {
      if (!verifyEntrySignature(crypto, entry, publicKey, text))
        throw new RadledgerError("ENTRY_BAD_SIGNATURE", "signature does not verify with the enrolled key");
      signatureChecked = true;
    }
    return { ok: true, leafHash: leafHash(crypto, bytes), signatureChecked };
  } catch (e) {
    if (isRadledgerError(e)) {
      const at = typeof e.details.at === "string" ? e.details.at : undefined;
      return at === undefined
        ? { ok: false, code: e.code, message: e.message }
        : { ok: false, code: e.code, message: e.message, at };
    }
    return { ok: false, code: "INTERNAL", message: "entry verification failed unexpectedly" };
  }
}
