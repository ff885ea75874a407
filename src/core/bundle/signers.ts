/**
 * Signers of a bundle: replay of its identity entries in log order (docs/bundle-format.md §2, §4 step
 * 4; docs/log-format.md §1.3). Entry 0 is the genesis enrolling the log key; every other entry must be
 * signed by a key an earlier entry of the bundle enrolled for its actor and did not retire or revoke.
 * The replay also collects what the report says about each signer. The entries are the exporter's
 * selection: a key the bundle never enrols fails, one it never ends is reported active.
 */
import type { CryptoSuite } from "../crypto.js";
import { fromBase64 } from "../bytes.js";
import { actorKeyId } from "../entry.js";
import { enrolmentChallenge } from "../enrolment.js";
import type { LogKeyChain } from "./check-state.js";
import type { Failures } from "./failures.js";
import { str, type Included } from "./included.js";
import type { SignerSummary } from "./types.js";

export interface KeyState {
  readonly id: string;
  readonly actor: string;
  readonly publicKey: Uint8Array;
  readonly enrolledAt: number;
  readonly enrolledBy: string;
  status: "active" | "retired" | "revoked";
  endedAt?: number;
  reason?: string;
  signed: number;
}

export interface ActorInfo {
  kind?: string;
  displayName?: string;
  roles?: string[];
  specialty?: string;
}

/** The public key that must have signed `item`, if the bundle shows it valid at that point of the log. */
export function keyFor(
  crypto: CryptoSuite,
  item: Included,
  keys: Map<string, KeyState>,
  failures: Failures,
  chain: LogKeyChain,
): Uint8Array | undefined {
  const { entry, index, at } = item;
  if (index === 0) {
    if (entry.type !== "institution.genesis" || entry.actor !== "institution") {
      failures.add("BUNDLE_MALFORMED", `${at}: entry 0 of a log is institution.genesis`, at);
      return undefined;
    }
    const pk = str(entry.body, "publicKey");
    let publicKey: Uint8Array | undefined;
    try {
      publicKey = pk === undefined ? undefined : fromBase64(pk);
    } catch {
      publicKey = undefined;
    }
    if (!publicKey || publicKey.length !== 32) {
      failures.add("ENTRY_MALFORMED", `${at}: genesis carries no Ed25519 public key`, at);
      return undefined;
    }
    // Whether this key leads to the manifest's log key is checked once the rotations are read.
    chain.genesis = { publicKey, verifierKey: str(entry.body, "logVerifierKey"), at };
    if (actorKeyId(crypto, publicKey) !== entry.key)
      failures.add("BUNDLE_KEY_INVALID", `${at}: genesis is not signed by the key it enrols`, at);
    return publicKey;
  }
  const k = keys.get(entry.key);
  if (!k) {
    failures.add(
      "BUNDLE_KEY_INVALID",
      `${at}: ${entry.type} by ${entry.actor} is signed by key ${entry.key}, which no earlier entry of the bundle enrols`,
      at,
    );
    return undefined;
  }
  if (k.actor !== entry.actor) {
    failures.add(
      "BUNDLE_KEY_INVALID",
      `${at}: key ${entry.key} is enrolled for ${k.actor}, not ${entry.actor}`,
      at,
    );
    return undefined;
  }
  if (k.status !== "active") {
    failures.add(
      "BUNDLE_KEY_INVALID",
      `${at}: key ${entry.key} of ${entry.actor} was ${k.status} at index ${k.endedAt} and signs nothing after it`,
      at,
    );
    return undefined;
  }
  k.signed++;
  return k.publicKey;
}

/** Identity entries change which keys sign what from the next index on (docs/log-format.md §1.3). */
export function applyIdentity(
  crypto: CryptoSuite,
  item: Included,
  keys: Map<string, KeyState>,
  actors: Map<string, ActorInfo>,
  failures: Failures,
  chain: LogKeyChain,
): void {
  const { entry, index, at } = item;
  const b = entry.body;
  const addKey = (actor: string, publicKeyB64: string | undefined): void => {
    let publicKey: Uint8Array | undefined;
    try {
      publicKey = publicKeyB64 === undefined ? undefined : fromBase64(publicKeyB64);
    } catch {
      publicKey = undefined;
    }
    if (!publicKey || publicKey.length !== 32) {
      failures.add("ENTRY_MALFORMED", `${at}: ${entry.type} carries no Ed25519 public key`, at);
      return;
    }
    const id = actorKeyId(crypto, publicKey);
    if (keys.has(id)) {
      failures.add("BUNDLE_KEY_INVALID", `${at}: key ${id} is enrolled twice`, at);
      return;
    }
    keys.set(id, {
      id,
      actor,
      publicKey,
      enrolledAt: index,
      enrolledBy: entry.actor,
      status: "active",
      signed: index === 0 ? 1 : 0,
    });
  };
  const end = (keyId: string | undefined, status: "retired" | "revoked", reason?: string): void => {
    const k = keyId === undefined ? undefined : keys.get(keyId);
    if (!k) return; // a key the bundle never uses: nothing to end
    k.status = status;
    k.endedAt = index;
    if (reason !== undefined) k.reason = reason;
  };
  switch (entry.type) {
    case "institution.genesis":
      if (index === 0) {
        addKey("institution", str(b, "publicKey"));
        actors.set("institution", {
          kind: "institution",
          roles: ["institution", "admin"],
          ...(str(b, "name") ? { displayName: str(b, "name")! } : {}),
        });
      }
      break;
    case "actor.enrolled": {
      const actor = str(b, "actorId");
      if (actor === undefined) return;
      addKey(actor, str(b, "publicKey"));
      const roles = Array.isArray(b.roles) ? b.roles.filter((r): r is string => typeof r === "string") : [];
      actors.set(actor, {
        ...(str(b, "kind") ? { kind: str(b, "kind")! } : {}),
        ...(str(b, "displayName") ? { displayName: str(b, "displayName")! } : {}),
        ...(str(b, "specialty") ? { specialty: str(b, "specialty")! } : {}),
        roles,
      });
      break;
    }
    case "key.rotated": {
      const actor = str(b, "actorId");
      if (actor === undefined) return;
      end(str(b, "oldKey"), "retired");
      addKey(actor, str(b, "newPublicKey"));
      if (actor === "institution") {
        const old = keys.get(str(b, "oldKey") ?? "");
        let pk: Uint8Array | undefined;
        try {
          pk = fromBase64(str(b, "newPublicKey") ?? "");
        } catch {
          pk = undefined;
        }
        // A log key rotation counts only when signed by the key it retires (docs/log-format.md).
        if (pk && pk.length === 32 && old?.actor === "institution" && entry.key === old.id)
          chain.rotations.push({ index, publicKey: pk, verifierKey: str(b, "logVerifierKey"), at });
        else
          failures.add(
            "BUNDLE_KEY_INVALID",
            `${at}: a log key rotation must be signed by the log key it retires`,
            at,
          );
      }
      break;
    }
    case "key.self-enrolled": {
      // A patient's own key, enrolled with a one-time code (docs/families/identity.md): it retires
      // every active key of the actor and becomes their only one. Only the institution records it,
      // and only with the new key's proof over the enrolment challenge (src/core/enrolment.ts),
      // which the bundle lets any verifier check again.
      const actor = str(b, "actorId");
      const publicKey = str(b, "publicKey");
      const codeId = str(b, "codeId");
      const proof = str(b, "proof");
      if (actor === undefined || publicKey === undefined || codeId === undefined || proof === undefined)
        return;
      let proved: boolean;
      try {
        proved =
          entry.actor === "institution" &&
          crypto.ed25519Verify(
            fromBase64(publicKey),
            enrolmentChallenge({ origin: entry.origin, actor, codeId, publicKey }),
            fromBase64(proof),
          );
      } catch {
        proved = false;
      }
      if (!proved) {
        failures.add(
          "BUNDLE_KEY_INVALID",
          `${at}: key.self-enrolled must be recorded by the institution with the new key's proof`,
          at,
        );
        return;
      }
      for (const k of keys.values())
        if (k.actor === actor && k.status === "active") {
          k.status = "retired";
          k.endedAt = index;
        }
      addKey(actor, publicKey);
      break;
    }
    case "key.revoked":
      end(str(b, "keyId"), "revoked", str(b, "reason"));
      break;
    case "role.granted":
    case "role.revoked": {
      const a = actors.get(str(b, "actorId") ?? "");
      const role = str(b, "role");
      if (a && role) {
        const roles = (a.roles ?? []).filter((r) => r !== role);
        a.roles = entry.type === "role.granted" ? [...roles, role] : roles;
      }
      break;
    }
  }
}

export function signerSummaries(
  keys: Map<string, KeyState>,
  actors: Map<string, ActorInfo>,
): SignerSummary[] {
  const out: SignerSummary[] = [];
  for (const k of keys.values()) {
    const a = actors.get(k.actor);
    out.push({
      actor: k.actor,
      key: k.id,
      ...(a?.kind ? { kind: a.kind } : {}),
      ...(a?.displayName ? { displayName: a.displayName } : {}),
      ...(a?.roles ? { roles: a.roles } : {}),
      ...(a?.specialty ? { specialty: a.specialty } : {}),
      enrolledAt: k.enrolledAt,
      enrolledBy: k.enrolledBy,
      signed: k.signed,
      status: k.status,
      ...(k.endedAt === undefined ? {} : { endedAt: k.endedAt }),
      ...(k.reason === undefined ? {} : { reason: k.reason }),
    });
  }
  return out.sort((a, b) => a.enrolledAt - b.enrolledAt);
}
