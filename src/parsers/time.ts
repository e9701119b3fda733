// Timestamps of parsed lines: byte-level readers of the formats logs use (nginx/apache
// `$time_local`, RFC 3339, RFC 3164 `Mmm dd hh:mm:ss`, epoch seconds or ms) into epoch ms, and the
// writer of the event `timestamp`: RFC 3339 in UTC with milliseconds, `2026-11-23T12:00:00.000Z`,
// the same shape as the ingest timestamp the raw encoder writes. No Date object per line.
//
// Calendar arithmetic: Howard Hinnant's days_from_civil / civil_from_days
// (https://howardhinnant.github.io/date_algorithms.html), exact for the proleptic Gregorian
// calendar, integer-only.

const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Month names as 24-bit keys of their three bytes ("Jan" -> 0x4a616e), case-sensitive as logs
// write them.
const MONTH_KEYS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
].map((m) => (m.charCodeAt(0) << 16) | (m.charCodeAt(1) << 8) | m.charCodeAt(2));

/** 1..12 for the month name at buf[i..i+3), else 0. */
function monthAt(buf: Uint8Array, i: number): number {
  const k = (buf[i] << 16) | (buf[i + 1] << 8) | buf[i + 2];
  for (let m = 0; m < 12; m++) if (MONTH_KEYS[m] === k) return m + 1;
  return 0;
}

/** Two ASCII digits at i as a number, or -1. */
function d2(buf: Uint8Array, i: number): number {
  const a = buf[i] - 48;
  const b = buf[i + 1] - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

function d4(buf: Uint8Array, i: number): number {
  const a = d2(buf, i);
  const b = d2(buf, i + 2);
  return a < 0 || b < 0 ? -1 : a * 100 + b;
}

/** Epoch ms of a wall-clock date-time, or NaN when a part is out of range. */
function utcMs(y: number, mo: number, d: number, h: number, mi: number, s: number): number {
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59)
    return NaN;
  if (s < 0 || s > 60) return NaN; // 60: a leap second, counted as the next one
  return daysFromCivil(y, mo, d) * DAY_MS + h * 3_600_000 + mi * 60_000 + s * 1000;
}

// Local time -> UTC. Formats without a zone (RFC 3164, zone-less ISO) are the writer's local
// time, which on an agent tailing local files is this host's. getTimezoneOffset needs a Date, so
// the offset is cached per 15-minute bucket of wall time (zone changes fall on quarter hours).
const BUCKET_MS = 15 * 60_000;
let tzBucket = NaN;
let tzOffsetMs = 0;

/** Epoch ms of a local wall-clock time given as if it were UTC. */
export function localToUtc(wallMs: number): number {
  const bucket = Math.floor(wallMs / BUCKET_MS);
  if (bucket !== tzBucket) {
    // Two steps: the offset at the guessed instant, then at the corrected one (DST edges).
    const first = new Date(wallMs).getTimezoneOffset() * 60_000;
    tzOffsetMs = new Date(wallMs + first).getTimezoneOffset() * 60_000;
    tzBucket = bucket;
  }
  return wallMs + tzOffsetMs;
}

/**
 * nginx `$time_local` / Apache `%t` (CLF): `23/Nov/2026:11:56:00 +0000`, exactly [s, e).
 * Returns epoch ms or NaN.
 */
export function parseClf(buf: Uint8Array, s: number, e: number): number {
  if (e - s !== 26) return NaN;
  if (buf[s + 2] !== 0x2f || buf[s + 6] !== 0x2f || buf[s + 11] !== 0x3a) return NaN; // / / :
  if (buf[s + 14] !== 0x3a || buf[s + 17] !== 0x3a || buf[s + 20] !== 0x20) return NaN; // : : SP
  const mo = monthAt(buf, s + 3);
  if (mo === 0) return NaN;
  const ms = utcMs(
    d4(buf, s + 7),
    mo,
    d2(buf, s),
    d2(buf, s + 12),
    d2(buf, s + 15),
    d2(buf, s + 18),
  );
  const zone = zoneMs(buf, s + 21, e);
  return ms - zone; // NaN stays NaN
}

/**
 * parseClf for a stream of lines: lines of an access log share their date and zone, so those
 * 11 + 6 bytes are compared (5 word loads) with the last line's and only hh:mm:ss is read when
 * they match. Saves ~100 ns a line (month name lookup and calendar arithmetic).
 */
export class ClfClock {
  private k0 = 0;
  private k1 = 0;
  private k2 = 0;
  private z0 = 0;
  private z1 = 0;
  /** Epoch ms of 00:00:00 of the cached date in the cached zone; NaN: nothing cached. */
  private base = NaN;

  /** Epoch ms of the CLF time at [s, s + 26) (`dv` views `buf`), or NaN. */
  parse(buf: Uint8Array, dv: DataView, s: number, e: number): number {
    if (e - s !== 26) return parseClf(buf, s, e);
    const w0 = dv.getInt32(s, true); // `23/N`
    const w1 = dv.getInt32(s + 4, true); // `ov/2`
    const w2 = dv.getInt32(s + 8, true); // `026:`
    const z0 = dv.getInt32(s + 20, true); // ` +00`
    const z1 = dv.getInt32(s + 22, true); // `0000`
    if (w0 === this.k0 && w1 === this.k1 && w2 === this.k2 && z0 === this.z0 && z1 === this.z1) {
      if (buf[s + 14] !== 0x3a || buf[s + 17] !== 0x3a) return NaN;
      const h = d2(buf, s + 12);
      const m = d2(buf, s + 15);
      const sec = d2(buf, s + 18);
      if (h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60) return NaN;
      return this.base + h * 3_600_000 + m * 60_000 + sec * 1000;
    }
    const ms = parseClf(buf, s, e);
    if (ms === ms) {
      this.k0 = w0;
      this.k1 = w1;
      this.k2 = w2;
      this.z0 = z0;
      this.z1 = z1;
      this.base =
        ms - (d2(buf, s + 12) * 3_600_000 + d2(buf, s + 15) * 60_000 + d2(buf, s + 18) * 1000);
    }
    return ms;
  }
}

/** `+hhmm`, `-hhmm`, `+hh:mm`, `-hh:mm` or `Z`/`z` spanning exactly [i, e): offset in ms, or NaN. */
function zoneMs(buf: Uint8Array, i: number, e: number): number {
  const n = e - i;
  const c = buf[i];
  if (n === 1 && (c === 0x5a || c === 0x7a)) return 0;
  if (c !== 0x2b && c !== 0x2d) return NaN;
  const h = d2(buf, i + 1);
  let m: number;
  if (n === 5) m = d2(buf, i + 3);
  else if (n === 6 && buf[i + 3] === 0x3a) m = d2(buf, i + 4);
  else return NaN;
  if (h < 0 || h > 23 || m < 0 || m > 59) return NaN;
  const off = h * 3_600_000 + m * 60_000;
  return c === 0x2d ? -off : off;
}

/**
 * RFC 3339 / ISO 8601 date-time spanning exactly [s, e): `2026-11-23T12:00:00`, `T` or `t` or a
 * space, optional fraction (read to the millisecond, further digits dropped), optional zone
 * (`Z`, `+hh:mm`, `+hhmm`). Without a zone the time is local. Epoch ms or NaN.
 */
export function parseRfc3339(buf: Uint8Array, s: number, e: number): number {
  if (e - s < 19) return NaN;
  if (buf[s + 4] !== 0x2d || buf[s + 7] !== 0x2d || buf[s + 13] !== 0x3a || buf[s + 16] !== 0x3a)
    return NaN;
  const t = buf[s + 10];
  if (t !== 0x54 && t !== 0x74 && t !== 0x20) return NaN;
  let ms = utcMs(
    d4(buf, s),
    d2(buf, s + 5),
    d2(buf, s + 8),
    d2(buf, s + 11),
    d2(buf, s + 14),
    d2(buf, s + 17),
  );
  if (ms !== ms) return NaN;
  let i = s + 19;
  if (i < e && (buf[i] === 0x2e || buf[i] === 0x2c)) {
    // fraction: `.123456` (a comma is ISO 8601's other decimal sign)
    i++;
    const f0 = i;
    let frac = 0;
    while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) {
      if (i - f0 < 3) frac = frac * 10 + buf[i] - 48;
      i++;
    }
    if (i === f0) return NaN;
    for (let k = i - f0; k < 3; k++) frac *= 10;
    ms += frac;
  }
  if (i === e) return localToUtc(ms);
  return ms - zoneMs(buf, i, e);
}

/**
 * RFC 3164 `Mmm dd hh:mm:ss` (day space-padded: `Nov  3`) spanning exactly [s, e). The format
 * has no year and no zone: local time, in the year that puts it closest before `nowMs` (a line
 * more than a week ahead of now is from last year: December lines read in January).
 */
export function parseRfc3164(buf: Uint8Array, s: number, e: number, nowMs: number): number {
  if (e - s !== 15) return NaN;
  if (buf[s + 3] !== 0x20 || buf[s + 6] !== 0x20 || buf[s + 9] !== 0x3a || buf[s + 12] !== 0x3a)
    return NaN;
  const mo = monthAt(buf, s);
  if (mo === 0) return NaN;
  const dd = buf[s + 4] === 0x20 ? buf[s + 5] - 48 : d2(buf, s + 4); // `Nov  3` or `Nov 03`
  if (!(dd >= 1 && dd <= 31)) return NaN;
  const year = new Date(nowMs).getUTCFullYear(); // once per line only on this (syslog) path
  const h = d2(buf, s + 7);
  const mi = d2(buf, s + 10);
  const sec = d2(buf, s + 13);
  let ms = localToUtc(utcMs(year, mo, dd, h, mi, sec));
  if (ms > nowMs + 7 * DAY_MS) ms = localToUtc(utcMs(year - 1, mo, dd, h, mi, sec));
  return ms;
}

/**
 * Any of the formats above, told apart by their shape, plus epoch seconds (10 digits, optional
 * fraction) and epoch ms (13 digits). For `{name:timestamp}` template captures. Epoch ms or NaN.
 */
export function parseAnyTime(buf: Uint8Array, s: number, e: number, nowMs: number): number {
  const n = e - s;
  if (n < 10) return NaN;
  const c = buf[s];
  if (c >= 0x41) return parseRfc3164(buf, s, e, nowMs); // a month name
  if (buf[s + 2] === 0x2f) return parseClf(buf, s, e);
  if (buf[s + 4] === 0x2d) return parseRfc3339(buf, s, e);
  // epoch: digits, then an optional fraction
  let i = s;
  while (i < e && buf[i] >= 0x30 && buf[i] <= 0x39) i++;
  const digits = i - s;
  if (digits !== 10 && digits !== 13) return NaN;
  let v = 0;
  for (let k = s; k < i; k++) v = v * 10 + buf[k] - 48;
  let ms = digits === 10 ? v * 1000 : v;
  if (i < e) {
    if (buf[i] !== 0x2e || i + 1 === e) return NaN;
    let scale = digits === 10 ? 100 : 0.1;
    for (let k = i + 1; k < e; k++) {
      const d = buf[k] - 48;
      if (d < 0 || d > 9) return NaN;
      ms += d * scale;
      scale /= 10;
    }
    ms = Math.floor(ms);
  }
  return ms;
}

/**
 * Writes event timestamps (`2026-11-23T12:00:00.000Z`, 24 bytes) into output buffers. Lines of a
 * log mostly share their second, so the first 20 bytes are rebuilt only when it changes, and the
 * 24 bytes are written as 6 word stores.
 */
export class IsoWriter {
  private readonly scratch = new Uint8Array(24);
  /** The scratch as 6 little-endian words (read after set()). */
  readonly words = new Int32Array(6);
  private readonly view = new DataView(this.scratch.buffer);
  private second = NaN;

  /** Make `words` hold the timestamp of epoch `ms`. */
  set(ms: number): void {
    const sec = Math.floor(ms / 1000);
    const b = this.scratch;
    if (sec !== this.second) this.build(sec);
    const milli = ms - sec * 1000;
    b[20] = 48 + ((milli / 100) | 0);
    b[21] = 48 + (((milli / 10) | 0) % 10);
    b[22] = 48 + ((milli % 10) | 0);
    const w = this.words;
    const v = this.view;
    w[4] = v.getInt32(16, true);
    w[5] = v.getInt32(20, true);
    if (sec !== this.lastWordsSecond) {
      w[0] = v.getInt32(0, true);
      w[1] = v.getInt32(4, true);
      w[2] = v.getInt32(8, true);
      w[3] = v.getInt32(12, true);
      this.lastWordsSecond = sec;
    }
  }

  /** Writes the timestamp of epoch `ms` at pos (24 bytes) and returns pos + 24. */
  write(ms: number, out: DataView, pos: number): number {
    this.set(ms);
    const w = this.words;
    out.setInt32(pos, w[0], true);
    out.setInt32(pos + 4, w[1], true);
    out.setInt32(pos + 8, w[2], true);
    out.setInt32(pos + 12, w[3], true);
    out.setInt32(pos + 16, w[4], true);
    out.setInt32(pos + 20, w[5], true);
    return pos + 24;
  }

  private lastWordsSecond = NaN;

  private build(sec: number): void {
    this.second = sec;
    const b = this.scratch;
    const days = Math.floor(sec / 86400);
    let rem = sec - days * 86400;
    // civil_from_days
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor(
      (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
    );
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const m = mp < 10 ? mp + 3 : mp - 9;
    const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    const h = Math.floor(rem / 3600);
    rem -= h * 3600;
    const mi = Math.floor(rem / 60);
    const s = rem - mi * 60;
    put4(b, 0, y);
    b[4] = 0x2d;
    put2(b, 5, m);
    b[7] = 0x2d;
    put2(b, 8, d);
    b[10] = 0x54; // T
    put2(b, 11, h);
    b[13] = 0x3a;
    put2(b, 14, mi);
    b[16] = 0x3a;
    put2(b, 17, s);
    b[19] = 0x2e; // .
    b[23] = 0x5a; // Z
  }
}

/** The range the writer handles: years 0000 to 9999 (RFC 3339 has 4-digit years). */
const MIN_TIME_MS = -62167219200000; // 0000-01-01T00:00:00.000Z
const MAX_TIME_MS = 253402300799999; // 9999-12-31T23:59:59.999Z

/** `ms` when the event timestamp can show it, else NaN (the event then gets the ingest time). */
export function inRange(ms: number): number {
  return ms >= MIN_TIME_MS && ms <= MAX_TIME_MS ? ms : NaN;
}

function put2(b: Uint8Array, i: number, v: number): void {
  b[i] = 48 + ((v / 10) | 0);
  b[i + 1] = 48 + (v % 10);
}

function put4(b: Uint8Array, i: number, v: number): void {
  put2(b, i, (v / 100) | 0);
  put2(b, i + 2, v % 100);
}
