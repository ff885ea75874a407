/**
 * The cryptographic primitives the pure core needs, injected so that each runtime uses its best
 * implementation: node:crypto (native OpenSSL) in the node, @noble in browsers and tests
 * (see crypto-noble.ts). All are synchronous because the tree math and note parsing call them in
 * tight loops; a browser that wants WebCrypto's Ed25519 wraps its async verification around the core.
 */
/** An incremental SHA-256: update with each chunk, then digest once. */
export interface Sha256Stream {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

export interface CryptoSuite {
  sha256(data: Uint8Array): Uint8Array;
  /** SHA-256 over the concatenation of parts, without the caller concatenating them first. */
  sha256Parts(...parts: Uint8Array[]): Uint8Array;
  /** Incremental SHA-256, for content hashed as it streams by (large bundle payloads) instead of held whole. */
  sha256Stream(): Sha256Stream;
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** RFC 8032 Ed25519 public key (32 bytes) from a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** RFC 8032 Ed25519 signature (64 bytes) of message by the key derived from seed. */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /**
   * RFC 8032 verification with the strict checks of RFC 8032 §5.1.7 (canonical S, canonical point
   * encodings). Implementations must agree on every input, so that the node and a browser give
   * the same verdict on the same bundle; a test compares them on mutated signatures.
   */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
  randomBytes(length: number): Uint8Array;
}
