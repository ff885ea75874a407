/**
 * A small, strict XML 1.0 reader for machine-written documents (the DICOM PS3.15 A.5 audit
 * message): elements, attributes, character data, CDATA sections, comments and processing
 * instructions, the five predefined entities and character references. Nothing else.
 *
 * Why our own: no XML parser is among the project's dependencies, and what an audit message needs
 * is a well-formedness check and a tree, not a DOM. Why strict: the input comes off the network from
 * any host that can reach a syslog port, so a document type declaration is refused outright (no DTD,
 * no entity definitions, hence no external entities (XXE) and no entity expansion ("billion
 * laughs")), nesting, element and attribute counts are bounded, and anything not well-formed
 * (XML 1.0 §2.1) is an INPUT_INVALID naming the offset, never a partial tree.
 *
 * Pure (no Node API): core runs in browsers too.
 */
import { RadledgerError } from "./errors.js";

export interface XmlElement {
  /** The qualified name as written (prefix:local or local). */
  readonly name: string;
  /** The local part of the name (after a namespace prefix). */
  readonly local: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** The element's own character data (CDATA included), concatenated; children's text excluded. */
  readonly text: string;
}

export interface XmlLimits {
  readonly maxDepth: number;
  readonly maxElements: number;
  readonly maxAttributes: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 20_000, maxAttributes: 64 };

/** XML 1.0 NameStartChar / NameChar (§2.3), restricted to what appears in practice plus the full ranges. */
const NAME =
  /^[:A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD][-.0-9:A-Z_a-z\u00B7\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u037D\u037F-\u1FFF\u200C-\u200D\u203F-\u2040\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD]*/;

/** Characters XML 1.0 §2.2 forbids anywhere in a document (C0 controls but tab, LF, CR). */
// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

const PREDEFINED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

interface Building {
  name: string;
  local: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
}

class Reader {
  pos = 0;
  elements = 0;
  constructor(
    readonly src: string,
    readonly limits: XmlLimits,
  ) {}

  fail(message: string, at = this.pos): never {
    throw new RadledgerError("INPUT_INVALID", `XML: ${message} (at offset ${at})`, { at: `offset ${at}` });
  }

  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  skipSpace(): void {
    while (this.pos < this.src.length && " \t\r\n".includes(this.src[this.pos]!)) this.pos++;
  }

  name(): string {
    const m = NAME.exec(this.src.slice(this.pos, this.pos + 256));
    if (!m) this.fail("expected a name");
    if (m[0].length >= 256) this.fail("name too long");
    this.pos += m[0].length;
    return m[0];
  }

  /** Skips up to and past `end`; the skipped text must not contain `forbidden`. */
  skipPast(end: string, what: string, forbidden?: string): string {
    const i = this.src.indexOf(end, this.pos);
    if (i < 0) this.fail(`unterminated ${what}`);
    const body = this.src.slice(this.pos, i);
    if (forbidden !== undefined && body.includes(forbidden)) this.fail(`'${forbidden}' inside ${what}`);
    this.pos = i + end.length;
    return body;
  }

  /** Text with entity and character references resolved; `<` is refused in attribute values. */
  decode(raw: string, at: number, inAttribute: boolean): string {
    if (inAttribute && raw.includes("<")) this.fail("'<' in an attribute value", at);
    if (!raw.includes("&")) return inAttribute ? raw.replace(/[\t\n\r]/g, " ") : raw;
    let out = "";
    let i = 0;
    while (i < raw.length) {
      const amp = raw.indexOf("&", i);
      if (amp < 0) {
        out += raw.slice(i);
        break;
      }
      out += raw.slice(i, amp);
      const semi = raw.indexOf(";", amp);
      if (semi < 0 || semi - amp > 12) this.fail("unterminated reference", at + amp);
      const ref = raw.slice(amp + 1, semi);
      if (ref.startsWith("#")) {
        const hex = ref.startsWith("#x");
        const digits = ref.slice(hex ? 2 : 1);
        if (!(hex ? /^[0-9A-Fa-f]{1,6}$/ : /^[0-9]{1,7}$/).test(digits))
          this.fail("malformed character reference", at + amp);
        const cp = parseInt(digits, hex ? 16 : 10);
        const ok =
          cp === 0x9 ||
          cp === 0xa ||
          cp === 0xd ||
          (cp >= 0x20 && cp <= 0xd7ff) ||
          (cp >= 0xe000 && cp <= 0xfffd) ||
          (cp >= 0x10000 && cp <= 0x10ffff);
        if (!ok) this.fail("character reference to a character XML does not allow", at + amp);
        out += String.fromCodePoint(cp);
      } else {
        const v = PREDEFINED[ref];
        // No DTD is read, so only the five predefined entities exist (XML 1.0 §4.6).
        if (v === undefined) this.fail(`undeclared entity '${ref.slice(0, 12)}'`, at + amp);
        out += v;
      }
      i = semi + 1;
    }
    return inAttribute ? out.replace(/[\t\n\r]/g, " ") : out;
  }

  /** Comments, processing instructions and white space between markup (prolog and epilogue). */
  misc(): void {
    for (;;) {
      this.skipSpace();
      if (this.startsWith("<!--")) {
        this.pos += 4;
        this.comment();
      } else if (this.startsWith("<?")) {
        this.pi();
      } else return;
    }
  }

  comment(): void {
    const body = this.skipPast("-->", "comment");
    if (body.includes("--") || body.endsWith("-")) this.fail("'--' inside a comment");
  }

  pi(): void {
    this.pos += 2;
    const target = this.name();
    if (target.toLowerCase() === "xml") this.fail("an XML declaration is only allowed at the start");
    this.skipPast("?>", "processing instruction");
  }

  element(depth: number): XmlElement {
    if (depth > this.limits.maxDepth) this.fail(`elements nested deeper than ${this.limits.maxDepth}`);
    if (++this.elements > this.limits.maxElements) this.fail(`more than ${this.limits.maxElements} elements`);
    this.pos++; // "<"
    const name = this.name();
    const el: Building = {
      name,
      local: name.slice(name.indexOf(":") + 1),
      attributes: new Map(),
      children: [],
      text: "",
    };
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.startsWith("/>")) {
        this.pos += 2;
        return el;
      }
      if (this.startsWith(">")) {
        this.pos++;
        break;
      }
      if (this.pos === before) this.fail("expected white space, '>' or '/>'");
      const attrAt = this.pos;
      const attr = this.name();
      this.skipSpace();
      if (this.src[this.pos] !== "=") this.fail("expected '=' after an attribute name");
      this.pos++;
      this.skipSpace();
      const quote = this.src[this.pos];
      if (quote !== '"' && quote !== "'") this.fail("expected a quoted attribute value");
      this.pos++;
      const valueAt = this.pos;
      const raw = this.skipPast(quote, "attribute value");
      if (el.attributes.has(attr)) this.fail(`duplicate attribute '${attr}'`, attrAt);
      if (el.attributes.size >= this.limits.maxAttributes)
        this.fail(`more than ${this.limits.maxAttributes} attributes`, attrAt);
      el.attributes.set(attr, this.decode(raw, valueAt, true));
    }
    // Content (XML 1.0 §3.1): character data, child elements, references, CDATA, comments, PIs.
    for (;;) {
      const lt = this.src.indexOf("<", this.pos);
      if (lt < 0) this.fail(`element '${name}' is not closed`);
      if (lt > this.pos) {
        const raw = this.src.slice(this.pos, lt);
        if (raw.includes("]]>")) this.fail("']]>' in character data", this.pos + raw.indexOf("]]>"));
        el.text += this.decode(raw, this.pos, false);
        this.pos = lt;
      }
      if (this.startsWith("</")) {
        this.pos += 2;
        const end = this.name();
        if (end !== name) this.fail(`end tag '${end}' does not match '${name}'`);
        this.skipSpace();
        if (this.src[this.pos] !== ">") this.fail("expected '>' to end the end tag");
        this.pos++;
        return el;
      }
      if (this.startsWith("<!--")) {
        this.pos += 4;
        this.comment();
      } else if (this.startsWith("<![CDATA[")) {
        this.pos += 9;
        el.text += this.skipPast("]]>", "CDATA section");
      } else if (this.startsWith("<?")) {
        this.pi();
      } else if (this.startsWith("<!")) {
        this.fail("markup declarations are not allowed");
      } else {
        el.children.push(this.element(depth + 1));
      }
    }
  }
}

/**
 * Parses a whole document into its root element. INPUT_INVALID (with the offset) when it is not
 * well-formed, has a DOCTYPE, or exceeds the limits.
 */
export function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): XmlElement {
  const r = new Reader(text.startsWith("\uFEFF") ? text.slice(1) : text, limits);
  const bad = FORBIDDEN_CHAR.exec(r.src);
  if (bad) r.fail("a character XML does not allow", bad.index);
  // XML 1.0 §2.8: the declaration, if any, comes first — not even white space before it.
  if (/^<\?xml[ \t\r\n]/.test(r.src)) {
    const decl = r.skipPast("?>", "XML declaration");
    const enc = /encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(decl);
    if (enc && !/^utf-?8$/i.test(enc[1]!)) r.fail(`encoding ${enc[1]} (only UTF-8 is read)`, 0);
  }
  r.misc();
  if (r.startsWith("<!DOCTYPE") || r.startsWith("<!doctype"))
    r.fail("a document type declaration is not accepted (no DTDs, no entity definitions)");
  if (r.src[r.pos] !== "<" || r.startsWith("<!") || r.startsWith("<?")) r.fail("expected the root element");
  const root = r.element(1);
  r.misc();
  if (r.pos !== r.src.length) r.fail("content after the root element");
  return root;
}

/** The element's children with this local name. */
export function childrenNamed(el: XmlElement, local: string): XmlElement[] {
  return el.children.filter((c) => c.local === local);
}

/** The first child with this local name, if any. */
export function childNamed(el: XmlElement, local: string): XmlElement | undefined {
  return el.children.find((c) => c.local === local);
}
