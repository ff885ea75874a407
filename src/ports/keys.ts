/**
 * The held-key port: Ed25519 keys the node holds for actors who do not hold their own (staff using
 * the API with the node's keys, demo actors). Entries are always signed with the actor's own key,
 * never by the node's key on someone's behalf (docs/design.md §7.3). Today the keys are files of the data
 * directory (src/app/keys.ts); an HSM would be another adapter of this port.
 */

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
}
