/**
 * De-identification of one DICOM Part 10 file by the Basic Application Level Confidentiality
 * Profile, DICOM PS3.15 Annex E (2021b), driven by Table E.1-1 as transcribed in annex-e.ts.
 *
 * Streaming: header elements are read and rewritten one top-level element at a time (a sequence is
 * read whole — they are small); the Pixel Data (7FE0,0010) value is copied through chunk by chunk,
 * byte for byte, in the transfer syntax it was stored in. So the de-identified file's pixel-data and
 * per-frame hashes equal the original's (docs/design.md §8.1), and no file is ever held in memory.
 *
 * Actions (PS3.15 E.3.1), applied to attributes at every nesting level:
 *   X        removed (and every private attribute, E.3.10 retain options not applied)
 *   Z        zero-length value (a sequence: zero items)
 *   D, C     a dummy value of the attribute's VR ("ANONYMIZED", 19000101, 0, …)
 *   U        a new UID, the same for the same original throughout the set (`uid` option)
 *   X/Z      Z — valid whatever the attribute's type in the IOD (X would break Type 2)
 *   X/D, Z/D, X/Z/D   D — valid whatever the type (Type 1 needs a value)
 *   X/Z/U*   a sequence keeps its items, whose UIDs get U through their own rows; otherwise Z
 *   not listed   kept (the Basic Profile retains what Table E.1-1 does not list); sequences kept
 *                are cleaned recursively
 * and E.1.1: Patient Identity Removed (0012,0062) = YES, De-identification Method (0012,0063) and
 * De-identification Method Code Sequence (0012,0064) = (113100, DCM, "Basic Application
 * Confidentiality Profile"). The caller may give values for attributes the profile empties (e.g.
 * Patient ID and Patient's Name := a trial subject's pseudonym: Z allows a dummy value).
 *
 * The File Meta Information is rebuilt: Media Storage SOP Instance UID follows the new SOP Instance
 * UID; Source Application Entity Title and private meta elements are dropped. A Deflated file is
 * written as Explicit VR Little Endian (same data set, not compressed; pixel bytes unchanged).
 * Implicit VR needs the data dictionary (vr-dictionary.ts) to see sequences of defined length.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable, pipeline } from "node:stream";
import { createInflateRaw } from "node:zlib";
import { annexEAction, type AnnexEAction } from "./annex-e.js";
import { ChunkReader } from "./chunk-reader.js";
import { elementHeader, hex, LONG_VRS, tagBytes, u32 } from "./element-encoding.js";
import {
  dummy,
  encode,
  Out,
  T,
  tag,
  text,
  UNDEFINED,
  type Elem,
  type Syntax,
} from "./deidentify-elements.js";
import type { DeidentifyOptions } from "../../ports/imaging.js";
import { DicomError } from "./errors.js";
import { TS, transferSyntaxInfo } from "./transfer-syntax.js";
import { standardVr } from "./vr-dictionary.js";

/** File Meta elements carried over (PS3.10 §7.1); others (source AE title, private) are dropped. */
const META_KEPT = new Set([0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00020013]);
const MAX_DEPTH = 64;
/** Non-pixel values larger than this are refused rather than buffered (hostile input). */
const MAX_VALUE = 64 * 1024 * 1024;
class Rewriter {
  constructor(
    private reader: ChunkReader,
    private readonly o: DeidentifyOptions,
  ) {}

  setReader(r: ChunkReader): void {
    this.reader = r;
  }

  async readHeader(s: Syntax): Promise<{ tag: number; vr: string | null; length: number; start: number }> {
    const r = this.reader;
    const start = r.position;
    const h = await r.readExact(8);
    const le = s.littleEndian;
    const g = le ? h.readUInt16LE(0) : h.readUInt16BE(0);
    const e = le ? h.readUInt16LE(2) : h.readUInt16BE(2);
    const t = tag(g, e);
    const len = (off: number): number => (le ? h.readUInt32LE(off) : h.readUInt32BE(off));
    if (g === 0xfffe || !s.explicitVR) return { tag: t, vr: null, length: len(4), start };
    const c0 = h[4]!;
    const c1 = h[5]!;
    if (c0 < 0x41 || c0 > 0x5a || c1 < 0x41 || c1 > 0x5a)
      throw new DicomError("DICOM_MALFORMED", `invalid VR bytes in element ${hex(t)}`, { offset: start + 4 });
    const vr = String.fromCharCode(c0, c1);
    if (LONG_VRS.has(vr)) {
      const l = await r.readExact(4);
      return { tag: t, vr, length: le ? l.readUInt32LE(0) : l.readUInt32BE(0), start };
    }
    return { tag: t, vr, length: le ? h.readUInt16LE(6) : h.readUInt16BE(6), start };
  }

  /** Reads one element (header already read) into memory, with its items. */
  async readElement(
    h: { tag: number; vr: string | null; length: number; start: number },
    s: Syntax,
    depth: number,
  ): Promise<Elem> {
    if (depth > MAX_DEPTH)
      throw new DicomError("DICOM_LIMIT_EXCEEDED", `sequences nested deeper than ${MAX_DEPTH}`);
    const vr = h.vr ?? standardVr(h.tag) ?? "UN";
    const r = this.reader;
    if (h.length === UNDEFINED) {
      if (h.tag === T.PixelData) {
        const fragments: Buffer[] = [];
        for (;;) {
          const f = await this.readHeader(s);
          if (f.tag === T.SequenceDelimitation) break;
          if (f.tag !== T.Item || f.length === UNDEFINED)
            throw new DicomError("DICOM_MALFORMED", `expected a fragment item, found ${hex(f.tag)}`, {
              offset: f.start,
            });
          fragments.push(Buffer.from(await r.readExact(f.length)));
        }
        return { tag: h.tag, vr: h.vr ?? "OB", value: null, items: null, fragments };
      }
      if (s.explicitVR && vr !== "SQ" && vr !== "UN")
        throw new DicomError("DICOM_MALFORMED", `undefined length on VR ${vr} in ${hex(h.tag)}`, {
          offset: h.start,
        });
      const implicitItems = vr === "UN";
      const inner: Syntax = implicitItems ? { littleEndian: true, explicitVR: false } : s;
      return {
        tag: h.tag,
        vr,
        value: null,
        items: await this.items(inner, depth + 1, undefined),
        implicitItems,
      };
    }
    if (h.length > MAX_VALUE)
      throw new DicomError("DICOM_LIMIT_EXCEEDED", `value of ${hex(h.tag)} is ${h.length} bytes long`, {
        offset: h.start,
      });
    if (vr === "SQ")
      return { tag: h.tag, vr, value: null, items: await this.items(s, depth + 1, r.position + h.length) };
    return { tag: h.tag, vr, value: Buffer.from(await r.readExact(h.length)), items: null };
  }

  /** Items of a sequence up to its delimiter (undefined length) or its end position. */
  private async items(s: Syntax, depth: number, end: number | undefined): Promise<Elem[][]> {
    const out: Elem[][] = [];
    for (;;) {
      if (end !== undefined && this.reader.position >= end) {
        if (this.reader.position > end)
          throw new DicomError("DICOM_MALFORMED", "an item overruns its sequence");
        return out;
      }
      const h = await this.readHeader(s);
      if (h.tag === T.SequenceDelimitation) return out;
      if (h.tag !== T.Item)
        throw new DicomError("DICOM_MALFORMED", `expected an item in a sequence, found ${hex(h.tag)}`, {
          offset: h.start,
        });
      const itemEnd = h.length === UNDEFINED ? undefined : this.reader.position + h.length;
      const elems: Elem[] = [];
      for (;;) {
        if (itemEnd !== undefined && this.reader.position >= itemEnd) break;
        const e = await this.readHeader(s);
        if (e.tag === T.ItemDelimitation) break;
        elems.push(await this.readElement(e, s, depth));
      }
      out.push(elems);
    }
  }

  /** Table E.1-1 applied to one element; null when removed. */
  transform(el: Elem, depth: number): Elem | null {
    const group = Math.floor(el.tag / 0x10000);
    if (group % 2 === 1) return null; // private attributes: X (E.3.10 options not applied)
    if (
      depth === 0 &&
      (el.tag === T.PatientIdentityRemoved ||
        el.tag === T.DeidentificationMethod ||
        el.tag === T.DeidentificationMethodCodeSequence)
    )
      return null; // rewritten below with this run's values
    const given = depth === 0 ? this.o.replace?.get(el.tag) : undefined;
    if (given !== undefined) return { tag: el.tag, vr: el.vr, value: text(given, el.vr), items: null };
    const action: AnnexEAction | undefined = annexEAction(hex(el.tag));
    const cleanItems = (): Elem => ({
      ...el,
      items: el.items!.map((it) =>
        it.map((x) => this.transform(x, depth + 1)).filter((x): x is Elem => x !== null),
      ),
    });
    switch (action) {
      case undefined:
      case "K":
        return el.items !== null ? cleanItems() : el;
      case "X":
        return null;
      case "Z":
      case "X/Z":
        return {
          tag: el.tag,
          vr: el.vr,
          value: el.items !== null ? null : Buffer.alloc(0),
          items: el.items !== null ? [] : null,
        };
      case "X/Z/U*":
        return el.items !== null
          ? cleanItems()
          : { tag: el.tag, vr: el.vr, value: Buffer.alloc(0), items: null };
      case "U":
        if (el.value === null || el.vr !== "UI") return el.items !== null ? cleanItems() : el;
        return { ...el, value: this.uids(el.value) };
      default: // D, X/D, Z/D, X/Z/D, C
        if (el.items !== null) return cleanItems();
        if (el.vr === "UI" && el.value !== null) return { ...el, value: this.uids(el.value) };
        return { tag: el.tag, vr: el.vr, value: dummy(el.vr), items: null };
    }
  }

  private uids(v: Buffer): Buffer {
    const originals = v
      .toString("latin1")
      .replace(/[\0 ]+$/, "")
      .split("\\");
    return text(originals.map((u) => (u === "" ? "" : this.o.uid(u))).join("\\"), "UI");
  }
}

/**
 * De-identifies `input` into `output` (created, never overwritten). Throws DicomError with a code
 * for malformed or unsupported input; the partial output is removed by the caller.
 */
export async function deidentifyFile(input: string, output: string, o: DeidentifyOptions): Promise<void> {
  if (o.method.length > 64) throw new RangeError("De-identification Method is LO: at most 64 characters");
  const source = createReadStream(input, { highWaterMark: 1024 * 1024 });
  let reader = new ChunkReader(source[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
  const fh = await open(output, "wx").catch((e: unknown) => {
    throw new DicomError("DICOM_IO", `cannot create output: ${(e as NodeJS.ErrnoException).code ?? "error"}`);
  });
  try {
    const out = new Out(fh);
    if (!(await reader.ensure(132)) || reader.take(132).toString("latin1", 128, 132) !== "DICM")
      throw new DicomError("DICOM_NOT_PART10", 'no "DICM" prefix at offset 128', { offset: 128 });
    const rw = new Rewriter(reader, o);
    const metaSyntax: Syntax = { littleEndian: true, explicitVR: true };
    const meta: Elem[] = [];
    for (;;) {
      if (!(await reader.ensure(2)))
        throw new DicomError("DICOM_TRUNCATED", "stream ended after the File Meta Information");
      if (reader.peek(2).readUInt16LE(0) !== 0x0002) break;
      const h = await rw.readHeader(metaSyntax);
      if (h.length === UNDEFINED || h.length > 64 * 1024)
        throw new DicomError("DICOM_MALFORMED", `File Meta element ${hex(h.tag)} has length ${h.length}`, {
          offset: h.start,
        });
      const value = Buffer.from(await reader.readExact(h.length));
      if (META_KEPT.has(h.tag)) meta.push({ tag: h.tag, vr: h.vr ?? "UN", value, items: null });
    }
    const tsElem = meta.find((m) => m.tag === T.TransferSyntaxUID);
    const tsUid = tsElem?.value?.toString("latin1").replace(/[\0 ]+$/, "");
    const ts = tsUid === undefined ? undefined : transferSyntaxInfo(tsUid);
    if (tsUid === undefined || ts === undefined)
      throw new DicomError(
        "DICOM_UNSUPPORTED_TRANSFER_SYNTAX",
        `transfer syntax ${tsUid ?? "(none)"} is not supported`,
      );
    const syntax: Syntax = ts.deflated
      ? { littleEndian: true, explicitVR: true }
      : { littleEndian: ts.littleEndian, explicitVR: ts.explicitVR };
    if (ts.deflated) {
      // PS3.5 A.5: the data set is one raw deflate stream; written back uncompressed.
      const leftover = reader.detachBuffered();
      const rest = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      async function* compressed(): AsyncGenerator<Buffer> {
        for (const b of leftover) yield b;
        for (;;) {
          const r = await rest.next();
          if (r.done === true) return;
          yield r.value;
        }
      }
      const inflated = pipeline(
        Readable.from(compressed(), { objectMode: false }),
        createInflateRaw(),
        () => undefined,
      );
      reader = new ChunkReader(inflated[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
      rw.setReader(reader);
      tsElem!.value = text(TS.ExplicitVRLittleEndian, "UI");
    }

    // Meta: new Media Storage SOP Instance UID, group length recomputed (PS3.10 §7.1).
    const metaOut: Buffer[] = [];
    for (const m of meta) {
      const v =
        m.tag === T.MediaStorageSOPInstanceUID && m.value !== null
          ? rw.transform({ ...m, tag: tag(0x0008, 0x0018) }, 1)!.value!
          : m.value!;
      encode({ ...m, value: v }, metaSyntax, metaOut);
    }
    const metaBody = Buffer.concat(metaOut);
    const groupLength: Buffer[] = [];
    encode(
      { tag: tag(0x0002, 0x0000), vr: "UL", value: u32(metaBody.length, true), items: null },
      metaSyntax,
      groupLength,
    );
    out.push(Buffer.alloc(128), Buffer.from("DICM", "latin1"), ...groupLength, metaBody);

    // Attributes this run writes at the top level, inserted in tag order (PS3.5 §7.1).
    const insert: Elem[] = [
      { tag: T.PatientIdentityRemoved, vr: "CS", value: text("YES", "CS"), items: null },
      { tag: T.DeidentificationMethod, vr: "LO", value: text(o.method, "LO"), items: null },
      {
        tag: T.DeidentificationMethodCodeSequence,
        vr: "SQ",
        value: null,
        items: [
          [
            { tag: T.CodeValue, vr: "SH", value: text("113100", "SH"), items: null },
            { tag: T.CodingSchemeDesignator, vr: "SH", value: text("DCM", "SH"), items: null },
            {
              tag: T.CodeMeaning,
              vr: "LO",
              value: text("Basic Application Confidentiality Profile", "LO"),
              items: null,
            },
          ],
        ],
      },
      ...[...(o.replace ?? new Map<number, string>())].map(([t, v]) => {
        const vr = standardVr(t) ?? "LO";
        return { tag: t, vr, value: text(v, vr), items: null };
      }),
    ].sort((a, b) => a.tag - b.tag);
    const seen = new Set<number>();
    const emitBefore = (t: number): void => {
      while (insert.length > 0 && insert[0]!.tag < t) {
        const e = insert.shift()!;
        if (!seen.has(e.tag)) {
          const parts: Buffer[] = [];
          encode(e, syntax, parts);
          out.push(...parts);
        }
      }
    };
    for (;;) {
      if (await reader.atEnd()) break;
      const h = await rw.readHeader(syntax);
      if (h.tag === T.Item || h.tag === T.ItemDelimitation || h.tag === T.SequenceDelimitation)
        throw new DicomError("DICOM_MALFORMED", `unexpected ${hex(h.tag)} in the data set`, {
          offset: h.start,
        });
      emitBefore(h.tag);
      if (h.tag === T.PixelData) {
        // Copied through as stored: same bytes, same hashes (the point of docs/design.md §8.1).
        const vr = h.vr ?? "OW";
        out.push(elementHeader(h.tag, vr, h.length, syntax));
        if (h.length !== UNDEFINED) {
          await reader.forEach(h.length, (b) => out.push(Buffer.from(b)));
        } else {
          for (;;) {
            const f = await rw.readHeader(syntax);
            out.push(tagBytes(f.tag, syntax.littleEndian), u32(f.length, syntax.littleEndian));
            if (f.tag === T.SequenceDelimitation) break;
            if (f.tag !== T.Item || f.length === UNDEFINED)
              throw new DicomError("DICOM_MALFORMED", `expected a fragment item, found ${hex(f.tag)}`, {
                offset: f.start,
              });
            await reader.forEach(f.length, (b) => out.push(Buffer.from(b)));
            await out.maybeFlush();
          }
        }
        await out.maybeFlush();
        continue;
      }
      // Removed attributes are skipped unread (no buffering of what is thrown away).
      const action = Math.floor(h.tag / 0x10000) % 2 === 1 ? "X" : annexEAction(hex(h.tag));
      if (action === "X" && h.length !== UNDEFINED) {
        await reader.skip(h.length);
        continue;
      }
      const el = rw.transform(await rw.readElement(h, syntax, 0), 0);
      if (o.replace?.has(h.tag) === true) seen.add(h.tag);
      if (el !== null) {
        const parts: Buffer[] = [];
        encode(el, syntax, parts);
        out.push(...parts);
      }
      await out.maybeFlush();
    }
    emitBefore(Number.MAX_SAFE_INTEGER);
    await out.flush();
  } finally {
    source.destroy();
    await fh.close();
  }
}
