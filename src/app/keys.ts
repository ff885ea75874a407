/**
 * Keys the node holds: the log key and, for actors who do not hold their own (staff using the web UI,
 * demo actors), their Ed25519 seeds. Entries are always signed by the actor's key, never by the node
 * on someone's behalf with its own key (docs/design.md §7.3).
 */
import { existsSync } from "node:fs";
import type { CryptoSuite } from "../core/crypto.js";
import { fromBase64, toBase64 } from "../core/bytes.js";
import { actorKeyId, formatTime, signEntry, type EntryRefs } from "../core/entry.js";
import type { JsonObject } from "../core/canonical-json.js";
import { RadledgerError } from "../core/errors.js";
import { formatSignerKey, parseSignerKey, type Ed25519NoteKey, type NoteSigner } from "../core/note.js";
import type { HeldKey, HeldKeyStore } from "../ports/keys.js";
import { paths, readSecret, writeSecret } from "./data-dir.js";

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

export function readLogKey(
  crypto: CryptoSuite,
  dir: string,
): NoteSigner & Ed25519NoteKey & { seed: Uint8Array } {
  const text = readSecret(paths(dir).logKey);
  const signer = parseSignerKey(crypto, text);
  const seed = fromBase64(text.split("+").slice(4).join("+")).slice(1);
  return { ...signer, seed };
}

/** Signs an entry body as an actor with a held key. */
export function signAs(
  crypto: CryptoSuite,
  key: HeldKey,
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
  return signEntry(crypto, unsigned, key.seed).bytes;
}
