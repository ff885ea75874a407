/**
 * C2SP tlog-checkpoint: the note text `<origin>\n<size>\n<base64 root>\n[extension lines]`, signed as
 * a signed note by the log's key (whose name is the origin). A log must never sign two checkpoints
 * that are inconsistent with each other (tlog-checkpoint §Signatures); the append path guarantees
 * this by signing only trees it has durably stored.
 */
import { fromBase64, toBase64 } from "./bytes.js";
import { RadledgerError } from "./errors.js";
import { HASH_SIZE } from "./merkle/hash.js";
import {
  formatSignedNote,
  parseSignedNote,
  signNote,
  verifyNote,
  type NoteSigner,
  type NoteVerifier,
  type SignedNote,
} from "./note.js";

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions?: readonly string[];
}

export function formatCheckpointText(cp: Checkpoint): string {
  if (cp.origin.length === 0 || cp.origin.includes("\n"))
    throw new RadledgerError("CHECKPOINT_MALFORMED", "origin must be one non-empty line");
  if (cp.root.length !== HASH_SIZE) throw new RadledgerError("CHECKPOINT_MALFORMED", "root must be 32 bytes");
  const ext = (cp.extensions ?? []).map((l) => `${l}\n`).join("");
  return `${cp.origin}\n${cp.size}\n${toBase64(cp.root)}\n${ext}`;
}

export function parseCheckpointText(text: string): Checkpoint {
  const bad = (why: string): never => {
    throw new RadledgerError("CHECKPOINT_MALFORMED", `checkpoint: ${why}`);
  };
  if (!text.endsWith("\n")) bad("text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) bad("needs origin, size and root lines");
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) bad("empty origin");
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) bad("size is not a decimal without leading zeroes");
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) bad("size beyond 2^53");
  let root: Uint8Array;
  try {
    root = fromBase64(rootText);
  } catch {
    return bad("root is not base64");
  }
  if (root.length !== HASH_SIZE) bad("root is not 32 bytes");
  if (extensions.some((l) => l.length === 0)) bad("empty extension line");
  return extensions.length > 0 ? { origin, size, root, extensions } : { origin, size, root };
}

export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: SignedNote;
}

/** Signs a checkpoint; during a log key rotation by both the old and the new key (docs/log-format.md). */
export function signCheckpoint(cp: Checkpoint, signer: NoteSigner | readonly NoteSigner[]): SignedCheckpoint {
  return {
    checkpoint: cp,
    note: signNote(formatCheckpointText(cp), Array.isArray(signer) ? signer : [signer]),
  };
}

export function formatSignedCheckpoint(signed: SignedCheckpoint): string {
  return formatSignedNote(signed.note);
}

/**
 * Parses and verifies a signed checkpoint against the log's verifier(s): the signature must check out
 * and the origin must be the one expected (a valid signature on another log's checkpoint proves
 * nothing about this log).
 */
export function openCheckpoint(
  noteText: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
  expectedOrigin?: string,
): SignedCheckpoint {
  const note = parseSignedNote(noteText);
  const checkpoint = parseCheckpointText(note.text);
  const origin = expectedOrigin ?? verifiers[0]?.name;
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new RadledgerError("CHECKPOINT_WRONG_ORIGIN", `checkpoint origin is not ${origin}`);
  }
  verifyNote(note, verifiers);
  return { checkpoint, note };
}
