// The `nginx` and `apache` parsers: one hand-written byte matcher for the Common Log Format
// family, faster than a template and tolerant where a template cannot be:
//
//   common:   remote_addr ident remote_user [time_local] "request" status body_bytes_sent
//   combined: ... "http_referer" "http_user_agent"            (nginx's and Apache's default)
//   nginx main (stock nginx.conf): combined + "http_x_forwarded_for"
//
// - `request` is kept whole and split into method, path, protocol when it has their shape; a
//   request that does not (a TLS handshake sent to a plain port: "\x16\x03\x01...") keeps only
//   `request`, with method/path/protocol null, instead of failing the line.
// - `-` is null (nginx and Apache write it for "no value"), except body_bytes_sent, where CLF's
//   `-` means 0 bytes (Apache `%b`). status and body_bytes_sent are JSON numbers.
// - A quote ends a quoted field only when it is not backslash-escaped (Apache writes `\"`) and a
//   space or the line end follows; `\"`, `\\` and nginx's `\xHH` are decoded (encode.ts).
// - remote_user may hold spaces: it ends at the ` [` that opens the time.
// - Text after the last known field (a custom format's extra variables) is ignored; the whole
//   line is still the event's `message`, so nothing is lost.
// Field names are nginx's variable names (DESIGN.md); Apache's `%l` is `remote_logname`.

import {
  type Captures,
  FROM,
  KEY,
  KeyTable,
  LE,
  LINE_STRIDE,
  LS,
  MSG,
  MSG_FIELDS,
  MSG_LINE,
  type Parser,
  QUOTES,
  REC_STRIDE,
  T_INT,
  T_NULL,
  T_NUM,
  T_STR,
  TMPL,
  TO,
  TYPE,
  T_XESC,
  VE,
  VS,
} from './captures.js';
import { ByteFinder, escaped } from './scan.js';
import { ClfClock, inRange } from './time.js';
import { putInt } from './values.js';

const NGINX_FIELDS = [
  'remote_addr',
  'remote_user',
  'time_local',
  'request',
  'method',
  'path',
  'protocol',
  'status',
  'body_bytes_sent',
  'http_referer',
  'http_user_agent',
  'http_x_forwarded_for',
];
const APACHE_FIELDS = [
  'remote_addr',
  'remote_logname',
  'remote_user',
  'time_local',
  'request',
  'method',
  'path',
  'protocol',
  'status',
  'body_bytes_sent',
  'http_referer',
  'http_user_agent',
];

/** hits[] slots: which variant of the format a line was. */
export const CLF_COMBINED = 0;
export const CLF_COMMON = 1;
export const CLF_MAIN = 2;

/** Most records one line adds. */
const MAX_FIELDS = 12;

export class ClfParser implements Parser {
  readonly keys: KeyTable;
  readonly fieldNames: readonly string[];
  readonly hits = new Float64Array(3);
  private readonly finder = new ByteFinder();
  private readonly clock = new ClfClock();
  private readonly apache: boolean;
  // Key ids (apache has one more field: the ids differ between the two).
  private readonly kAddr: number;
  private readonly kLogname: number;
  private readonly kUser: number;
  private readonly kTime: number;
  private readonly kRequest: number;
  private readonly kStatus: number;
  private readonly kReferer: number;
  private readonly kXff: number;

  constructor(flavour: 'nginx' | 'apache') {
    this.apache = flavour === 'apache';
    const names = this.apache ? APACHE_FIELDS : NGINX_FIELDS;
    this.keys = new KeyTable(names);
    this.fieldNames = names;
    const k = this.keys;
    this.kAddr = k.id('remote_addr');
    this.kLogname = this.apache ? k.id('remote_logname') : -1;
    this.kUser = k.id('remote_user');
    this.kTime = k.id('time_local');
    this.kRequest = k.id('request'); // method, path, protocol follow it in the table
    this.kStatus = k.id('status'); // body_bytes_sent follows
    this.kReferer = k.id('http_referer'); // http_user_agent follows
    this.kXff = this.apache ? -1 : k.id('http_x_forwarded_for');
  }

  parse(cap: Captures): void {
    const line = cap.line;
    const finder = this.finder;
    const hits = this.hits;
    finder.reset(cap.buf);
    for (let i = 0; i < cap.n; i++) {
      const o = i * LINE_STRIDE;
      const from = cap.nrec;
      cap.reserve(MAX_FIELDS);
      const variant = this.line(cap, i, line[o + LS], line[o + LE]);
      line[o + FROM] = from;
      if (variant < 0) {
        cap.nrec = from;
        cap.time[i] = NaN;
        line[o + TO] = from;
        continue;
      }
      hits[variant]++;
      line[o + TMPL] = variant;
      line[o + TO] = cap.nrec;
      // the quotes around request (and referer, user agent, x_forwarded_for)
      line[o + QUOTES] = variant === CLF_COMMON ? 2 : variant === CLF_COMBINED ? 6 : 8;
    }
  }

  /** Match line i = [s, e); returns the variant, or -1. */
  private line(cap: Captures, i: number, s: number, e: number): number {
    const buf = cap.buf;
    const rec = cap.rec;
    const finder = this.finder;
    const hasBs = finder.findFar(0x5c, s, e) >= 0;
    const str = hasBs ? T_XESC : T_STR;
    let r = cap.nrec * REC_STRIDE;

    // remote_addr SP
    let q = finder.find(0x20, s, e);
    if (q <= s) return -1;
    r = put(buf, rec, r, this.kAddr, T_STR, s, q);
    // ident SP (nginx writes `-`; Apache's %l)
    let p = q + 1;
    q = finder.find(0x20, p, e);
    if (q < p) return -1;
    if (this.apache) r = put(buf, rec, r, this.kLogname, T_STR, p, q);
    // remote_user up to ` [`
    p = q + 1;
    q = finder.find(0x5b, p, e);
    while (q >= 0 && (q === p || buf[q - 1] !== 0x20)) q = finder.find(0x5b, q + 1, e);
    if (q < 0) return -1;
    r = put(buf, rec, r, this.kUser, T_STR, p, q - 1);
    // [time_local]: 26 bytes in nginx and Apache; anything else up to `]`
    const ts = q + 1;
    let te = ts + 26;
    if (te >= e || buf[te] !== 0x5d) {
      te = finder.find(0x5d, ts, e);
      if (te < 0) return -1;
    }
    r = put(buf, rec, r, this.kTime, T_STR, ts, te);
    cap.time[i] = inRange(this.clock.parse(buf, finder.view, ts, te));
    // SP "request"
    if (te + 3 > e || buf[te + 1] !== 0x20 || buf[te + 2] !== 0x22) return -1;
    const rs = te + 3;
    const re = this.closeQuote(buf, rs, e, hasBs);
    if (re < 0) return -1;
    r = this.request(buf, rec, r, rs, re, str);
    // SP status SP body_bytes_sent
    p = re + 2;
    if (p >= e || buf[re + 1] !== 0x20) return -1;
    q = endOfWord(buf, p, e);
    if (q === e) return -1;
    r = number(buf, rec, r, this.kStatus, p, q, false);
    if (r < 0) return -1;
    p = q + 1;
    const be = endOfWord(buf, p, e);
    r = number(buf, rec, r, this.kStatus + 1, p, be, true);
    if (r < 0) return -1;
    // common: the line ends (or goes on with something else: ignored)
    let variant = CLF_COMMON;
    let end = be; // just past the last byte a field took
    const kRef = this.kReferer;
    if (be + 2 < e && buf[be + 1] === 0x22) {
      // SP "http_referer" SP "http_user_agent"
      const fs = be + 2;
      const fe = this.closeQuote(buf, fs, e, hasBs);
      if (fe >= 0 && fe + 2 < e && buf[fe + 2] === 0x22) {
        const us = fe + 3;
        const ue = this.closeQuote(buf, us, e, hasBs);
        if (ue >= 0) {
          r = put(buf, rec, r, kRef, str, fs, fe);
          r = put(buf, rec, r, kRef + 1, str, us, ue);
          variant = CLF_COMBINED;
          end = ue + 1;
          // nginx main: SP "http_x_forwarded_for"
          if (this.kXff >= 0 && ue + 3 < e && buf[ue + 2] === 0x22) {
            const xs = ue + 3;
            const xe = this.closeQuote(buf, xs, e, hasBs);
            if (xe >= 0) {
              r = put(buf, rec, r, this.kXff, str, xs, xe);
              variant = CLF_MAIN;
              end = xe + 1;
            }
          }
        }
      }
    }
    if (variant === CLF_COMMON) {
      r = put(buf, rec, r, kRef, T_NULL, 0, 0);
      r = put(buf, rec, r, kRef + 1, T_NULL, 0, 0);
    }
    cap.nrec = (r / REC_STRIDE) | 0;
    // The fields hold the whole line, unless text after them was ignored: then the line stays
    // the message, so those bytes are not lost.
    cap.line[i * LINE_STRIDE + MSG] = end === e ? MSG_FIELDS : MSG_LINE;
    return variant;
  }

  /**
   * The quote closing a field that starts at s: the first `"` not escaped by a backslash and
   * followed by a space or the line end. -1 when there is none.
   */
  private closeQuote(buf: Uint8Array, s: number, e: number, hasBs: boolean): number {
    const finder = this.finder;
    let q = finder.find(0x22, s, e);
    while (q >= 0) {
      if ((q + 1 === e || buf[q + 1] === 0x20) && !(hasBs && escaped(buf, s, q))) return q;
      q = finder.find(0x22, q + 1, e);
    }
    return -1;
  }

  /** request, then method, path, protocol from it (null when it has no such shape). */
  private request(
    buf: Uint8Array,
    rec: Int32Array,
    r: number,
    rs: number,
    re: number,
    str: number,
  ): number {
    const k = this.kRequest;
    r = put(buf, rec, r, k, str, rs, re);
    // METHOD: 1..32 bytes of A-Z a-z _ - then a space
    let m = rs;
    const mMax = re < rs + 32 ? re : rs + 32;
    while (m < mMax && isMethodByte(buf[m])) m++;
    if (m === rs || m >= re || buf[m] !== 0x20) {
      r = put(buf, rec, r, k + 1, T_NULL, 0, 0);
      r = put(buf, rec, r, k + 2, T_NULL, 0, 0);
      return put(buf, rec, r, k + 3, T_NULL, 0, 0);
    }
    // method, path, protocol are parts of the request: a `-` among them is text, not "no value"
    r = putText(rec, r, k + 1, T_STR, rs, m);
    // PROTOCOL: the last word, when it starts with `HTTP/`; else the path runs to the end
    let l = re - 1;
    while (l > m && buf[l] !== 0x20) l--;
    if (
      l > m + 1 &&
      re - l > 5 &&
      buf[l + 1] === 0x48 &&
      buf[l + 2] === 0x54 &&
      buf[l + 3] === 0x54 &&
      buf[l + 4] === 0x50 &&
      buf[l + 5] === 0x2f
    ) {
      r = putText(rec, r, k + 2, str, m + 1, l);
      return putText(rec, r, k + 3, T_STR, l + 1, re);
    }
    r = putText(rec, r, k + 2, str, m + 1, re);
    return put(buf, rec, r, k + 3, T_NULL, 0, 0);
  }
}

/** The space after the digits at p, or the line end: numbers are short, a loop beats a scan. */
function endOfWord(buf: Uint8Array, p: number, e: number): number {
  while (p < e && buf[p] !== 0x20) p++;
  return p;
}

function isMethodByte(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c === 0x2d;
}

/** Append a record at r (a string or null: `-` alone is null); returns the next r. */
function put(
  buf: Uint8Array,
  rec: Int32Array,
  r: number,
  key: number,
  type: number,
  vs: number,
  ve: number,
): number {
  rec[r + KEY] = key;
  rec[r + TYPE] = ve - vs === 1 && buf[vs] === 0x2d ? T_NULL : type;
  rec[r + VS] = vs;
  rec[r + VE] = ve;
  return r + REC_STRIDE;
}

/** Append a string record at r (no `-` check); returns the next r. */
function putText(rec: Int32Array, r: number, key: number, type: number, vs: number, ve: number) {
  rec[r + KEY] = key;
  rec[r + TYPE] = type;
  rec[r + VS] = vs;
  rec[r + VE] = ve;
  return r + REC_STRIDE;
}

/** status / body_bytes_sent: digits -> number; `-` -> null (status) or 0 (bytes); else -1. */
function number(
  buf: Uint8Array,
  rec: Int32Array,
  r: number,
  key: number,
  vs: number,
  ve: number,
  dashIsZero: boolean,
): number {
  rec[r + KEY] = key;
  // The common case first: plain digits without a leading zero (`200`, `0`, `5123`).
  let k = vs;
  while (k < ve && buf[k] >= 0x30 && buf[k] <= 0x39) k++;
  if (k === ve && k > vs && (buf[vs] !== 0x30 || ve - vs === 1)) {
    rec[r + TYPE] = T_NUM;
    rec[r + VS] = vs;
    rec[r + VE] = ve;
    return r + REC_STRIDE;
  }
  if (ve - vs === 1 && buf[vs] === 0x2d) {
    rec[r + TYPE] = dashIsZero ? T_INT : T_NULL;
    rec[r + VS] = 0;
    rec[r + VE] = 0;
    return r + REC_STRIDE;
  }
  if (ve === vs || !putInt(buf, vs, ve, rec, r)) return -1;
  return r + REC_STRIDE;
}
