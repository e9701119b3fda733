// The `json` parser: each line must be one JSON object; its top-level fields are lifted into the
// event as they are (the bytes of each value are copied, never parsed into objects). A byte-level
// validating scanner checks strings (escapes, no raw control characters), numbers, literals and
// nesting with an explicit stack, so a line nested 10,000 deep costs a few KiB, not a stack
// overflow. A line that is not one valid JSON object is kept whole with "parse_error":true.
//
// Why a scanner and not JSON.parse: JSON.parse builds an object graph per line that the encoder
// would then walk and stringify again; the scanner only reads the bytes once and the encoder
// copies value spans (bench/micro/parsers.mjs).
//
// Keys: `message` becomes the event message (any JSON value, as is) and the line is not
// repeated; a `timestamp` string in RFC 3339 becomes the event timestamp (normalised to UTC);
// one that is not, and keys the agent writes itself, get a `_` prefix (./keys.ts).

import {
  type Captures,
  F_KEY_JSON,
  F_PREFIX,
  FROM,
  KE,
  KEY,
  KEY_DYNAMIC,
  KEY_HIDDEN,
  KeyTable,
  KS,
  LE,
  LINE_STRIDE,
  LS,
  MSG,
  MSG_FIELDS,
  type Parser,
  REC_STRIDE,
  T_JSON,
  TMPL,
  TO,
  TYPE,
  VE,
  VS,
} from './captures.js';
import { K_MESSAGE, K_PLAIN, K_TIMESTAMP, KeyGuard } from './keys.js';
import { inRange, parseRfc3339 } from './time.js';

/** Nesting stack of the scanner: one byte per open `{` or `[`, grown on demand, kept. */
let stack = new Uint8Array(256);
/** A DataView of the chunk being scanned (set per chunk by parse()), for 4-byte string steps. */
let view: DataView = new DataView(new ArrayBuffer(8));

export class JsonParser implements Parser {
  readonly keys = new KeyTable([]);
  readonly fieldNames = null;
  readonly hits = new Float64Array(1);
  private readonly guard: KeyGuard;

  constructor(reserved: readonly string[], forwarded = false) {
    this.guard = new KeyGuard(reserved, forwarded);
  }

  // The same per-line driver as logfmt.ts's, on purpose: one shared in a base class made
  // this.match() polymorphic once both parsers ran in a process, and logfmt went from 1,284 to
  // 2,361 CPU ns/line (`node bench/micro/parsers.mjs --only json,logfmt`, load 1-2).
  parse(cap: Captures): void {
    const line = cap.line;
    const buf = cap.buf;
    view = new DataView(buf.buffer, buf.byteOffset, buf.length);
    for (let i = 0; i < cap.n; i++) {
      const o = i * LINE_STRIDE;
      const from = cap.nrec;
      line[o + FROM] = from;
      if (this.object(cap, i, line[o + LS], line[o + LE])) {
        line[o + TMPL] = 0;
        this.hits[0]++;
        if (line[o + MSG] < 0) line[o + MSG] = MSG_FIELDS; // no `message` key: the fields hold the line
      } else {
        cap.nrec = from;
        line[o + MSG] = -1;
        cap.time[i] = NaN;
      }
      line[o + TO] = cap.nrec;
    }
  }

  /** Lift the fields of the object on line i = [s, e); false when it is not one JSON object. */
  private object(cap: Captures, i: number, s: number, e: number): boolean {
    const buf = cap.buf;
    const guard = this.guard;
    let p = ws(buf, s, e);
    if (p >= e || buf[p] !== 0x7b) return false;
    p = ws(buf, p + 1, e);
    if (p < e && buf[p] === 0x7d) return ws(buf, p + 1, e) === e; // {}
    let haveMessage = false;
    let haveTime = false;
    for (;;) {
      if (p >= e || buf[p] !== 0x22) return false;
      const ks = p + 1;
      p = skipString(buf, p, e);
      if (p < 0) return false;
      const ke = p - 1;
      p = ws(buf, p, e);
      if (p >= e || buf[p] !== 0x3a) return false;
      p = ws(buf, p + 1, e);
      const vs = p;
      p = skipValue(buf, p, e);
      if (p < 0) return false;
      const ve = p;
      let type = T_JSON | F_KEY_JSON;
      let key = KEY_DYNAMIC;
      let lifted = true;
      const kind = guard.classify(buf, ks, ke);
      if (kind === K_MESSAGE && !haveMessage) {
        haveMessage = true;
        key = KEY_HIDDEN; // written first, as the message
        cap.line[i * LINE_STRIDE + MSG] = cap.nrec;
      } else if (kind === K_TIMESTAMP && !haveTime) {
        haveTime = true;
        const t = buf[vs] === 0x22 ? inRange(parseRfc3339(buf, vs + 1, ve - 1)) : NaN;
        if (t === t) {
          cap.time[i] = t;
          lifted = false; // it is the event timestamp now
        } else type |= F_PREFIX;
      } else if (kind !== K_PLAIN) {
        type |= F_PREFIX; // an agent key, or a second message / timestamp
      }
      if (lifted) {
        const rec = cap.reserve(1);
        const r = cap.nrec++ * REC_STRIDE;
        rec[r + KEY] = key;
        rec[r + TYPE] = type;
        rec[r + KS] = ks;
        rec[r + KE] = ke;
        rec[r + VS] = vs;
        rec[r + VE] = ve;
      }
      p = ws(buf, p, e);
      if (p >= e) return false;
      const c = buf[p];
      if (c === 0x7d) return ws(buf, p + 1, e) === e;
      if (c !== 0x2c) return false;
      p = ws(buf, p + 1, e);
    }
  }
}

/** Past JSON whitespace from i, bounded by e. */
function ws(buf: Uint8Array, i: number, e: number): number {
  while (i < e) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** i at the opening quote: index after the closing quote, or -1 (bad escape, control char). */
function skipString(buf: Uint8Array, i: number, e: number): number {
  i++;
  const dv = view;
  const last4 = e - 4;
  while (i < e) {
    // 4 bytes a step while none is `"`, `\` or a control character (the word test of
    // writeJsonString in src/engine/encoder.ts; bytes >= 0x80 pass as they are)
    while (i <= last4) {
      const w = dv.getInt32(i, true);
      const y = w ^ 0x02020202;
      const b = w ^ 0x5c5c5c5c;
      const m = (((y - 0x21212121) & ~y) | ((b - 0x01010101) & ~b)) & 0x80808080;
      if (m !== 0) {
        i += (31 - Math.clz32(m & -m)) >> 3;
        break;
      }
      i += 4;
    }
    if (i >= e) return -1;
    const c = buf[i];
    if (c === 0x22) return i + 1;
    if (c === 0x5c) {
      if (i + 1 >= e) return -1;
      const n = buf[i + 1];
      if (
        n === 0x22 ||
        n === 0x5c ||
        n === 0x2f ||
        n === 0x62 ||
        n === 0x66 ||
        n === 0x6e ||
        n === 0x72 ||
        n === 0x74
      ) {
        i += 2;
      } else if (n === 0x75) {
        if (i + 6 > e) return -1;
        for (let k = i + 2; k < i + 6; k++) if (!isHex(buf[k])) return -1;
        i += 6;
      } else return -1;
    } else if (c < 0x20) return -1;
    else i++;
  }
  return -1;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

/** `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?` from i: the index after it, or -1. */
function skipNumber(buf: Uint8Array, i: number, e: number): number {
  if (i < e && buf[i] === 0x2d) i++;
  if (i >= e) return -1;
  if (buf[i] === 0x30) i++;
  else if (buf[i] >= 0x31 && buf[i] <= 0x39) {
    i++;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  } else return -1;
  if (i < e && buf[i] === 0x2e) {
    i++;
    const f = i;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i === f) return -1;
  }
  if (i < e && (buf[i] | 0x20) === 0x65) {
    i++;
    if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) i++;
    const x = i;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
    if (i === x) return -1;
  }
  return i;
}

/** A scalar (string, number, true, false, null) at i: the index after it, or -1. */
function skipScalar(buf: Uint8Array, i: number, e: number): number {
  if (i >= e) return -1;
  const c = buf[i];
  if (c === 0x22) return skipString(buf, i, e);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return skipNumber(buf, i, e);
  if (c === 0x74) return word(buf, i, e, 0x72, 0x75, 0x65, -1); // true
  if (c === 0x6e) return word(buf, i, e, 0x75, 0x6c, 0x6c, -1); // null
  if (c === 0x66) return word(buf, i, e, 0x61, 0x6c, 0x73, 0x65); // false
  return -1;
}

/** The rest of `true` / `null` (3 bytes) or `false` (4) after its first byte at i. */
function word(buf: Uint8Array, i: number, e: number, a: number, b: number, c: number, d: number) {
  const n = d < 0 ? 4 : 5;
  if (i + n > e || buf[i + 1] !== a || buf[i + 2] !== b || buf[i + 3] !== c) return -1;
  if (d >= 0 && buf[i + 4] !== d) return -1;
  return i + n;
}

/**
 * Any JSON value at i (no leading whitespace): the index after it, or -1. Objects and arrays
 * are walked with an explicit stack (one byte per level), never by recursion.
 */
function skipValue(buf: Uint8Array, i: number, e: number): number {
  if (i >= e) return -1;
  let c = buf[i];
  if (c !== 0x7b && c !== 0x5b) return skipScalar(buf, i, e);
  let depth = 0;
  for (;;) {
    // i: the start of a value
    if (i >= e) return -1;
    c = buf[i];
    if (c === 0x7b || c === 0x5b) {
      if (depth === stack.length) {
        const next = new Uint8Array(stack.length * 2);
        next.set(stack);
        stack = next;
      }
      stack[depth++] = c;
      i = ws(buf, i + 1, e);
      if (i >= e) return -1;
      if (buf[i] === c + 2) {
        // `{}` or `[]` (0x7d = 0x7b + 2, 0x5d = 0x5b + 2)
        depth--;
        i++;
      } else {
        if (c === 0x7b) {
          i = member(buf, i, e);
          if (i < 0) return -1;
        }
        continue;
      }
    } else {
      i = skipScalar(buf, i, e);
      if (i < 0) return -1;
    }
    // after a value: `,` then the next one, or the closing brackets
    for (;;) {
      if (depth === 0) return i;
      i = ws(buf, i, e);
      if (i >= e) return -1;
      c = buf[i];
      const top = stack[depth - 1];
      if (c === 0x2c) {
        i = ws(buf, i + 1, e);
        if (top === 0x7b) {
          i = member(buf, i, e);
          if (i < 0) return -1;
        }
        break;
      }
      if (c !== top + 2) return -1;
      depth--;
      i++;
    }
  }
}

/** `"key" ws : ws` at i: the start of the member's value, or -1. */
function member(buf: Uint8Array, i: number, e: number): number {
  if (i >= e || buf[i] !== 0x22) return -1;
  i = skipString(buf, i, e);
  if (i < 0) return -1;
  i = ws(buf, i, e);
  if (i >= e || buf[i] !== 0x3a) return -1;
  return ws(buf, i + 1, e);
}

/** What scanLine found (the http source refuses a request on the first line that is not 0). */
export const LINE_OBJECT = 0;
export const LINE_BLANK = 1;
export const LINE_NOT_OBJECT = 2;
export const LINE_INVALID = 3;

/**
 * Reads buf[s, e) with the parser's own scanner, making no objects: one JSON object (whitespace
 * around it allowed), a blank line, a JSON value that is not an object, or not JSON at all. The
 * http source checks a whole request with it before any line enters the pipeline, so the
 * parser later accepts exactly the lines that were checked here.
 */
export function scanLine(buf: Buffer, s: number, e: number): number {
  // skipString reads 4 bytes at a time through `view`: point it at this buffer (once per body,
  // not per line: the check is three compares).
  if (
    view.buffer !== buf.buffer ||
    view.byteOffset !== buf.byteOffset ||
    view.byteLength !== buf.length
  ) {
    view = new DataView(buf.buffer, buf.byteOffset, buf.length);
  }
  const p = ws(buf, s, e);
  if (p === e) return LINE_BLANK;
  const end = skipValue(buf, p, e);
  if (end < 0 || ws(buf, end, e) !== e) return LINE_INVALID;
  return buf[p] === 0x7b ? LINE_OBJECT : LINE_NOT_OBJECT;
}
