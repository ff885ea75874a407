/**
 * RFC 5424 syslog messages (§6, the ABNF) and RFC 6587 §3.4.1 / RFC 5425 §4.3 octet-counting
 * framing, for the IHE ATNA receivers (src/adapters/syslog/receivers.ts, docs/audit.md).
 *
 *   SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG]
 *   HEADER     = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
 *   SYSLOG-FRAME = MSG-LEN SP SYSLOG-MSG        ; MSG-LEN = NONZERO-DIGIT *DIGIT (octets)
 *
 * Strict where the grammar is (PRI range, VERSION 1, field lengths and PRINTUSASCII, structured-data
 * escapes), because a message that does not parse is refused and counted, not guessed at.
 * Every failure is a coded RadledgerError: AUDIT_MESSAGE_MALFORMED, AUDIT_MESSAGE_TOO_LARGE.
 */
import { RadledgerError } from "../../core/errors.js";

/** The largest message accepted on any transport (IHE ATNA's audit messages fit well within). */
export const MAX_SYSLOG_MESSAGE = 64 * 1024;

export interface SyslogMessage {
  readonly facility: number;
  readonly severity: number;
  readonly timestamp?: string;
  readonly hostname?: string;
  readonly appName?: string;
  readonly procId?: string;
  readonly msgId?: string;
  /** SD-ID → its parameters (names may repeat: the values in order). */
  readonly structuredData: ReadonlyMap<string, ReadonlyArray<readonly [string, string]>>;
  /** MSG decoded as UTF-8 (a BOM, RFC 5424 §6.4, removed); "" when absent. */
  readonly msg: string;
}

function malformed(message: string, at: string): never {
  throw new RadledgerError("AUDIT_MESSAGE_MALFORMED", `syslog: ${message}`, { at });
}

const SP = 0x20;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses one RFC 5424 message (the bytes of one frame or datagram). */
export function parseSyslog(bytes: Uint8Array): SyslogMessage {
  if (bytes.length > MAX_SYSLOG_MESSAGE)
    throw new RadledgerError(
      "AUDIT_MESSAGE_TOO_LARGE",
      `syslog: the message exceeds ${MAX_SYSLOG_MESSAGE} octets`,
      {
        size: bytes.length,
      },
    );
  // PRI = "<" PRIVAL ">"; PRIVAL = 1*3DIGIT, 0..191 (§6.2.1)
  if (bytes[0] !== 0x3c) malformed("expected '<' PRI", "PRI");
  let end = 1;
  while (end < 5 && bytes[end] !== undefined && bytes[end]! >= 0x30 && bytes[end]! <= 0x39) end++;
  if (end === 1 || bytes[end] !== 0x3e) malformed("PRI is not '<' 1*3DIGIT '>'", "PRI");
  const priText = ascii(bytes, 1, end);
  if (priText.length > 1 && priText.startsWith("0")) malformed("PRI has a leading zero", "PRI");
  const pri = Number(priText);
  if (pri > 191) malformed("PRI is above 191", "PRI");
  let pos = end + 1;
  // VERSION = NONZERO-DIGIT 0*2DIGIT; this receiver speaks version 1 (§6.2.2)
  const version = field(bytes, pos, 3, "VERSION");
  if (version.text !== "1") malformed("VERSION is not 1", "VERSION");
  pos = version.next;
  const header: Record<string, string | undefined> = {};
  for (const [name, max] of [
    ["TIMESTAMP", 32],
    ["HOSTNAME", 255],
    ["APP-NAME", 48],
    ["PROCID", 128],
    ["MSGID", 32],
  ] as const) {
    if (bytes[pos] !== SP) malformed(`expected SP before ${name}`, name);
    const f = field(bytes, pos + 1, max, name);
    header[name] = f.text === "-" ? undefined : f.text;
    pos = f.next;
  }
  const ts = header.TIMESTAMP;
  if (ts !== undefined && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/.test(ts))
    malformed("TIMESTAMP is not an RFC 3339 time (§6.2.3)", "TIMESTAMP");
  if (bytes[pos] !== SP) malformed("expected SP before STRUCTURED-DATA", "STRUCTURED-DATA");
  pos++;
  const sd = new Map<string, Array<[string, string]>>();
  if (bytes[pos] === 0x2d /* - */) pos++;
  else {
    if (bytes[pos] !== 0x5b /* [ */)
      malformed("STRUCTURED-DATA is neither '-' nor an SD-ELEMENT", "STRUCTURED-DATA");
    while (bytes[pos] === 0x5b) pos = sdElement(bytes, pos, sd);
  }
  let msg = "";
  if (pos < bytes.length) {
    if (bytes[pos] !== SP) malformed("expected SP before MSG", "MSG");
    let body = bytes.subarray(pos + 1);
    if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) body = body.subarray(3);
    try {
      msg = utf8.decode(body);
    } catch {
      malformed("MSG is not valid UTF-8", "MSG");
    }
  }
  return {
    facility: pri >> 3,
    severity: pri & 7,
    ...(header.TIMESTAMP === undefined ? {} : { timestamp: header.TIMESTAMP }),
    ...(header.HOSTNAME === undefined ? {} : { hostname: header.HOSTNAME }),
    ...(header["APP-NAME"] === undefined ? {} : { appName: header["APP-NAME"] }),
    ...(header.PROCID === undefined ? {} : { procId: header.PROCID }),
    ...(header.MSGID === undefined ? {} : { msgId: header.MSGID }),
    structuredData: sd,
    msg,
  };
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** 1*max PRINTUSASCII (%d33-126) up to the next SP or the end. */
function field(bytes: Uint8Array, from: number, max: number, name: string): { text: string; next: number } {
  let i = from;
  while (i < bytes.length && bytes[i] !== SP) {
    if (bytes[i]! < 33 || bytes[i]! > 126) malformed(`${name} holds a character outside PRINTUSASCII`, name);
    if (i - from >= max) malformed(`${name} is longer than ${max}`, name);
    i++;
  }
  if (i === from) malformed(`${name} is empty`, name);
  return { text: ascii(bytes, from, i), next: i };
}

/** SD-NAME = 1*32PRINTUSASCII except '=', SP, ']', '"' (§6.3.2). */
function sdName(bytes: Uint8Array, from: number, what: string): { text: string; next: number } {
  let i = from;
  while (i < bytes.length) {
    const c = bytes[i]!;
    if (c === 0x3d || c === SP || c === 0x5d || c === 0x22) break;
    if (c < 33 || c > 126) malformed(`${what} holds a character outside PRINTUSASCII`, "STRUCTURED-DATA");
    if (i - from >= 32) malformed(`${what} is longer than 32`, "STRUCTURED-DATA");
    i++;
  }
  if (i === from) malformed(`${what} is empty`, "STRUCTURED-DATA");
  return { text: ascii(bytes, from, i), next: i };
}

/** SD-ELEMENT = "[" SD-ID *(SP SD-PARAM) "]"; SD-PARAM = PARAM-NAME "=" %d34 PARAM-VALUE %d34 (§6.3). */
function sdElement(bytes: Uint8Array, from: number, sd: Map<string, Array<[string, string]>>): number {
  const id = sdName(bytes, from + 1, "SD-ID");
  if (sd.has(id.text)) malformed("an SD-ID appears twice (§6.3.2)", "STRUCTURED-DATA");
  const params: Array<[string, string]> = [];
  sd.set(id.text, params);
  let pos = id.next;
  for (;;) {
    if (bytes[pos] === 0x5d) return pos + 1;
    if (bytes[pos] !== SP) malformed("expected SP or ']' in an SD-ELEMENT", "STRUCTURED-DATA");
    const name = sdName(bytes, pos + 1, "PARAM-NAME");
    pos = name.next;
    if (bytes[pos] !== 0x3d || bytes[pos + 1] !== 0x22)
      malformed("expected '=\"' after PARAM-NAME", "STRUCTURED-DATA");
    pos += 2;
    // PARAM-VALUE: UTF-8 with '"', '\' and ']' escaped by '\' (§6.3.3)
    const value: number[] = [];
    for (;;) {
      if (pos >= bytes.length) malformed("unterminated PARAM-VALUE", "STRUCTURED-DATA");
      const c = bytes[pos]!;
      if (c === 0x22) break;
      if (c === 0x5c && (bytes[pos + 1] === 0x22 || bytes[pos + 1] === 0x5c || bytes[pos + 1] === 0x5d)) {
        value.push(bytes[pos + 1]!);
        pos += 2;
        continue;
      }
      if (c === 0x5d) malformed("an unescaped ']' in PARAM-VALUE", "STRUCTURED-DATA");
      value.push(c);
      pos++;
    }
    pos++;
    let text: string;
    try {
      text = utf8.decode(Uint8Array.from(value));
    } catch {
      return malformed("PARAM-VALUE is not valid UTF-8", "STRUCTURED-DATA");
    }
    params.push([name.text, text]);
  }
}

/**
 * Splits a TCP or TLS byte stream into octet-counted frames (RFC 6587 §3.4.1, RFC 5425 §4.3):
 * MSG-LEN SP SYSLOG-MSG. A broken frame (not digits, a leading zero, no SP, a length above
 * MAX_SYSLOG_MESSAGE) cannot be resynchronised — there is no delimiter to look for — so push()
 * throws and the caller closes the connection; `end()` throws on a frame cut short.
 */
export class OctetCountingDecoder {
  #buf: Uint8Array = new Uint8Array(0);
  /** The announced length of the frame being read, or -1 while reading MSG-LEN. */
  #want = -1;

  /** Feeds bytes; returns the complete messages they finish. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = this.#buf.length === 0 ? chunk : concat(this.#buf, chunk);
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.#want < 0) {
        let i = 0;
        while (i < this.#buf.length && i < 7 && this.#buf[i]! >= 0x30 && this.#buf[i]! <= 0x39) i++;
        if (i === this.#buf.length && i < 7) break; // more digits may come
        if (i === 0 || this.#buf[0] === 0x30)
          malformed("expected octet-counting framing: MSG-LEN (a nonzero digit first) SP", "MSG-LEN");
        const len = Number(ascii(this.#buf, 0, i));
        if (len > MAX_SYSLOG_MESSAGE)
          throw new RadledgerError(
            "AUDIT_MESSAGE_TOO_LARGE",
            `syslog: the frame announces ${len} octets (at most ${MAX_SYSLOG_MESSAGE})`,
            { size: len },
          );
        if (i >= this.#buf.length) break;
        if (this.#buf[i] !== SP) malformed("expected SP after MSG-LEN", "MSG-LEN");
        this.#want = len;
        this.#buf = this.#buf.subarray(i + 1);
      }
      if (this.#buf.length < this.#want) break;
      out.push(this.#buf.slice(0, this.#want));
      this.#buf = this.#buf.subarray(this.#want);
      this.#want = -1;
    }
    return out;
  }

  /** At the end of the stream: AUDIT_MESSAGE_MALFORMED when a frame was cut short. */
  end(): void {
    if (this.#want >= 0 || this.#buf.length > 0)
      malformed("the connection ended inside a frame (truncated)", "SYSLOG-FRAME");
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
