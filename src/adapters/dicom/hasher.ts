/**
 * Streaming DICOM Part 10 reader and hasher.
 *
 * One pass over the bytes of a file computes
 *   - the SHA-256 of the whole file (every byte, as read from disk), and
 *   - the SHA-256 of the Pixel Data (7FE0,0010) value bytes as stored, so that the hash
 *     survives de-identification (which rewrites header attributes but not pixels) — DESIGN §6,
 * while parsing only the element headers and the few attribute values the ledger needs.
 *
 * Memory: the file is read with a large highWaterMark and hashed chunk by chunk; attribute
 * values we do not need are skipped, sequences of defined length are skipped whole, and pixel
 * bytes go to the hash as views into the read chunks. Nothing is ever buffered whole.
 *
 * Encoding rules followed (PS3.5 2021b):
 *   - §7.1.2 / §7.1.3: explicit and implicit VR data elements; the long-length VRs of §7.1.2.
 *   - §7.5: sequences and items, with defined or undefined length and their delimiters.
 *   - §6.2.2 Note 3 / §6.2.2: UN with undefined length holds a sequence encoded as Implicit VR
 *     Little Endian.
 *   - A.4: encapsulated Pixel Data: Basic Offset Table item, then one item per fragment, then a
 *     Sequence Delimitation Item; A.4 also defines the Extended Offset Table (7FE0,0001).
 *   - A.5: Deflated Explicit VR Little Endian: the data set after the File Meta Information is a
 *     raw deflate stream (inflated with node:zlib here).
 *   - PS3.10 §7.1: 128-byte preamble, "DICM", File Meta Information in Explicit VR LE.
 *
 * PRIVACY: `patientId` is returned raw so that the caller can pseudonymise it (HMAC with the
 * institution secret, DESIGN §5). It must never leave the node: never log it, never put it in
 * an entry, an error, a metric or an HTTP answer. The UIDs are also identifying (DESIGN §4,
 * "no UIDs that identify the patient leave the node unhashed").
 */
import { createHash, type Hash } from "node:crypto";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, pipeline } from "node:stream";
import { createInflateRaw } from "node:zlib";
import { ChunkReader } from "./chunk-reader.js";
import { DicomError } from "./errors.js";
import { DicomHashPool } from "./hash-pool.js";
import { TS, transferSyntaxInfo, type TransferSyntaxInfo } from "./transfer-syntax.js";

export interface DicomInstanceHashes {
  /** SHA-256 (hex) of the whole file. */
  fileSha256: string;
  /** File size in bytes. */
  bytes: number;
  /**
   * SHA-256 (hex) of the Pixel Data value as stored: the value bytes for native pixel data;
   * for encapsulated pixel data the concatenation of all fragments' bytes (without the Basic
   * Offset Table and without item headers), i.e. one hash over all frames. null when the
   * instance has no top-level Pixel Data (SR, KOS, …).
   */
  pixelDataSha256: string | null;
  /**
   * SHA-256 (hex) per frame, in frame order: for encapsulated data the concatenated fragments of
   * each frame; for native data the frame's slice of the value. null when frame boundaries
   * cannot be determined from the file alone (e.g. multi-fragment frames without any offset
   * table in a codec whose frames have no start marker) or there is no Pixel Data.
   */
  frameSha256: string[] | null;
  /** Number of Pixel Data value bytes hashed into pixelDataSha256. */
  pixelDataBytes: number;
  pixelDataEncapsulated: boolean;
  transferSyntaxUid: string;
  sopClassUid: string;
  sopInstanceUid: string;
  seriesInstanceUid: string;
  studyInstanceUid: string;
  modality: string | null;
  bodyPartExamined: string | null;
  /**
   * RAW Patient ID (0010,0020). PHI: the caller must pseudonymise it and it must never leave the
   * node (see the module comment).
   */
  patientId: string | null;
  /** Number of Frames (0028,0008), 1 when absent. */
  numberOfFrames: number;
  /**
   * Patient Identity Removed (0012,0062) is "YES": the instance is a de-identified copy (PS3.15
   * E.1.1), e.g. one made for a trial or dataset, and is not registered as a clinical study.
   */
  patientIdentityRemoved: boolean;
}

export interface HashOptions {
  /** Read chunk size. Large chunks keep per-chunk overhead negligible (default 4 MiB). */
  highWaterMark?: number;
}

const DEFAULT_HWM = 4 * 1024 * 1024;
const UNDEFINED_LENGTH = 0xffffffff;
const MAX_DEPTH = 64;
/** Upper bound for a header value we keep (UIDs are ≤ 64 bytes, LO ≤ 64 chars, PS3.5 §6.2). */
const MAX_KEPT_VALUE = 1024;
/** Upper bound for the Basic/Extended Offset Table we keep in memory (2^24 frames). */
const MAX_OFFSET_TABLE = 8 * (1 << 24);

// Tags as group * 0x10000 + element (always a non-negative number).
const tag = (g: number, e: number): number => g * 0x10000 + e;
const T = {
  TransferSyntaxUID: tag(0x0002, 0x0010),
  MediaStorageSOPClassUID: tag(0x0002, 0x0002),
  MediaStorageSOPInstanceUID: tag(0x0002, 0x0003),
  SpecificCharacterSet: tag(0x0008, 0x0005),
  SOPClassUID: tag(0x0008, 0x0016),
  SOPInstanceUID: tag(0x0008, 0x0018),
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

/** PS3.5 §7.1.2: VRs with a reserved 2 bytes and a 32-bit length in Explicit VR. */
const LONG_VRS = new Set(["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]);

const hex = (t: number): string => {
  const s = t.toString(16).toUpperCase().padStart(8, "0");
  return `(${s.slice(0, 4)},${s.slice(4)})`;
};

interface Syntax {
  littleEndian: boolean;
  explicitVR: boolean;
}

interface ElementHeader {
  tag: number;
  vr: string | null;
  length: number;
  /** Stream position of the first byte of the tag. */
  start: number;
}

interface PixelResult {
  sha256: string;
  bytes: number;
  encapsulated: boolean;
  frames: string[] | null;
}

class InstanceParser {
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

function uidString(b: Buffer | undefined): string | undefined {
  if (b === undefined) return undefined;
  // UI values are padded with a trailing NUL to even length (PS3.5 §6.2 table 6.2-1).
  const s = b.toString("latin1").replace(/[\0 ]+$/, "");
  return s.length > 0 ? s : undefined;
}

function textString(b: Buffer | undefined, utf8: boolean): string | null {
  if (b === undefined) return null;
  // CS/LO: leading and trailing spaces are insignificant (PS3.5 §6.2).
  const s = b
    .toString(utf8 ? "utf8" : "latin1")
    .replace(/[\0]+$/, "")
    .trim();
  return s.length > 0 ? s : null;
}

interface HashingSource {
  iterator: AsyncIterator<Buffer>;
  digest(): string;
  bytes(): number;
  /** Pulls and hashes whatever the parser did not consume. */
  drain(): Promise<void>;
}

function hashingSource(source: AsyncIterable<Buffer> | Iterable<Buffer>): HashingSource {
  const hash = createHash("sha256");
  let bytes = 0;
  async function* gen(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  }
  const iterator = gen();
  return {
    iterator,
    digest: () => hash.digest("hex"),
    bytes: () => bytes,
    drain: async () => {
      for (;;) {
        const r = await iterator.next();
        if (r.done === true) return;
      }
    },
  };
}

/**
 * Hashes one DICOM Part 10 instance read from `source` (a file stream, an HTTP body, …).
 * Throws DicomError with a stable code; closes the source on error.
 */
export async function hashDicomStream(
  source: AsyncIterable<Buffer> | Iterable<Buffer>,
): Promise<DicomInstanceHashes> {
  const hs = hashingSource(source);
  try {
    return await parse(hs);
  } catch (err) {
    await hs.iterator.return?.(undefined);
    throw err;
  }
}

async function parse(hs: HashingSource): Promise<DicomInstanceHashes> {
  let reader = new ChunkReader(hs.iterator);
  // PS3.10 §7.1: 128-byte preamble then the 4-byte prefix "DICM".
  if (!(await reader.ensure(132))) {
    throw new DicomError("DICOM_NOT_PART10", "shorter than the 132-byte Part 10 preamble and prefix", {
      offset: 0,
    });
  }
  const prefix = reader.take(132);
  if (prefix.toString("latin1", 128, 132) !== "DICM") {
    throw new DicomError("DICOM_NOT_PART10", 'no "DICM" prefix at offset 128', { offset: 128 });
  }

  // File Meta Information: group 0002, always Explicit VR Little Endian (PS3.10 §7.1).
  const metaSyntax: Syntax = { littleEndian: true, explicitVR: true };
  const meta = new Map<number, Buffer>();
  const metaParser = new InstanceParser(reader, transferSyntaxInfo(TS.ExplicitVRLittleEndian)!);
  for (;;) {
    if (!(await reader.ensure(2))) {
      throw new DicomError("DICOM_TRUNCATED", "stream ended in or right after the File Meta Information", {
        offset: reader.position,
      });
    }
    if (reader.peek(2).readUInt16LE(0) !== 0x0002) break;
    const h = await metaParser.readHeader(metaSyntax);
    if (h.length === UNDEFINED_LENGTH || h.length > 64 * 1024) {
      throw new DicomError("DICOM_MALFORMED", `File Meta element ${hex(h.tag)} has length ${h.length}`, {
        offset: h.start,
      });
    }
    const v = await reader.readExact(h.length);
    if (
      h.tag === T.TransferSyntaxUID ||
      h.tag === T.MediaStorageSOPClassUID ||
      h.tag === T.MediaStorageSOPInstanceUID
    ) {
      meta.set(h.tag, Buffer.from(v));
    }
  }
  const tsUid = uidString(meta.get(T.TransferSyntaxUID));
  if (tsUid === undefined) {
    throw new DicomError("DICOM_MALFORMED", "File Meta Information has no Transfer Syntax UID (0002,0010)");
  }
  const ts = transferSyntaxInfo(tsUid);
  if (ts === undefined) {
    throw new DicomError("DICOM_UNSUPPORTED_TRANSFER_SYNTAX", `transfer syntax ${tsUid} is not supported`);
  }

  const parser = new InstanceParser(reader, ts);
  if (ts.deflated) {
    // PS3.5 A.5: everything after the meta group is one raw deflate stream. The original bytes
    // still flow through the hashing source, so fileSha256 covers the compressed file.
    const leftover = reader.detachBuffered();
    async function* compressed(): AsyncGenerator<Buffer> {
      for (const b of leftover) yield b;
      for (;;) {
        const r = await hs.iterator.next();
        if (r.done === true) return;
        yield r.value;
      }
    }
    const inflated = pipeline(Readable.from(compressed(), { objectMode: false }), createInflateRaw(), () => {
      /* errors surface through the iterator below */
    });
    reader = new ChunkReader(inflated[Symbol.asyncIterator]() as AsyncIterator<Buffer>);
    parser.setReader(reader);
    try {
      await parser.dataSet({ littleEndian: true, explicitVR: true }, 0);
    } catch (err) {
      if (err instanceof DicomError) throw err;
      throw new DicomError("DICOM_MALFORMED", "deflated data set does not inflate", { cause: err });
    }
  } else {
    await parser.dataSet({ littleEndian: ts.littleEndian, explicitVR: ts.explicitVR }, 0);
  }
  await hs.drain();

  const v = parser.values;
  const utf8 = (v.get(T.SpecificCharacterSet)?.toString("latin1") ?? "").includes("ISO_IR 192");
  const sopInstanceUid =
    uidString(v.get(T.SOPInstanceUID)) ?? uidString(meta.get(T.MediaStorageSOPInstanceUID));
  const sopClassUid = uidString(v.get(T.SOPClassUID)) ?? uidString(meta.get(T.MediaStorageSOPClassUID));
  const studyInstanceUid = uidString(v.get(T.StudyInstanceUID));
  const seriesInstanceUid = uidString(v.get(T.SeriesInstanceUID));
  const missing = [
    ["SOP Class UID (0008,0016)", sopClassUid],
    ["SOP Instance UID (0008,0018)", sopInstanceUid],
    ["Study Instance UID (0020,000D)", studyInstanceUid],
    ["Series Instance UID (0020,000E)", seriesInstanceUid],
  ]
    .filter(([, x]) => x === undefined)
    .map(([n]) => n);
  if (missing.length > 0 || !sopClassUid || !sopInstanceUid || !studyInstanceUid || !seriesInstanceUid) {
    throw new DicomError("DICOM_MISSING_ATTRIBUTE", `missing ${missing.join(", ")}`);
  }
  const px = parser.pixel;
  return {
    fileSha256: hs.digest(),
    bytes: hs.bytes(),
    pixelDataSha256: px?.sha256 ?? null,
    frameSha256: px?.frames ?? null,
    pixelDataBytes: px?.bytes ?? 0,
    pixelDataEncapsulated: px?.encapsulated ?? false,
    transferSyntaxUid: tsUid,
    sopClassUid,
    sopInstanceUid,
    seriesInstanceUid,
    studyInstanceUid,
    modality: textString(v.get(T.Modality), false),
    bodyPartExamined: textString(v.get(T.BodyPartExamined), false),
    patientId: textString(v.get(T.PatientID), utf8),
    numberOfFrames: parser.numberOfFrames(),
    patientIdentityRemoved: textString(v.get(T.PatientIdentityRemoved), false) === "YES",
  };
}

/** Hashes one file. I/O failures become DICOM_IO. */
export async function hashDicomFile(path: string, options: HashOptions = {}): Promise<DicomInstanceHashes> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new DicomError("DICOM_IO", `cannot stat file: ${(err as NodeJS.ErrnoException).code ?? "error"}`, {
      cause: err,
    });
  }
  // One read per file when it fits: a highWaterMark above the file size only wastes allocation.
  const hwm = Math.max(64 * 1024, Math.min(options.highWaterMark ?? DEFAULT_HWM, size));
  const fh = await open(path, "r").catch((err: unknown) => {
    throw new DicomError("DICOM_IO", `cannot open file: ${(err as NodeJS.ErrnoException).code ?? "error"}`, {
      cause: err,
    });
  });
  try {
    return await hashDicomStream(readChunks(fh, hwm, size));
  } catch (err) {
    if (err instanceof DicomError) throw err;
    throw new DicomError("DICOM_IO", `cannot read file: ${(err as NodeJS.ErrnoException).code ?? "error"}`, {
      cause: err,
    });
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Reads a file in fresh chunks of `size` bytes with positional reads: less machinery per chunk
 * than fs.ReadStream, and each chunk is a new buffer, so views handed to the parser stay valid.
 */
async function* readChunks(fh: FileHandle, size: number, expected: number): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    // Past the size seen by stat, a small buffer is enough to confirm EOF (or a grown file).
    const buf = Buffer.allocUnsafe(position < expected ? size : 64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }
}

export interface FolderEntry {
  path: string;
  result?: DicomInstanceHashes;
  error?: DicomError;
}

/** Lists regular files under dir, recursively, sorted for a deterministic order. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Hashes every file under `dir` (recursively); results come back in listing order. Files that are
 * not DICOM instances are reported with their error rather than aborting the walk; a DICOMDIR
 * (PS3.10 §8) is skipped.
 *
 * `pool` (a long-lived DicomHashPool) or `workers` > 0 (a pool of that many threads for this call,
 * e.g. os.availableParallelism()) hash on worker threads: the fastest way for big folders, and the
 * main event loop stays free. Otherwise (default) it hashes on this thread, `concurrency` files
 * at a time so that I/O overlaps hashing.
 */
export async function hashDicomFolder(
  dir: string,
  options: HashOptions & { concurrency?: number; workers?: number; pool?: DicomHashPool } = {},
): Promise<FolderEntry[]> {
  const files = (await listFiles(dir)).filter((p) => !/(^|\/)DICOMDIR$/i.test(p));
  const out: FolderEntry[] = new Array<FolderEntry>(files.length);
  const ownPool = options.pool === undefined && (options.workers ?? 0) > 0;
  const pool = options.pool ?? (ownPool ? new DicomHashPool(options.workers) : undefined);
  const hashOne = (path: string): Promise<DicomInstanceHashes> =>
    pool !== undefined ? pool.hash(path, options) : hashDicomFile(path, options);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      const path = files[i]!;
      try {
        out[i] = { path, result: await hashOne(path) };
      } catch (err) {
        if (!(err instanceof DicomError)) throw err;
        out[i] = { path, error: err };
      }
    }
  };
  // Two files in flight per worker keep each worker busy while the next file is being opened.
  const lanes = pool !== undefined ? 2 * pool.size : Math.max(1, options.concurrency ?? 2);
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    if (ownPool) await pool?.close();
  }
  return out;
}
