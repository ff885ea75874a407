/**
 * Keys the node holds in files of the data directory: the log key (file backend) and, for actors who do not hold their own (staff using the web UI,
 * demo actors), their Ed25519 seeds. Entries are always signed by the actor's key, never by the node
 * on someone's behalf with its own key (docs/design.md §7.3).
 */
import { existsSync, renameSync, rmSync } from "node:fs";
import type { CryptoSuite } from "../core/crypto.js";
import { fromBase64, toBase64 } from "../core/bytes.js";
import { actorKeyId, formatTime, signEntry, type EntryRefs } from "../core/entry.js";
import type { JsonObject } from "../core/canonical-json.js";
import { RadledgerError } from "../core/errors.js";
import { formatSignerKey, formatVerifierKey, parseSignerKey } from "../core/note.js";
import type {
  ActorSigningKey,
  HeldKey,
  HeldKeyStore,
  LogKeyCandidate,
  LogSigningKey,
} from "../ports/keys.js";
import { keyBackend, paths, readConfig, readSecret, writeSecret } from "./data-dir.js";

export type { HeldKey } from "../ports/keys.js";

/**
 * The held keys of a data directory: one file per actor (mode 0600), read once and cached; a new key
 * is written with 'wx', so an existing one is never replaced.
 */
export class DataDirHeldKeys implements HeldKeyStore {
  readonly #cache = new Map<string, HeldKey>();

  constructor(
    private readonly crypto: CryptoSuite,
    private readonly dir: string,
  ) {}

  get(actor: string): HeldKey | undefined {
    const cached = this.#cache.get(actor);
    if (cached) return cached;
    const key = readActorKey(this.crypto, this.dir, actor);
    if (key) this.#cache.set(actor, key);
    return key;
  }

  has(actor: string): boolean {
    return this.#cache.has(actor) || existsSync(paths(this.dir).actorKey(actor));
  }

  put(actor: string, seed: Uint8Array): HeldKey {
    if (this.has(actor))
      throw new RadledgerError("STORE_EXISTS", `the node already holds a key for ${actor}`);
    writeActorKey(this.dir, actor, seed);
    return this.get(actor)!;
  }

  remove(actor: string): boolean {
    this.#cache.delete(actor);
    const p = paths(this.dir).actorKey(actor);
    if (!existsSync(p)) return false;
    // Unlinked, not overwritten: on journalling and copy-on-write file systems an overwrite does not
    // reach the old blocks either. What makes the key useless is the log: it is retired there
    // (docs/security.md "Key custody"), so nothing it signs is admitted any more.
    rmSync(p);
    return true;
  }
}

/** Actor key files hold base64(seed); the file name is the actor id. */
export function writeActorKey(dir: string, actor: string, seed: Uint8Array): void {
  writeSecret(paths(dir).actorKey(actor), toBase64(seed) + "\n");
}

export function readActorKey(crypto: CryptoSuite, dir: string, actor: string): HeldKey | undefined {
  const p = paths(dir).actorKey(actor);
  if (!existsSync(p)) return undefined;
  const seed = fromBase64(readSecret(p));
  if (seed.length !== 32)
    throw new RadledgerError("STORE_CORRUPT", `actor key file for ${actor} is not a 32-byte seed`);
  const publicKey = crypto.ed25519PublicKey(seed);
  return { actor, seed, publicKey, keyId: actorKeyId(crypto, publicKey) };
}

export function writeLogKey(crypto: CryptoSuite, dir: string, origin: string, seed: Uint8Array): void {
  writeSecret(paths(dir).logKey, formatSignerKey(crypto, origin, seed) + "\n");
}

/** The file backend's log key: keys/log.key, which signs where it is read and never hands out its seed. */
export function readLogKey(crypto: CryptoSuite, dir: string): LogSigningKey {
  const p = paths(dir).logKey;
  if (!existsSync(p))
    throw new RadledgerError(
      "KEY_BACKEND_KEY_NOT_FOUND",
      `no log key file ${p} (is the data directory's key backend pkcs11?)`,
    );
  return parseSignerKey(crypto, readSecret(p));
}

/**
 * The raw seed of a file log key, for the benchmark's pre-signing workers only: no node code needs
 * the seed (an HSM's key has none to give).
 */
export function readLogKeySeed(dir: string): Uint8Array {
  const text = readSecret(paths(dir).logKey);
  return fromBase64(text.split("+").slice(4).join("+")).slice(1);
}

/**
 * The current log verifier key of a data directory (public; no HSM access needed): from the key
 * file in the file backend, from config.json in the PKCS#11 backend.
 */
export function currentLogVerifierKey(crypto: CryptoSuite, dir: string): string {
  const keys = keyBackend(readConfig(dir));
  return keys.backend === "pkcs11" ? keys.logVerifierKey : formatVerifierKey(readLogKey(crypto, dir));
}

/** The pending file log key of an interrupted rotation, if it is the key with this public key. */
export function pendingFileLogKey(
  crypto: CryptoSuite,
  dir: string,
  publicKey: Uint8Array,
): LogKeyCandidate | undefined {
  const p = paths(dir);
  if (!existsSync(p.nextLogKey)) return undefined;
  const key = parseSignerKey(crypto, readSecret(p.nextLogKey));
  if (toBase64(key.publicKey) !== toBase64(publicKey)) return undefined;
  return {
    key,
    activate: () => renameSync(p.nextLogKey, p.logKey),
    discard: () => rmSync(p.nextLogKey, { force: true }),
  };
}

/**
 * A new file log key for a rotation: written to keys/log.next.key; `activate` moves it over
 * keys/log.key (one rename: the old key is gone from the directory), `discard` removes it.
 */
export function fileLogKeyCandidate(crypto: CryptoSuite, dir: string, origin: string): LogKeyCandidate {
  const p = paths(dir);
  rmSync(p.nextLogKey, { force: true });
  writeSecret(p.nextLogKey, formatSignerKey(crypto, origin, crypto.randomBytes(32)) + "\n");
  return {
    key: parseSignerKey(crypto, readSecret(p.nextLogKey)),
    activate: () => renameSync(p.nextLogKey, p.logKey),
    discard: () => rmSync(p.nextLogKey, { force: true }),
  };
}

/** Signs an entry body as an actor with a held key, or a key that signs where it lives (an HSM). */
export function signAs(
  crypto: CryptoSuite,
  key: HeldKey | ActorSigningKey,
  origin: string,
  type: string,
  body: JsonObject,
  options: { refs?: EntryRefs; time?: number } = {},
): Uint8Array {
  const unsigned = {
    v: 1 as const,
    type,
    time: formatTime(options.time ?? Date.now()),
    origin,
    actor: key.actor,
    key: key.keyId,
    body,
    ...(options.refs && Object.keys(options.refs).length > 0 ? { refs: options.refs } : {}),
  };
  return signEntry(crypto, unsigned, "sign" in key ? (m) => key.sign(m) : key.seed).bytes;
}
