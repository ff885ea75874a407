/**
 * Pure-JavaScript CryptoSuite on @noble (audited, dependency-free): used by the browser verifier and
 * as an independent implementation in tests. About 20× slower than node:crypto for Ed25519, so the
 * node itself uses src/adapters/node-crypto instead.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { hmac } from "@noble/hashes/hmac.js";
import type { CryptoSuite } from "./crypto.js";

export const nobleCrypto: CryptoSuite = {
  sha256: (data) => sha256(data),
  sha256Parts: (...parts) => {
    const h = sha256.create();
    for (const p of parts) h.update(p);
    return h.digest();
  },
  sha256Stream: () => {
    const h = sha256.create();
    return {
      update: (data) => void h.update(data),
      digest: () => h.digest(),
    };
  },
  hmacSha256: (key, data) => hmac(sha256, key, data),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Sign: (seed, message) => ed25519.sign(message, seed),
  // zip215: false selects the strict RFC 8032 / FIPS 186-5 rules that OpenSSL (node:crypto) applies.
  ed25519Verify: (publicKey, message, signature) => {
    if (publicKey.length !== 32 || signature.length !== 64) return false;
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  randomBytes: (length) => {
    const out = new Uint8Array(length);
    globalThis.crypto.getRandomValues(out);
    return out;
  },
};
