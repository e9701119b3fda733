// The `template` parser: one or more compiled templates (./compile.ts) run as byte-level
// matchers over each line. No regex, no string per line: literal runs are compared byte by byte,
// a field ends where the next literal first occurs (a delimiter scan through ByteFinder), typed
// fields are checked in place.
//
// Dispatch: a line is tried only against the templates that can start with its first byte (a
// 257-entry table: 256 bytes + the empty line); the template that matched last is tried first,
// since a log mostly repeats one format. Each template counts its hits. A line no template
// matches keeps TMPL = -1: the encoder writes it whole with "parse_error":true.
//
// Matching rules (docs/parsers.md):
// - A field runs to the first occurrence of the literal after it (shortest match, no
//   backtracking into earlier fields); before the template's closing literal it runs to the
//   last one, since that literal must end the line. A field at the end runs to the line end.
// - A field between two `"` skips quotes escaped with a backslash (Apache writes `\"`), and its
//   `\"`, `\\` escapes are decoded.
// - `-` alone is nginx's and Apache's "no value": the field is null, whatever its type.
// - int / float fields that are not numbers make the template not match (the line then tries
//   the next template, and is kept whole if none matches): a field keeps one JSON type.
// - A timestamp field stays text and, when its format is known, sets the event timestamp.

import {
  type Captures,
  FROM,
  KEY,
  KEY_HIDDEN,
  KeyTable,
  LE,
  LINE_STRIDE,
  LS,
  MSG,
  MSG_FIELDS,
  type Parser,
  QUOTES,
  REC_STRIDE,
  T_XESC,
  T_NULL,
  T_STR,
  TMPL,
  TO,
  TYPE,
  VE,
  VS,
} from '../captures.js';
import { ByteFinder, escaped } from '../scan.js';
import { inRange, parseAnyTime } from '../time.js';
import { putFloat, putInt } from '../values.js';
import { CT_FLOAT, CT_INT, CT_STRING, CT_TIME, type CompiledTemplate } from './compile.js';

const LIT = 1;
const CAP = 2;

/** CAP flag: the field sits between two `"` (escaped quotes are skipped, escapes decoded). */
const QUOTED = 1;
/** CAP flag: the literal after the field ends the template, so it must end the line. */
const BEFORE_END = 2;

/** CAP key ids below 0. */
const DROP = -1;
const MESSAGE = -2;

export class TemplateParser implements Parser {
  readonly keys: KeyTable;
  readonly fieldNames: readonly string[];
  readonly hits: Float64Array;
  /** Ingest clock for formats without a year (RFC 3164). */
  now: () => number = Date.now;

  private readonly n: number;
  private readonly kind: Uint8Array;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly c: Int32Array;
  private readonly stepFrom: Int32Array;
  private readonly stepTo: Int32Array;
  private readonly pool: Uint8Array;
  /** candStart[x]..candStart[x+1]: templates that can match a line whose first byte is x. */
  private readonly candStart: Int32Array;
  private readonly cands: Int32Array;
  /** isCand[x * n + t] = 1 when template t is among x's candidates. */
  private readonly isCand: Uint8Array;
  /** Most records one line can add. */
  private readonly maxFields: number;
  /** `"` in each template's literals (Captures QUOTES). */
  private readonly quotes: Int32Array;
  private last = -1;
  private readonly finder = new ByteFinder();

  constructor(templates: CompiledTemplate[]) {
    const names: string[] = [];
    for (const t of templates) for (const f of t.fields) if (!names.includes(f)) names.push(f);
    this.fieldNames = names.filter((f) => f !== 'message');
    this.keys = new KeyTable(names);
    const n = templates.length;
    this.n = n;
    this.hits = new Float64Array(n);
    const steps = templates.flatMap((t) => t.steps);
    this.kind = new Uint8Array(steps.length);
    this.a = new Int32Array(steps.length);
    this.b = new Int32Array(steps.length);
    this.c = new Int32Array(steps.length);
    this.stepFrom = new Int32Array(n);
    this.stepTo = new Int32Array(n);
    const lits: Buffer[] = [];
    let poolLen = 0;
    let k = 0;
    let maxFields = 1;
    for (let t = 0; t < n; t++) {
      const ts = templates[t].steps;
      this.stepFrom[t] = k;
      maxFields = Math.max(maxFields, ts.length);
      for (let j = 0; j < ts.length; j++, k++) {
        const st = ts[j];
        if (st.kind === 'lit') {
          this.kind[k] = LIT;
          this.a[k] = poolLen;
          this.b[k] = st.bytes.length;
          lits.push(st.bytes);
          poolLen += st.bytes.length;
          continue;
        }
        this.kind[k] = CAP;
        this.a[k] =
          st.name === '_' ? DROP : st.name === 'message' ? MESSAGE : this.keys.id(st.name);
        this.b[k] = st.type;
        const before = ts[j - 1];
        const after = ts[j + 1];
        let flags = 0;
        if (
          before?.kind === 'lit' &&
          after?.kind === 'lit' &&
          before.bytes[before.bytes.length - 1] === 0x22 &&
          after.bytes[0] === 0x22
        ) {
          flags |= QUOTED;
        }
        if (j + 2 === ts.length) flags |= BEFORE_END;
        this.c[k] = flags;
      }
      this.stepTo[t] = k;
    }
    this.maxFields = maxFields;
    this.quotes = new Int32Array(n);
    for (let t = 0; t < n; t++) {
      for (const st of templates[t].steps) {
        if (st.kind === 'lit') for (const b of st.bytes) if (b === 0x22) this.quotes[t]++;
      }
    }
    this.pool = Buffer.concat(lits);
    // First-byte dispatch: a template starting with a literal only sees lines starting with
    // that byte; one starting with a field sees every line.
    const lists: number[][] = Array.from({ length: 257 }, () => []);
    for (let t = 0; t < n; t++) {
      const st = templates[t].steps[0];
      for (let x = 0; x < 257; x++) {
        if (st.kind === 'cap' || (x < 256 && st.bytes[0] === x)) lists[x].push(t);
      }
    }
    this.candStart = new Int32Array(258);
    this.cands = new Int32Array(lists.reduce((s, l) => s + l.length, 0));
    this.isCand = new Uint8Array(257 * n);
    let p = 0;
    for (let x = 0; x < 257; x++) {
      this.candStart[x] = p;
      for (const t of lists[x]) {
        this.cands[p++] = t;
        this.isCand[x * n + t] = 1;
      }
    }
    this.candStart[257] = p;
  }

  parse(cap: Captures): void {
    const buf = cap.buf;
    const line = cap.line;
    const n = this.n;
    const candStart = this.candStart;
    const cands = this.cands;
    const isCand = this.isCand;
    const hits = this.hits;
    const finder = this.finder;
    const maxFields = this.maxFields;
    const quotes = this.quotes;
    finder.reset(buf);
    const now = this.now();
    for (let i = 0; i < cap.n; i++) {
      const o = i * LINE_STRIDE;
      const s = line[o + LS];
      const e = line[o + LE];
      const from = cap.nrec;
      cap.reserve(maxFields);
      // One look per line: with no backslash in it, quoted fields need no escape handling.
      const hasBs = finder.findFar(0x5c, s, e) >= 0;
      const x = s < e ? buf[s] : 256;
      let matched = -1;
      const last = this.last;
      if (last >= 0 && isCand[x * n + last] === 1 && this.match(last, cap, i, s, e, hasBs, now)) {
        matched = last;
      } else {
        for (let k = candStart[x], end = candStart[x + 1]; k < end; k++) {
          const t = cands[k];
          if (t === last) continue;
          cap.nrec = from;
          line[o + MSG] = -1;
          cap.time[i] = NaN;
          if (this.match(t, cap, i, s, e, hasBs, now)) {
            matched = t;
            break;
          }
        }
      }
      if (matched >= 0) {
        hits[matched]++;
        this.last = matched;
        line[o + TMPL] = matched;
        line[o + QUOTES] = quotes[matched];
        // a template matches the whole line: its fields hold it, unless one is the message
        if (line[o + MSG] < 0) line[o + MSG] = MSG_FIELDS;
        line[o + FROM] = from;
        line[o + TO] = cap.nrec;
      } else {
        cap.nrec = from;
        line[o + MSG] = -1;
        cap.time[i] = NaN;
        line[o + FROM] = from;
        line[o + TO] = from;
      }
    }
  }

  /** Run template t over line i = [s, e), appending its records; false when it does not match. */
  private match(
    t: number,
    cap: Captures,
    i: number,
    s: number,
    e: number,
    hasBs: boolean,
    now: number,
  ): boolean {
    const buf = cap.buf;
    const rec = cap.rec; // reserve() ran for this line: no growth below
    const kind = this.kind;
    const A = this.a;
    const B = this.b;
    const pool = this.pool;
    const end = this.stepTo[t];
    let p = s;
    for (let k = this.stepFrom[t]; k < end; k++) {
      if (kind[k] === LIT) {
        const off = A[k];
        const len = B[k];
        if (p + len > e) return false;
        for (let j = 0; j < len; j++) if (buf[p + j] !== pool[off + j]) return false;
        p += len;
        continue;
      }
      // A field: find where it ends.
      const key = A[k];
      const type = B[k];
      const flags = this.c[k];
      const vs = p;
      let ve: number;
      if (k + 1 === end) {
        ve = e; // the last field runs to the line end
        p = e;
      } else {
        const off = A[k + 1];
        const len = B[k + 1];
        if ((flags & BEFORE_END) !== 0) {
          // The closing literal must end the line: the field runs up to it.
          ve = e - len;
          if (ve < vs) return false;
          for (let j = 0; j < len; j++) if (buf[ve + j] !== pool[off + j]) return false;
          if ((flags & QUOTED) !== 0 && hasBs && escaped(buf, vs, ve)) return false;
        } else {
          const first = pool[off];
          const finder = this.finder;
          let q = finder.find(first, p, e);
          for (;;) {
            if (q < 0 || q + len > e) return false;
            let j = 1;
            while (j < len && buf[q + j] === pool[off + j]) j++;
            if (j === len && !((flags & QUOTED) !== 0 && hasBs && escaped(buf, vs, q))) break;
            q = finder.find(first, q + 1, e);
          }
          ve = q;
        }
        p = ve + len;
        k++; // its literal is matched too
      }
      if (key === DROP) continue;
      const ro = cap.nrec * REC_STRIDE;
      rec[ro + KEY] = key;
      rec[ro + VS] = vs;
      rec[ro + VE] = ve;
      if (key === MESSAGE) {
        rec[ro + KEY] = KEY_HIDDEN;
        rec[ro + TYPE] = (flags & QUOTED) !== 0 && hasBs ? T_XESC : T_STR;
        cap.line[i * LINE_STRIDE + MSG] = cap.nrec++;
        continue;
      }
      if (ve - vs === 1 && buf[vs] === 0x2d) {
        rec[ro + TYPE] = T_NULL; // `-`: no value
      } else if (type === CT_STRING || type === CT_TIME) {
        rec[ro + TYPE] = (flags & QUOTED) !== 0 && hasBs ? T_XESC : T_STR;
        if (type === CT_TIME && cap.time[i] !== cap.time[i]) {
          cap.time[i] = inRange(parseAnyTime(buf, vs, ve, now));
        }
      } else if (type === CT_INT) {
        if (!putInt(buf, vs, ve, rec, ro)) return false;
      } else if (type === CT_FLOAT) {
        if (!putFloat(buf, vs, ve, rec, ro)) return false;
      }
      cap.nrec++;
    }
    return p === e;
  }
}
