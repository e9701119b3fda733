// Field lookup for transforms: a FieldReader is compiled once per (field name, source) and finds
// a line's value of that field in the capture tables (../parsers/captures.ts), leaving it as a
// byte span in its own properties: no string, no object per line.
//
// How a name is found, decided at compile time:
//   `message`          the record MSG points at, or the whole line [LS, LE) when MSG is -1
//   a parser's key     records with KEY = its id in the parser's key table (nginx `status`);
//                      the record's place among the line's records is remembered, so a fixed
//                      format finds it at the first look
//   any other name     with json/logfmt, records with KEY_DYNAMIC whose key bytes equal it;
//                      with other parsers it can never be there (the condition is a constant)
//
// Values are normalised to a few kinds: V_STR (the text, escapes decoded), V_NUM (the number's
// text), V_TRUE/V_FALSE/V_NULL, V_OTHER (objects, arrays, structured data). Decoding escapes or
// writing a small int's digits goes into a scratch buffer of the reader (rare, and no allocation).

import {
  type Captures,
  F_PREFIX,
  FROM,
  KE,
  KEY,
  KEY_DYNAMIC,
  KS,
  LE,
  LINE_STRIDE,
  literals,
  LS,
  MSG,
  REC_STRIDE,
  T_ESC,
  T_XESC,
  T_INT,
  T_JSON,
  T_LIT,
  T_MASK,
  T_NEG,
  T_NULL,
  T_NUM,
  T_STR,
  T_TRUE,
  TO,
  TYPE,
  VE,
  VS,
} from '../parsers/captures.js';
import type { SourceView } from './types.js';

export const V_MISSING = 0;
export const V_STR = 1;
export const V_NUM = 2;
export const V_TRUE = 3;
export const V_FALSE = 4;
export const V_NULL = 5;
export const V_OTHER = 6;

const EMPTY = new Uint8Array(0);
/** 256 bytes: room for the decoded text of most values; grown for longer ones. */
const SCRATCH_BYTES = 256;

export class FieldReader {
  /** The field name, for messages and tests. */
  readonly name: string;
  /** False when the field can never be in this source's events: conditions fold to constants. */
  readonly possible: boolean;
  // What read() found: the kind, and for V_STR / V_NUM the value's bytes src[s, e).
  kind = V_MISSING;
  src: Uint8Array = EMPTY;
  s = 0;
  e = 0;

  private readonly message: boolean;
  /** Id in the parser's fixed key table, or -1. */
  private readonly id: number;
  /** Look among the dynamic keys (json, logfmt). */
  private readonly dynamic: boolean;
  private readonly nameBytes: Buffer;
  /** Where among a line's records the fixed key was found last (records from FROM). */
  private guess = 0;
  private scratch = new Uint8Array(SCRATCH_BYTES);

  constructor(name: string, source: SourceView) {
    this.name = name;
    this.nameBytes = Buffer.from(name, 'utf8');
    this.message = name === 'message';
    const names = source.keys?.names ?? [];
    this.id = this.message ? -1 : names.indexOf(name);
    this.dynamic = !this.message && source.dynamic;
    this.possible = this.message || this.id >= 0 || this.dynamic;
  }

  /** Find the field in line i of cap; returns (and keeps in `kind`) its V_* kind. */
  read(cap: Captures, i: number): number {
    const line = cap.line;
    const o = i * LINE_STRIDE;
    if (this.message) {
      const m = line[o + MSG];
      if (m >= 0) return this.value(cap, m * REC_STRIDE);
      this.src = cap.buf;
      this.s = line[o + LS];
      this.e = line[o + LE];
      return (this.kind = V_STR);
    }
    const rec = cap.rec;
    const from = line[o + FROM];
    const to = line[o + TO];
    const id = this.id;
    if (id >= 0) {
      const g = from + this.guess;
      if (g < to && rec[g * REC_STRIDE + KEY] === id) return this.value(cap, g * REC_STRIDE);
      for (let r = from; r < to; r++) {
        if (rec[r * REC_STRIDE + KEY] === id) {
          this.guess = r - from;
          return this.value(cap, r * REC_STRIDE);
        }
      }
    }
    if (this.dynamic) {
      for (let r = from; r < to; r++) {
        const ro = r * REC_STRIDE;
        if (rec[ro + KEY] === KEY_DYNAMIC && this.keyIs(cap.buf, rec, ro)) {
          return this.value(cap, ro);
        }
      }
    }
    return (this.kind = V_MISSING);
  }

  /** Does the dynamic key of record ro, as the event shows it, equal the name? */
  private keyIs(buf: Uint8Array, rec: Int32Array, ro: number): boolean {
    const name = this.nameBytes;
    const type = rec[ro + TYPE];
    let ks = rec[ro + KS];
    const ke = rec[ro + KE];
    let k = 0;
    if ((type & F_PREFIX) !== 0) {
      // Written as `_<key>`: the key clashed with one the agent writes.
      if (name[0] !== 0x5f) return false;
      k = 1;
    }
    if (ke - ks !== name.length - k) return false;
    // Keys of json lines (F_KEY_JSON) are JSON string bodies: equal bytes unless they hold
    // escapes, which config names never need.
    for (; k < name.length; k++, ks++) if (buf[ks] !== name[k]) return false;
    return true;
  }

  /** Normalise the value of record ro. */
  private value(cap: Captures, ro: number): number {
    const rec = cap.rec;
    const buf = cap.buf;
    const vs = rec[ro + VS];
    const ve = rec[ro + VE];
    switch (rec[ro + TYPE] & T_MASK) {
      case T_STR:
        this.src = buf;
        this.s = vs;
        this.e = ve;
        return (this.kind = V_STR);
      case T_ESC:
        return this.text(buf, vs, ve, false);
      case T_XESC:
        return this.text(buf, vs, ve, true);
      case T_NUM:
        this.src = buf;
        this.s = vs;
        this.e = ve;
        return (this.kind = V_NUM);
      case T_NEG: {
        // The digits without their `-`: the text gets it back in the scratch.
        const out = this.room(ve - vs + 1);
        out[0] = 0x2d;
        for (let k = vs; k < ve; k++) out[k - vs + 1] = buf[k];
        this.src = out;
        this.s = 0;
        this.e = ve - vs + 1;
        return (this.kind = V_NUM);
      }
      case T_NULL:
        return (this.kind = V_NULL);
      case T_TRUE:
        return (this.kind = V_TRUE);
      case T_JSON:
        return this.json(buf, vs, ve);
      case T_INT: {
        const out = this.room(11);
        let v = vs;
        let n = 0;
        do {
          out[n++] = 48 + (v % 10);
          v = (v / 10) | 0;
        } while (v > 0);
        out.subarray(0, n).reverse();
        this.src = out;
        this.s = 0;
        this.e = n;
        return (this.kind = V_NUM);
      }
      case T_LIT: {
        const lit = literals[vs];
        return this.json(lit, 0, lit.length);
      }
      default:
        return (this.kind = V_OTHER); // structured data
    }
  }

  /** A JSON value's bytes: strings decoded, numbers as text, the literals by name. */
  private json(src: Uint8Array, s: number, e: number): number {
    const c = src[s];
    if (c === 0x22) return this.text(src, s + 1, e - 1, false);
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.src = src;
      this.s = s;
      this.e = e;
      return (this.kind = V_NUM);
    }
    if (c === 0x74) return (this.kind = V_TRUE);
    if (c === 0x66) return (this.kind = V_FALSE);
    if (c === 0x6e) return (this.kind = V_NULL);
    return (this.kind = V_OTHER);
  }

  /** Backslash-escaped text: as is when it has no backslash, else decoded into the scratch. */
  private text(src: Uint8Array, s: number, e: number, hex: boolean): number {
    let b = s;
    while (b < e && src[b] !== 0x5c) b++;
    if (b === e) {
      this.src = src;
      this.s = s;
      this.e = e;
      return (this.kind = V_STR);
    }
    const out = this.room(e - s);
    const n = unescapeInto(src, s, e, out, hex);
    this.src = out;
    this.s = 0;
    this.e = n;
    return (this.kind = V_STR);
  }

  private room(n: number): Uint8Array {
    if (this.scratch.length < n)
      this.scratch = new Uint8Array(Math.max(n, this.scratch.length * 2));
    return this.scratch;
  }
}

/**
 * Decode `\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` `\uXXXX` (JSON), `\]` `\'`, and with `hex` `\xHH`
 * (nginx; T_XESC); any other backslash stays as written (the parsers' T_ESC rule). The result
 * is never longer than the input.
 */
export function unescapeInto(
  src: Uint8Array,
  s: number,
  e: number,
  out: Uint8Array,
  hex = false,
): number {
  let n = 0;
  let i = s;
  while (i < e) {
    const c = src[i];
    if (c !== 0x5c || i + 1 >= e) {
      out[n++] = c;
      i++;
      continue;
    }
    const d = src[i + 1];
    let r = -1;
    switch (d) {
      case 0x22:
      case 0x5c:
      case 0x2f:
      case 0x5d:
      case 0x27:
        r = d;
        break;
      case 0x62:
        r = 8;
        break;
      case 0x66:
        r = 12;
        break;
      case 0x6e:
        r = 10;
        break;
      case 0x72:
        r = 13;
        break;
      case 0x74:
        r = 9;
        break;
      case 0x78: {
        // `\xHH`: the byte itself (4 input bytes make 1)
        const v = hex && i + 4 <= e ? (hexDigit(src[i + 2]) << 4) | hexDigit(src[i + 3]) : -1;
        if (v < 0) break;
        out[n++] = v;
        i += 4;
        continue;
      }
      case 0x75: {
        let cp = hex4(src, i + 2, e);
        if (cp < 0) break;
        let used = 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          const lo = src[i + 6] === 0x5c && src[i + 7] === 0x75 ? hex4(src, i + 8, e) : -1;
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            used = 12;
          } else cp = 0xfffd;
        } else if (cp >= 0xdc00 && cp <= 0xdfff) cp = 0xfffd;
        n = putCodePoint(cp, out, n);
        i += used;
        continue;
      }
    }
    if (r < 0) {
      out[n++] = c; // a backslash that escapes nothing: itself
      i++;
    } else {
      out[n++] = r;
      i += 2;
    }
  }
  return n;
}

function hex4(src: Uint8Array, i: number, e: number): number {
  if (i + 4 > e) return -1;
  let v = 0;
  for (let k = i; k < i + 4; k++) {
    const h = hexDigit(src[k]);
    if (h < 0) return -1;
    v = (v << 4) | h;
  }
  return v;
}

function hexDigit(c: number): number {
  return c >= 0x30 && c <= 0x39
    ? c - 0x30
    : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66
      ? (c | 0x20) - 0x57
      : -1;
}

/** UTF-8 of cp; `\uXXXX` takes 6 input bytes and makes at most 3 (4 for a 12-byte pair). */
function putCodePoint(cp: number, out: Uint8Array, n: number): number {
  if (cp < 0x80) out[n++] = cp;
  else if (cp < 0x800) {
    out[n++] = 0xc0 | (cp >> 6);
    out[n++] = 0x80 | (cp & 63);
  } else if (cp < 0x10000) {
    out[n++] = 0xe0 | (cp >> 12);
    out[n++] = 0x80 | ((cp >> 6) & 63);
    out[n++] = 0x80 | (cp & 63);
  } else {
    out[n++] = 0xf0 | (cp >> 18);
    out[n++] = 0x80 | ((cp >> 12) & 63);
    out[n++] = 0x80 | ((cp >> 6) & 63);
    out[n++] = 0x80 | (cp & 63);
  }
  return n;
}

/** 10^k for k <= 22 are exact doubles: a decimal of up to 15 digits divided by one is exact-rounded. */
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The number written as text in src[s, e): `-?digits(.digits)?([eE][+-]?digits)?` (a leading `+`
 * too), or NaN. Integers and short decimals are read in place; anything longer goes through
 * Number() (a string, but only for such values).
 */
export function numberAt(src: Uint8Array, s: number, e: number): number {
  let i = s;
  let neg = false;
  if (i < e && (src[i] === 0x2d || src[i] === 0x2b)) {
    neg = src[i] === 0x2d;
    i++;
  }
  const d0 = i;
  let v = 0;
  while (i < e) {
    const d = src[i] - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
  }
  if (i === d0) return NaN;
  let digits = i - d0;
  let scale = 0;
  if (i < e && src[i] === 0x2e) {
    i++;
    const f0 = i;
    while (i < e) {
      const d = src[i] - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      i++;
    }
    if (i === f0) return NaN;
    scale = i - f0;
    digits += scale;
  }
  if (i < e || digits > 15) {
    if (i < e && (src[i] | 0x20) !== 0x65) return NaN; // not an exponent: not a number
    return Number(Buffer.from(src.buffer, src.byteOffset + s, e - s).toString('latin1'));
  }
  const x = scale === 0 ? v : v / POW10[scale];
  return neg ? -x : x;
}

// Levels, lowest first. Names as loggers write them, matched without case.
export const LEVELS = [
  'trace',
  'debug',
  'info',
  'notice',
  'warn',
  'error',
  'crit',
  'alert',
  'emerg',
] as const;
export type Level = (typeof LEVELS)[number];

const LEVEL_NAMES: Array<[string, number]> = [
  ['trace', 0],
  ['debug', 1],
  ['dbg', 1],
  ['info', 2],
  ['information', 2],
  ['informational', 2],
  ['notice', 3],
  ['warn', 4],
  ['warning', 4],
  ['error', 5],
  ['err', 5],
  ['crit', 6],
  ['critical', 6],
  ['fatal', 6],
  ['alert', 7],
  ['emerg', 8],
  ['emergency', 8],
  ['panic', 8],
];
/** byLength[n]: the names of n bytes with their rank. */
const LEVELS_BY_LENGTH: Array<Array<[Buffer, number]>> = [];
for (const [name, rank] of LEVEL_NAMES) {
  (LEVELS_BY_LENGTH[name.length] ??= []).push([Buffer.from(name, 'latin1'), rank]);
}

/** Rank (index in LEVELS) of the level name src[s, e), any case; -1 if it is none. */
export function levelRank(src: Uint8Array, s: number, e: number): number {
  const list = LEVELS_BY_LENGTH[e - s];
  if (list === undefined) return -1;
  for (let j = 0; j < list.length; j++) {
    const [name, rank] = list[j];
    let k = 0;
    while (k < name.length && (src[s + k] | 0x20) === name[k]) k++;
    if (k === name.length) return rank;
  }
  return -1;
}

/** Syslog severity 0 (emergency) .. 7 (debug) -> rank. */
const SYSLOG_RANK = [8, 7, 6, 5, 4, 3, 2, 1];

/**
 * Rank of a numeric level: syslog severities 0..7, or the 10..60 steps of pino and bunyan
 * (10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal); -1 for anything else.
 */
export function numericLevelRank(n: number): number {
  if (n >= 0 && n <= 7 && n === (n | 0)) return SYSLOG_RANK[n];
  switch (n) {
    case 10:
      return 0;
    case 20:
      return 1;
    case 30:
      return 2;
    case 40:
      return 4;
    case 50:
      return 5;
    case 60:
      return 6;
    default:
      return -1;
  }
}

/** FNV-1a over bytes, then murmur3's finaliser so that close keys spread over the range. */
export function hashBytes(src: Uint8Array, s: number, e: number, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let k = s; k < e; k++) h = Math.imul(h ^ src[k], 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The key's hash, or -1 when the line has no usable key value. */
export function keyHash(r: FieldReader, kind: number): number {
  if (kind === V_STR || kind === V_NUM) return hashBytes(r.src, r.s, r.e, kind);
  if (kind === V_TRUE || kind === V_FALSE || kind === V_NULL) return hashBytes(r.src, 0, 0, kind);
  return -1;
}
