// Multiline aggregation: joins continuation lines (stack traces, tracebacks) into one event, per
// file, between a source's line splitter and the process stage. An event is its lines as they
// were read, `\n` between them; the output chunk lists where each event ends (LineChunk.ends).
//
// Events that lie whole inside a chunk leave as one slice of it (no copy). Only the last event of
// a chunk is held: the next line may continue it. It waits, copied out, for the next start line
// (in the next chunk) or for `timeout`:
//
//   chunk n:    | e1 | e2 ....  | e3 l1 l2 |        emit [e1|e2...] (mark: start of e3), hold e3
//   chunk n+1:  | l3 l4 | e4 | e5 l1 |             e3 += l3 l4 -> emit e3 alone (mark: start of
//                                                    e4), emit [e4] (mark: start of e5), hold e5
//
// Marks only ever cover complete events: an emitted chunk's mark is the offset where the event
// still held begins, so a restart re-reads that event whole. An event longer than max_bytes is
// cut there (plus `\n`), flagged `truncated` and travels alone; its further continuation lines
// are dropped (their bytes are covered by the mark of the next event, as a cut line's are).

import type { MultilineConfig } from '../config/types.js';
import type { AckMark, LineChunk } from '../pipeline/types.js';
import { MULTILINE_PATTERN_BYTES } from './shared-config.js';

const NL = 10;
const EMPTY = Buffer.alloc(0);

const MODE_INDENTED = 0;
const MODE_PREFIX = 1;
const MODE_PATTERN = 2;

/**
 * 4 KiB: a held event's buffer starts this big and doubles as lines join it; one bigger than
 * 64 KiB is let go once emitted, so an idle file does not pin its largest trace.
 */
const HOLD_INITIAL = 4 * 1024;
const HOLD_KEEP_MAX = 64 * 1024;
/** 60 s: a file with nothing held and no line for this long loses its state (rotated away). */
const FORGET_IDLE_MS = 60_000;

/** What one file (or stdin) has seen: the event being held and where its lines came from. */
class FileState {
  /** Bytes of the held event, [0, len). Owned: copied out of the read buffers. */
  buf: Buffer = EMPTY;
  len = 0;
  /** Lines in the held event; 0: nothing is held. */
  lines = 0;
  /** Cut at max_bytes, or holds a line cut at max_line_bytes: the event gets `truncated`. */
  truncated = false;
  /** Cut at max_bytes: further continuation lines are dropped, not added. */
  skipping = false;
  /** File offset just after the last line seen; -1 before the first chunk. */
  lastEnd = -1;
  /** The mark of the last chunk seen: the identity (key, path, dev, ino) of marks made here. */
  mark: AckMark | null = null;
  path = '';
  sourceId = '';
  /** performance.now() of the last chunk seen (the timeout runs from here). */
  lastAt = 0;
}

export class MultilineAggregator {
  private readonly mode: number;
  private readonly prefix: Buffer;
  private readonly pattern: RegExp | null;
  /** latin1 when the pattern is ASCII (one byte, one char: cheaper), else utf8. */
  private readonly patternEncoding: 'latin1' | 'utf8';
  private readonly timeoutMs: number;
  private readonly max: number;
  private readonly emit: (chunk: LineChunk) => void;
  private readonly files = new Map<string, FileState>();
  /** Scratch for the ends of one output chunk; copied (sliced) into the chunk that leaves. */
  private ends = new Int32Array(1024);

  constructor(config: MultilineConfig, emit: (chunk: LineChunk) => void) {
    this.mode =
      config.mode === 'indented'
        ? MODE_INDENTED
        : config.mode === 'start_prefix'
          ? MODE_PREFIX
          : MODE_PATTERN;
    this.prefix = Buffer.from(config.prefix ?? '', 'utf8');
    // Compiled once; the schema already checked that it compiles.
    this.pattern = config.mode === 'start_pattern' ? new RegExp(config.pattern ?? '') : null;
    this.patternEncoding = /^[\x00-\x7f]*$/.test(config.pattern ?? '') ? 'latin1' : 'utf8';
    this.timeoutMs = config.timeout;
    this.max = config.max_bytes;
    this.emit = emit;
  }

  /** True while some file holds an event (flushIdle / flushAll would emit something). */
  get holding(): boolean {
    for (const st of this.files.values()) if (st.lines > 0) return true;
    return false;
  }

  /**
   * Take a chunk of whole lines from a source; emits zero or more chunks of whole events.
   * Takes ownership of chunk.buf (a cut event is marked in place, as the line splitter does).
   */
  push(chunk: LineChunk): void {
    const st = this.stateOf(chunk);
    const buf = chunk.buf;
    const len = buf.length;
    const mark = chunk.mark;
    let start = 0; // file offset of buf[0]
    if (mark !== null) {
      const prev = st.mark;
      if (prev !== null && (mark.key !== prev.key || mark.offset < st.lastEnd)) {
        // Truncated and read again (copytruncate), or a new identity: what is held is the old
        // content's and goes now, with the old content's mark.
        if (st.lines > 0) this.emitHeld(st, st.lastEnd);
        st.lastEnd = -1;
      }
      // The chunk is the `len` bytes before its mark, except a flushed partial line (one `\n`
      // added) and a line cut at max_line_bytes (shorter than it was): for those, where the
      // previous chunk ended is the better answer.
      start = mark.offset - len;
      if (st.lastEnd >= 0 && (chunk.truncated || st.lastEnd > start)) start = st.lastEnd;
      if (start < 0) start = 0;
      st.lastEnd = mark.offset;
      st.mark = mark;
    }
    st.path = chunk.path;
    st.sourceId = chunk.sourceId;
    st.lastAt = chunk.readAt;

    let i = 0;
    if (st.lines > 0) {
      // The held event goes on with this chunk's first lines, up to the next start line.
      i = this.continueHeld(st, buf, 0, len, chunk.truncated);
      if (i === len) return;
      this.emitHeld(st, start + i);
    }
    if (this.ends.length < chunk.lines + 1) this.ends = new Int32Array(chunk.lines + 1);
    const ends = this.ends;
    const max = this.max;
    let runStart = i; // first byte of the complete events that leave as one slice
    let evStart = i; // first byte of the event being read
    let evLines = 0;
    let nev = 0; // complete events in [runStart, evStart)
    let multi = false; // some of them span lines: the chunk needs `ends`
    while (i < len) {
      const nl = buf.indexOf(NL, i);
      const e = nl < 0 ? len : nl + 1;
      if (evLines > 0 && this.isStart(buf, i, e)) {
        if (evLines > 1) multi = true;
        ends[nev++] = i - runStart;
        evStart = i;
        evLines = 0;
      }
      evLines++;
      if (e - evStart <= max) {
        i = e;
        continue;
      }
      // The event outgrew max_bytes: the complete ones before it leave, it is cut and held
      // until its end is known (its continuation lines are skipped meanwhile).
      if (nev > 0) this.emitRun(st, buf, runStart, evStart, nev, multi, start + evStart);
      this.hold(st, buf, evStart, evStart + max, evLines);
      st.buf[st.len++] = NL;
      st.truncated = true;
      st.skipping = true;
      i = this.continueHeld(st, buf, e, len, false);
      if (i === len) return;
      this.emitHeld(st, start + i);
      runStart = evStart = i;
      evLines = 0;
      nev = 0;
      multi = false;
    }
    if (nev > 0) this.emitRun(st, buf, runStart, evStart, nev, multi, start + evStart);
    if (evLines > 0) {
      // The last event may go on in the next chunk: held, copied out of the read buffer.
      this.hold(st, buf, evStart, len, evLines);
      st.truncated = chunk.truncated;
    }
  }

  /** Emit the events held longer than `timeout` (no line came to continue them). */
  flushIdle(now: number): void {
    for (const [key, st] of this.files) {
      const idle = now - st.lastAt;
      if (st.lines > 0) {
        if (idle >= this.timeoutMs) this.emitHeld(st, st.lastEnd);
      } else if (idle >= FORGET_IDLE_MS) {
        this.files.delete(key);
      }
    }
  }

  /** Emit every held event (the end of a stream: nothing more can continue them). */
  flushAll(): void {
    for (const st of this.files.values()) if (st.lines > 0) this.emitHeld(st, st.lastEnd);
  }

  /** Does the line buf[s, e) (with its `\n`) start an event? Once per line: byte checks. */
  private isStart(buf: Buffer, s: number, e: number): boolean {
    switch (this.mode) {
      case MODE_INDENTED: {
        const c = buf[s];
        return c !== 0x20 && c !== 0x09;
      }
      case MODE_PREFIX: {
        const p = this.prefix;
        const n = p.length;
        if (e - s < n) return false;
        for (let k = 0; k < n; k++) if (buf[s + k] !== p[k]) return false;
        return true;
      }
      default: {
        // The one per-line string of this stage: at most MULTILINE_PATTERN_BYTES, without the
        // line end (so `$` matches there).
        let end = e;
        if (end > s && buf[end - 1] === NL) end--;
        if (end > s && buf[end - 1] === 0x0d) end--;
        if (end - s > MULTILINE_PATTERN_BYTES) end = s + MULTILINE_PATTERN_BYTES;
        return (this.pattern as RegExp).test(buf.toString(this.patternEncoding, s, end));
      }
    }
  }

  /**
   * Add the continuation lines at buf[i..) to the held event, up to the first start line.
   * Returns that line's offset, or `len` when every line continued the event.
   */
  private continueHeld(
    st: FileState,
    buf: Buffer,
    i: number,
    len: number,
    truncated: boolean,
  ): number {
    const max = this.max;
    while (i < len) {
      const nl = buf.indexOf(NL, i);
      const e = nl < 0 ? len : nl + 1;
      if (this.isStart(buf, i, e)) return i;
      if (truncated) st.truncated = true;
      if (!st.skipping) {
        if (st.len + (e - i) <= max) {
          this.append(st, buf, i, e);
        } else {
          // Cut at max_bytes: what fits, then `\n`; the rest of the event is dropped.
          this.append(st, buf, i, i + (max - st.len));
          this.append(st, NEWLINE, 0, 1);
          st.truncated = true;
          st.skipping = true;
        }
      }
      st.lines++;
      i = e;
    }
    return len;
  }

  /** Start holding buf[s, e) as the event being read (`lines` lines). */
  private hold(st: FileState, buf: Buffer, s: number, e: number, lines: number): void {
    st.len = 0;
    st.skipping = false;
    st.truncated = false;
    // +1: room for the `\n` of a cut.
    if (st.buf.length < e - s + 1) st.buf = Buffer.allocUnsafe(Math.max(HOLD_INITIAL, e - s + 1));
    this.append(st, buf, s, e);
    st.lines = lines;
  }

  private append(st: FileState, src: Uint8Array, s: number, e: number): void {
    const n = e - s;
    const need = st.len + n + 1; // +1: a cut's `\n`
    if (need > st.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, st.buf.length * 2, HOLD_INITIAL));
      st.buf.copy(next, 0, 0, st.len);
      st.buf = next;
    }
    st.buf.set(src.subarray(s, e), st.len);
    st.len += n;
  }

  /** The held event leaves alone; `offset` is where the next event begins (or the file end). */
  private emitHeld(st: FileState, offset: number): void {
    const len = st.len;
    const out = Buffer.allocUnsafe(len);
    st.buf.copy(out, 0, 0, len);
    const chunk: LineChunk = {
      sourceId: st.sourceId,
      path: st.path,
      buf: out,
      lines: 1,
      truncated: st.truncated,
      mark: st.mark === null ? null : { ...st.mark, offset },
      readAt: st.lastAt,
    };
    if (st.lines > 1) chunk.ends = Int32Array.of(len);
    st.lines = 0;
    st.len = 0;
    st.truncated = false;
    st.skipping = false;
    if (st.buf.length > HOLD_KEEP_MAX) st.buf = EMPTY;
    this.emit(chunk);
  }

  /** Complete events buf[s, e) leave as one slice (ends only when one spans lines). */
  private emitRun(
    st: FileState,
    buf: Buffer,
    s: number,
    e: number,
    n: number,
    multi: boolean,
    offset: number,
  ): void {
    const chunk: LineChunk = {
      sourceId: st.sourceId,
      path: st.path,
      buf: buf.subarray(s, e),
      lines: n,
      truncated: false,
      mark: st.mark === null ? null : { ...st.mark, offset },
      readAt: st.lastAt,
    };
    if (multi) chunk.ends = this.ends.slice(0, n);
    this.emit(chunk);
  }

  /** One state per file: by inode when the mark has it (stable across renames), else by key. */
  private stateOf(chunk: LineChunk): FileState {
    const m = chunk.mark;
    const key =
      m === null ? chunk.path : m.dev !== undefined ? `${m.dev}:${m.ino ?? 0}` : `k:${m.key}`;
    let st = this.files.get(key);
    if (st === undefined) {
      st = new FileState();
      this.files.set(key, st);
    }
    return st;
  }
}

const NEWLINE = Buffer.from('\n', 'latin1');
