// Byte scans the parsers share: "where is the next byte b before the line end", without a
// subarray per line and without letting Buffer#indexOf run past the line again and again.
//
// find() looks at 4 bytes per step (SWAR over a DataView, the word test of src/engine/encoder.ts:
// haszero(w ^ b*0x01010101)), bounded by the line end: ~0.45 ns per byte and no native call, where
// a JS byte loop costs ~1.3 ns per byte and a Buffer#indexOf call ~25-40 ns (bench/micro/parsers.mjs
// history in docs/parsers.md). Past SWAR_MAX bytes it hands over to Buffer#indexOf (memchr).
//
// Buffer#indexOf(b, from) has no end bound: asked for a byte the line does not hold, it scans on
// into the next lines, up to the end of the chunk; asked that for every line, a chunk would cost
// O(lines x chunk). So its answers are remembered per byte value: "from F, the next b is at A"
// (A = chunk length when there is none) holds for any start in [F, A], and forward scans over a
// chunk read each byte at most once per byte value. A scan that starts before F (a second
// template trying the same line) uses a bounded loop instead.
//
//   chunk:  |....line k....b......|....line k+1....|...b...
//                  ^F      ^A                             find(b, s in [F, A]) = A, no scan

/** 256 bytes: past this a memchr call wins over 4-byte steps (its fixed cost is ~30 ns). */
const SWAR_MAX = 256;

export class ByteFinder {
  private buf: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(8));
  /** A DataView of the current chunk, for word reads by the parsers. */
  get view(): DataView {
    return this.dv;
  }
  private len = 0;
  private readonly from = new Int32Array(256);
  private readonly at = new Int32Array(256);

  /** Forget what was found in the previous chunk. */
  reset(buf: Uint8Array): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    this.len = buf.length;
    this.from.fill(-1);
    this.at.fill(-1);
  }

  /** Index of the first byte `b` in [s, e), or -1. For bytes that are usually near. */
  find(b: number, s: number, e: number): number {
    const dv = this.dv;
    const pat = Math.imul(b, 0x01010101);
    const last4 = e - 4;
    const stop = s + SWAR_MAX < last4 ? s + SWAR_MAX : last4;
    let i = s;
    while (i <= stop) {
      const w = dv.getInt32(i, true) ^ pat;
      const m = (w - 0x01010101) & ~w & 0x80808080;
      if (m !== 0) return i + ((31 - Math.clz32(m & -m)) >> 3);
      i += 4;
    }
    if (i <= last4) return this.findFar(b, i, e);
    const buf = this.buf;
    while (i < e) {
      if (buf[i] === b) return i;
      i++;
    }
    return -1;
  }

  /**
   * Index of the first byte `b` in [s, e), or -1. For bytes that are usually far or absent (a
   * backslash): remembered answers first, then Buffer#indexOf.
   */
  findFar(b: number, s: number, e: number): number {
    if (s >= e) return -1;
    const f = this.from[b];
    let a: number;
    if (f >= 0 && s >= f) {
      a = this.at[b];
      if (s > a) {
        a = (this.buf as Buffer).indexOf(b, s);
        if (a < 0) a = this.len;
        this.from[b] = s;
        this.at[b] = a;
      }
    } else if (f < 0) {
      a = (this.buf as Buffer).indexOf(b, s);
      if (a < 0) a = this.len;
      this.from[b] = s;
      this.at[b] = a;
    } else {
      // behind the remembered window: a bounded loop, the cache stays as it is
      const buf = this.buf;
      let i = s;
      while (i < e && buf[i] !== b) i++;
      return i < e ? i : -1;
    }
    return a < e ? a : -1;
  }
}

/** True when buf[i] is preceded by an odd number of backslashes (since `s`): it is escaped. */
export function escaped(buf: Uint8Array, s: number, i: number): boolean {
  let k = i - 1;
  while (k >= s && buf[k] === 0x5c) k--;
  return ((i - 1 - k) & 1) === 1;
}

/** Index of the first byte of [s, e) that is a backslash, or -1 (a short loop: values are short). */
export function backslashIn(buf: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) if (buf[i] === 0x5c) return i;
  return -1;
}
