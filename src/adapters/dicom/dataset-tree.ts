/**
 * A whole DICOM data set as a tree, for the few small objects whose nested content the node must
 * read: AI results (Structured Reports, Segmentations, Parametric Maps — ai-result.ts). The streaming
 * hasher (instance-parser.ts) keeps only top-level values and skips sequences unread; here every
 * sequence is descended into, and values are kept — except Pixel Data and other bulk values above
 * MAX_VALUE bytes, which are skipped (their length is checked against the buffer, so a lying length
 * is still DICOM_MALFORMED). The input is whoever sent the file: depth, items and kept bytes are
 * bounded, and malformed input is a DicomError with an offset, never a crash.
 *
 * Encoding rules followed (PS3.5): §7.1.2/§7.1.3 explicit and implicit VR, §7.5 sequences and items
 * of defined and undefined length, §6.2.2 UN of undefined length holding Implicit VR LE, A.4
 * encapsulated Pixel Data (skipped), A.5 Deflated Explicit VR LE. Implicit VR needs the data
 * dictionary to recognise a sequence of defined length (vr-dictionary.ts).
 */
import { inflateRawSync } from "node:zlib";
import { hex, LONG_VRS } from "./element-encoding.js";
import { DicomError } from "./errors.js";
import { transferSyntaxInfo } from "./transfer-syntax.js";
import { standardVr } from "./vr-dictionary.js";

export interface DicomElement {
  readonly vr: string | null;
  /** The value bytes (absent for sequences and skipped bulk values). */
  readonly value?: Buffer;
  readonly items?: DicomDataSet[];
}
export type DicomDataSet = Map<number, DicomElement>;

export interface ParsedObject {
  readonly transferSyntaxUid: string;
  readonly meta: DicomDataSet;
  readonly dataSet: DicomDataSet;
  readonly littleEndian: boolean;
}

const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 32;
/** Values above this size (pixel data, LUTs, big blobs) are not kept: the AI reader needs none. */
const MAX_VALUE = 64 * 1024;
/** At most this many items in all sequences together (an SR of 100,000 content items is hostile). */
const MAX_ITEMS = 200_000;
/** A deflated data set inflates to at most this many bytes. */
const MAX_INFLATED = 256 * 1024 * 1024;

const ITEM = 0xfffee000;
const ITEM_END = 0xfffee00d;
const SEQ_END = 0xfffee0dd;
const PIXEL_DATA = 0x7fe00010;

interface Syntax {
  readonly le: boolean;
  readonly explicit: boolean;
}

class Cursor {
  items = 0;
  constructor(
    readonly b: Buffer,
    public pos: number,
  ) {}
  need(n: number, what: string): void {
    if (this.pos + n > this.b.length)
      throw new DicomError("DICOM_TRUNCATED", `the data ends inside ${what}`, { offset: this.pos });
  }
  u16(le: boolean): number {
    this.need(2, "an element header");
    const v = le ? this.b.readUInt16LE(this.pos) : this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(le: boolean): number {
    this.need(4, "an element header");
    const v = le ? this.b.readUInt32LE(this.pos) : this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
}

interface Header {
  tag: number;
  vr: string | null;
  length: number;
  start: number;
}

function readHeader(c: Cursor, s: Syntax): Header {
  const start = c.pos;
  const tag = c.u16(s.le) * 0x10000 + c.u16(s.le);
  if (tag >= 0xfffe0000 || !s.explicit) return { tag, vr: null, length: c.u32(s.le), start };
  c.need(2, "an element header");
  const c0 = c.b[c.pos]!;
  const c1 = c.b[c.pos + 1]!;
  if (c0 < 0x41 || c0 > 0x5a || c1 < 0x41 || c1 > 0x5a)
    throw new DicomError("DICOM_MALFORMED", `invalid VR bytes in element ${hex(tag)}`, { offset: c.pos });
  const vr = String.fromCharCode(c0, c1);
  c.pos += 2;
  if (LONG_VRS.has(vr)) {
    c.pos += 2; // reserved
    return { tag, vr, length: c.u32(s.le), start };
  }
  return { tag, vr, length: c.u16(s.le), start };
}

/** Parses elements up to `end` (defined length) or an Item Delimitation Item (undefined length). */
function dataSet(c: Cursor, s: Syntax, end: number | undefined, depth: number): DicomDataSet {
  if (depth > MAX_DEPTH)
    throw new DicomError("DICOM_LIMIT_EXCEEDED", `sequences nested deeper than ${MAX_DEPTH}`);
  const out: DicomDataSet = new Map();
  for (;;) {
    if (end !== undefined && c.pos >= end) {
      if (c.pos > end)
        throw new DicomError("DICOM_MALFORMED", "an element overruns its item", { offset: c.pos });
      return out;
    }
    if (end === undefined && depth === 0 && c.pos >= c.b.length) return out;
    const h = readHeader(c, s);
    if (h.tag === ITEM_END) {
      if (end !== undefined || depth === 0)
        throw new DicomError("DICOM_MALFORMED", "item delimiter outside an item of undefined length", {
          offset: h.start,
        });
      return out;
    }
    if (h.tag === ITEM || h.tag === SEQ_END)
      throw new DicomError("DICOM_MALFORMED", `unexpected ${hex(h.tag)} in a data set`, { offset: h.start });
    out.set(h.tag, element(c, s, h, depth));
  }
}

function element(c: Cursor, s: Syntax, h: Header, depth: number): DicomElement {
  const vr = h.vr ?? standardVr(h.tag) ?? null;
  if (h.length === UNDEFINED) {
    if (h.tag === PIXEL_DATA) {
      skipEncapsulated(c, s);
      return { vr };
    }
    if (s.explicit && h.vr !== "SQ" && h.vr !== "UN")
      throw new DicomError("DICOM_MALFORMED", `undefined length on VR ${h.vr ?? "?"} in ${hex(h.tag)}`, {
        offset: h.start,
      });
    const inner = h.vr === "UN" ? { le: true, explicit: false } : s;
    return { vr: "SQ", items: sequence(c, inner, undefined, depth + 1) };
  }
  c.need(h.length, `the value of ${hex(h.tag)}`);
  if (vr === "SQ") {
    const end = c.pos + h.length;
    const items = sequence(c, s, end, depth + 1);
    return { vr, items };
  }
  if (h.length > MAX_VALUE || h.tag === PIXEL_DATA) {
    c.pos += h.length;
    return { vr };
  }
  const value = c.b.subarray(c.pos, c.pos + h.length);
  c.pos += h.length;
  return { vr, value };
}

function sequence(c: Cursor, s: Syntax, end: number | undefined, depth: number): DicomDataSet[] {
  const items: DicomDataSet[] = [];
  for (;;) {
    if (end !== undefined && c.pos >= end) {
      if (c.pos > end)
        throw new DicomError("DICOM_MALFORMED", "an item overruns its sequence", { offset: c.pos });
      return items;
    }
    const h = readHeader(c, s);
    if (h.tag === SEQ_END) {
      if (end !== undefined)
        throw new DicomError("DICOM_MALFORMED", "sequence delimiter in a sequence of defined length", {
          offset: h.start,
        });
      return items;
    }
    if (h.tag !== ITEM)
      throw new DicomError("DICOM_MALFORMED", `expected an item in a sequence, found ${hex(h.tag)}`, {
        offset: h.start,
      });
    if (++c.items > MAX_ITEMS)
      throw new DicomError("DICOM_LIMIT_EXCEEDED", `more than ${MAX_ITEMS} sequence items`);
    if (h.length === UNDEFINED) items.push(dataSet(c, s, undefined, depth));
    else {
      c.need(h.length, "an item");
      items.push(dataSet(c, s, c.pos + h.length, depth));
    }
  }
}

function skipEncapsulated(c: Cursor, s: Syntax): void {
  for (;;) {
    const h = readHeader(c, s);
    if (h.tag === SEQ_END) return;
    if (h.tag !== ITEM || h.length === UNDEFINED)
      throw new DicomError("DICOM_MALFORMED", `expected a fragment item, found ${hex(h.tag)}`, {
        offset: h.start,
      });
    c.need(h.length, "a fragment");
    c.pos += h.length;
  }
}

/** Parses a whole Part 10 object held in memory (PS3.10 §7.1: preamble, "DICM", meta group). */
export function parseDataSetTree(bytes: Buffer): ParsedObject {
  if (bytes.length < 132 || bytes.toString("latin1", 128, 132) !== "DICM")
    throw new DicomError("DICOM_NOT_PART10", 'no "DICM" prefix at offset 128', { offset: 128 });
  const c = new Cursor(bytes, 132);
  const metaSyntax = { le: true, explicit: true };
  const meta: DicomDataSet = new Map();
  while (c.pos + 2 <= bytes.length && bytes.readUInt16LE(c.pos) === 0x0002) {
    const h = readHeader(c, metaSyntax);
    if (h.length === UNDEFINED)
      throw new DicomError("DICOM_MALFORMED", `File Meta element ${hex(h.tag)} of undefined length`, {
        offset: h.start,
      });
    meta.set(h.tag, element(c, metaSyntax, h, 0));
  }
  const tsUid = text(meta.get(0x00020010));
  if (tsUid === undefined)
    throw new DicomError("DICOM_MALFORMED", "File Meta Information has no Transfer Syntax UID (0002,0010)");
  const ts = transferSyntaxInfo(tsUid);
  if (ts === undefined)
    throw new DicomError("DICOM_UNSUPPORTED_TRANSFER_SYNTAX", `transfer syntax ${tsUid} is not supported`);
  let body = c;
  if (ts.deflated) {
    let inflated: Buffer;
    try {
      inflated = inflateRawSync(bytes.subarray(c.pos), { maxOutputLength: MAX_INFLATED });
    } catch (e) {
      throw new DicomError("DICOM_MALFORMED", "deflated data set does not inflate", { cause: e });
    }
    body = new Cursor(inflated, 0);
  }
  const syntax = { le: ts.littleEndian, explicit: ts.explicitVR };
  return {
    transferSyntaxUid: tsUid,
    meta,
    dataSet: dataSet(body, syntax, undefined, 0),
    littleEndian: ts.littleEndian,
  };
}

/** A text value with its padding removed (PS3.5 §6.2: trailing spaces / NUL are insignificant). */
export function text(e: DicomElement | undefined, utf8 = false): string | undefined {
  if (e?.value === undefined) return undefined;
  const s = e.value
    .toString(utf8 ? "utf8" : "latin1")
    .replace(/[\0 ]+$/, "")
    .trim();
  return s.length > 0 ? s : undefined;
}

/** Every value of a multi-valued text element (PS3.5 §6.4: backslash-separated). */
export function texts(e: DicomElement | undefined, utf8 = false): string[] {
  const s = text(e, utf8);
  return s === undefined ? [] : s.split("\\").map((v) => v.trim());
}
