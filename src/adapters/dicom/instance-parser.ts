/**
 * DICOM data set parser for the streaming hasher (hasher.ts): reads element headers and walks the
 * data set after the File Meta Information, keeping the few top-level attribute values the ledger
 * needs, skipping everything else unread, and hashing the Pixel Data value as it passes — as a
 * whole and per frame. The bytes are whoever sent the file's (a disk, Orthanc, an HTTP body):
 * lengths and nesting are bounded, malformed input is a DicomError with an offset.
 *
 * Encoding rules followed (PS3.5 2021b):
 *   - §7.1.2 / §7.1.3: explicit and implicit VR data elements; the long-length VRs of §7.1.2.
 *   - §7.5: sequences and items, with defined or undefined length and their delimiters.
 *   - §6.2.2 Note 3 / §6.2.2: UN with undefined length holds a sequence encoded as Implicit VR
 *     Little Endian.
 *   - A.4: encapsulated Pixel Data: Basic Offset Table item, then one item per fragment, then a
 *     Sequence Delimitation Item; A.4 also defines the Extended Offset Table (7FE0,0001).
 *
 * PRIVACY: the kept values include the raw Patient ID (0010,0020); see hasher.ts.
 */
import { createHash, type Hash } from "node:crypto";
import type { ChunkReader } from "./chunk-reader.js";
import { hex, LONG_VRS } from "./element-encoding.js";
import { DicomError } from "./errors.js";
import type { TransferSyntaxInfo } from "./transfer-syntax.js";

export const UNDEFINED_LENGTH = 0xffffffff;
const MAX_DEPTH = 64;
/** Upper bound for a header value we keep (UIDs are ≤ 64 bytes, LO ≤ 64 chars, PS3.5 §6.2). */
const MAX_KEPT_VALUE = 1024;
/** Upper bound for the Basic/Extended Offset Table we keep in memory (2^24 frames). */
const MAX_OFFSET_TABLE = 8 * (1 << 24);

// Tags as group * 0x10000 + element (always a non-negative number).
const tag = (g: number, e: number): number => g * 0x10000 + e;
export const T = {
  TransferSyntaxUID: tag(0x0002, 0x0010),
  MediaStorageSOPClassUID: tag(0x0002, 0x0002),
  MediaStorageSOPInstanceUID: tag(0x0002, 0x0003),
  SpecificCharacterSet: tag(0x0008, 0x0005),
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
  AccessionNumber: tag(0x0008, 0x0050),
  Modality: tag(0x0008, 0x0060),
  PatientID: tag(0x0010, 0x0020),
  PatientIdentityRemoved: tag(0x0012, 0x0062),
  BodyPartExamined: tag(0x0018, 0x0015),
  StudyInstanceUID: tag(0x0020, 0x000d),
  SeriesInstanceUID: tag(0x0020, 0x000e),
  SamplesPerPixel: tag(0x0028, 0x0002),
  NumberOfFrames: tag(0x0028, 0x0008),
  Rows: tag(0x0028, 0x0010),
  Columns: tag(0x0028, 0x0011),
  BitsAllocated: tag(0x0028, 0x0100),
  ExtendedOffsetTable: tag(0x7fe0, 0x0001),
  PixelData: tag(0x7fe0, 0x0010),
  Item: tag(0xfffe, 0xe000),
  ItemDelimitation: tag(0xfffe, 0xe00d),
  SequenceDelimitation: tag(0xfffe, 0xe0dd),
} as const;

/** Top-level attributes whose values we keep; everything else is skipped unread. */
const KEPT = new Set<number>([
  T.SpecificCharacterSet,
  T.SOPClassUID,
  T.SOPInstanceUID,
  T.AccessionNumber,
  T.Modality,
  T.PatientID,
  T.PatientIdentityRemoved,
  T.BodyPartExamined,
  T.StudyInstanceUID,
  T.SeriesInstanceUID,
  T.SamplesPerPixel,
  T.NumberOfFrames,
  T.Rows,
  T.Columns,
  T.BitsAllocated,
]);

export interface Syntax {
  littleEndian: boolean;
  explicitVR: boolean;
}

export interface ElementHeader {
  tag: number;
  vr: string | null;
  length: number;
  /** Stream position of the first byte of the tag. */
  start: number;
}

export interface PixelResult {
  sha256: string;
  bytes: number;
  encapsulated: boolean;
  frames: string[] | null;
}

export class InstanceParser {
  readonly values = new Map<number, Buffer>();
  pixel: PixelResult | null = null;
  private extendedOffsets: number[] | null = null;

  constructor(
    private reader: ChunkReader,
    private ts: TransferSyntaxInfo,
  ) {}

  setReader(reader: ChunkReader): void {
    this.reader = reader;
  }

  private u16(b: Buffer, off: number, le: boolean): number {
    return le ? b.readUInt16LE(off) : b.readUInt16BE(off);
  }
  private u32(b: Buffer, off: number, le: boolean): number {
    return le ? b.readUInt32LE(off) : b.readUInt32BE(off);
  }

  /** Reads one element (or item/delimiter) header in the given syntax. */
  async readHeader(syntax: Syntax): Promise<ElementHeader> {
    const r = this.reader;
    const start = r.position;
    const h = await r.readExact(8);
    const le = syntax.littleEndian;
    const t = tag(this.u16(h, 0, le), this.u16(h, 2, le));
    // PS3.5 §7.5: item and delimitation tags never carry a VR, in any transfer syntax.
    if (t >= 0xfffe0000 && t <= 0xfffeffff) return { tag: t, vr: null, length: this.u32(h, 4, le), start };
    if (!syntax.explicitVR) return { tag: t, vr: null, length: this.u32(h, 4, le), start };
    const c0 = h[4]!;
    const c1 = h[5]!;
    if (c0 < 0x41 || c0 > 0x5a || c1 < 0x41 || c1 > 0x5a) {
      throw new DicomError("DICOM_MALFORMED", `invalid VR bytes in element ${hex(t)}`, { offset: start + 4 });
    }
    const vr = String.fromCharCode(c0, c1);
    if (LONG_VRS.has(vr)) {
      const l = await r.readExact(4);
      return { tag: t, vr, length: this.u32(l, 0, le), start };
    }
    return { tag: t, vr, length: this.u16(h, 6, le), start };
  }

  /**
   * Parses elements until end of stream (depth 0) or until an Item Delimitation Item (inside an
   * item of undefined length).
   */
  async dataSet(syntax: Syntax, depth: number): Promise<void> {
    if (depth > MAX_DEPTH)
      throw new DicomError("DICOM_LIMIT_EXCEEDED", `sequences nested deeper than ${MAX_DEPTH}`);
    const r = this.reader;
    for (;;) {
      if (depth === 0 && (await r.atEnd())) return;
      const h = await this.readHeader(syntax);
      if (h.tag === T.ItemDelimitation) {
        if (depth === 0)
          throw new DicomError("DICOM_MALFORMED", "item delimiter outside an item", { offset: h.start });
        return;
      }
      if (h.tag === T.Item || h.tag === T.SequenceDelimitation) {
        throw new DicomError("DICOM_MALFORMED", `unexpected ${hex(h.tag)} in a data set`, {
          offset: h.start,
        });
      }
      await this.element(h, syntax, depth);
    }
  }

  private async element(h: ElementHeader, syntax: Syntax, depth: number): Promise<void> {
    const r = this.reader;
    if (h.tag === T.PixelData && depth === 0) {
      this.pixel =
        h.length === UNDEFINED_LENGTH ? await this.encapsulatedPixels(syntax) : await this.nativePixels(h);
      return;
    }
    if (h.length === UNDEFINED_LENGTH) {
      // Undefined length: a sequence (SQ; UN per §6.2.2; any element in implicit VR), or an
      // encapsulated Pixel Data nested in an item (e.g. Icon Image Sequence).
      if (h.tag === T.PixelData) {
        await this.skipEncapsulated(syntax);
        return;
      }
      if (syntax.explicitVR && h.vr !== "SQ" && h.vr !== "UN") {
        throw new DicomError("DICOM_MALFORMED", `undefined length on VR ${h.vr ?? "?"} in ${hex(h.tag)}`, {
          offset: h.start,
        });
      }
      const inner: Syntax = h.vr === "UN" ? { littleEndian: true, explicitVR: false } : syntax;
      await this.sequence(inner, depth + 1);
      return;
    }
    if (depth === 0 && KEPT.has(h.tag)) {
      if (h.length > MAX_KEPT_VALUE) {
        throw new DicomError("DICOM_MALFORMED", `value of ${hex(h.tag)} is ${h.length} bytes long`, {
          offset: h.start,
        });
      }
      // Copy: the view would pin the whole read chunk in memory.
      this.values.set(h.tag, Buffer.from(await r.readExact(h.length)));
      return;
    }
    if (depth === 0 && h.tag === T.ExtendedOffsetTable) {
      if (h.length > MAX_OFFSET_TABLE || h.length % 8 !== 0) {
        throw new DicomError("DICOM_MALFORMED", `Extended Offset Table of ${h.length} bytes`, {
          offset: h.start,
        });
      }
      const b = await r.readExact(h.length);
      const offsets: number[] = [];
      for (let i = 0; i < b.length; i += 8) {
        offsets.push(Number(syntax.littleEndian ? b.readBigUInt64LE(i) : b.readBigUInt64BE(i)));
      }
      this.extendedOffsets = offsets;
      return;
    }
    // Lazy: values (including whole defined-length sequences) we do not need are skipped.
    await r.skip(h.length);
  }

  /** Items of an undefined-length sequence, up to its Sequence Delimitation Item. */
  private async sequence(syntax: Syntax, depth: number): Promise<void> {
    for (;;) {
      const h = await this.readHeader(syntax);
      if (h.tag === T.SequenceDelimitation) return;
      if (h.tag !== T.Item) {
        throw new DicomError("DICOM_MALFORMED", `expected an item in a sequence, found ${hex(h.tag)}`, {
          offset: h.start,
        });
      }
      if (h.length === UNDEFINED_LENGTH) await this.dataSet(syntax, depth);
      else await this.reader.skip(h.length);
    }
  }

  private uint(t: number): number | undefined {
    const b = this.values.get(t);
    if (b?.length !== 2) return undefined;
    return this.ts.littleEndian ? b.readUInt16LE(0) : b.readUInt16BE(0);
  }

  numberOfFrames(): number {
    const b = this.values.get(T.NumberOfFrames);
    if (b === undefined) return 1;
    const n = Number(
      b
        .toString("latin1")
        .replace(/[\0 ]+$/, "")
        .trim(),
    );
    return Number.isSafeInteger(n) && n > 0 ? n : 1;
  }

  private async nativePixels(h: ElementHeader): Promise<PixelResult> {
    const all = createHash("sha256");
    const frames = this.numberOfFrames();
    const rows = this.uint(T.Rows);
    const cols = this.uint(T.Columns);
    const spp = this.uint(T.SamplesPerPixel) ?? 1;
    const bits = this.uint(T.BitsAllocated);
    let frameLen = 0;
    if (frames > 1 && rows !== undefined && cols !== undefined && bits !== undefined && bits % 8 === 0) {
      frameLen = rows * cols * spp * (bits / 8);
      // Frames are contiguous only when the value is exactly frames × frame size (a trailing
      // padding byte is allowed to make the length even, PS3.5 §8.1.1).
      if (h.length !== frameLen * frames && h.length !== frameLen * frames + 1) frameLen = 0;
    }
    if (frameLen === 0) {
      await this.reader.forEach(h.length, (b) => all.update(b));
      const d = all.digest("hex");
      return { sha256: d, bytes: h.length, encapsulated: false, frames: frames === 1 ? [d] : null };
    }
    const frameDigests: string[] = [];
    let cur = createHash("sha256");
    let inFrame = 0;
    await this.reader.forEach(h.length, (b) => {
      all.update(b);
      let off = 0;
      while (off < b.length) {
        if (frameDigests.length === frames) break; // trailing padding byte
        const k = Math.min(b.length - off, frameLen - inFrame);
        cur.update(k === b.length ? b : b.subarray(off, off + k));
        off += k;
        inFrame += k;
        if (inFrame === frameLen) {
          frameDigests.push(cur.digest("hex"));
          cur = createHash("sha256");
          inFrame = 0;
        }
      }
    });
    return { sha256: all.digest("hex"), bytes: h.length, encapsulated: false, frames: frameDigests };
  }

  /** PS3.5 A.4: Basic Offset Table item, fragment items, Sequence Delimitation Item. */
  private async encapsulatedPixels(syntax: Syntax): Promise<PixelResult> {
    const r = this.reader;
    const botHeader = await this.readHeader(syntax);
    if (botHeader.tag !== T.Item || botHeader.length === UNDEFINED_LENGTH) {
      throw new DicomError(
        "DICOM_MALFORMED",
        "encapsulated Pixel Data does not start with a Basic Offset Table item",
        {
          offset: botHeader.start,
        },
      );
    }
    if (botHeader.length % 4 !== 0 || botHeader.length > MAX_OFFSET_TABLE / 2) {
      throw new DicomError("DICOM_MALFORMED", `Basic Offset Table of ${botHeader.length} bytes`, {
        offset: botHeader.start,
      });
    }
    const bot = await r.readExact(botHeader.length);
    const frames = this.numberOfFrames();
    // Offsets are relative to the first byte of the first fragment's item tag (A.4).
    let offsets: number[] | null = null;
    if (bot.length > 0) {
      offsets = [];
      for (let i = 0; i < bot.length; i += 4) offsets.push(bot.readUInt32LE(i));
    } else if (this.extendedOffsets !== null && this.extendedOffsets.length > 0) {
      offsets = this.extendedOffsets;
    }
    // A table that does not start at 0 or is not increasing is ignored (seen in the wild);
    // boundaries then come from the fallbacks below.
    if (offsets !== null && !isIncreasingFromZero(offsets)) offsets = null;
    let framesValid = true;
    const mode: "offsets" | "single" | "markers" | "perFragment" =
      offsets !== null
        ? "offsets"
        : frames <= 1
          ? "single"
          : this.ts.frameMarkers !== null
            ? "markers"
            : "perFragment";

    const all = createHash("sha256");
    const frameDigests: string[] = [];
    let cur: Hash | null = null;
    let total = 0;
    let fragments = 0;
    const firstFragment = r.position;
    for (;;) {
      const f = await this.readHeader(syntax);
      if (f.tag === T.SequenceDelimitation) break;
      if (f.tag !== T.Item || f.length === UNDEFINED_LENGTH) {
        throw new DicomError("DICOM_MALFORMED", `expected a fragment item, found ${hex(f.tag)}`, {
          offset: f.start,
        });
      }
      const rel = f.start - firstFragment;
      let startsFrame = false;
      switch (mode) {
        case "offsets": {
          const next = offsets![frameDigests.length + (cur === null ? 0 : 1)];
          if (next !== undefined && rel === next) startsFrame = true;
          else if (next !== undefined && rel > next) framesValid = false; // offset inside a fragment
          break;
        }
        case "single":
          startsFrame = fragments === 0;
          break;
        case "perFragment":
          startsFrame = true;
          break;
        case "markers": {
          if (fragments === 0) startsFrame = true;
          else if (f.length >= 4 && (await r.ensure(4))) {
            const m = r.peek(4);
            startsFrame =
              this.ts.frameMarkers === "jpeg"
                ? m[0] === 0xff && m[1] === 0xd8 && m[2] === 0xff
                : m[0] === 0xff && m[1] === 0x4f && m[2] === 0xff && m[3] === 0x51;
          }
          break;
        }
      }
      if (startsFrame) {
        if (cur !== null) frameDigests.push(cur.digest("hex"));
        cur = createHash("sha256");
      }
      const frameHash = cur;
      await r.forEach(
        f.length,
        frameHash === null
          ? (b) => all.update(b)
          : (b) => {
              all.update(b);
              frameHash.update(b);
            },
      );
      if (frameHash === null) framesValid = false; // bytes before the first frame start
      total += f.length;
      fragments++;
    }
    if (cur !== null) frameDigests.push(cur.digest("hex"));
    const framesOk = framesValid && frameDigests.length === frames;
    return {
      sha256: all.digest("hex"),
      bytes: total,
      encapsulated: true,
      frames: framesOk ? frameDigests : null,
    };
  }

  /** Encapsulated Pixel Data below the top level (icons): walk the items, keep nothing. */
  private async skipEncapsulated(syntax: Syntax): Promise<void> {
    for (;;) {
      const f = await this.readHeader(syntax);
      if (f.tag === T.SequenceDelimitation) return;
      if (f.tag !== T.Item || f.length === UNDEFINED_LENGTH) {
        throw new DicomError("DICOM_MALFORMED", `expected a fragment item, found ${hex(f.tag)}`, {
          offset: f.start,
        });
      }
      await this.reader.skip(f.length);
    }
  }
}

function isIncreasingFromZero(offsets: readonly number[]): boolean {
  if (offsets[0] !== 0) return false;
  for (let i = 1; i < offsets.length; i++) if (offsets[i]! <= offsets[i - 1]!) return false;
  return true;
}
