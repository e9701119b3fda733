// Splits the bytes of a file or stream into chunks of whole lines, with no per-line objects:
// a chunk is one Buffer slice ending on `\n` plus its line count and the offset it ends at.
//
// A read rarely ends on a newline. The unfinished last line ("partial") is kept and copied to
// the front of the next read's buffer (alloc() does it), so every emitted slice is contiguous:
//
//   read n:    [ line | line | line | par ]           emit [line|line|line], keep "par"
//   read n+1:  [ par + tial | line | li ]             emit [partial|line],   keep "li"
//               ^ copied by alloc(), then the read lands after it
//
// A line longer than max_line_bytes is cut there: it is emitted alone (truncated=true), as its
// first max_line_bytes bytes plus `\n`, and the rest of it up to its newline is skipped. The cut
// line waits for that newline before it is emitted, so its offset is the true end of the line
// and a restart from that checkpoint begins on a line boundary. Memory held per splitter is
// bounded by max_line_bytes + 1, whatever the input.

const NL = 10;

/** Receives whole lines. `buf` is owned by the receiver: the splitter never touches it again. */
export type ChunkHandler = (
  buf: Buffer,
  lines: number,
  truncated: boolean,
  endOffset: number,
) => void;

/**
 * 16 KiB: a held partial line is copied out of its read buffer when that buffer is at least this
 * big and twice the line, so an idle file waiting for a newline does not pin a whole read chunk.
 */
const COMPACT_MIN_BACKING = 16 * 1024;

export class LineSplitter {
  /** Offset (in the file or stream) of the next byte to push: where the next read starts. */
  readPos: number;
  /** Offset just after the last emitted line, including skipped bytes of a cut line it ended. */
  emittedOffset: number;
  /** Lines cut at max_line_bytes so far (counted when the cut is made). */
  truncatedLines = 0;

  private readonly max: number;
  private readonly onChunk: ChunkHandler;
  /** Bytes of a line with no newline yet; never longer than max, never contains `\n`. */
  private partial: Buffer | null = null;
  /** A cut line (max bytes + `\n`) waiting for its real end before it is emitted. */
  private head: Buffer | null = null;
  /** Inside an over-long line: bytes are dropped until the next `\n`. */
  private skipping = false;
  /** How many bytes at the front of the buffer alloc() returned are the carried partial. */
  private carried = 0;

  constructor(maxLineBytes: number, onChunk: ChunkHandler, startOffset = 0) {
    if (!(maxLineBytes >= 1))
      throw new RangeError(`maxLineBytes must be >= 1, got ${maxLineBytes}`);
    this.max = maxLineBytes;
    this.onChunk = onChunk;
    this.readPos = startOffset;
    this.emittedOffset = startOffset;
  }

  /** True while a partial line or a cut line is held: flushPartial() would emit something. */
  get hasPending(): boolean {
    return this.partial !== null || this.head !== null;
  }

  /** Bytes alloc() placed in front of the buffer it returned; the read goes right after them. */
  get carriedBytes(): number {
    return this.carried;
  }

  /**
   * A fresh buffer for the next read: the held partial line copied at its front, then room for
   * `readBytes`. Read into it at offset `carriedBytes`, then push(buf, carriedBytes + bytesRead).
   * If the read fails, just call alloc() again: the partial is only dropped by push().
   */
  alloc(readBytes: number): Buffer {
    const p = this.partial;
    if (p === null) {
      this.carried = 0;
      return Buffer.allocUnsafe(readBytes);
    }
    const buf = Buffer.allocUnsafe(p.length + readBytes);
    p.copy(buf, 0);
    this.carried = p.length;
    return buf;
  }

  /**
   * Split `buf[0, end)`, a buffer from alloc() (carried partial first, then the new bytes).
   * Takes ownership of `buf`: emitted chunks are slices of it, and a cut line is marked in place.
   */
  push(buf: Buffer, end: number): void {
    const carried = this.carried;
    this.carried = 0;
    this.partial = null;
    // File offset of buf[0]: the carried bytes were read before readPos.
    const base = this.readPos - carried;
    this.readPos = base + end;
    // A view bounded to the data, so indexOf never scans the uninitialised tail of a short read.
    const data = end < buf.length ? buf.subarray(0, end) : buf;
    let start = 0;
    if (this.skipping) {
      // Nothing is carried while skipping: the cut line's bytes after the cut are not kept.
      const nl = data.indexOf(NL);
      if (nl === -1) return; // still inside the over-long line
      this.skipping = false;
      start = nl + 1;
      const head = this.head;
      if (head !== null) {
        this.head = null;
        this.emit(head, 1, true, base + start);
      }
      // head === null: it was flushed on timeout; the skipped bytes are covered by the next mark.
    }
    this.scan(data, start, carried > start ? carried : start, base);
  }

  /**
   * For streams: split a chunk as it arrived. Takes ownership of `chunk` (used as is when no
   * partial line is held, otherwise copied behind it).
   */
  write(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.partial === null) {
      this.carried = 0;
      this.push(chunk, chunk.length);
      return;
    }
    const buf = this.alloc(chunk.length);
    chunk.copy(buf, this.carried);
    this.push(buf, buf.length);
  }

  /**
   * Emit the held partial line with a synthetic `\n` (its offset counts only its real bytes), or
   * a cut line still waiting for its end (the rest of that line is then still skipped). Used after
   * partial_line_timeout, at the end of a stream, and when a rotated file is finished.
   */
  flushPartial(): boolean {
    const head = this.head;
    if (head !== null) {
      this.head = null;
      this.emit(head, 1, true, this.readPos);
      return true;
    }
    const p = this.partial;
    if (p === null) return false;
    this.partial = null;
    const out = Buffer.allocUnsafe(p.length + 1);
    p.copy(out, 0);
    out[p.length] = NL;
    this.emit(out, 1, false, this.readPos);
    return true;
  }

  /** Drop everything held and continue at `offset` (a truncated file starts again at 0). */
  reset(offset: number): void {
    this.partial = null;
    this.head = null;
    this.skipping = false;
    this.carried = 0;
    this.readPos = offset;
    this.emittedOffset = offset;
  }

  /** Copy a held line out of a big read buffer so that buffer can be freed while we wait. */
  compact(): void {
    const p = this.partial;
    if (
      p !== null &&
      p.buffer.byteLength >= COMPACT_MIN_BACKING &&
      p.buffer.byteLength >= 2 * p.length
    ) {
      this.partial = Buffer.from(p);
    }
    const h = this.head;
    if (
      h !== null &&
      h.buffer.byteLength >= COMPACT_MIN_BACKING &&
      h.buffer.byteLength >= 2 * h.length
    ) {
      this.head = Buffer.from(h);
    }
  }

  /**
   * The hot loop: one indexOf per line, a length check, a counter. Runs of ordinary lines are
   * emitted as one slice; a cut line interrupts the run and travels alone.
   */
  private scan(data: Buffer, start: number, from: number, base: number): void {
    const max = this.max;
    let runStart = start;
    let lines = 0;
    let nl = data.indexOf(NL, from);
    while (nl !== -1) {
      if (nl - start > max) {
        if (lines > 0) {
          this.emit(data.subarray(runStart, start), lines, false, base + start);
          lines = 0;
        }
        // The byte at the cut belongs to the discarded tail: overwrite it with the newline
        // instead of copying max bytes into a new buffer.
        data[start + max] = NL;
        this.truncatedLines++;
        this.emit(data.subarray(start, start + max + 1), 1, true, base + nl + 1);
        runStart = nl + 1;
      } else {
        lines++;
      }
      start = nl + 1;
      nl = data.indexOf(NL, start);
    }
    if (lines > 0) this.emit(data.subarray(runStart, start), lines, false, base + start);
    const rest = data.length - start;
    if (rest > max) {
      // Already longer than allowed with no end in sight: cut now, skip until its newline.
      data[start + max] = NL;
      this.truncatedLines++;
      this.head = data.subarray(start, start + max + 1);
      this.skipping = true;
    } else if (rest > 0) {
      this.partial = data.subarray(start);
    }
  }

  private emit(buf: Buffer, lines: number, truncated: boolean, endOffset: number): void {
    this.emittedOffset = endOffset;
    this.onChunk(buf, lines, truncated, endOffset);
  }
}
