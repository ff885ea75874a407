/**
 * The institution as a signer: the log key, actor "institution" (as in init.ts). The node signs with
 * it only its own statements — study registrations from its PACS or folders, gatekeeper access
 * records, de-identified copies it produced — never on behalf of a person (docs/design.md §7.4).
 */
import type { JsonObject } from "../core/canonical-json.js";
import { actorKeyId, type EntryRefs } from "../core/entry.js";
import { INSTITUTION_ACTOR } from "../domain/identity/state.js";
import type { ActorSigningKey } from "../ports/keys.js";
import { signAs } from "./keys.js";
import type { RadledgerNode } from "./node.js";

/** The current log key as the institution's entry signer (it signs where it lives: file or HSM). */
export function institutionKey(node: RadledgerNode): ActorSigningKey {
  const key = node.logKey;
  return {
    actor: INSTITUTION_ACTOR,
    publicKey: key.publicKey,
    keyId: actorKeyId(node.crypto, key.publicKey),
    sign: (message) => key.sign(message),
  };
}

/** Signs an entry as the institution for this node's log. */
export function signAsInstitution(
  node: RadledgerNode,
  type: string,
  body: JsonObject,
  refs?: EntryRefs,
  time?: number,
): Uint8Array {
  return signAs(node.crypto, institutionKey(node), node.config.origin, type, body, {
    ...(refs ? { refs } : {}),
    ...(time === undefined ? {} : { time }),
  });
}
