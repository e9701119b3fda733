// RFC 6587 framing of syslog over a byte stream (TCP, TLS), and whole UDP datagrams: turns what a
// peer sends into LineChunk bytes, each message followed by `\n`. Pure: no sockets, no timers.
//
// Framing is detected per frame (https://www.rfc-editor.org/rfc/rfc6587#section-3.4):
//
//   octet counting   MSG-LEN SP SYSLOG-MSG      a frame starting with 1..10 digits then a space
//   non-transparent  SYSLOG-MSG TRAILER         anything else, up to LF or NUL (CRLF accepted)
//
// so one connection may mix them. A message that begins with digits and a space ("5 apples")
// without a length reads as octet-counted: RFC 6587 notes the same ambiguity. Garbage before a
// length ("xx12 <13>...") is not a length: the frame is non-transparent up to the next LF, which
// is where the stream falls back in step.
//
// Every message is copied once into `out` (an octet-counted one needs its `\n` added after it,
// and headers and trailers are dropped between them); the complete messages of one push() leave
// as one slice of it, with `ends` when one holds `\n` itself (octet counting allows that):
//
//   out: | emitted (owned by the receiver) | complete, not yet emitted | frame being read |
//        0                                 runStart                   frameStart          len
//
// Only bytes at or after `len` are written, so slices already handed over are never touched.
// Bounds: a message keeps at most maxFrameBytes (longer ones are cut there, flagged `truncated`
// and travel alone; the rest of the frame is skipped), so a connection holds at most one partial
// frame plus one read.

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const D0 = 0x30;
const D9 = 0x39;

/** 10 digits: every length up to 9,999,999,999 is exact in a double; more is not a length. */
const MAX_LEN_DIGITS = 10;
/** 4 KiB: the smallest `out` allocated, so a trickle of small reads does not allocate per byte. */
const MIN_OUT = 4096;

const S_START = 0; // at a frame boundary
const S_LEN = 1; // reading digits that may be a MSG-LEN (they are also kept as message bytes)
const S_OCTET = 2; // inside an octet-counted message: `remaining` bytes of it to keep
const S_LINE = 3; // inside a non-transparent message: up to LF or NUL
const S_SKIP_OCTET = 4; // past max_frame_bytes in an octet-counted frame: `remaining` to skip
const S_SKIP_LINE = 5; // past max_frame_bytes in a non-transparent frame: skip to LF or NUL

/**
 * Receives complete messages: `buf` holds `frames` messages, each ending in `\n`; `ends` is set
 * when one holds `\n` itself (LineChunk.ends). A truncated message always comes alone. `buf` is
 * owned by the receiver.
 */
export type FramesHandler = (
  buf: Buffer,
  frames: number,
  ends: Int32Array | null,
  truncated: boolean,
) => void;

export interface FramingStats {
  /** Messages handed over (truncated and incomplete ones included). */
  frames: number;
  /** Zero-length frames (`0 `) and empty lines between frames, ignored. */
  empty: number;
  /** Messages cut at max_frame_bytes. */
  truncated: number;
  /** Octet-counted messages the connection closed in the middle of (handed over truncated). */
  incomplete: number;
}

export class FrameDecoder {
  readonly stats: FramingStats = { frames: 0, empty: 0, truncated: 0, incomplete: 0 };

  private readonly max: number;
  private readonly onFrames: FramesHandler;
  private out: Buffer = Buffer.alloc(0);
  private len = 0;
  private runStart = 0;
  private frameStart = 0;
  /** Ends of the complete messages in [runStart, len), relative to runStart. */
  private ends = new Int32Array(64);
  private nends = 0;
  /** Some message in the run holds `\n` itself: the chunk needs `ends`. */
  private multi = false;

  private state = S_START;
  /** S_LEN: the digits' value and count. */
  private lenValue = 0;
  private lenDigits = 0;
  /** S_OCTET / S_SKIP_OCTET: bytes still to keep / to skip. */
  private remaining = 0;
  /** S_OCTET: bytes of the frame past max_frame_bytes, skipped once the kept part is in. */
  private cutBytes = 0;
  /** S_OCTET: offset (from frameStart) of the first `\n` copied into the message; -1: none. */
  private firstLf = -1;

  constructor(maxFrameBytes: number, onFrames: FramesHandler) {
    if (!(maxFrameBytes >= 1)) {
      throw new RangeError(`maxFrameBytes must be >= 1, got ${maxFrameBytes}`);
    }
    this.max = maxFrameBytes;
    this.onFrames = onFrames;
  }

  /** True while part of a message waits for the rest of it. */
  get pending(): boolean {
    return this.state !== S_START && this.state !== S_SKIP_LINE && this.state !== S_SKIP_OCTET;
  }

  /**
   * One read from the stream: hands over the messages it completes (one call per run of whole
   * messages; a truncated one alone). Does not keep `data`.
   */
  push(data: Buffer): void {
    const n = data.length;
    // Room for all of it: a message is never longer than what was read for it, and its added
    // `\n` takes the place of a dropped header or trailer byte (+2 covers a frame whose header
    // came in an earlier read).
    this.reserve(n + 2);
    const max = this.max;
    // Next LF / NUL at or after pos, found once per push and reused until passed: every byte is
    // scanned by indexOf at most once per kind, whatever the number of frames. n: none left.
    let lfAt = -1;
    let nulAt = -1;
    let pos = 0;
    while (pos < n) {
      switch (this.state) {
        case S_START: {
          const b = data[pos];
          if (b === LF || b === NUL) {
            // An empty line: a trailer after an octet-counted frame, or a blank keep-alive.
            this.stats.empty++;
            pos++;
            continue;
          }
          this.frameStart = this.len;
          if (b >= D0 && b <= D9) {
            this.state = S_LEN;
            this.lenValue = 0;
            this.lenDigits = 0;
          } else {
            this.state = S_LINE;
          }
          continue;
        }
        case S_LEN: {
          const b = data[pos];
          if (b >= D0 && b <= D9 && this.lenDigits < MAX_LEN_DIGITS) {
            // Kept in `out` too: if no SP follows, they are the start of a message.
            this.out[this.len++] = b;
            this.lenValue = this.lenValue * 10 + (b - D0);
            this.lenDigits++;
            pos++;
          } else if (b === SP) {
            pos++;
            this.len = this.frameStart;
            this.startOctet(this.lenValue);
          } else {
            this.state = S_LINE;
          }
          continue;
        }
        case S_OCTET: {
          const take = Math.min(n - pos, this.remaining);
          data.copy(this.out, this.len, pos, pos + take);
          if (this.firstLf < 0) {
            if (lfAt < pos) lfAt = nextOf(data, LF, pos);
            if (lfAt < pos + take) this.firstLf = this.len - this.frameStart + (lfAt - pos);
          }
          this.len += take;
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            const cut = this.cutBytes;
            this.finishOctet(cut > 0);
            this.remaining = cut;
            this.state = cut > 0 ? S_SKIP_OCTET : S_START;
          }
          continue;
        }
        case S_LINE: {
          if (lfAt < pos) lfAt = nextOf(data, LF, pos);
          if (nulAt < pos) nulAt = nextOf(data, NUL, pos);
          const end = lfAt < nulAt ? lfAt : nulAt; // n: the trailer is in a later read
          const have = this.len - this.frameStart;
          if (have + (end - pos) > max) {
            // Over max_frame_bytes: keep what fits, hand it over cut, skip the rest.
            const keep = max - have; // < 0 only when max is below the digits read as S_LEN
            if (keep > 0) {
              data.copy(this.out, this.len, pos, pos + keep);
              this.len += keep;
            }
            this.finishLine(true);
            if (end < n) {
              pos = end + 1;
              this.state = S_START;
            } else {
              pos = n;
              this.state = S_SKIP_LINE;
            }
            continue;
          }
          data.copy(this.out, this.len, pos, end);
          this.len += end - pos;
          if (end === n) {
            pos = n;
            continue;
          }
          pos = end + 1;
          this.finishLine(false);
          this.state = S_START;
          continue;
        }
        case S_SKIP_OCTET: {
          const skip = Math.min(n - pos, this.remaining);
          pos += skip;
          this.remaining -= skip;
          if (this.remaining === 0) this.state = S_START;
          continue;
        }
        default: {
          // S_SKIP_LINE
          if (lfAt < pos) lfAt = nextOf(data, LF, pos);
          if (nulAt < pos) nulAt = nextOf(data, NUL, pos);
          const end = lfAt < nulAt ? lfAt : nulAt;
          if (end === n) {
            pos = n;
          } else {
            pos = end + 1;
            this.state = S_START;
          }
        }
      }
    }
    this.flushRun();
  }

  /**
   * One whole message (a UDP datagram): trailing LF / CRLF / NUL dropped, cut at
   * max_frame_bytes. It waits with the others added since the last flush() (or push()).
   */
  message(data: Buffer): void {
    if (this.state !== S_START) this.end(); // never interleaved with a stream, but be safe
    const n = data.length;
    const keep = n > this.max ? this.max : n;
    this.reserve(keep + 1);
    this.frameStart = this.len;
    data.copy(this.out, this.len, 0, keep);
    this.len += keep;
    const lf = data.indexOf(LF);
    this.firstLf = lf >= 0 && lf < keep ? lf : -1;
    this.finishOctet(n > keep);
  }

  /** Hand over the messages added by message() since the last flush. */
  flush(): void {
    this.flushRun();
  }

  /**
   * The stream ended (the peer closed, or the source stops). A non-transparent message with no
   * trailer yet is complete as far as anyone can tell: handed over. An octet-counted one that
   * got fewer bytes than its MSG-LEN is handed over as far as it came, flagged `truncated`
   * (and counted `incomplete`): the sender believes it sent it, so it is not dropped.
   */
  end(): void {
    this.reserve(2);
    switch (this.state) {
      case S_LEN:
      case S_LINE:
        this.finishLine(false);
        break;
      case S_OCTET:
        this.stats.incomplete++;
        this.finishOctet(true);
        break;
      default:
        break;
    }
    this.state = S_START;
    this.remaining = 0;
    this.flushRun();
  }

  private startOctet(length: number): void {
    if (length === 0) {
      // `0 `: a zero-length frame (RFC 6587 wants 1+ digits starting non-zero): nothing to keep.
      this.stats.empty++;
      this.state = S_START;
      return;
    }
    const keep = length > this.max ? this.max : length;
    this.remaining = keep;
    this.cutBytes = length - keep;
    this.firstLf = -1;
    this.state = S_OCTET;
  }

  /**
   * A non-transparent message is complete in [frameStart, len): it has no `\n` inside. A lone
   * CR (the rest of a CRLF) is an empty line. A CR before the `\n` stays: the encoder drops it.
   */
  private finishLine(truncated: boolean): void {
    let size = this.len - this.frameStart;
    if (size > this.max) {
      // Only digits read as a possible MSG-LEN can overshoot (a max_frame_bytes below 10).
      this.len = this.frameStart + this.max;
      size = this.max;
      truncated = true;
    }
    if (size === 0 || (size === 1 && this.out[this.frameStart] === CR)) {
      this.len = this.frameStart;
      this.stats.empty++;
      return;
    }
    this.out[this.len++] = LF;
    this.complete(truncated, false);
  }

  /**
   * An octet-counted message (or datagram) is complete in [frameStart, len). Trailing LF, CR and
   * NUL are a trailer some senders count into MSG-LEN, not part of the message.
   */
  private finishOctet(truncated: boolean): void {
    const out = this.out;
    const start = this.frameStart;
    let e = this.len;
    while (e > start) {
      const b = out[e - 1];
      if (b !== LF && b !== CR && b !== NUL) break;
      e--;
    }
    if (e === start) {
      this.len = start;
      this.stats.empty++;
      return;
    }
    out[e] = LF;
    this.len = e + 1;
    const inner = this.firstLf >= 0 && start + this.firstLf < e;
    this.complete(truncated, inner);
  }

  /** Record the message [frameStart, len); a truncated one leaves at once, alone. */
  private complete(truncated: boolean, multiline: boolean): void {
    this.stats.frames++;
    if (truncated) {
      this.stats.truncated++;
      const start = this.frameStart;
      this.flushRun(start);
      const buf = this.out.subarray(start, this.len);
      this.runStart = this.len;
      this.onFrames(buf, 1, multiline ? Int32Array.of(buf.length) : null, true);
      return;
    }
    if (this.nends === this.ends.length) {
      const grown = new Int32Array(this.nends * 2);
      grown.set(this.ends);
      this.ends = grown;
    }
    this.ends[this.nends++] = this.len - this.runStart;
    if (multiline) this.multi = true;
  }

  /** Hand over the complete messages of the run [runStart, upTo). */
  private flushRun(upTo = this.pending ? this.frameStart : this.len): void {
    const n = this.nends;
    if (n === 0) return;
    const buf = this.out.subarray(this.runStart, upTo);
    const ends = this.multi ? this.ends.slice(0, n) : null;
    this.runStart = upTo;
    this.nends = 0;
    this.multi = false;
    this.onFrames(buf, n, ends, false);
  }

  /**
   * Make room for `extra` more bytes after `len`. A new buffer gets only the unemitted part
   * (the handed-over bytes belong to the receiver), at least doubled, so a long message in many
   * small reads is copied O(its length) times in total, not per read.
   */
  private reserve(extra: number): void {
    if (this.len + extra <= this.out.length) return;
    const from = this.runStart;
    const keep = this.len - from;
    const next = Buffer.allocUnsafe(Math.max(keep + extra, 2 * keep, MIN_OUT));
    this.out.copy(next, 0, from, this.len);
    this.out = next;
    this.len = keep;
    this.frameStart -= from;
    this.runStart = 0;
  }
}

/** Offset of the next `byte` at or after `from`, or buf.length when there is none. */
function nextOf(buf: Buffer, byte: number, from: number): number {
  const i = buf.indexOf(byte, from);
  return i < 0 ? buf.length : i;
}
