/**
 * Streaming DICOM Part 10 reader and hasher.
 *
 * One pass over the bytes of a file computes
 *   - the SHA-256 of the whole file (every byte, as read from disk), and
 *   - the SHA-256 of the Pixel Data (7FE0,0010) value bytes as stored, so that the hash
 *     survives de-identification (which rewrites header attributes but not pixels) — docs/design.md §8.1,
 * while parsing only the element headers and the few attribute values the ledger needs.
 *
 * Memory: the file is read with a large highWaterMark and hashed chunk by chunk; attribute
 * values we do not need are skipped, sequences of defined length are skipped whole, and pixel
 * bytes go to the hash as views into the read chunks. Nothing is ever buffered whole.
 *
 * This file drives the pass: the file hash over every byte read, the Part 10 preamble and File
 * Meta Information, inflation of deflated data sets, the result, and the file and folder walkers.
 * The data set itself (elements, sequences, Pixel Data hashing; PS3.5 §7.1, §7.5, A.4) is parsed
 * in instance-parser.ts.
 *
 * Encoding rules followed here (PS3.5 2021b, PS3.10):
 *   - A.5: Deflated Explicit VR Little Endian: the data set after the File Meta Information is a
 *     raw deflate stream (inflated with node:zlib here).
 *   - PS3.10 §7.1: 128-byte preamble, "DICM", File Meta Information in Explicit VR LE.
 *
 * PRIVACY: `patientId` is returned raw so that the caller can pseudonymise it (HMAC with the
 * institution secret, docs/design.md §5.1). It must never leave the node: never log it, never put it in
 * an entry, an error, a metric or an HTTP answer. The UIDs are also identifying (docs/design.md §5.5,
 * "DICOM UIDs leave the node only as keyed pseudonyms").
 */
import { createHash } from "node:crypto";
import { type FileHandle, open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable, pipeline } from "node:stream";
import { createInflateRaw } from "node:zlib";
import { ChunkReader } from "./chunk-reader.js";
import { DicomError } from "./errors.js";
import type { DicomInstanceHashes } from "../../ports/imaging.js";
import { DicomHashPool } from "./hash-pool.js";
import { hex } from "./element-encoding.js";
import { InstanceParser, T, UNDEFINED_LENGTH, type Syntax } from "./instance-parser.js";
import { TS, transferSyntaxInfo } from "./transfer-syntax.js";

export type { DicomInstanceHashes } from "../../ports/imaging.js";

export interface HashOptions {
  /** Read chunk size. Large chunks keep per-chunk overhead negligible (default 4 MiB). */
  highWaterMark?: number;
}

const DEFAULT_HWM = 4 * 1024 * 1024;

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
    accessionNumber: textString(v.get(T.AccessionNumber), utf8),
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
