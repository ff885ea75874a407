/**
 * Structured Field Values (RFC 8941): the subset the Signature-Input and Signature fields of HTTP
 * Message Signatures (RFC 9421 §4, src/core/http-signature.ts) are written in — dictionaries, inner
 * lists, items and parameters. Pure. A malformed field is AUTH_SIGNATURE_INVALID: these fields are
 * only ever read from a request's signature headers, which the requester controls.
 */
import { fromBase64, toBase64 } from "./bytes.js";
import { RadledgerError } from "./errors.js";

export interface SfToken {
  readonly token: string;
}
export type BareItem = number | string | boolean | Uint8Array | SfToken;
export type Params = readonly (readonly [key: string, value: BareItem])[];
export interface SfItem {
  readonly value: BareItem;
  readonly params: Params;
}
export interface SfInnerList {
  readonly items: readonly SfItem[];
  readonly params: Params;
}
export type SfMember = SfItem | SfInnerList;

export const isInnerList = (m: SfMember): m is SfInnerList => "items" in m;

export function malformed(message: string): never {
  throw new RadledgerError("AUTH_SIGNATURE_INVALID", `malformed signature field: ${message}`);
}

/** RFC 8941 §4.2 parsing over one field value (fields combined with ", " by the caller). */
class SfParser {
  #i = 0;
  constructor(readonly s: string) {}

  private atEnd(): boolean {
    return this.#i >= this.s.length;
  }
  private peek(): string {
    return this.s[this.#i] ?? "";
  }
  private skipSp(): void {
    while (this.peek() === " ") this.#i++;
  }
  private skipOws(): void {
    while (this.peek() === " " || this.peek() === "\t") this.#i++;
  }

  /** §4.2.2 */
  dictionary(): Map<string, SfMember> {
    const out = new Map<string, SfMember>();
    this.skipSp();
    while (!this.atEnd()) {
      const key = this.key();
      let member: SfMember;
      if (this.peek() === "=") {
        this.#i++;
        member = this.itemOrInnerList();
      } else {
        member = { value: true, params: this.params() };
      }
      out.set(key, member); // a later duplicate key overrides (§4.2.2)
      this.skipOws();
      if (this.atEnd()) break;
      if (this.peek() !== ",") malformed("expected ',' between dictionary members");
      this.#i++;
      this.skipOws();
      if (this.atEnd()) malformed("trailing ','");
    }
    return out;
  }

  private itemOrInnerList(): SfMember {
    if (this.peek() !== "(") return { value: this.bareItem(), params: this.params() };
    this.#i++;
    const items: SfItem[] = [];
    for (;;) {
      this.skipSp();
      if (this.peek() === ")") {
        this.#i++;
        return { items, params: this.params() };
      }
      items.push({ value: this.bareItem(), params: this.params() });
      const c = this.peek();
      if (c !== " " && c !== ")") malformed("expected ' ' or ')' in an inner list");
    }
  }

  private params(): [string, BareItem][] {
    const out: [string, BareItem][] = [];
    while (this.peek() === ";") {
      this.#i++;
      this.skipSp();
      const key = this.key();
      let value: BareItem = true;
      if (this.peek() === "=") {
        this.#i++;
        value = this.bareItem();
      }
      const at = out.findIndex(([k]) => k === key);
      if (at >= 0) out[at] = [key, value];
      else out.push([key, value]);
    }
    return out;
  }

  private key(): string {
    const m = /^[a-z*][a-z0-9_\-.*]*/.exec(this.s.slice(this.#i));
    if (!m) malformed("expected a key");
    this.#i += m[0].length;
    return m[0];
  }

  private bareItem(): BareItem {
    const c = this.peek();
    if (c === "-" || (c >= "0" && c <= "9")) {
      const m = /^-?[0-9]{1,15}(?![0-9.])/.exec(this.s.slice(this.#i));
      if (!m) malformed("only integers of at most 15 digits are supported");
      this.#i += m[0].length;
      return Number(m[0]);
    }
    if (c === '"') {
      this.#i++;
      let out = "";
      for (;;) {
        if (this.atEnd()) malformed("unterminated string");
        const ch = this.s[this.#i++]!;
        if (ch === "\\") {
          const next = this.s[this.#i++];
          if (next !== '"' && next !== "\\") malformed("bad escape in a string");
          out += next;
        } else if (ch === '"') return out;
        else if (ch < " " || ch > "~") malformed("a string holds printable ASCII only");
        else out += ch;
      }
    }
    if (c === ":") {
      const end = this.s.indexOf(":", this.#i + 1);
      if (end < 0) malformed("unterminated byte sequence");
      const text = this.s.slice(this.#i + 1, end);
      this.#i = end + 1;
      try {
        return fromBase64(text);
      } catch {
        return malformed("a byte sequence is not base64");
      }
    }
    if (c === "?") {
      const v = this.s[this.#i + 1];
      if (v !== "0" && v !== "1") malformed("a boolean is ?0 or ?1");
      this.#i += 2;
      return v === "1";
    }
    const m = /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/.exec(this.s.slice(this.#i));
    if (!m) malformed("unexpected character");
    this.#i += m[0].length;
    return { token: m[0] };
  }
}

export function parseSfDictionary(text: string): Map<string, SfMember> {
  return new SfParser(text).dictionary();
}

export function serializeBare(v: BareItem): string {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || Math.abs(v) > 999_999_999_999_999) malformed("integer out of range");
    return String(v);
  }
  if (typeof v === "string") {
    if (!/^[ -~]*$/.test(v)) malformed("a string holds printable ASCII only");
    return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  }
  if (typeof v === "boolean") return v ? "?1" : "?0";
  if (v instanceof Uint8Array) return `:${toBase64(v)}:`;
  return v.token;
}

function serializeParams(params: Params): string {
  return params.map(([k, v]) => (v === true ? `;${k}` : `;${k}=${serializeBare(v)}`)).join("");
}

/** RFC 8941 §4.1.1.1 */
export function serializeInnerList(list: SfInnerList): string {
  return `(${list.items.map((i) => serializeBare(i.value) + serializeParams(i.params)).join(" ")})${serializeParams(list.params)}`;
}
