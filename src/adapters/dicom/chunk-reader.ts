import { DicomError } from "./errors.js";

/**
 * Pull-style reader over an async iterator of Buffers.
 *
 * It never holds more than the chunks it has not consumed yet, and hands out views
 * (`subarray`) into those chunks wherever a request fits in one chunk; only small element
 * headers that straddle two chunks are copied. Large values are either skipped or passed
 * piecewise to a sink (`forEach`), so a multi-gigabyte Pixel Data value is never buffered.
 */
export class ChunkReader {
  private chunks: Buffer[] = [];
  /** Read offset into chunks[0]. */
  private head = 0;
  /** Unconsumed bytes across `chunks`. */
  private buffered = 0;
  private ended = false;
  /** Bytes consumed so far (offset of the next byte in the decoded stream). */
  position = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.source.next();
    if (r.done === true) {
      this.ended = true;
      return false;
    }
    const chunk = r.value;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  /** Buffers at least n bytes; false if the stream ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.buffered < n) {
      if (!(await this.pull())) return false;
    }
    return true;
  }

  /** True when every byte has been consumed and the source is exhausted. */
  async atEnd(): Promise<boolean> {
    return !(await this.ensure(1));
  }

  private advance(n: number): void {
    this.buffered -= n;
    this.position += n;
    let left = n;
    while (left > 0) {
      const first = this.chunks[0]!;
      const avail = first.length - this.head;
      if (left < avail) {
        this.head += left;
        return;
      }
      left -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** The next n buffered bytes without consuming them (n ≤ buffered: call ensure first). */
  peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    let i = 0;
    let off = this.head;
    while (filled < n) {
      const c = this.chunks[i]!;
      const k = Math.min(n - filled, c.length - off);
      c.copy(out, filled, off, off + k);
      filled += k;
      i++;
      off = 0;
    }
    return out;
  }

  /** Consumes n buffered bytes (call ensure first); a view when they lie in one chunk. */
  take(n: number): Buffer {
    const b = this.peek(n);
    this.advance(n);
    return b;
  }

  async readExact(n: number): Promise<Buffer> {
    if (!(await this.ensure(n))) {
      throw new DicomError("DICOM_TRUNCATED", `stream ended: needed ${n} bytes`, {
        offset: this.position + this.buffered,
      });
    }
    return this.take(n);
  }

  /** Consumes n bytes, passing each contiguous piece to `sink` (views, no copies). */
  async forEach(n: number, sink: ((piece: Buffer) => void) | undefined): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.pull())) {
        throw new DicomError("DICOM_TRUNCATED", `stream ended with ${left} of ${n} value bytes missing`, {
          offset: this.position,
        });
      }
      const first = this.chunks[0]!;
      const k = Math.min(left, first.length - this.head);
      if (sink !== undefined) sink(first.subarray(this.head, this.head + k));
      this.advance(k);
      left -= k;
    }
  }

  skip(n: number): Promise<void> {
    return this.forEach(n, undefined);
  }

  /** Hands over the buffered, unconsumed bytes (used to switch to an inflating source). */
  detachBuffered(): Buffer[] {
    const out = this.chunks.map((c, i) => (i === 0 ? c.subarray(this.head) : c));
    this.position += this.buffered;
    this.chunks = [];
    this.head = 0;
    this.buffered = 0;
    return out;
  }
}
