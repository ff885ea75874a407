/**
 * Which log keys may sign a checkpoint of a given size (docs/log-format.md §Log key rotation). The
 * genesis entry enrols the first log key; each `key.rotated` entry of the institution, signed by the
 * key it retires, names its successor. Key k_j, enrolled by the entry at index r_j (r_0 = 0, the
 * genesis), signs checkpoints of sizes r_j + 1 up to r_{j+1} + 1: the checkpoint that first covers a
 * rotation entry may be signed by the old key, the new key, or — as radledger signs it — both.
 *
 * A verifier that trusts any key of the chain follows it: a trusted old key vouches for its
 * successor by signing the rotation entry, and a trusted new key's checkpoints commit to the whole
 * log, earlier rotations included.
 */
import { bytesEqual } from "./bytes.js";
import type { CryptoSuite } from "./crypto.js";
import { RadledgerError } from "./errors.js";
import { ed25519Verifier, type NoteVerifier } from "./note.js";

export interface LogKeyRotation {
  /** Log index of the key.rotated entry. */
  readonly index: number;
  readonly publicKey: Uint8Array;
}

export interface LogKeyPeriod {
  readonly publicKey: Uint8Array;
  /** Smallest checkpoint size this key signs. */
  readonly from: number;
  /** Largest checkpoint size it signs; undefined for the current key. */
  readonly until: number | undefined;
}

export function logKeyPeriods(genesisKey: Uint8Array, rotations: readonly LogKeyRotation[]): LogKeyPeriod[] {
  const periods: LogKeyPeriod[] = [];
  let current = { publicKey: genesisKey, from: 1 };
  for (const r of rotations) {
    periods.push({ ...current, until: r.index + 1 });
    current = { publicKey: r.publicKey, from: r.index + 1 };
  }
  periods.push({ ...current, until: undefined });
  return periods;
}

/** The note verifiers for a checkpoint of `size`: the chain's keys whose period covers it. */
export function checkpointVerifiersAt(
  crypto: CryptoSuite,
  origin: string,
  periods: readonly LogKeyPeriod[],
  size: number,
): NoteVerifier[] {
  return periods
    .filter((p) => size >= p.from && (p.until === undefined || size <= p.until))
    .map((p) => ed25519Verifier(crypto, origin, p.publicKey));
}

/** Refuses a chain that does not contain any key the verifier trusts. */
export function requireTrustedInChain(
  periods: readonly LogKeyPeriod[],
  trusted: readonly Uint8Array[],
  origin: string,
): void {
  if (!periods.some((p) => trusted.some((t) => bytesEqual(t, p.publicKey))))
    throw new RadledgerError(
      "NOTE_NO_VALID_SIGNATURE",
      `no key you trust for ${origin} is the log key or one of its rotations`,
    );
}
