/**
 * Equivocation evidence: two checkpoints signed by one log key that cannot both be views of one
 * append-only log. Anyone can check it offline with the log's verifier key (docs/consortium.md
 * §Evidence):
 *
 *   radledger-equivocation-evidence/v1
 *   log <log verifier key>
 *   checkpoint <base64 of signed checkpoint note A>
 *   checkpoint <base64 of signed checkpoint note B>
 *   prefix <base64 root>            (only when the sizes differ)
 *   proof <base64 hash>             (0..63 lines, only when the sizes differ)
 *
 * Two cases prove misbehaviour:
 *  - same size, different roots: a log never signs two trees of one size (tlog-checkpoint);
 *  - sizes m < n: `proof` is an RFC 9162 consistency proof from (m, prefix) to (n, root of B), and
 *    prefix ≠ root of A. A valid proof fixes the size-m prefix of B (the proof's nodes are hashes
 *    inside B's tree; a second prefix root would need a SHA-256 collision), so B's history differs
 *    from A's.
 * A failing consistency proof alone proves nothing (anyone can send garbage), so such records are
 * kept as unproven by the witness and never presented as proof.
 */
import type { CryptoSuite } from "./crypto.js";
import { bytesEqual, fromBase64, fromUtf8, toBase64, toHex, utf8 } from "./bytes.js";
import { openCheckpoint, type Checkpoint } from "./checkpoint.js";
import { parseLogVerifierKey } from "./cosignature.js";
import { RadledgerError, toRadledgerError } from "./errors.js";
import { HASH_SIZE } from "./merkle/hash.js";
import { verifyConsistency } from "./merkle/verify.js";
import { MAX_PROOF_LINES } from "./witness-protocol.js";

export const EVIDENCE_HEADER = "radledger-equivocation-evidence/v1";

export interface Evidence {
  /** The log's verifier key string (type 0x01); its name is the origin. */
  readonly logKey: string;
  /** The two signed checkpoint notes, as observed (signature lines included). */
  readonly checkpoints: readonly [string, string];
  /** When the sizes differ: the root of the larger tree's prefix at the smaller size, and its proof. */
  readonly prefix?: Uint8Array;
  readonly proof?: readonly Uint8Array[];
}

export type EvidenceKind = "two-roots-for-one-size" | "inconsistent-history";

export interface EvidenceVerdict {
  readonly origin: string;
  readonly kind: EvidenceKind;
  /** The smaller (or, for one size, the first) checkpoint. */
  readonly first: Checkpoint;
  readonly second: Checkpoint;
  /** inconsistent-history: the size-`first.size` prefix root that the second checkpoint commits to. */
  readonly prefix?: Uint8Array;
  readonly summary: string;
}

function malformed(message: string): never {
  throw new RadledgerError("EVIDENCE_MALFORMED", `evidence: ${message}`);
}

function notProven(message: string): never {
  throw new RadledgerError("EVIDENCE_NOT_PROVEN", `evidence: ${message}`);
}

export function isEvidenceText(text: string): boolean {
  return text.startsWith(`${EVIDENCE_HEADER}\n`);
}

export function formatEvidence(e: Evidence): string {
  const lines = [EVIDENCE_HEADER, `log ${e.logKey}`];
  for (const note of e.checkpoints) lines.push(`checkpoint ${toBase64(utf8(note))}`);
  if (e.prefix) lines.push(`prefix ${toBase64(e.prefix)}`);
  for (const h of e.proof ?? []) lines.push(`proof ${toBase64(h)}`);
  return lines.join("\n") + "\n";
}

export function parseEvidence(input: string | Uint8Array): Evidence {
  if (input.length > 256 * 1024) malformed("larger than 256 KiB");
  let text: string;
  try {
    text = typeof input === "string" ? input : fromUtf8(input);
  } catch {
    return malformed("not UTF-8");
  }
  if (!isEvidenceText(text)) malformed(`the first line must be ${EVIDENCE_HEADER}`);
  if (!text.endsWith("\n")) malformed("must end with a newline");
  const lines = text.slice(0, -1).split("\n").slice(1);
  let logKey: string | undefined;
  const checkpoints: string[] = [];
  let prefix: Uint8Array | undefined;
  const proof: Uint8Array[] = [];
  const b64 = (value: string, what: string): Uint8Array => {
    try {
      return fromBase64(value);
    } catch {
      return malformed(`${what} is not base64`);
    }
  };
  const hash = (value: string, what: string): Uint8Array => {
    const h = b64(value, what);
    if (h.length !== HASH_SIZE) malformed(`${what} is not a 32-byte hash`);
    return h;
  };
  for (const line of lines) {
    const space = line.indexOf(" ");
    const [key, value] = space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)];
    switch (key) {
      case "log":
        if (logKey !== undefined) malformed("more than one log line");
        logKey = value;
        break;
      case "checkpoint":
        if (checkpoints.length === 2) malformed("more than two checkpoints");
        {
          const raw = b64(value, "checkpoint");
          try {
            checkpoints.push(fromUtf8(raw));
          } catch {
            malformed("checkpoint is not UTF-8");
          }
        }
        break;
      case "prefix":
        if (prefix) malformed("more than one prefix line");
        prefix = hash(value, "prefix");
        break;
      case "proof":
        if (proof.length === MAX_PROOF_LINES) malformed(`more than ${MAX_PROOF_LINES} proof lines`);
        proof.push(hash(value, `proof line ${proof.length + 1}`));
        break;
      default:
        malformed(`unknown line "${key.slice(0, 20)}"`);
    }
  }
  if (logKey === undefined) malformed("no log line");
  if (checkpoints.length !== 2) malformed("needs exactly two checkpoint lines");
  if (proof.length > 0 && !prefix) malformed("proof lines need a prefix line");
  return {
    logKey,
    checkpoints: [checkpoints[0]!, checkpoints[1]!],
    ...(prefix ? { prefix, proof } : {}),
  };
}

/**
 * Checks evidence offline. `trustedLogKeys`, when given, pins the log keys the caller knows (e.g.
 * from the consortium registry): evidence signed by any other key proves nothing about those logs.
 * Throws EVIDENCE_MALFORMED, EVIDENCE_NOT_PROVEN or a note/checkpoint code; returns the verdict.
 */
export function verifyEvidence(
  crypto: CryptoSuite,
  input: string | Uint8Array | Evidence,
  trustedLogKeys?: readonly string[],
): EvidenceVerdict {
  const e = typeof input === "string" || input instanceof Uint8Array ? parseEvidence(input) : input;
  const log = parseLogVerifierKey(crypto, e.logKey);
  if (trustedLogKeys && trustedLogKeys.length > 0) {
    const pinned = trustedLogKeys.map((k) => parseLogVerifierKey(crypto, k));
    if (!pinned.some((k) => k.name === log.name && bytesEqual(k.publicKey, log.publicKey)))
      notProven(`the checkpoints are signed by ${e.logKey}, which is not one of the given log keys`);
  }
  const [a, b] = e.checkpoints.map((note) => openCheckpoint(note, [log], log.name).checkpoint) as [
    Checkpoint,
    Checkpoint,
  ];
  if (a.size === b.size) {
    if (bytesEqual(a.root, b.root)) notProven(`both checkpoints have the same root at size ${a.size}`);
    return {
      origin: log.name,
      kind: "two-roots-for-one-size",
      first: a,
      second: b,
      summary: `${log.name} signed two different roots for tree size ${a.size}: ${short(a.root)} and ${short(b.root)}`,
    };
  }
  const [small, large] = a.size < b.size ? [a, b] : [b, a];
  if (!e.prefix) notProven("checkpoints of different sizes need a prefix root and consistency proof");
  if (bytesEqual(e.prefix, small.root))
    notProven(`the prefix root is the root of the smaller checkpoint: no inconsistency shown`);
  try {
    verifyConsistency(crypto, small.size, large.size, e.prefix, large.root, e.proof ?? []);
  } catch (err) {
    const c = toRadledgerError(err);
    notProven(`the consistency proof does not bind the prefix to the larger checkpoint (${c.code})`);
  }
  return {
    origin: log.name,
    kind: "inconsistent-history",
    first: small,
    second: large,
    prefix: e.prefix,
    summary: `${log.name} signed size ${small.size} with root ${short(small.root)}, and size ${large.size} whose first ${small.size} entries have root ${short(e.prefix)}: its history was rewritten`,
  };
}

function short(root: Uint8Array): string {
  return `${toHex(root).slice(0, 16)}…`;
}
