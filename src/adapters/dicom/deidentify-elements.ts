/**
 * The de-identifier's element model (deidentify.ts): elements as parsed — value, sequence items or
 * encapsulated fragments — and how they are written back (PS3.5 §7.1–7.5: sequences and items with
 * undefined length, valid in every transfer syntax), with the values action D puts in place.
 */
import type { FileHandle } from "node:fs/promises";
import { elementHeader, hex, LONG_VRS, tagBytes, u32 } from "./element-encoding.js";
import { DicomError } from "./errors.js";

export const tag = (g: number, e: number): number => g * 0x10000 + e;
export const T = {
  TransferSyntaxUID: tag(0x0002, 0x0010),
  MediaStorageSOPInstanceUID: tag(0x0002, 0x0003),
  PatientIdentityRemoved: tag(0x0012, 0x0062),
  DeidentificationMethod: tag(0x0012, 0x0063),
  DeidentificationMethodCodeSequence: tag(0x0012, 0x0064),
  CodeValue: tag(0x0008, 0x0100),
  CodingSchemeDesignator: tag(0x0008, 0x0102),
  CodeMeaning: tag(0x0008, 0x0104),
  PixelData: tag(0x7fe0, 0x0010),
  Item: tag(0xfffe, 0xe000),
  ItemDelimitation: tag(0xfffe, 0xe00d),
  SequenceDelimitation: tag(0xfffe, 0xe0dd),
} as const;
export const UNDEFINED = 0xffffffff;
const TEXT_VRS = new Set([
  "AE",
  "AS",
  "CS",
  "DA",
  "DS",
  "DT",
  "IS",
  "LO",
  "LT",
  "PN",
  "SH",
  "ST",
  "TM",
  "UC",
  "UI",
  "UR",
  "UT",
]);

export interface Syntax {
  littleEndian: boolean;
  explicitVR: boolean;
}

export interface Elem {
  tag: number;
  /** As encoded (explicit VR) or from the dictionary (implicit VR; "UN" when unknown). */
  vr: string;
  value: Buffer | null;
  /** Sequence items (each a list of elements), for SQ and for UN holding a sequence. */
  items: Elem[][] | null;
  /** The items of a UN sequence are Implicit VR Little Endian (PS3.5 §6.2.2). */
  implicitItems?: boolean;
  /** Encapsulated pixel data below the top level (e.g. an icon): BOT + fragments, kept as items. */
  fragments?: Buffer[];
}

/** Text padded to even length (PS3.5 §6.2: UI with NUL, other text with a space). */
export function text(v: string, vr: string): Buffer {
  const b = Buffer.from(v, "latin1");
  return b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([vr === "UI" ? 0 : 0x20])]);
}

/** A dummy value of the VR (action D): non-empty and of the VR's form. */
export function dummy(vr: string): Buffer {
  switch (vr) {
    case "DA":
      return text("19000101", vr);
    case "TM":
      return text("000000", vr);
    case "DT":
      return text("19000101000000", vr);
    case "DS":
    case "IS":
      return text("0", vr);
    case "AS":
      return text("000Y", vr);
    case "UR":
      return text("urn:anonymized", vr);
    case "US":
    case "SS":
      return Buffer.alloc(2);
    case "UL":
    case "SL":
    case "FL":
    case "AT":
      return Buffer.alloc(4);
    case "FD":
    case "SV":
    case "UV":
      return Buffer.alloc(8);
    default:
      return TEXT_VRS.has(vr) ? text("ANONYMIZED", vr) : Buffer.alloc(0);
  }
}

/** Encodes an element (sequences and items with undefined length: valid in every syntax). */
export function encode(el: Elem, s: Syntax, out: Buffer[]): void {
  const le = s.littleEndian;
  if (el.fragments !== undefined) {
    out.push(elementHeader(el.tag, el.vr, UNDEFINED, s));
    for (const f of el.fragments) out.push(tagBytes(T.Item, le), u32(f.length, le), f);
    out.push(tagBytes(T.SequenceDelimitation, le), u32(0, le));
    return;
  }
  if (el.items !== null) {
    const inner: Syntax = el.implicitItems === true ? { littleEndian: true, explicitVR: false } : s;
    out.push(elementHeader(el.tag, el.vr, UNDEFINED, s));
    for (const item of el.items) {
      out.push(tagBytes(T.Item, inner.littleEndian), u32(UNDEFINED, inner.littleEndian));
      for (const x of item) encode(x, inner, out);
      out.push(tagBytes(T.ItemDelimitation, inner.littleEndian), u32(0, inner.littleEndian));
    }
    out.push(tagBytes(T.SequenceDelimitation, inner.littleEndian), u32(0, inner.littleEndian));
    return;
  }
  const v = el.value ?? Buffer.alloc(0);
  if (s.explicitVR && !LONG_VRS.has(el.vr) && v.length > 0xffff)
    throw new DicomError("DICOM_LIMIT_EXCEEDED", `value of ${hex(el.tag)} too long for VR ${el.vr}`);
  out.push(elementHeader(el.tag, el.vr, v.length, s), v);
}

/** Buffered output with back-pressure: writes to the file once 4 MiB are pending. */
export class Out {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly fh: FileHandle) {}
  push(...bs: Buffer[]): void {
    for (const b of bs) {
      this.parts.push(b);
      this.size += b.length;
    }
  }
  async maybeFlush(): Promise<void> {
    if (this.size >= 4 * 1024 * 1024) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const b = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    await this.fh.writev([b]);
  }
}
