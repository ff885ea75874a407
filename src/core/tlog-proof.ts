/**
 * C2SP tlog-proof@v1 (c2sp.org/tlog-proof): the text form of one entry's offline inclusion proof.
 *
 *   c2sp.org/tlog-proof@v1
 *   [extra <base64 opaque data>]        optional, unauthenticated (never trusted)
 *   index <decimal, no leading zeroes>
 *   <base64 hash>                        zero or more: RFC 6962 §2.1.1 PATH, leaf's sibling first
 *   <empty line>
 *   <the checkpoint, verbatim: a signed note with the log's signature and any cosignatures>
 *
 * Parsing is strict (every MUST of the spec, canonical base64, 32-byte hashes) because a proof
 * arrives with a bundle from whoever handed it over; errors are BUNDLE_MALFORMED with the line.
 */
import { fromBase64, fromUtf8, toBase64 } from "./bytes.js";
import { RadledgerError } from "./errors.js";
import { HASH_SIZE } from "./merkle/hash.js";

export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";
/** A proof in a tree below 2^64 has at most 64 hashes. */
const MAX_PROOF_HASHES = 64;

export interface TlogProof {
  readonly index: number;
  readonly proof: readonly Uint8Array[];
  /** The checkpoint note, verbatim (its text and signature lines). */
  readonly checkpoint: string;
  readonly extra?: Uint8Array;
}

export function formatTlogProof(p: TlogProof): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0)
    throw new RadledgerError("INPUT_INVALID", "tlog-proof index out of range");
  const lines = [TLOG_PROOF_HEADER];
  if (p.extra !== undefined) lines.push(`extra ${toBase64(p.extra)}`);
  lines.push(`index ${p.index}`);
  for (const h of p.proof) {
    if (h.length !== HASH_SIZE) throw new RadledgerError("INPUT_INVALID", "tlog-proof hashes are 32 bytes");
    lines.push(toBase64(h));
  }
  return `${lines.join("\n")}\n\n${p.checkpoint}`;
}

export function parseTlogProof(input: string | Uint8Array, where = "tlog-proof"): TlogProof {
  const bad = (message: string, line?: number): never => {
    throw new RadledgerError(
      "BUNDLE_MALFORMED",
      `${where}: ${message}${line === undefined ? "" : ` (line ${line})`}`,
      { at: line === undefined ? where : `${where}:${line}` },
    );
  };
  let text: string;
  try {
    text = typeof input === "string" ? input : fromUtf8(input);
  } catch {
    return bad("not valid UTF-8");
  }
  const blank = text.indexOf("\n\n");
  if (blank < 0) return bad("no empty line before the checkpoint");
  const head = text.slice(0, blank).split("\n");
  const checkpoint = text.slice(blank + 2);
  if (head[0] !== TLOG_PROOF_HEADER) bad(`first line must be ${TLOG_PROOF_HEADER}`, 1);
  let i = 1;
  let extra: Uint8Array | undefined;
  if (head[i]?.startsWith("extra ")) {
    try {
      extra = fromBase64(head[i]!.slice(6));
    } catch {
      bad("extra data is not canonical base64", i + 1);
    }
    i++;
  }
  const indexLine = head[i];
  if (indexLine === undefined || !/^index (0|[1-9][0-9]{0,15})$/.test(indexLine))
    bad("expected `index <decimal without leading zeroes>`", i + 1);
  const index = Number(indexLine!.slice(6));
  if (!Number.isSafeInteger(index)) bad("index beyond 2^53", i + 1);
  i++;
  const proof: Uint8Array[] = [];
  for (; i < head.length; i++) {
    if (proof.length >= MAX_PROOF_HASHES) bad("more than 64 proof hashes", i + 1);
    let h: Uint8Array;
    try {
      h = fromBase64(head[i]!);
    } catch {
      return bad("proof hash is not canonical base64", i + 1);
    }
    if (h.length !== HASH_SIZE) bad("proof hash is not 32 bytes", i + 1);
    proof.push(h);
  }
  if (checkpoint.length === 0) bad("no checkpoint after the empty line");
  return extra === undefined ? { index, proof, checkpoint } : { index, proof, checkpoint, extra };
}
