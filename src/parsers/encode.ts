// The encoder of parsed events: walks a chunk's Captures (./captures.ts) and writes one NDJSON
// event per line straight into one output Buffer: no string or object per event.
//
// Event shape (docs/parsers.md):
//
//   {["message":<M>,]"timestamp":"<T>","source":<path>,"host":<host><,static...><,field:value...>
//    <,"parse_error":true><,"truncated":true>}\n
//   '--- per line ---''---- per line ---''------------ MID: same for the chunk -----------'
//
//   M: the log's own message (syslog MSG, a JSON `message`); or the whole line (without `\r\n`)
//      for parse errors, lines with unmapped text and keep_message; else no message at all:
//      the fields hold the line (MSG_FIELDS).
//   T: the parsed time in UTC, RFC 3339 with milliseconds; the ingest time when there is none.
//   MID is built once per chunk and copied per line; field keys are pre-encoded per parser.
//
// Strings go through writeJsonString (the raw encoder's escaper) unless they are known to need
// no escaping: then they are copied 4 bytes a store (copyWords / copyChecked), the same word
// test finding the rare line that needs escaping after all.

import { utf8Sequence, writeJsonString } from '../engine/encoder.js';
import {
  type Captures,
  QUOTES,
  toWords,
  F_KEY_JSON,
  F_PREFIX,
  FROM,
  KE,
  KEY,
  KEY_HIDDEN,
  KS,
  type KeyTable,
  LE,
  LINE_STRIDE,
  literals,
  LS,
  MSG,
  MSG_FIELDS,
  MSG_LINE,
  REC_STRIDE,
  T_ESC,
  T_INT,
  T_JSON,
  T_LIT,
  T_MASK,
  T_NEG,
  T_NULL,
  T_NUM,
  T_SD,
  T_XESC,
  T_STR,
  T_TRUE,
  TMPL,
  TO,
  TYPE,
  VE,
  VS,
} from './captures.js';
import { backslashIn } from './scan.js';
import type { IsoWriter } from './time.js';

const MESSAGE = Buffer.from('{"message":', 'latin1');
const TIMESTAMP = Buffer.from(',"timestamp":"', 'latin1');
const PARSE_ERROR = Buffer.from(',"parse_error":true', 'latin1');
const TRUNCATED = Buffer.from(',"truncated":true', 'latin1');
const NULL = Buffer.from('null', 'latin1');
const TRUE = Buffer.from('true', 'latin1');
// The fixed parts of a line as words: `{"message":"` (12 bytes: 3 stores) and `","timestamp":"`
// (15 bytes in 4 stores; the padding byte is overwritten by the timestamp).
const MSG_OPEN = toWords(Buffer.from('{"message":"', 'latin1'));
const MSG_CLOSE_TS = toWords(Buffer.from('","timestamp":"', 'latin1'));
/** An event without message starts with its timestamp (14 bytes). */
const TS_OPEN = toWords(Buffer.from('{"timestamp":"', 'latin1'));

/** Per-source constants of the encoder, built once. */
export interface EncodeParts {
  keys: KeyTable;
  /** Longest pre-encoded key: bounds what one record's key can add. */
  maxKey: number;
  iso: IsoWriter;
  /**
   * Output bytes per input byte of the last chunk, plus a margin: the next output buffer is
   * sized by it. The buffer lives as long as its batch, so a loose guess holds memory and makes
   * the GC run more often (measured: a 2x guess cost ~15% in the pipeline).
   */
  ratio: number;
}

/** Output per input byte assumed for a source's first chunk (a message and fields each x1, keys). */
export const FIRST_RATIO = 3;
/** 1 MiB: an output buffer this big and less than half used is copied to its size. */
const SHRINK_MIN = 1 << 20;
/** Room added to the observed ratio: most chunks of a log look alike, a grow costs one copy. */
const RATIO_MARGIN = 1.15;

/**
 * Encode every line of `cap`. `mid` = `,"source":..,"host":..<static>` for this chunk,
 * `ingest` = the ingest timestamp as 6 words (IsoWriter.words). `keepMessage`: a line whose
 * fields hold all of it (MSG_FIELDS) is still written whole as `message`. Returns the NDJSON.
 *
 * Writes go through a DataView 4 bytes at a time where the bytes are known (keys, fixed parts):
 * a store may write up to 3 bytes past the end of what it keeps; the next write overwrites them,
 * and the room check below keeps them inside the buffer.
 */
export function encodeEvents(
  cap: Captures,
  parts: EncodeParts,
  mid: Uint8Array,
  ingest: Int32Array,
  truncated: boolean,
  keepMessage = false,
): Buffer {
  const buf = cap.buf;
  const n = cap.n;
  const line = cap.line;
  const time = cap.time;
  const rec = cap.rec;
  const utf8 = cap.utf8;
  const iso = parts.iso;
  const midLen = mid.length;
  const midWords = toWords(mid); // once per chunk: stores beat a TypedArray#set call per line
  const perRec = parts.maxKey + 16;
  const din = new DataView(buf.buffer, buf.byteOffset, buf.length);
  // What the last chunk needed per input byte, plus what this chunk's lines need more. A wrong
  // guess costs one grow (a copy of what is written so far).
  let size = Math.ceil(buf.length * parts.ratio) + n * 8 + 4096;
  let out = Buffer.allocUnsafe(size);
  let dout = new DataView(out.buffer, out.byteOffset, size);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const o = i * LINE_STRIDE;
    const ls = line[o + LS];
    const le = line[o + LE];
    const from = line[o + FROM];
    const to = line[o + TO];
    // Worst case of this line: every byte escaped (x6) in the message and again in its fields
    // (structured data adds its punctuation, at most ~x2 more), plus keys and fixed parts.
    const need = 20 * (le - ls) + (to - from) * perRec + midLen + 160;
    if (size - pos < need) {
      // room for this line, and for the rest at the rate seen so far
      const rate = ls > 0 ? pos / ls : parts.ratio;
      const next = Buffer.allocUnsafe(Math.ceil(pos + need + (buf.length - ls) * rate * 1.1));
      out.copy(next, 0, 0, pos);
      out = next;
      size = next.length;
      dout = new DataView(out.buffer, out.byteOffset, size);
    }
    const msg = line[o + MSG];
    // How T_STR fields are written: escaped (unknown bytes), copied (the line is known to need no
    // escaping), or copied while checking (and rewritten escaped if a byte needed it).
    let mode = utf8 ? COPY_CHECKED : ESCAPED;
    if (msg === MSG_LINE || (msg === MSG_FIELDS && keepMessage)) {
      dout.setInt32(pos, MSG_OPEN[0], true);
      dout.setInt32(pos + 4, MSG_OPEN[1], true);
      dout.setInt32(pos + 8, MSG_OPEN[2], true);
      pos += 12;
      const start = pos;
      pos = writeJsonString(buf, ls, le, out, pos, utf8);
      // Escaping grew the line by just its delimiter quotes: no other byte needed escaping, so
      // the fields (which exclude those quotes) are copied as they are.
      mode = pos - start - (le - ls) === line[o + QUOTES] ? COPY : ESCAPED;
      pos = putWords(MSG_CLOSE_TS, 15, dout, pos);
    } else if (msg >= 0) {
      pos = put(MESSAGE, out, pos);
      pos = writeValue(buf, rec, msg * REC_STRIDE, out, pos, utf8);
      pos = put(TIMESTAMP, out, pos);
    } else {
      // MSG_FIELDS: the fields hold the line; no message
      pos = putWords(TS_OPEN, 14, dout, pos);
    }
    const t = time[i];
    if (t === t) pos = iso.write(t, dout, pos);
    else pos = putWords(ingest, 24, dout, pos);
    out[pos++] = 0x22;
    pos = putWords(midWords, midLen, dout, pos);
    if (from < to) {
      const fieldsAt = pos;
      dirty = 0;
      pos = writeFields(buf, din, rec, from, to, out, dout, pos, parts.keys, utf8, mode);
      if (dirty !== 0) {
        // a byte of a field needs escaping after all: write the fields again, escaping
        pos = writeFields(buf, din, rec, from, to, out, dout, fieldsAt, parts.keys, utf8, ESCAPED);
      }
    }
    if (line[o + TMPL] < 0) pos = put(PARSE_ERROR, out, pos);
    if (truncated) pos = put(TRUNCATED, out, pos);
    out[pos++] = 0x7d; // }
    out[pos++] = 0x0a;
  }
  if (buf.length > 0) parts.ratio = (pos / buf.length) * RATIO_MARGIN;
  // A buffer grown for one huge line would pin its unused half for as long as the batch lives.
  if (size > 2 * pos && size > SHRINK_MIN) return Buffer.from(out.subarray(0, pos));
  return out.subarray(0, pos);
}

const ESCAPED = 0;
const COPY = 1;
const COPY_CHECKED = 2;

/** Set by copyChecked: the flag bits of bytes that need escaping (0: none). */
let dirty = 0;

/** The records [from, to) of one line as `,"key":value` pairs. */
function writeFields(
  buf: Uint8Array,
  din: DataView,
  rec: Int32Array,
  from: number,
  to: number,
  out: Uint8Array,
  dout: DataView,
  pos: number,
  keys: KeyTable,
  utf8: boolean,
  mode: number,
): number {
  const keyLen = keys.lengths;
  const keyFlat = keys.flat;
  const bufLen = buf.length;
  for (let r = from; r < to; r++) {
    const ro = r * REC_STRIDE;
    const key = rec[ro + KEY];
    if (key >= 0) {
      const kl = keyLen[key];
      if (kl <= 32) {
        // the key's words from one flat table: as many stores as it has words (measured faster
        // than a fixed 8 stores, and than a loop over per-key arrays)
        const kw = key << 3;
        for (let k = 0; k < kl; k += 4) dout.setInt32(pos + k, keyFlat[kw + (k >> 2)], true);
        pos += kl;
      } else pos = putWords(keys.words[key], kl, dout, pos);
    } else if (key === KEY_HIDDEN) continue;
    else if (utf8 && (rec[ro + TYPE] & (F_KEY_JSON | F_PREFIX)) === F_KEY_JSON) {
      // a JSON key (valid UTF-8, already escaped): `,"` key `":`
      out[pos++] = 0x2c;
      out[pos++] = 0x22;
      pos = copyWords(din, rec[ro + KS], rec[ro + KE], dout, pos, bufLen);
      out[pos++] = 0x22;
      out[pos++] = 0x3a;
    } else pos = writeDynamicKey(buf, rec, ro, out, pos, utf8);
    const type = rec[ro + TYPE] & T_MASK;
    if (type === T_STR && mode !== ESCAPED) {
      out[pos++] = 0x22;
      if (mode === COPY) pos = copyWords(din, rec[ro + VS], rec[ro + VE], dout, pos, bufLen);
      else pos = copyChecked(din, rec[ro + VS], rec[ro + VE], dout, pos, bufLen);
      out[pos++] = 0x22;
    } else if (type === T_NUM || (type === T_JSON && utf8)) {
      // digits, or a JSON value the json parser validated (valid UTF-8: copied as is)
      pos = copyWords(din, rec[ro + VS], rec[ro + VE], dout, pos, bufLen);
    } else {
      pos = writeValue(buf, rec, ro, out, pos, utf8);
    }
  }
  return pos;
}

/**
 * copyWords that also looks at what it copies: the flag bits of a byte that JSON needs escaped
 * (`"`, `\`, < 0x20: the word test of writeJsonString, without its exits) are or-ed into
 * `dirty`. Only for chunks of valid UTF-8. A flagged byte past `e` (read by the last word) is
 * masked off; a false flag only appears above a true one, so the test is exact.
 */
function copyChecked(
  src: DataView,
  s: number,
  e: number,
  out: DataView,
  pos: number,
  len: number,
): number {
  const n = e - s;
  if (e + 3 >= len) {
    // at the chunk end the last word cannot over-read: check byte by byte
    for (let k = s; k < e; k++) {
      const c = src.getUint8(k);
      if (c < 0x20 || c === 0x22 || c === 0x5c) dirty |= 1;
      out.setUint8(pos++, c);
    }
    return pos;
  }
  let m = 0;
  for (let k = 0; k < n; k += 4) {
    const w = src.getInt32(s + k, true);
    out.setInt32(pos + k, w, true);
    const y = w ^ 0x02020202;
    const b = w ^ 0x5c5c5c5c;
    let f = (((y - 0x21212121) & ~y) | ((b - 0x01010101) & ~b)) & 0x80808080;
    const left = n - k;
    if (left < 4) f &= (1 << (left << 3)) - 1;
    m |= f;
  }
  dirty |= m;
  return pos + n;
}

/** `len` bytes given as words (toWords), one store per 4 bytes. */
function putWords(words: Int32Array, len: number, out: DataView, pos: number): number {
  for (let k = 0, p = pos; k < words.length; k++, p += 4) out.setInt32(p, words[k], true);
  return pos + len;
}

/**
 * Bytes [s, e) that need no escaping, copied 4 at a time. The last word may read up to 3 bytes
 * past `e` (inside the chunk: `len`) and write them past the copy; the writes after it cover
 * them. Values up to 32 bytes (most fields) take 4 or 8 stores and no loop.
 */
function copyWords(
  src: DataView,
  s: number,
  e: number,
  out: DataView,
  pos: number,
  len: number,
): number {
  const n = e - s;
  if (s + 32 <= len) {
    if (n <= 16) {
      out.setInt32(pos, src.getInt32(s, true), true);
      out.setInt32(pos + 4, src.getInt32(s + 4, true), true);
      out.setInt32(pos + 8, src.getInt32(s + 8, true), true);
      out.setInt32(pos + 12, src.getInt32(s + 12, true), true);
      return pos + n;
    }
    if (n <= 32) {
      out.setInt32(pos, src.getInt32(s, true), true);
      out.setInt32(pos + 4, src.getInt32(s + 4, true), true);
      out.setInt32(pos + 8, src.getInt32(s + 8, true), true);
      out.setInt32(pos + 12, src.getInt32(s + 12, true), true);
      out.setInt32(pos + 16, src.getInt32(s + 16, true), true);
      out.setInt32(pos + 20, src.getInt32(s + 20, true), true);
      out.setInt32(pos + 24, src.getInt32(s + 24, true), true);
      out.setInt32(pos + 28, src.getInt32(s + 28, true), true);
      return pos + n;
    }
    if (e + 3 < len) {
      for (let k = 0; k < n; k += 4) out.setInt32(pos + k, src.getInt32(s + k, true), true);
      return pos + n;
    }
  }
  let k = s;
  for (; k + 4 <= e; k += 4, pos += 4) out.setInt32(pos, src.getInt32(k, true), true);
  for (; k < e; k++) out.setUint8(pos++, src.getUint8(k));
  return pos;
}

/** Copy a short constant: a JS loop beats TypedArray#set's call for a few dozen bytes. */
function put(src: Uint8Array, out: Uint8Array, pos: number): number {
  const n = src.length;
  if (n > 48) {
    out.set(src, pos);
    return pos + n;
  }
  for (let k = 0; k < n; k++) out[pos + k] = src[k];
  return pos + n;
}

/** `,"<key>":` for a key that is bytes of the line (JSON, logfmt). */
function writeDynamicKey(
  buf: Uint8Array,
  rec: Int32Array,
  ro: number,
  out: Uint8Array,
  pos: number,
  utf8: boolean,
): number {
  const type = rec[ro + TYPE];
  out[pos++] = 0x2c;
  out[pos++] = 0x22;
  if ((type & F_PREFIX) !== 0) out[pos++] = 0x5f; // `_`: the key clashes with one we write
  const ks = rec[ro + KS];
  const ke = rec[ro + KE];
  if ((type & F_KEY_JSON) !== 0) pos = copyJson(buf, ks, ke, out, pos, utf8);
  else pos = writeJsonString(buf, ks, ke, out, pos, utf8);
  out[pos++] = 0x22;
  out[pos++] = 0x3a;
  return pos;
}

/** The JSON value of record `ro`. */
function writeValue(
  buf: Uint8Array,
  rec: Int32Array,
  ro: number,
  out: Uint8Array,
  pos: number,
  utf8: boolean,
): number {
  const vs = rec[ro + VS];
  const ve = rec[ro + VE];
  switch (rec[ro + TYPE] & T_MASK) {
    case T_STR:
      out[pos++] = 0x22;
      pos = writeJsonString(buf, vs, ve, out, pos, utf8);
      out[pos++] = 0x22;
      return pos;
    case T_ESC:
    case T_XESC:
      out[pos++] = 0x22;
      pos = writeEscaped(buf, vs, ve, out, pos, utf8, (rec[ro + TYPE] & T_MASK) === T_XESC);
      out[pos++] = 0x22;
      return pos;
    case T_NUM:
      for (let k = vs; k < ve; k++) out[pos++] = buf[k];
      return pos;
    case T_NEG:
      out[pos++] = 0x2d;
      for (let k = vs; k < ve; k++) out[pos++] = buf[k];
      return pos;
    case T_NULL:
      return put(NULL, out, pos);
    case T_TRUE:
      return put(TRUE, out, pos);
    case T_JSON:
      return copyJson(buf, vs, ve, out, pos, utf8);
    case T_INT:
      return writeInt(vs, out, pos);
    case T_LIT:
      return put(literals[vs], out, pos);
    case T_SD:
      return writeStructuredData(buf, vs, ve, out, pos, utf8);
    default:
      throw new Error(`bug: record type ${rec[ro + TYPE]}`);
  }
}

/** A non-negative int32 as decimal digits. */
function writeInt(v: number, out: Uint8Array, pos: number): number {
  if (v < 10) {
    out[pos] = 48 + v;
    return pos + 1;
  }
  let digits = 1;
  for (let x = v; x >= 10; x = (x / 10) | 0) digits++;
  for (let k = digits - 1; k >= 0; k--) {
    out[pos + k] = 48 + (v % 10);
    v = (v / 10) | 0;
  }
  return pos + digits;
}

/**
 * Copy bytes that are valid JSON already (a value the json parser validated, or a JSON string
 * body). When the chunk is not valid UTF-8, an ill-formed sequence (only possible inside a
 * string: the scanner allows no other bytes >= 0x80) becomes U+FFFD, as everywhere else.
 */
function copyJson(
  buf: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  pos: number,
  utf8: boolean,
): number {
  const n = e - s;
  if (!utf8) return repairFrom(buf, s, e, out, pos);
  if (n > 64) {
    out.set(buf.subarray(s, e), pos);
    return pos + n;
  }
  for (let k = s; k < e; k++) out[pos++] = buf[k];
  return pos;
}

/** Copy with invalid UTF-8 replaced by U+FFFD (the maximal-subpart rule of writeJsonString). */
function repairFrom(buf: Uint8Array, s: number, e: number, out: Uint8Array, pos: number): number {
  let i = s;
  while (i < e) {
    const c = buf[i];
    if (c < 0x80) {
      out[pos++] = c;
      i++;
      continue;
    }
    const k = utf8Sequence(buf, i, e);
    if (k > 0) {
      for (let j = 0; j < k; j++) out[pos++] = buf[i + j];
      i += k;
    } else {
      out[pos++] = 0xef;
      out[pos++] = 0xbf;
      out[pos++] = 0xbd;
      i -= k;
    }
  }
  return pos;
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** The code unit of `\uXXXX` at i (i at the backslash), or -1. */
function uEscape(buf: Uint8Array, i: number, e: number): number {
  if (i + 6 > e || buf[i + 1] !== 0x75) return -1;
  let v = 0;
  for (let k = i + 2; k < i + 6; k++) {
    const h = hexVal(buf[k]);
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}

/**
 * A JSON string body of backslash-escaped text (Apache's `\"`, logfmt's quoted values, RFC 5424
 * PARAM-VALUEs). Escapes JSON knows are kept as they are: `\"` `\\` `\/` `\b` `\f` `\n` `\r`
 * `\t` `\uXXXX` (a lone surrogate becomes `\ufffd`, as JSON.stringify(wellFormed) would); `\]`
 * and `\'` are their character, `\v` (Apache) a vertical tab; with `hex` (T_XESC), `\xHH` (nginx
 * and Apache write it for `"`, `\`, controls and bytes >= 0x7f) is the byte it stands for; any
 * other backslash is a literal backslash (RFC 5424 6.3.3: SD values never decode `\xHH`). The
 * rest goes through writeJsonString.
 */
export function writeEscaped(
  buf: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  pos: number,
  utf8: boolean,
  hex: boolean,
): number {
  let i = s;
  while (i < e) {
    const j = backslashIn(buf, i, e);
    if (j < 0) return writeJsonString(buf, i, e, out, pos, utf8);
    pos = writeJsonString(buf, i, j, out, pos, utf8);
    let c = j + 1 < e ? buf[j + 1] : -1;
    if (c === 0x78 && !hex) c = -1; // `\x` is not an escape here: a literal backslash
    switch (c) {
      case 0x22: // "
      case 0x5c: // \
      case 0x2f: // /
      case 0x62: // b
      case 0x66: // f
      case 0x6e: // n
      case 0x72: // r
      case 0x74: // t
        out[pos++] = 0x5c;
        out[pos++] = c;
        i = j + 2;
        break;
      case 0x5d: // ]
      case 0x27: // '
        out[pos++] = c;
        i = j + 2;
        break;
      case 0x76: // v: Apache writes a vertical tab so; JSON has no short form
        pos = putAscii('\\u000b', out, pos);
        i = j + 2;
        break;
      case 0x78: {
        // x: a run of `\xHH` is decoded as one, so an escaped UTF-8 sequence stays one
        // character; the bytes then go through writeJsonString like any others (`\x22` -> `\"`,
        // `\x01` -> `\u0001`, a lone `\xA5` -> U+FFFD). 4 input bytes make 1 byte, which makes at
        // most 6 output bytes: within the jsonStringMaxBytes room of the 4.
        let k = j;
        let n = 0;
        while (k + 4 <= e && buf[k] === 0x5c && buf[k + 1] === 0x78) {
          const v = (hexVal(buf[k + 2]) << 4) | hexVal(buf[k + 3]);
          if (v < 0) break;
          if (n === hexBytes.length) {
            const grown = new Uint8Array(n * 2);
            grown.set(hexBytes);
            hexBytes = grown;
          }
          hexBytes[n++] = v;
          k += 4;
        }
        if (n === 0) {
          out[pos++] = 0x5c; // `\x` without two hex digits: a literal backslash
          out[pos++] = 0x5c;
          i = j + 1;
        } else {
          pos = writeJsonString(hexBytes, 0, n, out, pos, false);
          i = k;
        }
        break;
      }
      case 0x75: {
        // u
        const u = uEscape(buf, j, e);
        if (u < 0) {
          out[pos++] = 0x5c;
          out[pos++] = 0x5c;
          i = j + 1;
          break;
        }
        let len = 6;
        let lone = u >= 0xdc00 && u <= 0xdfff;
        if (u >= 0xd800 && u <= 0xdbff) {
          const lo = buf[j + 6] === 0x5c ? uEscape(buf, j + 6, e) : -1;
          if (lo >= 0xdc00 && lo <= 0xdfff) len = 12;
          else lone = true;
        }
        if (lone) {
          pos = putAscii('\\ufffd', out, pos);
        } else {
          for (let k = 0; k < len; k++) out[pos++] = buf[j + k];
        }
        i = j + len;
        break;
      }
      default:
        out[pos++] = 0x5c; // a backslash that escapes nothing: itself
        out[pos++] = 0x5c;
        i = j + 1;
    }
  }
  return pos;
}

/** Bytes of a `\xHH` run being decoded (writeEscaped): grown when a run is longer, never shrunk. */
let hexBytes = new Uint8Array(256);

function putAscii(s: string, out: Uint8Array, pos: number): number {
  for (let k = 0; k < s.length; k++) out[pos++] = s.charCodeAt(k);
  return pos;
}

// RFC 5424 STRUCTURED-DATA -> {"sd-id":{"param":"value",...},...}. The syslog parser validated
// the span, so this walk trusts its shape: `[` SD-ID *(SP NAME `="` VALUE `"`) `]`, repeated.
// A PARAM-NAME repeated inside one element (RFC 5424 6.3.3 allows it) becomes an array of its
// values, so no value is lost to a duplicate JSON key.

/** Scratch for one element's params: name start, name end, value start, value end. */
let sdParams = new Int32Array(64 * 4);

function writeStructuredData(
  buf: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  pos: number,
  utf8: boolean,
): number {
  out[pos++] = 0x7b; // {
  let i = s;
  let firstElement = true;
  while (i < e && buf[i] === 0x5b) {
    // SD-ID
    const idStart = i + 1;
    let k = idStart;
    while (buf[k] !== 0x20 && buf[k] !== 0x5d) k++;
    if (!firstElement) out[pos++] = 0x2c;
    firstElement = false;
    out[pos++] = 0x22;
    pos = writeJsonString(buf, idStart, k, out, pos, utf8);
    out[pos++] = 0x22;
    out[pos++] = 0x3a;
    out[pos++] = 0x7b;
    // params
    let np = 0;
    while (buf[k] === 0x20) {
      const ns = k + 1;
      let q = ns;
      while (buf[q] !== 0x3d) q++; // =
      const vs = q + 2; // after `="`
      let v = vs;
      while (buf[v] !== 0x22) v += buf[v] === 0x5c ? 2 : 1;
      if ((np + 1) * 4 > sdParams.length) {
        const next = new Int32Array(sdParams.length * 2);
        next.set(sdParams);
        sdParams = next;
      }
      const p4 = np * 4;
      sdParams[p4] = ns;
      sdParams[p4 + 1] = q;
      sdParams[p4 + 2] = vs;
      sdParams[p4 + 3] = v;
      np++;
      k = v + 1;
    }
    pos = writeParams(buf, np, out, pos, utf8);
    out[pos++] = 0x7d;
    i = k + 1; // past `]`
  }
  out[pos++] = 0x7d;
  return pos;
}

function sameName(buf: Uint8Array, a: number, b: number): boolean {
  const as = sdParams[a * 4];
  const bs = sdParams[b * 4];
  const n = sdParams[a * 4 + 1] - as;
  if (sdParams[b * 4 + 1] - bs !== n) return false;
  for (let k = 0; k < n; k++) if (buf[as + k] !== buf[bs + k]) return false;
  return true;
}

function writeParams(
  buf: Uint8Array,
  np: number,
  out: Uint8Array,
  pos: number,
  utf8: boolean,
): number {
  let first = true;
  for (let a = 0; a < np; a++) {
    if (sdParams[a * 4] < 0) continue; // written with an earlier param of the same name
    if (!first) out[pos++] = 0x2c;
    first = false;
    out[pos++] = 0x22;
    pos = writeJsonString(buf, sdParams[a * 4], sdParams[a * 4 + 1], out, pos, utf8);
    out[pos++] = 0x22;
    out[pos++] = 0x3a;
    let repeated = false;
    for (let b = a + 1; b < np && !repeated; b++)
      repeated = sdParams[b * 4] >= 0 && sameName(buf, a, b);
    if (!repeated) {
      pos = quotedEscaped(buf, sdParams[a * 4 + 2], sdParams[a * 4 + 3], out, pos, utf8);
      continue;
    }
    out[pos++] = 0x5b; // [
    pos = quotedEscaped(buf, sdParams[a * 4 + 2], sdParams[a * 4 + 3], out, pos, utf8);
    for (let b = a + 1; b < np; b++) {
      if (sdParams[b * 4] < 0 || !sameName(buf, a, b)) continue;
      out[pos++] = 0x2c;
      pos = quotedEscaped(buf, sdParams[b * 4 + 2], sdParams[b * 4 + 3], out, pos, utf8);
      sdParams[b * 4] = -1;
    }
    out[pos++] = 0x5d;
  }
  return pos;
}

function quotedEscaped(
  buf: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  pos: number,
  utf8: boolean,
): number {
  out[pos++] = 0x22;
  pos = writeEscaped(buf, s, e, out, pos, utf8, false);
  out[pos++] = 0x22;
  return pos;
}

/** Lines of the chunk that matched no template. */
export function countParseErrors(cap: Captures): number {
  const line = cap.line;
  let errors = 0;
  for (let i = 0, o = TMPL; i < cap.n; i++, o += LINE_STRIDE) if (line[o] < 0) errors++;
  return errors;
}
