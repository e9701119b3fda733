// The `syslog` parser: RFC 5424 and RFC 3164 lines, as syslog daemons write them to files or
// relay them, told apart by the version after <PRI>.
//
//   RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [BOM]MSG
//   RFC 3164: [<PRI>]Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG    (PRI absent in /var/log files;
//             an RFC 3339 TIMESTAMP is accepted too: rsyslog's high-precision file format)
//
// Fields: facility, severity (numbers from PRI), level (severity's name: emergency alert
// critical error warning notice info debug), hostname, appname, procid, msgid,
// structured_data ({"sd-id":{"param":"value"}}), and MSG as the event `message`. Absent parts
// and RFC 5424's NILVALUE `-` are null, so every event has the same keys. The header time is the
// event timestamp (UTC); RFC 3164's has no year or zone: local time, in the latest year not
// ahead of now.
// Every RFC 5424 corner (https://www.rfc-editor.org/rfc/rfc5424): NILVALUE in every header
// field, several SD elements, `\"` `\\` `\]` escapes in PARAM-VALUE (a repeated PARAM-NAME
// becomes an array), a UTF-8 BOM before MSG (dropped), no MSG at all ("").

import {
  type Captures,
  FROM,
  KEY,
  KEY_HIDDEN,
  KeyTable,
  LE,
  LINE_STRIDE,
  literal,
  LS,
  MSG,
  type Parser,
  REC_STRIDE,
  T_INT,
  T_LIT,
  T_NULL,
  T_SD,
  T_STR,
  TMPL,
  TO,
  TYPE,
  VE,
  VS,
} from './captures.js';
import { ByteFinder } from './scan.js';
import { inRange, parseRfc3164, parseRfc3339 } from './time.js';

const FIELDS = [
  'facility',
  'severity',
  'level',
  'hostname',
  'appname',
  'procid',
  'msgid',
  'structured_data',
];
const K_FACILITY = 0;
const K_SEVERITY = 1;
const K_LEVEL = 2;
const K_HOSTNAME = 3;
const K_APPNAME = 4;
const K_PROCID = 5;
const K_MSGID = 6;
const K_SD = 7;

/** Severity 0..7 -> the level name, as pre-encoded literals. */
const LEVELS = [
  'emergency',
  'alert',
  'critical',
  'error',
  'warning',
  'notice',
  'info',
  'debug',
].map((name) => literal(JSON.stringify(name)));

export const SYSLOG_5424 = 0;
export const SYSLOG_3164 = 1;

/** Records one line adds: the fields and the message. */
const MAX_FIELDS = FIELDS.length + 1;

export class SyslogParser implements Parser {
  readonly keys = new KeyTable(FIELDS);
  readonly fieldNames = FIELDS;
  readonly hits = new Float64Array(2);
  private readonly now: () => number;
  private readonly finder = new ByteFinder();

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  parse(cap: Captures): void {
    const line = cap.line;
    const now = this.now();
    this.finder.reset(cap.buf);
    for (let i = 0; i < cap.n; i++) {
      const o = i * LINE_STRIDE;
      const from = cap.nrec;
      cap.reserve(MAX_FIELDS);
      line[o + FROM] = from;
      const v = this.line(cap, i, line[o + LS], line[o + LE], now);
      if (v >= 0) {
        line[o + TMPL] = v;
        this.hits[v]++;
      } else {
        cap.nrec = from;
        line[o + MSG] = -1;
        cap.time[i] = NaN;
      }
      line[o + TO] = cap.nrec;
    }
  }

  private line(cap: Captures, i: number, s: number, e: number, now: number): number {
    const buf = cap.buf;
    let p = s;
    let pri = -1;
    if (p < e && buf[p] === 0x3c) {
      // <PRI>: 1 to 3 digits, at most 191 (facility 23, severity 7)
      let q = p + 1;
      pri = 0;
      while (q < e && q - p <= 3 && buf[q] >= 0x30 && buf[q] <= 0x39)
        pri = pri * 10 + buf[q++] - 48;
      if (q === p + 1 || q >= e || buf[q] !== 0x3e || pri > 191) return -1;
      p = q + 1;
    }
    if (pri >= 0 && p + 1 < e && buf[p] === 0x31 && buf[p + 1] === 0x20) {
      return this.rfc5424(cap, i, p + 2, e, pri);
    }
    return this.rfc3164(cap, i, p, e, pri, now);
  }

  private rfc5424(cap: Captures, i: number, p: number, e: number, pri: number): number {
    const buf = cap.buf;
    const rec = cap.rec;
    let r = cap.nrec * REC_STRIDE;
    r = putPri(rec, r, pri);
    // TIMESTAMP
    let q = token(this.finder, p, e);
    if (q < 0) return -1;
    if (!(q - p === 1 && buf[p] === 0x2d)) {
      const t = inRange(parseRfc3339(buf, p, q));
      if (t !== t) return -1;
      cap.time[i] = t;
    }
    // HOSTNAME APP-NAME PROCID MSGID, each a token or `-`
    for (let k = K_HOSTNAME; k <= K_MSGID; k++) {
      p = q + 1;
      q = token(this.finder, p, e);
      if (q < 0) return -1;
      r = put(buf, rec, r, k, p, q);
    }
    // STRUCTURED-DATA
    p = q + 1;
    if (p >= e) return -1;
    if (buf[p] === 0x2d) {
      q = p + 1;
      r = put(buf, rec, r, K_SD, p, q);
    } else {
      q = structuredData(buf, p, e);
      if (q < 0) return -1;
      rec[r + KEY] = K_SD;
      rec[r + TYPE] = T_SD;
      rec[r + VS] = p;
      rec[r + VE] = q;
      r += REC_STRIDE;
    }
    // [SP MSG], a UTF-8 BOM before it dropped
    let ms = e;
    if (q < e) {
      if (buf[q] !== 0x20) return -1;
      ms = q + 1;
      if (ms + 2 < e && buf[ms] === 0xef && buf[ms + 1] === 0xbb && buf[ms + 2] === 0xbf) ms += 3;
    }
    r = message(cap, i, r, ms, e);
    cap.nrec = (r / REC_STRIDE) | 0;
    return SYSLOG_5424;
  }

  private rfc3164(
    cap: Captures,
    i: number,
    p: number,
    e: number,
    pri: number,
    now: number,
  ): number {
    const buf = cap.buf;
    const rec = cap.rec;
    let r = cap.nrec * REC_STRIDE;
    r = putPri(rec, r, pri);
    // TIMESTAMP: `Mmm dd hh:mm:ss`, or RFC 3339 (rsyslog's high-precision file format)
    let t = NaN;
    let q = -1;
    if (p + 15 <= e && buf[p] >= 0x41 && (p + 15 === e || buf[p + 15] === 0x20)) {
      t = parseRfc3164(buf, p, p + 15, now);
      q = p + 15;
    } else if (p < e && buf[p] >= 0x30 && buf[p] <= 0x39) {
      q = token(this.finder, p, e);
      if (q >= 0) t = parseRfc3339(buf, p, q);
    }
    t = inRange(t);
    if (t !== t) {
      // No header time: RFC 3164 4.3.3 reads everything after PRI as the message. Without a PRI
      // either, nothing says this is syslog: the line is not parsed.
      if (pri < 0) return -1;
      for (let k = K_HOSTNAME; k <= K_SD; k++) r = putNull(rec, r, k);
      r = message(cap, i, r, p, e);
      cap.nrec = (r / REC_STRIDE) | 0;
      return SYSLOG_3164;
    }
    cap.time[i] = t;
    p = q + 1;
    if (p > e) p = e;
    // HOSTNAME, unless the next word is already the TAG (`<13>Nov 23 12:00:00 sshd[12]: x`, as
    // sent to /dev/log before the daemon adds the host)
    let hs = -1;
    let he = -1;
    let w = token(this.finder, p, e);
    if (w < 0) w = e;
    if (w > p && buf[w - 1] !== 0x3a && !isTagWithPid(buf, p, w)) {
      hs = p;
      he = w;
      p = w < e ? w + 1 : e;
    }
    if (hs >= 0) r = put(buf, rec, r, K_HOSTNAME, hs, he);
    else r = putNull(rec, r, K_HOSTNAME);
    // TAG: APPNAME[PID]: or APPNAME:
    let as = p;
    let k = p;
    while (k < e && k - p < 64 && buf[k] !== 0x5b && buf[k] !== 0x3a && buf[k] !== 0x20) k++;
    let ae = k;
    let ps = -1;
    let pe = -1;
    if (k < e && buf[k] === 0x5b) {
      ps = k + 1;
      pe = ps;
      while (pe < e && buf[pe] !== 0x5d && buf[pe] !== 0x20) pe++;
      k = pe + 1;
      if (pe >= e || buf[pe] !== 0x5d || k >= e || buf[k] !== 0x3a) ae = as; // not a tag
    } else if (k >= e || buf[k] !== 0x3a) ae = as; // no `:`: not a tag
    let ms: number;
    if (ae > as) {
      r = put(buf, rec, r, K_APPNAME, as, ae);
      if (ps >= 0) r = put(buf, rec, r, K_PROCID, ps, pe);
      else r = putNull(rec, r, K_PROCID);
      ms = k + 1; // after `:`
      if (ms < e && buf[ms] === 0x20) ms++;
    } else {
      as = -1;
      r = putNull(rec, r, K_APPNAME);
      r = putNull(rec, r, K_PROCID);
      ms = p;
    }
    r = putNull(rec, r, K_MSGID);
    r = putNull(rec, r, K_SD);
    r = message(cap, i, r, ms > e ? e : ms, e);
    cap.nrec = (r / REC_STRIDE) | 0;
    return SYSLOG_3164;
  }
}

/** `name[digits]:` spanning [s, w): a TAG, not a HOSTNAME. */
function isTagWithPid(buf: Uint8Array, s: number, w: number): boolean {
  return w - s > 3 && buf[w - 1] === 0x3a && buf[w - 2] === 0x5d;
}

/** End of the header token at p (up to a space or the line end); -1 when it is empty. */
function token(finder: ByteFinder, p: number, e: number): number {
  let q = finder.find(0x20, p, e);
  if (q < 0) q = e;
  return q === p ? -1 : q;
}

function putPri(rec: Int32Array, r: number, pri: number): number {
  if (pri < 0) {
    r = putNull(rec, r, K_FACILITY);
    r = putNull(rec, r, K_SEVERITY);
    return putNull(rec, r, K_LEVEL);
  }
  rec[r + KEY] = K_FACILITY;
  rec[r + TYPE] = T_INT;
  rec[r + VS] = pri >> 3;
  r += REC_STRIDE;
  rec[r + KEY] = K_SEVERITY;
  rec[r + TYPE] = T_INT;
  rec[r + VS] = pri & 7;
  r += REC_STRIDE;
  rec[r + KEY] = K_LEVEL;
  rec[r + TYPE] = T_LIT;
  rec[r + VS] = LEVELS[pri & 7];
  return r + REC_STRIDE;
}

function putNull(rec: Int32Array, r: number, key: number): number {
  rec[r + KEY] = key;
  rec[r + TYPE] = T_NULL;
  return r + REC_STRIDE;
}

/** A header field: text, or null for NILVALUE `-`. */
function put(buf: Uint8Array, rec: Int32Array, r: number, key: number, s: number, e: number) {
  rec[r + KEY] = key;
  rec[r + TYPE] = e - s === 1 && buf[s] === 0x2d ? T_NULL : T_STR;
  rec[r + VS] = s;
  rec[r + VE] = e;
  return r + REC_STRIDE;
}

/** The MSG as the event message (a hidden record the encoder writes first). */
function message(cap: Captures, i: number, r: number, s: number, e: number): number {
  const rec = cap.rec;
  rec[r + KEY] = KEY_HIDDEN;
  rec[r + TYPE] = T_STR;
  rec[r + VS] = s;
  rec[r + VE] = e;
  cap.line[i * LINE_STRIDE + MSG] = (r / REC_STRIDE) | 0;
  return r + REC_STRIDE;
}

/** SD-NAME (SD-ID, PARAM-NAME): 1..32 PRINTUSASCII except `=`, SP, `]`, `"`. */
function sdName(buf: Uint8Array, p: number, e: number): number {
  const s = p;
  while (p < e && p - s < 32) {
    const c = buf[p];
    if (c < 33 || c > 126 || c === 0x3d || c === 0x5d || c === 0x22) break;
    p++;
  }
  return p === s ? -1 : p;
}

/**
 * STRUCTURED-DATA starting at the `[` at p: 1*SD-ELEMENT, each `[SD-ID *(SP PARAM-NAME="VALUE")]`,
 * VALUE with `"`, `\` and `]` escaped by a backslash. The index after the last `]`, or -1.
 */
export function structuredData(buf: Uint8Array, p: number, e: number): number {
  if (p >= e || buf[p] !== 0x5b) return -1;
  while (p < e && buf[p] === 0x5b) {
    p = sdName(buf, p + 1, e);
    if (p < 0) return -1;
    while (p < e && buf[p] === 0x20) {
      p = sdName(buf, p + 1, e);
      if (p < 0 || p + 1 >= e || buf[p] !== 0x3d || buf[p + 1] !== 0x22) return -1;
      p += 2;
      while (p < e && buf[p] !== 0x22) p += buf[p] === 0x5c ? 2 : 1;
      if (p >= e) return -1;
      p++; // closing quote
    }
    if (p >= e || buf[p] !== 0x5d) return -1;
    p++;
  }
  return p;
}
