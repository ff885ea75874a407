/**
 * A small, strict POSIX ustar (IEEE Std 1003.1-1988 / POSIX.1 `ustar` interchange format) encoder
 * and decoder for radledger bundles (docs/bundle-format.md §2). Every tar tool reads what it writes;
 * the decoder accepts only what the encoder writes — one canonical header per (path, size) — so that
 * no byte of a bundle is free to change unnoticed (a flipped mtime or owner byte is a tampered
 * bundle, not a harmless difference).
 *
 * Layout of a member: a 512-byte header, the content, zero padding to a multiple of 512. The archive
 * ends with two zero blocks and nothing after them. Header fields written:
 *
 *   name[100] @0     the path (ASCII [A-Za-z0-9._/-], no "." or ".." parts, no leading "/"); a path
 *                    longer than 100 bytes is split at the first "/" that leaves ≤ 100 bytes here
 *                    and puts the part before it in prefix[155] @345 (POSIX ustar)
 *   mode[8]   @100   "0000644\0"          uid[8] @108, gid[8] @116: "0000000\0"
 *   size[12]  @124   11 octal digits "\0"  mtime[12] @136: "00000000000\0" (bundles are deterministic)
 *   chksum[8] @148   6 octal digits "\0 " (sum of header bytes with this field as spaces)
 *   typeflag  @156   "0" (regular file)   linkname[100] @157: zeros
 *   magic[6]  @257   "ustar\0"            version[2] @263: "00"
 *   uname, gname, devmajor, devminor, unused prefix bytes, padding: zeros
 *
 * Input comes from whoever handed over the bundle: the decoder never throws anything but a coded
 * BUNDLE_MALFORMED error naming the byte offset.
 */
import { RadledgerError } from "./errors.js";

export const TAR_BLOCK = 512;
/** Octal size field of 11 digits: at most 8 GiB − 1 per member. */
export const TAR_MAX_MEMBER_SIZE = 8 ** 11 - 1;
const NAME_PATTERN = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export interface TarMember {
  readonly path: string;
  readonly bytes: Uint8Array;
}

function malformed(message: string, offset: number): never {
  throw new RadledgerError("BUNDLE_MALFORMED", `tar: ${message} (byte ${offset})`, { at: `byte ${offset}` });
}

/** Where a path is split into ustar prefix and name: -1 for no prefix, undefined if it cannot be stored. */
function splitPoint(path: string): number | undefined {
  if (path.length <= 100) return -1;
  for (let i = path.indexOf("/"); i >= 0 && i <= 155; i = path.indexOf("/", i + 1))
    if (path.length - i - 1 <= 100) return i;
  return undefined;
}

const DOT_PART = /(^|\/)\.\.?(\/|$)/;

export function isValidTarPath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 256 &&
    NAME_PATTERN.test(path) &&
    !DOT_PART.test(path) &&
    splitPoint(path) !== undefined
  );
}

function writeAscii(block: Uint8Array, offset: number, text: string): number {
  let sum = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    block[offset + i] = c;
    sum += c;
  }
  return sum;
}

/**
 * The fields every header shares (mode, uid, gid, mtime, the checksum as spaces, type flag, magic,
 * version), written once; a header is this template plus name, prefix and size. Bundles carry two
 * members per entry, so header encoding (and the decoder's canonical-header check) is on the
 * verifier's per-entry path.
 */
const TEMPLATE = new Uint8Array(TAR_BLOCK);
const TEMPLATE_SUM =
  writeAscii(TEMPLATE, 100, "0000644\0") +
  writeAscii(TEMPLATE, 108, "0000000\0") +
  writeAscii(TEMPLATE, 116, "0000000\0") +
  writeAscii(TEMPLATE, 136, "00000000000\0") +
  writeAscii(TEMPLATE, 148, "        ") +
  writeAscii(TEMPLATE, 156, "0") +
  writeAscii(TEMPLATE, 257, "ustar\0") +
  writeAscii(TEMPLATE, 263, "00");

function octal(value: number, digits: number): string {
  return value.toString(8).padStart(digits, "0");
}

/** The one header this format writes for a file of `size` bytes at `path`. */
export function tarHeader(path: string, size: number): Uint8Array {
  return encodeHeader(path, size, false);
}

function encodeHeader(path: string, size: number, validated: boolean): Uint8Array {
  if (!validated && !isValidTarPath(path))
    throw new RadledgerError(
      "INPUT_INVALID",
      `tar: path ${JSON.stringify(path.slice(0, 120))} is not allowed`,
    );
  if (!Number.isSafeInteger(size) || size < 0 || size > TAR_MAX_MEMBER_SIZE)
    throw new RadledgerError("INPUT_INVALID", `tar: member size ${size} out of range`);
  const h = TEMPLATE.slice();
  let sum = TEMPLATE_SUM;
  const split = splitPoint(path)!;
  if (split < 0) sum += writeAscii(h, 0, path);
  else sum += writeAscii(h, 0, path.slice(split + 1)) + writeAscii(h, 345, path.slice(0, split));
  sum += writeAscii(h, 124, `${octal(size, 11)}\0`);
  // The checksum counts its own field as eight spaces (already in the template and the sum).
  writeAscii(h, 148, `${octal(sum, 6)}\0 `);
  return h;
}

/** Zero bytes that pad a member of `size` bytes to a whole block. */
export function tarPadding(size: number): Uint8Array {
  return new Uint8Array(paddingLength(size));
}

function paddingLength(size: number): number {
  const rest = size % TAR_BLOCK;
  return rest === 0 ? 0 : TAR_BLOCK - rest;
}

/** The end-of-archive marker: two zero blocks. */
export function tarEnd(): Uint8Array {
  return new Uint8Array(2 * TAR_BLOCK);
}

/** Encodes members into one archive (for small bundles and tests; large ones stream header by header). */
export function encodeTar(members: readonly TarMember[]): Uint8Array {
  let total = 2 * TAR_BLOCK;
  for (const m of members) total += TAR_BLOCK + m.bytes.length + paddingLength(m.bytes.length);
  const out = new Uint8Array(total);
  let o = 0;
  for (const m of members) {
    out.set(tarHeader(m.path, m.bytes.length), o);
    o += TAR_BLOCK;
    out.set(m.bytes, o);
    o += m.bytes.length + paddingLength(m.bytes.length);
  }
  return out;
}

/** Whether two 512-byte blocks are equal: word by word when both are 4-byte aligned (the common case). */
function sameBlock(a: Uint8Array, b: Uint8Array): boolean {
  if ((a.byteOffset & 3) === 0 && (b.byteOffset & 3) === 0) {
    const x = new Uint32Array(a.buffer, a.byteOffset, TAR_BLOCK / 4);
    const y = new Uint32Array(b.buffer, b.byteOffset, TAR_BLOCK / 4);
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = 0; i < TAR_BLOCK; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** POSIX ustar type flags other than "0" (regular file), and the pre-POSIX "\0" (also regular, refused as non-canonical). */
const NON_REGULAR: Readonly<Record<string, string>> = {
  "\0": "an old-style regular file (type flag NUL), not the canonical header",
  "1": "a hard link (type flag 1)",
  "2": "a symbolic link (type flag 2)",
  "3": "a character device (type flag 3)",
  "4": "a block device (type flag 4)",
  "5": "a directory (type flag 5)",
  "6": "a FIFO (type flag 6)",
  "7": "a contiguous file (type flag 7)",
  g: "a pax global header (type flag g)",
  x: "a pax extended header (type flag x)",
  L: "a GNU long name (type flag L)",
  K: "a GNU long link name (type flag K)",
};

/** Parses a header block strictly; returns the member's path and size, or undefined for a zero block. */
export function parseTarHeader(
  block: Uint8Array,
  offset: number,
): { path: string; size: number } | undefined {
  if (block.length !== TAR_BLOCK) malformed("truncated header", offset);
  let zero = true;
  for (let i = 0; i < TAR_BLOCK && zero; i++) zero = block[i] === 0;
  if (zero) return undefined;
  const field = (start: number, length: number): string => {
    let end = start;
    while (end < start + length && block[end] !== 0) end++;
    return String.fromCharCode(...block.subarray(start, end));
  };
  const name = field(0, 100);
  const prefix = field(345, 155);
  const path = prefix.length > 0 ? `${prefix}/${name}` : name;
  if (!isValidTarPath(path))
    malformed(`member name ${JSON.stringify(path.slice(0, 100))} is not allowed`, offset);
  const sizeField = block.subarray(124, 136);
  let size = 0;
  for (let i = 0; i < 11; i++) {
    const c = sizeField[i]!;
    if (c < 0x30 || c > 0x37) malformed(`size field of ${path} is not 11 octal digits`, offset + 124);
    size = size * 8 + (c - 0x30);
  }
  const expected = encodeHeader(path, size, true);
  if (sameBlock(block, expected)) return { path, size };
  // A member that is not a regular file is named as such: a link, device or FIFO extracted by a
  // careless tool reads outside the bundle or blocks forever (docs/bundle-format.md §4.2).
  const type = block[156]!;
  if (type !== 0x30) {
    const what = NON_REGULAR[String.fromCharCode(type)] ?? `not a regular file (type flag byte ${type})`;
    malformed(`member ${path} is ${what}: a bundle holds regular files only`, offset + 156);
  }
  for (let i = 0; i < TAR_BLOCK; i++) {
    if (block[i] !== expected[i]) {
      const field =
        i >= 148 && i < 156
          ? "checksum"
          : i < 100
            ? "name"
            : i < 124
              ? "mode/uid/gid"
              : i < 136
                ? "size"
                : i < 148
                  ? "mtime"
                  : i === 156
                    ? "type flag"
                    : i < 257
                      ? "link name"
                      : i < 265
                        ? "magic/version"
                        : "owner/device/prefix";
      malformed(`header of ${path} is not the canonical ustar header (${field} field)`, offset + i);
    }
  }
  return { path, size };
}

/**
 * Incremental decoder: feed it chunks of any size; it yields each complete member. `finish()` checks
 * that the archive ended properly (two zero blocks and nothing after them). Chunks are queued, not
 * re-concatenated on every push, so a large member arriving in small chunks costs linear time.
 */
export class TarDecoder {
  readonly #chunks: Uint8Array[] = [];
  #head = 0; // read position in #chunks[0]
  #available = 0;
  #offset = 0; // archive offset of the next unread byte
  #pending: { path: string; size: number } | undefined;
  #zeroBlocks = 0;

  get offset(): number {
    return this.#offset;
  }

  /** Adds a chunk and returns the members it completes. */
  push(chunk: Uint8Array): TarMember[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#available += chunk.length;
    }
    const out: TarMember[] = [];
    for (;;) {
      if (this.#zeroBlocks > 0) {
        if (this.#zeroBlocks === 2) {
          if (this.#available > 0) malformed("data after the end-of-archive marker", this.#offset);
          return out;
        }
        if (this.#available < TAR_BLOCK) return out;
        const at = this.#offset;
        const block = this.take(TAR_BLOCK);
        const i = block.findIndex((b) => b !== 0);
        if (i >= 0) malformed("the end-of-archive marker is not two zero blocks", at + i);
        this.#zeroBlocks = 2;
        continue;
      }
      if (this.#pending) {
        const { path, size } = this.#pending;
        const padded = size + paddingLength(size);
        if (this.#available < padded) return out;
        const at = this.#offset;
        const all = this.take(padded);
        for (let i = size; i < padded; i++)
          if (all[i] !== 0) malformed(`padding after ${path} is not zero`, at + i);
        this.#pending = undefined;
        out.push({ path, bytes: size === padded ? all : all.subarray(0, size) });
        continue;
      }
      if (this.#available < TAR_BLOCK) return out;
      const at = this.#offset;
      const header = parseTarHeader(this.take(TAR_BLOCK), at);
      if (!header) this.#zeroBlocks = 1;
      else this.#pending = header;
    }
  }

  /** Checks the end of the archive after the last chunk. */
  finish(): void {
    if (this.#pending) malformed(`archive ends inside ${this.#pending.path}`, this.#offset);
    if (this.#zeroBlocks < 2) malformed("archive has no end-of-archive marker", this.#offset);
  }

  /** Removes and returns the next n bytes (n ≤ #available), copying only when they span chunks. */
  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    this.#available -= n;
    this.#offset += n;
    const first = this.#chunks[0]!;
    if (first.length - this.#head >= n) {
      const out = first.subarray(this.#head, this.#head + n);
      this.#head += n;
      if (this.#head === first.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.#chunks[0]!;
      const k = Math.min(n - o, c.length - this.#head);
      out.set(c.subarray(this.#head, this.#head + k), o);
      o += k;
      this.#head += k;
      if (this.#head === c.length) {
        this.#chunks.shift();
        this.#head = 0;
      }
    }
    return out;
  }
}

/** Decodes a whole archive held in memory. */
export function decodeTar(bytes: Uint8Array): TarMember[] {
  const d = new TarDecoder();
  const members = d.push(bytes);
  d.finish();
  return members;
}

/** Members of an archive arriving as a stream of chunks, in archive order, each read whole (tests, small bundles). */
export async function* tarMembers(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: TarStreamOptions = {},
): AsyncGenerator<TarMember> {
  for await (const m of tarStream(chunks, options)) {
    const bytes = new Uint8Array(m.size);
    let o = 0;
    for await (const c of m.chunks()) {
      bytes.set(c, o);
      o += c.length;
    }
    yield { path: m.path, bytes };
  }
}

/**
 * A member as the streaming decoder yields it: its path and size from the header, and its content
 * as chunks (subarrays of the input's chunks, not copies), to be read at most once and before the
 * next member is asked for; whatever the reader leaves unread is skipped then.
 */
export interface TarStreamMember {
  readonly path: string;
  readonly size: number;
  chunks(): AsyncIterable<Uint8Array>;
}

export interface TarStreamOptions {
  /**
   * The archive's length when known (a file's size): a header that declares more content than is
   * left is refused at once, before anything is read or hashed.
   */
  readonly totalSize?: number;
}

/** Pulls bytes from a chunk stream: at most one input chunk is held, and copies are made only for
 * a header that spans two chunks. */
class ByteSource {
  readonly #it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  #buf: Uint8Array = new Uint8Array(0);
  #pos = 0;
  #done = false;
  /** Archive offset of the next unread byte. */
  offset = 0;

  constructor(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
    this.#it = Symbol.asyncIterator in chunks ? chunks[Symbol.asyncIterator]() : chunks[Symbol.iterator]();
  }

  /** True when an unread byte is buffered; false at the end of the input. */
  async fill(): Promise<boolean> {
    while (this.#pos >= this.#buf.length) {
      if (this.#done) return false;
      const r = await this.#it.next();
      if (r.done) {
        this.#done = true;
        return false;
      }
      this.#buf = r.value;
      this.#pos = 0;
    }
    return true;
  }

  /** Up to n (> 0) bytes without copying, or undefined at the end of the input. */
  async some(n: number): Promise<Uint8Array | undefined> {
    if (!(await this.fill())) return undefined;
    const k = Math.min(n, this.#buf.length - this.#pos);
    const out = this.#buf.subarray(this.#pos, this.#pos + k);
    this.#pos += k;
    this.offset += k;
    return out;
  }

  /** Exactly n (> 0) bytes, or undefined when the input ends first. */
  async exactly(n: number): Promise<Uint8Array | undefined> {
    const first = await this.some(n);
    if (!first || first.length === n) return first;
    const out = new Uint8Array(n);
    out.set(first);
    let o = first.length;
    while (o < n) {
      const c = await this.some(n - o);
      if (!c) return undefined;
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/**
 * The streaming decoder: the same strict checks as TarDecoder, but a member's content is handed on
 * chunk by chunk as it arrives, so that memory stays bounded by the input's chunk size whatever the
 * member's size (a 600 MB DICOM instance is hashed as it passes, never held). A truncated archive,
 * a header declaring more than the archive holds, non-zero padding or anything after the end marker
 * is a BUNDLE_MALFORMED error naming the byte offset.
 */
export async function* tarStream(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: TarStreamOptions = {},
): AsyncGenerator<TarStreamMember> {
  const src = new ByteSource(chunks);
  const total = options.totalSize;
  for (;;) {
    const at = src.offset;
    const block = await src.exactly(TAR_BLOCK);
    if (!block) {
      if (src.offset === at) malformed("archive has no end-of-archive marker", at);
      malformed("truncated header", at);
    }
    const header = parseTarHeader(block, at);
    if (!header) {
      const second = await src.exactly(TAR_BLOCK);
      if (!second) malformed("archive has no end-of-archive marker", src.offset);
      const i = second.findIndex((b) => b !== 0);
      if (i >= 0) malformed("the end-of-archive marker is not two zero blocks", at + TAR_BLOCK + i);
      if (await src.fill()) malformed("data after the end-of-archive marker", src.offset);
      return;
    }
    const { path, size } = header;
    const padded = size + paddingLength(size);
    if (total !== undefined && padded > total - src.offset)
      malformed(
        `member ${path} declares ${size} bytes, more than the ${Math.max(0, total - src.offset)} left in the archive`,
        at + 124,
      );
    let remaining = size;
    let taken = false;
    const content = async function* (): AsyncGenerator<Uint8Array> {
      while (remaining > 0) {
        const c = await src.some(remaining);
        if (!c) malformed(`archive ends inside ${path}`, src.offset);
        remaining -= c.length;
        yield c;
      }
    };
    yield {
      path,
      size,
      chunks: () => {
        if (taken) throw new RadledgerError("INTERNAL", `tar: the content of ${path} is read once`);
        taken = true;
        return content();
      },
    };
    // Whatever the reader did not read is skipped (still checked for truncation), then the padding.
    while (remaining > 0) {
      const c = await src.some(remaining);
      if (!c) malformed(`archive ends inside ${path}`, src.offset);
      remaining -= c.length;
    }
    const padAt = src.offset;
    if (padded > size) {
      const pad = await src.exactly(padded - size);
      if (!pad) malformed(`archive ends inside ${path}`, src.offset);
      const i = pad.findIndex((b) => b !== 0);
      if (i >= 0) malformed(`padding after ${path} is not zero`, padAt + i);
    }
  }
}
