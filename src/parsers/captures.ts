// The parsed-event representation: per chunk, tables of byte offsets into the chunk's Buffer,
// filled by a parser and read by the encoder (./encode.ts). No per-line strings or objects.
//
// One Captures is reused for every chunk of a source. A chunk's lines are split once (split()),
// then the parser writes one "field record" per field it finds; the encoder walks both tables.
//
//   buf (the chunk, never copied):
//   |1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8"\n|{"a":1}\n|
//    ^ LS                                                                             ^ LE
//
//   line table (Int32Array, LINE_STRIDE ints per line)         time (Float64Array, per line)
//   +----+----+------+------+----+-----+--------+               +------------------+
//   | LS | LE | TMPL | FROM | TO | MSG | QUOTES |  line 0       | 1795435200000    |  ms, or NaN:
//   +----+----+------+------+----+-----+--------+               +------------------+  ingest time
//   | .. | .. |  -1  |  11  | 11 | -1  |   -1   |  line 1       | NaN              |
//   +----+----+------+------+----+-----+--------+  (no match)   +------------------+
//     LE excludes `\r\n`; TMPL = id of the template that matched, or -1: the line is kept whole
//     as `message` with `"parse_error":true`; FROM..TO = its records; MSG = the record that is
//     the event's `message` (syslog MSG, a JSON `message` key), or MSG_LINE (-1): the whole
//     line, or MSG_FIELDS (-2): none, the fields hold the line (unless keep_message);
//     QUOTES = the delimiter quotes the parser matched (a hint for the encoder, -1: none).
//
//   field records (Int32Array, REC_STRIDE ints per field, lines' records back to back)
//   +-----+------+----+----+----+----+
//   | KEY | TYPE | KS | KE | VS | VE |   record 0: KEY 0 = "remote_addr", T_STR, value [0, 7)
//   +-----+------+----+----+----+----+
//   | KEY | TYPE | KS | KE | VS | VE |   record 1: KEY 1 = "remote_user", T_NULL (nginx `-`)
//   +-----+------+----+----+----+----+
//     KEY >= 0: the parser's fixed key table (pre-encoded `,"name":`); KEY_DYNAMIC: the key is
//     the bytes [KS, KE) (JSON, logfmt); KEY_HIDDEN: not written as a field (the message).
//     TYPE: how [VS, VE) becomes a JSON value (T_* below) plus F_* flag bits for the key.
//
// Why offsets and not strings: a field costs 6 int stores instead of a string and an object, the
// same tables serve every parser (fixed and dynamic keys), and a parser stays a pure function of
// (chunk bytes) -> (tables), so it can move into a worker thread unchanged.

/** Ints per line in Captures.line. */
export const LINE_STRIDE = 7;
export const LS = 0; // line start
export const LE = 1; // line end, without `\r\n` / `\n`
export const TMPL = 2; // matched template id, or -1 (parse error)
export const FROM = 3; // first record index
export const TO = 4; // end record index
export const MSG = 5; // record index of the message, or MSG_LINE / MSG_FIELDS
/**
 * How many bytes the JSON escaping of the whole line grows by because of the `"` the parser
 * matched as delimiters (nginx combined: 6), or -1. When escaping the line as `message` grows
 * it by exactly that much, nothing else in the line needs escaping, so the encoder copies its
 * T_STR fields without looking at them (see encode.ts).
 */
export const QUOTES = 6;

/** MSG: the event's message is the whole line (parse errors, raw; split() sets it). */
export const MSG_LINE = -1;
/**
 * MSG: the line has no message of its own and its fields hold all of it (an nginx line, a JSON
 * object without `message`): it is written as `message` only with the source's keep_message.
 */
export const MSG_FIELDS = -2;

/** Ints per field record in Captures.rec. */
export const REC_STRIDE = 6;
export const KEY = 0;
export const TYPE = 1;
export const KS = 2;
export const KE = 3;
export const VS = 4;
export const VE = 5;

/** KEY of a record whose key is the bytes [KS, KE) of the line. */
export const KEY_DYNAMIC = -1;
/** KEY of a record that is not written as a field (it is the message). */
export const KEY_HIDDEN = -2;

// Value types (TYPE & T_MASK). Each says how the bytes [VS, VE) become a JSON value.
/** Bytes -> JSON string (escaped, invalid UTF-8 replaced). */
export const T_STR = 1;
/** Backslash-escaped text (`\"`, `\\`, `\n`, `\uXXXX`; `\]` = `]`) -> JSON string; other `\x` stay literal. */
export const T_ESC = 2;
/** A JSON number already in canonical form: copied as is. */
export const T_NUM = 3;
/** A JSON number without its leading `-` (the span had leading zeros to drop): writes `-`, then the span. */
export const T_NEG = 4;
export const T_NULL = 5;
export const T_TRUE = 6;
/** A JSON value validated by the json parser: copied (invalid UTF-8 repaired inside strings). */
export const T_JSON = 7;
/** A small integer held in VS itself (syslog facility/severity, CLF `-` bytes = 0). */
export const T_INT = 8;
/** Literal id VS of the literal table (syslog level names): pre-encoded JSON bytes. */
export const T_LIT = 9;
/** RFC 5424 STRUCTURED-DATA [VS, VE), already validated: written as {"sdid":{"param":"v"}}. */
export const T_SD = 10;
/** T_ESC plus `\xHH` (nginx, Apache, templates' quoted fields) -> the byte it stands for. */
export const T_XESC = 11;
export const T_MASK = 15;

/** Flag on a dynamic key: it would clash with a key the agent writes, so it gets a `_` prefix. */
export const F_PREFIX = 16;
/** Flag on a dynamic key: [KS, KE) is a JSON string body already (JSON keys), not raw bytes. */
export const F_KEY_JSON = 32;

/** Pre-encoded JSON literals (T_LIT): registered once at module load, never per line. */
export const literals: Uint8Array[] = [];
export function literal(json: string): number {
  literals.push(Buffer.from(json, 'utf8'));
  return literals.length - 1;
}

/** Starting room: 4096 lines, 16 fields each. Tables only grow (and are reused per chunk). */
const INITIAL_LINES = 4096;
const INITIAL_RECS = 4096 * 16;

export class Captures {
  buf: Buffer = Buffer.alloc(0);
  /** Lines in the current chunk. */
  n = 0;
  /** isUtf8(buf): bytes >= 0x80 may be copied without checking. */
  utf8 = true;
  line = new Int32Array(INITIAL_LINES * LINE_STRIDE);
  time = new Float64Array(INITIAL_LINES);
  rec = new Int32Array(INITIAL_RECS * REC_STRIDE);
  /** Records used so far in this chunk. */
  nrec = 0;

  /**
   * Make room for `more` records after the ones used; parsers call it once per line with the
   * most that line can add. Returns the (maybe new) table: parsers keep it in a local.
   */
  reserve(more: number): Int32Array {
    const need = (this.nrec + more) * REC_STRIDE;
    if (need > this.rec.length) {
      const next = new Int32Array(Math.max(need, this.rec.length * 2));
      next.set(this.rec.subarray(0, this.nrec * REC_STRIDE));
      this.rec = next;
    }
    return this.rec;
  }

  /**
   * Split `buf` into lines: the line table's LS/LE for each, TMPL = -1, no records. A last line
   * without `\n` is a line too; a `\r` before `\n` (or ending the chunk) is not part of it, as in
   * the raw encoder. `ends` (LineChunk.ends: multiline events, which hold `\n` themselves) gives
   * each line's end instead of the next `\n`.
   */
  split(buf: Buffer, linesHint: number, ends?: Int32Array): void {
    this.buf = buf;
    this.nrec = 0;
    if (linesHint + 1 > this.time.length) this.growLines(linesHint + 1);
    let line = this.line;
    let time = this.time;
    const len = buf.length;
    let n = 0;
    let s = 0;
    while (s < len) {
      let nl: number;
      let next: number;
      if (ends === undefined) {
        nl = buf.indexOf(10, s);
        next = nl < 0 ? len : nl + 1;
        if (nl < 0) nl = len;
      } else {
        if (n >= ends.length) break;
        next = ends[n];
        if (next <= s || next > len) break; // not a valid end: no more lines
        nl = buf[next - 1] === 10 ? next - 1 : next;
      }
      if (nl > s && buf[nl - 1] === 13) nl--;
      if (n * LINE_STRIDE >= line.length) {
        this.growLines(n * 2);
        line = this.line;
        time = this.time;
      }
      const o = n * LINE_STRIDE;
      line[o + LS] = s;
      line[o + LE] = nl;
      line[o + TMPL] = -1;
      line[o + FROM] = 0;
      line[o + TO] = 0;
      line[o + MSG] = -1;
      line[o + QUOTES] = -1;
      time[n] = NaN;
      n++;
      s = next;
    }
    this.n = n;
  }

  private growLines(lines: number): void {
    const cap = Math.max(lines, (this.time.length * 2) | 0);
    const line = new Int32Array(cap * LINE_STRIDE);
    line.set(this.line);
    this.line = line;
    const time = new Float64Array(cap);
    time.set(this.time);
    this.time = time;
  }
}

/**
 * Bytes as little-endian 32-bit words (the last one zero-padded), for writers that copy a
 * constant with one DataView store per 4 bytes: a 16-byte key is 4 stores instead of 16.
 */
export function toWords(bytes: Uint8Array): Int32Array {
  const padded = new Uint8Array((bytes.length + 3) & ~3);
  padded.set(bytes);
  const dv = new DataView(padded.buffer);
  const words = new Int32Array(padded.length >> 2);
  for (let k = 0; k < words.length; k++) words[k] = dv.getInt32(k * 4, true);
  return words;
}

/** A parser's fixed keys, each pre-encoded once as `,"name":`. */
export class KeyTable {
  readonly names: string[];
  readonly bytes: Uint8Array[];
  /** The same bytes as words (toWords): `bytes[k].length` says how many of them count. */
  readonly words: Int32Array[];
  /** bytes[k].length, as a flat table. */
  readonly lengths: Int32Array;
  /** Keys of up to 32 bytes as 8 words each (key k at k * 8), zero-padded: one table, no loop. */
  readonly flat: Int32Array;
  constructor(names: readonly string[]) {
    this.names = [...names];
    this.bytes = names.map((n) => Buffer.from(`,${JSON.stringify(n)}:`, 'utf8'));
    this.words = this.bytes.map(toWords);
    this.lengths = Int32Array.from(this.bytes, (b) => b.length);
    this.flat = new Int32Array(names.length * 8);
    this.words.forEach((w, k) => {
      if (w.length <= 8) this.flat.set(w, k * 8);
    });
  }
  id(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`bug: key ${name} not in the key table`);
    return i;
  }
}

/** What every parser is: compiled once per source, then a pure function over chunks. */
export interface Parser {
  readonly keys: KeyTable;
  /**
   * Field names the parser can write, known at config time (checked against static fields);
   * null for parsers whose keys come from the line (json, logfmt).
   */
  readonly fieldNames: readonly string[] | null;
  /** Lines matched per template (templates, nginx, apache: one per format variant). */
  readonly hits: Float64Array;
  /** Fill TMPL, FROM, TO, MSG, time and the records of every line of `cap` (split already). */
  parse(cap: Captures): void;
}
