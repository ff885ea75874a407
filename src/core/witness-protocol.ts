/**
 * The text formats of C2SP tlog-witness `add-checkpoint` (c2sp.org/tlog-witness §add-checkpoint):
 *
 *   request  = "old <size>\n" *( base64(hash) "\n" ) "\n" <signed checkpoint note>
 *   200      = 1*( "— <name> <base64(key ID || timestamped signature)>\n" )
 *   409      = "<latest cosigned size>\n" with Content-Type text/x.tlog.size
 *
 * Sizes are ASCII decimals without leading zeroes ("0" for zero); at most 63 proof lines. Requests
 * come from anyone who can reach the witness and responses from any witness a log is configured
 * with, so both parsers are strict and fail with coded errors only.
 */
import { fromBase64, fromUtf8, toBase64 } from "./bytes.js";
import { RadledgerError } from "./errors.js";
import { HASH_SIZE } from "./merkle/hash.js";
import { formatSignedNote, MAX_NOTE_SIZE, parseSignedNote, type NoteSignature } from "./note.js";

export const ADD_CHECKPOINT_PATH = "/add-checkpoint";
/** tlog-witness: "The client MUST NOT send more than 63 consistency proof lines." */
export const MAX_PROOF_LINES = 63;
export const TLOG_SIZE_CONTENT_TYPE = "text/x.tlog.size";
/** A request is a size line, ≤ 63 hashes and one note: this bounds it generously. */
export const MAX_ADD_CHECKPOINT_BODY = MAX_NOTE_SIZE + 64 * 64;

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

export interface AddCheckpointRequest {
  readonly oldSize: number;
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, exactly as sent (it may carry several signatures). */
  readonly checkpoint: string;
}

function malformed(message: string): never {
  throw new RadledgerError("WITNESS_REQUEST_MALFORMED", `add-checkpoint request: ${message}`);
}

function parseSize(text: string, what: string): number {
  if (!DECIMAL.test(text)) malformed(`${what} is not a decimal without leading zeroes`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) malformed(`${what} beyond 2^53`);
  return n;
}

export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  if (request.proof.length > MAX_PROOF_LINES) malformed(`more than ${MAX_PROOF_LINES} proof lines`);
  const proof = request.proof.map((h) => `${toBase64(h)}\n`).join("");
  return `old ${request.oldSize}\n${proof}\n${request.checkpoint}`;
}

export function parseAddCheckpointRequest(body: string | Uint8Array): AddCheckpointRequest {
  if (body.length > MAX_ADD_CHECKPOINT_BODY) malformed("body too large");
  let text: string;
  try {
    text = typeof body === "string" ? body : fromUtf8(body);
  } catch {
    return malformed("body is not UTF-8");
  }
  let pos = 0;
  const nextLine = (): string => {
    const nl = text.indexOf("\n", pos);
    if (nl < 0) malformed("every line must end with a newline");
    const line = text.slice(pos, nl);
    pos = nl + 1;
    return line;
  };
  const first = nextLine();
  if (!first.startsWith("old ")) malformed('the first line must be "old <size>"');
  const oldSize = parseSize(first.slice(4), "old size");
  const proof: Uint8Array[] = [];
  for (;;) {
    const line = nextLine();
    if (line === "") break;
    if (proof.length === MAX_PROOF_LINES) malformed(`more than ${MAX_PROOF_LINES} proof lines`);
    let hash: Uint8Array;
    try {
      hash = fromBase64(line);
    } catch {
      return malformed(`proof line ${proof.length + 1} is not base64`);
    }
    if (hash.length !== HASH_SIZE) malformed(`proof line ${proof.length + 1} is not a 32-byte hash`);
    proof.push(hash);
  }
  const checkpoint = text.slice(pos);
  if (checkpoint.length === 0) malformed("no checkpoint after the blank line");
  return { oldSize, proof, checkpoint };
}

/** The 200 response: one signature line per cosignature. */
export function formatCosignatureResponse(signatures: readonly NoteSignature[]): string {
  if (signatures.length === 0)
    throw new RadledgerError("INTERNAL", "a witness answers with one or more lines");
  // formatSignedNote renders "<text>\n<lines>": cut the placeholder text and blank line off again.
  return formatSignedNote({ text: "-\n", signatures }).slice(3);
}

/** Parses a witness's 200 response into signature lines (not yet verified). */
export function parseCosignatureResponse(body: string): NoteSignature[] {
  if (body.length === 0 || !body.startsWith("\u2014 "))
    throw new RadledgerError("NOTE_MALFORMED", "witness response is not a sequence of signature lines");
  return [...parseSignedNote(`-\n\n${body}`).signatures];
}

export function formatSizeResponse(size: number): string {
  return `${size}\n`;
}

/** Parses a 409 text/x.tlog.size body: the witness's latest cosigned size. */
export function parseSizeResponse(body: string): number {
  if (!body.endsWith("\n"))
    throw new RadledgerError("WITNESS_REQUEST_MALFORMED", "text/x.tlog.size body must end with a newline");
  const text = body.slice(0, -1);
  if (!DECIMAL.test(text) || !Number.isSafeInteger(Number(text)))
    throw new RadledgerError("WITNESS_REQUEST_MALFORMED", "text/x.tlog.size body is not a decimal size");
  return Number(text);
}
