/**
 * The held-key port: Ed25519 keys the node holds for actors who do not hold their own (staff using
 * the API with the node's keys, demo actors). Entries are always signed with the actor's own key,
 * never by the node's key on someone's behalf (docs/design.md §7.3). Today the keys are files of the data
 * directory (src/app/keys.ts). The node's own keys — log, witness, vault master — are NodeKeys below:
 * files, or keys in an HSM (src/adapters/pkcs11).
 */
import type { Cosigner } from "../core/cosignature.js";
import type { Ed25519NoteKey, NoteSigner } from "../core/note.js";
import type { KeyWrap } from "./vault.js";

export interface HeldKey {
  readonly actor: string;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The key id entries name (docs/log-format.md §Entries). */
  readonly keyId: string;
}

export interface HeldKeyStore {
  /** The key the node holds for an actor, if any. */
  get(actor: string): HeldKey | undefined;
  has(actor: string): boolean;
  /** Keeps a new actor key; STORE_EXISTS when the node holds one for the actor already. */
  put(actor: string, seed: Uint8Array): HeldKey;
  /**
   * Forgets the actor's key for good (its file removed): once the actor holds a key of their own
   * (key.self-enrolled) the node keeps none that could sign as them. False when it held none.
   */
  remove(actor: string): boolean;
}

/**
 * A key that signs entries for an actor without handing out its seed: the institution's key is the
 * log key, which may live in an HSM (docs/security.md §Keys).
 */
export interface ActorSigningKey {
  readonly actor: string;
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The log key as the node uses it: an Ed25519 key named after the log's origin that signs bytes
 * where it lives (a file of the data directory, or an HSM through PKCS#11) and knows its public key.
 * It signs checkpoints (a NoteSigner) and the institution's entries.
 */
export interface LogSigningKey extends NoteSigner, Ed25519NoteKey {}

/** The node's own keys (docs/security.md §Keys), from the backend the data directory names. */
export interface NodeKeys {
  readonly backend: "file" | "pkcs11";
  /** The current log key. */
  readonly log: LogSigningKey;
  /** The vault master key, wrapping each patient's data key where it lives. */
  readonly vault: KeyWrap;
  /** The witness key (C2SP tlog-cosignature), if this node has one. */
  readonly witness: Cosigner | undefined;
  /**
   * Makes a new log key in the backend (a fresh file seed, or a key pair generated inside the HSM)
   * without making it current; `activate` makes it the key `log` and the next opens return.
   */
  createLogKey(): LogKeyCandidate;
  /**
   * Finishes a rotation that reached the log but not the backend (the process died in between):
   * makes the new key with this public key current if the backend still has it; false otherwise.
   */
  resumeRotation(publicKey: Uint8Array): boolean;
  close(): void;
}

export interface LogKeyCandidate {
  readonly key: LogSigningKey;
  /** Makes the new key the current log key (and retires the old one in the backend). */
  activate(): void;
  /** Forgets the new key (the rotation did not reach the log). */
  discard(): void;
}
