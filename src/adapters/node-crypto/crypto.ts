/**
 * CryptoSuite on node:crypto (OpenSSL): native SHA-256 and Ed25519, about 20× faster than pure JS.
 * Raw 32-byte Ed25519 keys are wrapped in fixed DER prefixes (RFC 8410 §7 PKCS#8 and SPKI) because
 * node:crypto only accepts key objects; parsed key objects are cached since the append path verifies
 * many entries by the same few keys.
 */
import {
  createHmac,
  hash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import type { CryptoSuite } from "../../core/crypto.js";
import { toHex } from "../../core/bytes.js";

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const MAX_CACHED_KEYS = 10_000;
const SCRATCH = Buffer.allocUnsafe(16 * 1024);

const publicKeys = new Map<string, KeyObject>();
const privateKeys = new Map<string, KeyObject>();

function cached(cache: Map<string, KeyObject>, raw: Uint8Array, make: () => KeyObject): KeyObject {
  const id = toHex(raw);
  let key = cache.get(id);
  if (!key) {
    key = make();
    if (cache.size >= MAX_CACHED_KEYS) cache.clear();
    cache.set(id, key);
  }
  return key;
}

function publicKeyObject(raw: Uint8Array): KeyObject {
  return cached(publicKeys, raw, () =>
    createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" }),
  );
}

function privateKeyObject(seed: Uint8Array): KeyObject {
  return cached(privateKeys, seed, () =>
    createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" }),
  );
}

function asBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export const nodeCrypto: CryptoSuite = {
  // crypto.hash (one shot, Node ≥ 20.12) costs about half of createHash().update().digest() on the
  // short inputs of Merkle hashing (1.6 µs against 2.9 µs for 65 bytes on the CI machine).
  sha256: (data) => asBytes(hash("sha256", data, "buffer")),
  sha256Parts: (...parts) => {
    let total = 0;
    for (const p of parts) total += p.length;
    // Leaf and node hashes are a prefix byte and one or two parts: joined in a reused buffer, they
    // are one native call instead of one per part.
    const joined = total <= SCRATCH.length ? SCRATCH.subarray(0, total) : Buffer.allocUnsafe(total);
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    return asBytes(hash("sha256", joined, "buffer"));
  },
  hmacSha256: (key, data) => asBytes(createHmac("sha256", key).update(data).digest()),
  ed25519PublicKey: (seed) => {
    const spki = createPublicKey(privateKeyObject(seed)).export({ format: "der", type: "spki" });
    return new Uint8Array(spki.subarray(spki.length - 32));
  },
  ed25519Sign: (seed, message) => asBytes(sign(null, message, privateKeyObject(seed))),
  ed25519Verify: (publicKey, message, signature) => {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return verify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      // OpenSSL refuses some invalid point encodings at key import: that is a failed verification.
      return false;
    }
  },
  randomBytes: (length) => asBytes(randomBytes(length)),
};
