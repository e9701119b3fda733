// NDJSON encoder for raw lines: one JSON event per line, written straight into one output Buffer
// per chunk. Valid JSON for every input byte: control chars escaped, invalid UTF-8 -> U+FFFD.
//
// Event layout (everything after the message is the same for every line of a chunk, so it is
// built once per chunk as the "tail" and copied with one native TypedArray#set per line):
//
//   {"message":"<line>","timestamp":"<ingest>","source":"<path>","host":"<host>"<,static><,"truncated":true>}\n
//   '-- PREFIX --'      '------------------------------ tail (per chunk) -------------------------------'
//
// Speed (see bench/micro/encoder.mjs): a JS loop costs about 1 ns per byte here, so the scan
// looks at 4 bytes per step (SWAR over a DataView: one load, two tests for "a byte < 0x20 or
// '"'" and "a byte '\'", one unaligned store) and only drops to per-byte work on the byte it
// flagged. Measured: the word scan ~0.45 ns/byte, each flagged byte ~15 ns (a mispredicted exit).
// `isUtf8()` (simdutf, native) on the whole chunk decides whether bytes >= 0x80 can be copied
// blindly (fast path) or must be validated one sequence at a time (slow path).

import { isUtf8 } from 'node:buffer';
import { ConfigError } from '../errors.js';
import type { FieldValue } from '../config/types.js';
import type { Block, LineChunk, Wants } from '../pipeline/types.js';

/** Constant parts of every event of one source, encoded once (see createEncodeOptions). */
export interface EncodeOptions {
  /** `","host":"<host>"` then `,"<key>":<value>` per static field, as UTF-8 JSON bytes. */
  readonly hostAndFields: Buffer;
  /** Ingest clock, ms since the epoch (tests pin it). */
  readonly now: () => number;
  /** Chunks of one file repeat the same path: its JSON bytes are kept for the next chunk. */
  lastPath: string;
  lastPathJson: Buffer;
}

/** Event keys the encoder writes itself; a static field may not reuse them. */
const BUILTIN_KEYS = new Set(['message', 'timestamp', 'source', 'host', 'truncated']);

/** What makeEncodeOptions needs: the source's host and static fields. */
export interface EncodeSettings {
  host: string;
  fields?: Record<string, FieldValue>;
  /** Ingest clock in ms since the epoch; Date.now unless a test pins it. */
  now?: () => number;
}

/** Pre-encode what never changes for a source: its host and static fields. */
export function makeEncodeOptions(settings: EncodeSettings): EncodeOptions {
  const { host, fields = {}, now = Date.now } = settings;
  // Config time, not the hot path: JSON.stringify is exact and the result is kept as bytes.
  // wellFormed first: JSON.stringify would write a lone surrogate as `\ud800`, which is valid
  // JSON text but breaks strict UTF-8 consumers; the event gets U+FFFD instead, as for lines.
  const h = Buffer.from(`,"host":${JSON.stringify(wellFormed(host))}`, 'utf8');
  return {
    hostAndFields: Buffer.concat([h, encodeStaticFields(fields)]),
    now,
    lastPath: '',
    lastPathJson: Buffer.from('""'),
  };
}

/**
 * `,"key":value` for each static field, as bytes. Throws a ConfigError when a field would
 * duplicate a built-in key (duplicate JSON keys are read differently by every consumer).
 */
export function encodeStaticFields(fields: Record<string, FieldValue>): Buffer {
  let s = '';
  for (const [key, value] of Object.entries(fields)) {
    if (BUILTIN_KEYS.has(key)) {
      throw new ConfigError(
        'VES_CONFIG_INVALID',
        `fields.${key}`,
        `"${key}" is a built-in event field and cannot be set as a static field` +
          (key === 'host' ? '; set the top-level `host` key instead' : '; rename it'),
      );
    }
    // JSON.stringify(NaN or Infinity) is "null": still valid JSON.
    const v = typeof value === 'string' ? wellFormed(value) : value;
    s += `,${JSON.stringify(wellFormed(key))}:${JSON.stringify(v)}`;
  }
  return Buffer.from(s, 'utf8');
}

/** The string with each lone surrogate replaced by U+FFFD (what its UTF-8 encoding holds). */
function wellFormed(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

// ---------------------------------------------------------------------------------------------
// Byte-level helpers shared by the chunk encoder and writeJsonString.

/** `{"message":"` as three little-endian 32-bit words: written with three DataView stores. */
const PREFIX = Buffer.from('{"message":"', 'latin1');
const PREFIX_LEN = 12;
const P0 = PREFIX.readInt32LE(0);
const P1 = PREFIX.readInt32LE(4);
const P2 = PREFIX.readInt32LE(8);

const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** The largest number of output bytes one input byte can become: `\u00XX`. */
export const JSON_ESCAPE_MAX_RATIO = 6;

/**
 * Write the JSON escape of an ASCII byte that needs one (< 0x20, `"`, `\`) and return the new
 * position. Short forms where JSON has them, `\u00XX` otherwise. DEL (0x7f) is legal in JSON
 * strings and left alone, as JSON.stringify does.
 */
function writeEscape(c: number, out: Uint8Array, pos: number): number {
  out[pos++] = 0x5c; // '\'
  switch (c) {
    case 0x22: // "
    case 0x5c: // \
      out[pos++] = c;
      return pos;
    case 0x0a:
      out[pos++] = 0x6e; // n
      return pos;
    case 0x0d:
      out[pos++] = 0x72; // r
      return pos;
    case 0x09:
      out[pos++] = 0x74; // t
      return pos;
    case 0x08:
      out[pos++] = 0x62; // b
      return pos;
    case 0x0c:
      out[pos++] = 0x66; // f
      return pos;
    default:
      out[pos++] = 0x75; // u
      out[pos++] = 0x30;
      out[pos++] = 0x30;
      out[pos++] = HEX[c >> 4];
      out[pos++] = HEX[c & 15];
      return pos;
  }
}

/**
 * Validate the UTF-8 sequence whose lead byte (>= 0x80) is at `i`, reading no further than
 * `end`. Returns its length k > 0 when valid, or -k when the k bytes at `i` are the "maximal
 * subpart" of an ill-formed sequence, to be replaced by ONE U+FFFD. This is the WHATWG
 * Encoding Standard decoder (https://encoding.spec.whatwg.org/#utf-8-decoder), which V8 and so
 * Buffer#toString follow: overlongs (C0, C1, E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and
 * code points above U+10FFFF (F4 90.., F5..FF) are invalid; a stray continuation byte is one
 * U+FFFD; a truncated sequence is one U+FFFD for its bytes, and the byte that broke it is
 * looked at again.
 */
export function utf8Sequence(src: Uint8Array, i: number, end: number): number {
  const b0 = src[i];
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    if (b0 === 0xe0) lo = 0xa0;
    else if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    if (b0 === 0xf0) lo = 0x90;
    else if (b0 === 0xf4) hi = 0x8f;
  } else return -1; // 80..C1 (continuation or overlong lead), F5..FF
  let k = 1;
  while (k <= need) {
    const j = i + k;
    if (j >= end) return -k;
    const b = src[j];
    if (b < lo || b > hi) return -k;
    lo = 0x80; // only the second byte has the narrowed range
    hi = 0xbf;
    k++;
  }
  return k;
}

// The word test, written inline in the two loops below (a call per word costs more than it):
//
//   y = w ^ 0x02020202        flips bit 1 of each byte: '"' (0x22) becomes 0x20, bytes < 0x20
//                             stay < 0x20, and nothing else lands below 0x21
//   hasless(y, 0x21)          so one test finds "< 0x20 or '"'"
//   haszero(w ^ 0x5c5c5c5c)   and one more finds '\'
//   m = (both) & 0x80808080 | (w & highMask)     (+ bytes >= 0x80 on the validating path)
//
// Bit 7 of each byte that needs work is set in m (hasless / haszero from
// https://graphics.stanford.edu/~seander/bithacks.html#HasLessInWord). Only the LOWEST flagged
// byte is exact (a borrow can flag the bytes above it), which is all we use: the bytes before
// it are copied, it is handled one byte at a time, and the word scan goes on after it.
// Merging the '"' test into the "< 0x20" one saved ~7% of the encoder's time.

// A DataView for each buffer seen last by writeJsonString (parsers call it many times per
// chunk with the same src and out): one DataView per buffer instead of one per call. Keeps a
// reference to at most one src and one out buffer until the next call.
let dvSrcOf: Uint8Array | null = null;
let dvSrc: DataView = new DataView(new ArrayBuffer(8));
let dvOutOf: Uint8Array | null = null;
let dvOut: DataView = new DataView(new ArrayBuffer(8));

/**
 * Write the JSON string body (no surrounding quotes) of the bytes src[start, end) into `out` at
 * `pos`; returns the position after it. Escapes `"`, `\` and control characters, replaces
 * invalid UTF-8 by U+FFFD (EF BF BD) exactly as Buffer#toString('utf8') decodes it, copies the
 * rest. `out` must have room for jsonStringMaxBytes(end - start) bytes. (The word store writes
 * 4 bytes ahead of what it keeps, but only while 4 input bytes are left, and every input byte
 * becomes at least one output byte: it never passes the end of the result.)
 * `validUtf8`: the caller already knows the bytes are valid UTF-8 (e.g. isUtf8 on a whole
 * chunk), so bytes >= 0x80 are copied without looking.
 */
export function writeJsonString(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  pos: number,
  validUtf8 = false,
): number {
  if (src !== dvSrcOf) {
    dvSrcOf = src;
    dvSrc = new DataView(src.buffer, src.byteOffset, src.byteLength);
  }
  if (out !== dvOutOf) {
    dvOutOf = out;
    dvOut = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }
  const din = dvSrc;
  const dout = dvOut;
  // Bytes >= 0x80 stop the word loop only when they have to be validated.
  const highMask = validUtf8 ? 0 : 0x80808080 | 0;
  const last4 = end - 4;
  let i = start;
  while (i < end) {
    while (i <= last4) {
      const w = din.getInt32(i, true);
      const y = w ^ 0x02020202;
      const b = w ^ 0x5c5c5c5c;
      const m = ((((y - 0x21212121) & ~y) | ((b - 0x01010101) & ~b)) & 0x80808080) | (w & highMask);
      dout.setInt32(pos, w, true);
      if (m === 0) {
        i += 4;
        pos += 4;
        continue;
      }
      const k = (31 - Math.clz32(m & -m)) >> 3; // index of the first flagged byte
      i += k;
      pos += k;
      break;
    }
    if (i >= end) break;
    const c = src[i];
    if (c < 0x80) {
      if (c >= 0x20 && c !== 0x22 && c !== 0x5c) out[pos++] = c;
      else pos = writeEscape(c, out, pos);
      i++;
    } else if (validUtf8) {
      out[pos++] = c;
      i++;
    } else {
      const n = utf8Sequence(src, i, end);
      if (n > 0) {
        for (let j = 0; j < n; j++) out[pos++] = src[i + j];
        i += n;
      } else {
        out[pos++] = 0xef;
        out[pos++] = 0xbf;
        out[pos++] = 0xbd;
        i -= n;
      }
    }
  }
  return pos;
}

/** Upper bound of writeJsonString's output for `n` input bytes: every byte a `\u00XX`. */
export function jsonStringMaxBytes(n: number): number {
  return n * JSON_ESCAPE_MAX_RATIO;
}

// ---------------------------------------------------------------------------------------------
// Chunk encoder.

/** Build the per-chunk tail: `","timestamp":"..","source":"..","host":".."<fields><trunc>}\n`. */
function buildTail(chunk: LineChunk, opts: EncodeOptions, now: number): Uint8Array {
  if (chunk.path !== opts.lastPath) {
    const p = Buffer.from(chunk.path, 'utf8');
    const tmp = Buffer.allocUnsafe(jsonStringMaxBytes(p.length) + 2);
    tmp[0] = 0x22;
    let e = writeJsonString(p, 0, p.length, tmp, 1, true);
    tmp[e++] = 0x22;
    opts.lastPath = chunk.path;
    opts.lastPathJson = Buffer.from(tmp.subarray(0, e)); // own copy: tmp may be pooled
  }
  // toISOString: RFC 3339, UTC, millisecond precision ("2024-10-10T13:55:00.123Z").
  const head = `","timestamp":"${new Date(now).toISOString()}","source":`;
  const path = opts.lastPathJson;
  const hf = opts.hostAndFields;
  const end = chunk.truncated ? ',"truncated":true}\n' : '}\n';
  const tail = Buffer.allocUnsafe(head.length + path.length + hf.length + end.length);
  let p = tail.write(head, 0, 'latin1');
  p += path.copy(tail, p);
  p += hf.copy(tail, p);
  tail.write(end, p, 'latin1');
  return tail;
}

/** The lines without the `\r` of `\r\n`, each ending in `\n` (one is added after a last line
 *  with none, and a lone `\r` ending the chunk goes, as in the NDJSON message). */
export function rawLines(buf: Buffer, mayHaveCr: boolean): Buffer {
  const len = buf.length;
  if (len === 0) return buf;
  const last = buf[len - 1];
  const addNewline = last !== 0x0a;
  const end = last === 0x0d ? len - 1 : len;
  let cr = mayHaveCr ? buf.indexOf(CRLF) : -1;
  if (cr < 0 && !addNewline) return buf; // zero-copy: the common case
  const out = Buffer.allocUnsafe(end + 1);
  let p = 0;
  let s = 0;
  while (cr >= 0) {
    p += buf.copy(out, p, s, cr);
    s = cr + 1; // keep the \n, drop the \r
    cr = buf.indexOf(CRLF, s);
  }
  p += buf.copy(out, p, s, end);
  if (addNewline) out[p++] = 0x0a;
  return out.subarray(0, p);
}
const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Encode a chunk of lines (the `raw` parser). `buf` holds whole lines ending in `\n`; a last line
 * without one is still an event (a truncated line, or a partial line flushed at the end). A
 * `\r` before `\n` (or ending the chunk) is not part of the message. Builds only the encodings
 * some sink wants; `raw` is `chunk.buf` itself when it has no `\r\n` to remove.
 */
export function encodeLines(chunk: LineChunk, want: Wants, opts: EncodeOptions): Block {
  const buf = chunk.buf;
  let events = chunk.lines;
  let ndjson: Buffer | null = null;
  let crlf = true; // unknown until the NDJSON pass has looked
  if (want.ndjson) {
    const tail = buildTail(chunk, opts, opts.now());
    if (chunk.ends === undefined) {
      ndjson = encodeNdjson(buf, tail, chunk.lines);
      events = lastLines;
      crlf = lastCrlf;
    } else {
      ndjson = encodeByEnds(buf, chunk.ends, chunk.lines, tail);
    }
  }
  return {
    events,
    ndjson,
    raw: want.raw ? rawLines(buf, crlf) : null,
    mark: chunk.mark,
    readAt: chunk.readAt,
  };
}

/**
 * Encode lines whose ends are given (multiline events hold `\n`, which the message escapes as
 * `\n`): one writeJsonString per event instead of the chunk-wide scan. Each event drops its
 * final `\n` and a `\r` before it, as a line does. Used only for chunks a multiline source
 * joined, so the per-event call (~20 ns) does not touch the single-line fast path.
 */
function encodeByEnds(buf: Buffer, ends: Int32Array, n: number, tail: Uint8Array): Buffer {
  const valid = isUtf8(buf);
  const tailLen = tail.length;
  const fixed = PREFIX_LEN + tailLen;
  let cap = buf.length + (buf.length >>> 3) + fixed * n + 64;
  let out = Buffer.allocUnsafe(cap);
  let pos = 0;
  let s = 0;
  for (let k = 0; k < n; k++) {
    let next = ends[k];
    if (next > buf.length) next = buf.length; // never read past the chunk, whatever ends says
    if (next < s) next = s;
    let e = next;
    if (e > s && buf[e - 1] === 0x0a) e--;
    if (e > s && buf[e - 1] === 0x0d) e--;
    const need = jsonStringMaxBytes(e - s) + fixed;
    if (cap - pos < need) {
      cap = Math.max(cap * 2, pos + need + (buf.length - s));
      const grown = Buffer.allocUnsafe(cap);
      out.copy(grown, 0, 0, pos);
      out = grown;
    }
    for (let j = 0; j < PREFIX_LEN; j++) out[pos + j] = PREFIX[j];
    pos = writeJsonString(buf, s, e, out, pos + PREFIX_LEN, valid);
    out.set(tail, pos);
    pos += tailLen;
    s = next;
  }
  return out.subarray(0, pos);
}

// Second and third results of encodeNdjson (module scratch: no result object per chunk).
let lastLines = 0;
let lastCrlf = false;

/**
 * The hot loop. Output capacity is kept by this invariant, checked only where output can grow
 * faster than input (escapes, U+FFFD, line ends), never per byte:
 *
 *     out.length - pos >= len - i            (every remaining byte can be copied 1:1)
 *
 * Copies and the word loop keep it (one byte in, one out); before an expanding step we make sure
 * of `len - i + STEP_MAX` where STEP_MAX = tail + prefix + 6 covers the biggest single step.
 * The word store writes 4 bytes at pos while i <= len - 4, so it stays inside as well.
 */
function encodeNdjson(buf: Buffer, tail: Uint8Array, linesHint: number): Buffer {
  const len = buf.length;
  const tailLen = tail.length;
  const stepMax = tailLen + PREFIX_LEN + JSON_ESCAPE_MAX_RATIO;
  const valid = isUtf8(buf);
  const highMask = valid ? 0 : 0x80808080 | 0;
  const src: Uint8Array = buf;
  const din = new DataView(buf.buffer, buf.byteOffset, len);
  // First guess: every byte once, every line's prefix and tail, 1/8 more for escapes (an nginx
  // line has ~6 quotes in ~130 bytes, 5%; a JSON line as raw ~10%). Wrong guesses only cost a
  // grow (one copy of what is written so far).
  let cap = len + (len >>> 3) + (tailLen + PREFIX_LEN) * (linesHint + 1) + stepMax;
  let outBuf: Buffer = Buffer.allocUnsafe(cap);
  let out: Uint8Array = outBuf;
  let dout = new DataView(outBuf.buffer, outBuf.byteOffset, cap);
  let pos = 0;
  let lines = 0;
  let crlf = false;
  let i = 0;
  const last4 = len - 4;
  // A line's prefix is written and its tail is not: true from the first byte on, until the
  // last line ended (the initial guess has room for this first prefix).
  let open = len > 0;
  if (open) {
    dout.setInt32(0, P0, true);
    dout.setInt32(4, P1, true);
    dout.setInt32(8, P2, true);
    pos = PREFIX_LEN;
  }
  while (i < len) {
    while (i <= last4) {
      const w = din.getInt32(i, true);
      const y = w ^ 0x02020202;
      const b = w ^ 0x5c5c5c5c;
      const m = ((((y - 0x21212121) & ~y) | ((b - 0x01010101) & ~b)) & 0x80808080) | (w & highMask);
      dout.setInt32(pos, w, true);
      if (m === 0) {
        i += 4;
        pos += 4;
        continue;
      }
      const k = (31 - Math.clz32(m & -m)) >> 3;
      i += k;
      pos += k;
      break;
    }
    if (i >= len) break;
    const c = src[i];
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c && (c < 0x80 || valid)) {
      out[pos++] = c; // a plain byte among the last 3 of the chunk
      i++;
      continue;
    }
    if (cap - pos < len - i + stepMax) {
      outBuf = grow(outBuf, pos, i, len, stepMax);
      out = outBuf;
      cap = outBuf.length;
      dout = new DataView(outBuf.buffer, outBuf.byteOffset, cap);
    }
    if (c === 0x0a || (c === 0x0d && (i + 1 === len || src[i + 1] === 0x0a))) {
      // End of line: `\n`, `\r\n`, or a `\r` that ends the chunk.
      if (c === 0x0d) {
        crlf = true;
        i++;
      }
      i++;
      out.set(tail, pos);
      pos += tailLen;
      lines++;
      if (i < len) {
        dout.setInt32(pos, P0, true);
        dout.setInt32(pos + 4, P1, true);
        dout.setInt32(pos + 8, P2, true);
        pos += PREFIX_LEN;
      } else open = false;
    } else if (c === 0x22 || c === 0x5c) {
      out[pos] = 0x5c; // the most common escape (nginx quotes its fields): no call
      out[pos + 1] = c;
      pos += 2;
      i++;
    } else if (c < 0x80) {
      pos = writeEscape(c, out, pos);
      i++;
    } else {
      const n = utf8Sequence(src, i, len);
      if (n > 0) {
        for (let j = 0; j < n; j++) out[pos++] = src[i + j];
        i += n;
      } else {
        out[pos++] = 0xef; // U+FFFD for the maximal subpart
        out[pos++] = 0xbf;
        out[pos++] = 0xbd;
        i -= n;
      }
    }
  }
  if (open) {
    // A last line without `\n`: close it. The invariant only promises len - i = 0 bytes here.
    if (cap - pos < tailLen) {
      outBuf = grow(outBuf, pos, len, len, stepMax);
      out = outBuf;
    }
    out.set(tail, pos);
    pos += tailLen;
    lines++;
  }
  lastLines = lines;
  lastCrlf = crlf;
  return outBuf.subarray(0, pos);
}

/** A new output buffer with room for the rest: the expansion seen so far, applied to the bytes
 *  still to read, plus one step. Copies what is written. */
function grow(outBuf: Buffer, pos: number, i: number, len: number, stepMax: number): Buffer {
  const ratio = i > 0 ? Math.max(pos / i, 1) : 2;
  const size = pos + Math.ceil((len - i) * ratio * 1.25) + stepMax * 2 + 64;
  const next = Buffer.allocUnsafe(Math.max(size, outBuf.length + stepMax));
  outBuf.copy(next, 0, 0, pos);
  return next;
}
