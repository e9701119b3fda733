// The `logfmt` parser: `key=value key2="quoted \"value\"" flag` (https://brandur.org/logfmt, as
// go-logfmt writes it). Values stay strings (logfmt has no types; a filter can compare numbers
// later); a bare key is `true`; `key=` is "". Quoted values decode the escapes go-logfmt writes
// (`\"`, `\\`, `\n`, `\t`, `\uXXXX`...). A line with no key, an unterminated quote, or a quote
// glued to what follows is kept whole with "parse_error":true.
// Keys are classified as the json parser's are (./keys.ts): `message` becomes the event message,
// an RFC 3339 `timestamp` the event timestamp, agent keys get a `_` prefix.

import {
  type Captures,
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
  T_ESC,
  T_STR,
  T_TRUE,
  TMPL,
  TO,
  TYPE,
  VE,
  VS,
} from './captures.js';
import { K_MESSAGE, K_PLAIN, K_TIMESTAMP, KeyGuard } from './keys.js';
import { inRange, parseRfc3339 } from './time.js';

export class LogfmtParser implements Parser {
  readonly keys = new KeyTable([]);
  readonly fieldNames = null;
  readonly hits = new Float64Array(1);
  private readonly guard: KeyGuard;

  constructor(reserved: readonly string[], forwarded = false) {
    this.guard = new KeyGuard(reserved, forwarded);
  }

  // The same per-line driver as json.ts's, on purpose: one shared in a base class made
  // this.match() polymorphic once both parsers ran in a process, and logfmt went from 1,284 to
  // 2,361 CPU ns/line (`node bench/micro/parsers.mjs --only json,logfmt`, load 1-2).
  parse(cap: Captures): void {
    const line = cap.line;
    for (let i = 0; i < cap.n; i++) {
      const o = i * LINE_STRIDE;
      const from = cap.nrec;
      line[o + FROM] = from;
      if (this.pairs(cap, i, line[o + LS], line[o + LE])) {
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

  private pairs(cap: Captures, i: number, s: number, e: number): boolean {
    const buf = cap.buf;
    let p = spaces(buf, s, e);
    if (p === e) return false; // an empty line has no pairs
    let haveMessage = false;
    let haveTime = false;
    while (p < e) {
      const ks = p;
      while (p < e) {
        const c = buf[p];
        if (c === 0x3d || c === 0x20 || c === 0x09 || c === 0x22) break;
        p++;
      }
      const ke = p;
      if (ke === ks) return false; // `=value` or a stray quote: no key
      let type = T_TRUE;
      let vs = 0;
      let ve = 0;
      if (p < e && buf[p] === 0x3d) {
        p++;
        if (p < e && buf[p] === 0x22) {
          vs = p + 1;
          let q = vs;
          let esc = false;
          while (q < e && buf[q] !== 0x22) {
            if (buf[q] === 0x5c) {
              esc = true;
              q += 2;
            } else q++;
          }
          if (q >= e) return false; // unterminated
          ve = q;
          p = q + 1;
          if (p < e && buf[p] !== 0x20 && buf[p] !== 0x09) return false; // `"a"b`
          type = esc ? T_ESC : T_STR;
        } else {
          vs = p;
          while (p < e && buf[p] !== 0x20 && buf[p] !== 0x09) p++;
          ve = p;
          type = T_STR;
        }
      }
      let key = KEY_DYNAMIC;
      let lifted = true;
      const kind = this.guard.classify(buf, ks, ke);
      if (kind === K_MESSAGE && !haveMessage && type !== T_TRUE) {
        haveMessage = true;
        key = KEY_HIDDEN;
        cap.line[i * LINE_STRIDE + MSG] = cap.nrec;
      } else if (kind === K_TIMESTAMP && !haveTime) {
        haveTime = true;
        const t = type === T_STR ? inRange(parseRfc3339(buf, vs, ve)) : NaN;
        if (t === t) {
          cap.time[i] = t;
          lifted = false;
        } else type |= F_PREFIX;
      } else if (kind !== K_PLAIN) {
        type |= F_PREFIX;
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
      p = spaces(buf, p, e);
    }
    return true;
  }
}

function spaces(buf: Uint8Array, p: number, e: number): number {
  while (p < e && (buf[p] === 0x20 || buf[p] === 0x09)) p++;
  return p;
}
