import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { nodeCrypto } from "./crypto.js";
import { nobleCrypto } from "../../core/crypto-noble.js";

describe("node:crypto and @noble agree (the node and the browser must give the same verdict)", () => {
  test("hashes, keys and signatures are identical", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        (seed, msg) => {
          expect(nodeCrypto.sha256(msg)).toEqual(nobleCrypto.sha256(msg));
          expect(nodeCrypto.sha256Parts(msg, seed)).toEqual(nobleCrypto.sha256Parts(msg, seed));
          expect(nodeCrypto.hmacSha256(seed, msg)).toEqual(nobleCrypto.hmacSha256(seed, msg));
          const pub = nodeCrypto.ed25519PublicKey(seed);
          expect(pub).toEqual(nobleCrypto.ed25519PublicKey(seed));
          const sig = nodeCrypto.ed25519Sign(seed, msg);
          expect(sig).toEqual(nobleCrypto.ed25519Sign(seed, msg));
          expect(nodeCrypto.ed25519Verify(pub, msg, sig)).toBe(true);
          expect(nobleCrypto.ed25519Verify(pub, msg, sig)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  test("SHA-256 of every byte value and of inputs beyond the joining buffer (16 KiB)", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(nodeCrypto.sha256(all)).toEqual(nobleCrypto.sha256(all));
    const big = new Uint8Array(20_000).map((_, i) => (i * 31) & 255);
    expect(nodeCrypto.sha256Parts(all, big)).toEqual(nobleCrypto.sha256Parts(all, big));
    // A known answer: SHA-256("abc"), FIPS 180-4 example B.1.
    expect(Buffer.from(nodeCrypto.sha256(new TextEncoder().encode("abc"))).toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  test("mutated signatures and keys get the same verdict from both", () => {
    const seed = new Uint8Array(32).fill(3);
    const msg = new Uint8Array([1, 2, 3]);
    const pub = nodeCrypto.ed25519PublicKey(seed);
    const sig = nodeCrypto.ed25519Sign(seed, msg);
    fc.assert(
      fc.property(fc.nat(95), fc.integer({ min: 1, max: 255 }), (pos, xor) => {
        const s = sig.slice();
        const p = pub.slice();
        if (pos < 64) s[pos] = s[pos]! ^ xor;
        else p[pos - 64] = p[pos - 64]! ^ xor;
        expect(nodeCrypto.ed25519Verify(p, msg, s)).toBe(nobleCrypto.ed25519Verify(p, msg, s));
      }),
      { numRuns: 500 },
    );
    // S ≥ L (non-canonical scalar): RFC 8032 §5.1.7 requires rejection by both.
    const highS = sig.slice();
    highS[63] = highS[63]! | 0xf0;
    expect(nodeCrypto.ed25519Verify(pub, msg, highS)).toBe(false);
    expect(nobleCrypto.ed25519Verify(pub, msg, highS)).toBe(false);
  });

  test("verdicts stay right when a caller reuses one buffer for successive keys", () => {
    // Verification threads read keys out of transfer buffers; the key object cache (by a hash of the
    // bytes) must answer by the bytes as they are at the call.
    const seeds = [1, 2, 3].map((b) => new Uint8Array(32).fill(b));
    const msg = new Uint8Array([9, 9]);
    const buffer = new Uint8Array(32);
    for (const seed of seeds) {
      buffer.set(nodeCrypto.ed25519PublicKey(seed));
      expect(nodeCrypto.ed25519Verify(buffer, msg, nodeCrypto.ed25519Sign(seed, msg))).toBe(true);
    }
    buffer.set(nodeCrypto.ed25519PublicKey(seeds[0]!));
    expect(nodeCrypto.ed25519Verify(buffer, msg, nodeCrypto.ed25519Sign(seeds[0]!, msg))).toBe(true);
    expect(nodeCrypto.ed25519Verify(buffer, msg, nodeCrypto.ed25519Sign(seeds[1]!, msg))).toBe(false);
  });
});
