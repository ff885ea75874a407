/**
 * Ed25519 verification for the bundle verifier, asynchronous and batched so that each runtime can
 * use its fastest engine: worker threads on node:crypto in the CLI, WebCrypto in browsers that have
 * Ed25519 (crypto.subtle, whose operations run off the calling thread), @noble elsewhere. The
 * verifier hands over batches and keeps several in flight; it never depends on the order in which
 * batches complete.
 */
import type { CryptoSuite } from "../crypto.js";

export interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

export interface BatchSignatureVerifier {
  /** One verdict per check, in order. Must not throw on malformed keys or signatures: those are false. */
  verifyBatch(checks: readonly SignatureCheck[]): Promise<boolean[]>;
  /** How many batches may usefully be in flight at once (e.g. the number of worker threads). */
  readonly parallelism: number;
  close?(): Promise<void>;
}

/** Synchronous verification on the calling thread through a CryptoSuite. */
export function inlineSignatureVerifier(crypto: CryptoSuite): BatchSignatureVerifier {
  return {
    parallelism: 1,
    async verifyBatch(checks) {
      return checks.map((c) => crypto.ed25519Verify(c.publicKey, c.message, c.signature));
    },
  };
}

// The group order L of edwards25519 (RFC 8032 §5.1), little-endian, for the canonical-S check.
const L = [
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/** S < L (RFC 8032 §5.1.7 step 1): engines differ on whether they check it, so it is checked here first. */
export function hasCanonicalS(signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  for (let i = 31; i >= 0; i--) {
    const s = signature[32 + i]!;
    if (s < L[i]!) return true;
    if (s > L[i]!) return false;
  }
  return false;
}

/** A 32-byte point encoding whose y coordinate is ≥ p = 2^255 − 19 is not canonical. */
export function hasCanonicalPointEncoding(point: Uint8Array): boolean {
  if (point.length !== 32) return false;
  if ((point[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (point[i] !== 0xff) return true;
  return point[0]! < 0xed;
}

interface SubtleLike {
  importKey(
    format: "raw",
    keyData: Uint8Array,
    algorithm: { name: string },
    extractable: boolean,
    usages: string[],
  ): Promise<unknown>;
  verify(
    algorithm: { name: string },
    key: unknown,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
}

/**
 * WebCrypto Ed25519 (browsers since 2025), or undefined where it is missing. Inputs failing the
 * strict encoding checks that node:crypto and @noble apply are refused before WebCrypto sees them,
 * so that every runtime gives the same verdict on the same bundle.
 */
export async function webCryptoSignatureVerifier(
  fallback: CryptoSuite,
  parallelism = 64,
): Promise<BatchSignatureVerifier | undefined> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleLike } }).crypto?.subtle;
  if (!subtle) return undefined;
  const algorithm = { name: "Ed25519" };
  // Probe with a known-good signature (RFC 8032 §7.1 test 1): a runtime without Ed25519 throws.
  try {
    const probe = fallback.ed25519PublicKey(new Uint8Array(32).fill(1));
    const sig = fallback.ed25519Sign(new Uint8Array(32).fill(1), new Uint8Array([1, 2, 3]));
    const key = await subtle.importKey("raw", probe, algorithm, false, ["verify"]);
    if (!(await subtle.verify(algorithm, key, sig, new Uint8Array([1, 2, 3])))) return undefined;
  } catch {
    return undefined;
  }
  const keys = new Map<string, Promise<unknown>>();
  const keyFor = (raw: Uint8Array): Promise<unknown> => {
    let id = "";
    for (const b of raw) id += String.fromCharCode(b);
    let k = keys.get(id);
    if (!k) {
      if (keys.size > 10_000) keys.clear();
      k = subtle.importKey("raw", raw, algorithm, false, ["verify"]);
      keys.set(id, k);
    }
    return k;
  };
  return {
    parallelism,
    async verifyBatch(checks) {
      return Promise.all(
        checks.map(async (c) => {
          if (
            c.publicKey.length !== 32 ||
            !hasCanonicalS(c.signature) ||
            !hasCanonicalPointEncoding(c.publicKey) ||
            !hasCanonicalPointEncoding(c.signature.subarray(0, 32))
          )
            return false;
          try {
            return await subtle.verify(algorithm, await keyFor(c.publicKey), c.signature, c.message);
          } catch {
            return false;
          }
        }),
      );
    },
  };
}
