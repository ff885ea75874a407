/**
 * Checkpoint checks of a bundle (docs/bundle-format.md §4 steps 2, 3 and 7): which log key to check
 * with (one the user trusts, or the bundle's own, which leaves the verdict UNTRUSTED: trust.ts); the
 * log's signature and the named witnesses' tlog-cosignatures on the bundle's checkpoint, with the
 * quorum (`--min-witnesses`, and a policy's); and consistency of
 * the checkpoint with a later one of the same log (RFC 9162 §2.1.4.2). The checkpoint and its
 * signature lines are the exporter's; the keys, the quorum and the later checkpoint are the user's.
 */
import type { CryptoSuite } from "../crypto.js";
import { bytesEqual, toBase64, utf8 } from "../bytes.js";
import { parseCheckpointText, type Checkpoint } from "../checkpoint.js";
import { RadledgerError } from "../errors.js";
import { verifyConsistency } from "../merkle/verify.js";
import {
  ed25519Verifier,
  parseSignedNote,
  parseVerifierKey,
  SIG_TYPE_ED25519,
  type NoteSignature,
  type SignedNote,
} from "../note.js";
import {
  cosignatureMessage,
  cosignatureTimestamp,
  matchCosignatures,
  type CosignatureResult,
  type WitnessKey,
} from "./cosignatures.js";
import type { Failures } from "./failures.js";
import { CHECKPOINT_PATH, MANIFEST_PATH, type BundleManifest } from "./format.js";
import { policyQuorumMet, type LogKeySource, type TrustAnchors, type TrustedLogKey } from "./trust.js";
import type { AgainstCheckpoint, BundleReport } from "./types.js";

/** The log key the checkpoint is checked with, and where the verifier's trust in it comes from. */
export interface ChosenLogKey {
  readonly text: string;
  readonly publicKey: Uint8Array;
  /** "bundle" until a rotation chain from a trusted key (`viaRotation`) is checked. */
  source: LogKeySource;
  /**
   * The trusted keys of the bundle's log when the bundle's key is none of them: it is trusted once
   * the bundle's genesis and log key rotations lead from one of them to it (checkLogKeyChain in
   * verify.ts; docs/log-format.md §Log key rotation).
   */
  readonly viaRotation?: readonly TrustedLogKey[];
}

/**
 * The key to check the checkpoint with: the bundle's `logKey` when it is one of the keys the user
 * trusts (given, or named by a policy) or a rotation of one of them; or — when the user trusts none —
 * the bundle's own key, which the verdict then reports as untrusted (trust.ts).
 */
export function chooseLogKey(crypto: CryptoSuite, m: BundleManifest, anchors: TrustAnchors): ChosenLogKey {
  const k = parseVerifierKey(crypto, m.logKey);
  if (k.type !== SIG_TYPE_ED25519)
    throw new RadledgerError(
      "BUNDLE_MALFORMED",
      `${MANIFEST_PATH}: logKey is not an Ed25519 verifier key (type 0x01)`,
    );
  if (anchors.logKeys.length === 0) {
    if (k.name !== m.origin)
      throw new RadledgerError("BUNDLE_MALFORMED", `${MANIFEST_PATH}: logKey is not a key of ${m.origin}`);
    return { text: m.logKey, publicKey: k.publicKey, source: "bundle" };
  }
  const match = anchors.logKeys.find((t) => t.name === k.name && bytesEqual(t.publicKey, k.publicKey));
  if (!match) {
    const sameLog = anchors.logKeys.filter((t) => t.name === m.origin);
    if (sameLog.length > 0 && k.name === m.origin)
      return { text: m.logKey, publicKey: k.publicKey, source: "bundle", viaRotation: sameLog };
    const names = sameLog.length > 0;
    throw new RadledgerError(
      names ? "NOTE_NO_VALID_SIGNATURE" : "CHECKPOINT_WRONG_ORIGIN",
      names
        ? `${MANIFEST_PATH}: the bundle's log key is not the key you trust for ${m.origin}`
        : `${MANIFEST_PATH}: the bundle is from log ${m.origin}, not from a log whose key you trust`,
    );
  }
  return { text: match.text, publicKey: match.publicKey, source: match.source };
}

export function checkCheckpointSignatures(
  crypto: CryptoSuite,
  note: SignedNote,
  logKey: { text: string; publicKey: Uint8Array },
  anchors: TrustAnchors,
  failures: Failures,
  cosignatures: CosignatureResult[],
  unverified: string[],
): void {
  const parsed = parseVerifierKey(crypto, logKey.text);
  const verifier = ed25519Verifier(crypto, parsed.name, parsed.publicKey);
  const text = utf8(note.text);
  const logLines: NoteSignature[] = [];
  const rest: NoteSignature[] = [];
  for (const s of note.signatures)
    (s.name === verifier.name && bytesEqual(s.keyId, verifier.keyId) ? logLines : rest).push(s);
  for (const s of logLines) {
    if (!verifier.verify(text, s.signature))
      failures.add("NOTE_BAD_SIGNATURE", "checkpoint: the log's signature does not verify", CHECKPOINT_PATH);
  }
  if (logLines.length === 0)
    failures.add("NOTE_NO_VALID_SIGNATURE", "checkpoint: no signature by the log key", CHECKPOINT_PATH);
  const matched = matchCosignatures(rest, anchors.witnesses);
  const valid = new Set<string>();
  const validWitnesses: WitnessKey[] = [];
  for (const { line, witness } of matched) {
    const timestamp = cosignatureTimestamp(line.signature);
    const ok =
      timestamp !== undefined &&
      crypto.ed25519Verify(
        witness.publicKey,
        cosignatureMessage(note.text, timestamp),
        line.signature.subarray(8),
      );
    cosignatures.push({ witness: witness.name, vkey: witness.vkey, timestamp: timestamp ?? 0, valid: ok });
    if (ok) {
      if (!valid.has(witness.vkey)) validWitnesses.push(witness);
      valid.add(witness.vkey);
    } else
      failures.add(
        "NOTE_BAD_SIGNATURE",
        `checkpoint: the cosignature by witness ${witness.name} does not verify`,
        CHECKPOINT_PATH,
      );
  }
  for (const s of rest) if (!matched.some((x) => x.line === s)) unverified.push(s.name);
  const min = anchors.minWitnesses;
  if (valid.size < min)
    failures.add(
      "BUNDLE_WITNESS_QUORUM",
      `checkpoint: ${valid.size} valid cosignature${valid.size === 1 ? "" : "s"} by the named witnesses; at least ${min} required`,
      CHECKPOINT_PATH,
    );
  if (anchors.policy && !policyQuorumMet(anchors.policy, validWitnesses))
    failures.add(
      "POLICY_NOT_MET",
      `checkpoint: the cosignatures by the policy's witnesses do not meet its quorum ${anchors.policy.quorum}`,
      CHECKPOINT_PATH,
    );
}

export async function checkAgainst(
  crypto: CryptoSuite,
  against: AgainstCheckpoint,
  checkpoint: Checkpoint,
  logKey: { text: string; publicKey: Uint8Array },
  m: BundleManifest,
  failures: Failures,
): Promise<BundleReport["against"]> {
  const at = "--against";
  try {
    const note = parseSignedNote(against.checkpoint);
    const later = parseCheckpointText(note.text);
    if (later.origin !== m.origin)
      throw new RadledgerError(
        "CHECKPOINT_WRONG_ORIGIN",
        `the later checkpoint is for ${later.origin}, not ${m.origin}`,
      );
    const parsed = parseVerifierKey(crypto, logKey.text);
    const verifier = ed25519Verifier(crypto, parsed.name, parsed.publicKey);
    const lines = note.signatures.filter(
      (s) => s.name === verifier.name && bytesEqual(s.keyId, verifier.keyId),
    );
    if (lines.length === 0)
      throw new RadledgerError(
        "NOTE_NO_VALID_SIGNATURE",
        "the later checkpoint has no signature by the log key",
      );
    if (!lines.every((s) => verifier.verify(utf8(note.text), s.signature)))
      throw new RadledgerError("NOTE_BAD_SIGNATURE", "the later checkpoint's log signature does not verify");
    if (later.size < checkpoint.size)
      throw new RadledgerError(
        "TREE_SIZE_INVALID",
        `the later checkpoint (size ${later.size}) is older than the bundle's (size ${checkpoint.size})`,
      );
    let proof: readonly Uint8Array[] = against.proof ?? [];
    if (against.proof === undefined && later.size !== checkpoint.size) {
      if (!against.fetchProof)
        throw new RadledgerError(
          "BUNDLE_INCOMPLETE",
          "no consistency proof to the later checkpoint (give a proof file or the log's URL)",
        );
      proof = await against.fetchProof(checkpoint.size, later.size);
    }
    verifyConsistency(crypto, checkpoint.size, later.size, checkpoint.root, later.root, proof);
    return { size: later.size, root: toBase64(later.root), consistent: true };
  } catch (e) {
    failures.addError(e, at);
    return undefined;
  }
}
