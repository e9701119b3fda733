// A single-producer / single-consumer byte ring on a SharedArrayBuffer: variable-length records
// between two threads, no locks, no copies beyond writing and reading the bytes themselves.
// Bounded: a full ring makes the producer's reserve() answer -1 (backpressure), never grow.
//
// The SharedArrayBuffer:
//
//   [ header: Int32Array(8), slots in ./ring-indexes.ts ][ data: capacity bytes             ]
//     WRITE READ READER_WAITING WRITER_WAITING STATE SIGNAL   0                    capacity
//
// The data area, with W = header[WRITE] and R = header[READ] (byte offsets, 8-aligned):
//
//   W >= R:  [ free        | rec | rec | rec |  free          |PAD ]     (records wrapped below)
//            0             R                 W                capacity
//   W <  R:  [ rec | rec |  free                | rec | rec  |PAD | ]
//            0           W                      R            ^ a record that did not fit at the
//                                                              end went to 0; PAD says "go to 0"
//
//   rec = [ u32 length n ][ n payload bytes ][ pad to 8 ]       empty <=> W === R
//
// The producer only stores W, the consumer only stores R (Atomics.store: the bytes of a record
// are visible to the other thread before the index that publishes them). A write never makes W
// catch up with R, so W === R always means empty. A record never splits across the end: when it
// does not fit there, a PAD word is left and it goes to offset 0. Any record of up to
// `maxRecord` bytes fits in an empty ring wherever W stands (maxRecord is half the capacity).
//
// Wakeups: a consumer with nothing to read reads SIGNAL, sets READER_WAITING, looks at WRITE and
// STATE once more, and sleeps on SIGNAL (Atomics.wait in a worker, Atomics.waitAsync on the main
// thread, which must not block). The producer bumps SIGNAL and notifies only when that flag is
// set, so a busy ring costs no notify per record; close() always bumps it. Every store and load
// here is sequentially consistent, so either the consumer sees the new WRITE (or CLOSED) before
// it sleeps, or the producer sees the flag and rings: no wakeup is lost, and a sleep needs no
// timeout to be correct. A producer waiting for room sets WRITER_WAITING and sleeps on READ.

import {
  CLOSED,
  HEADER_BYTES,
  HEADER_WORDS,
  OPEN,
  PAD,
  READ,
  READER_WAITING,
  SIGNAL,
  STATE,
  WRITE,
  WRITER_WAITING,
} from './ring-indexes.js';

/** Records start on 8-byte boundaries: the length word and any Int32 header are aligned. */
const ALIGN = 8;
/** Length word in front of each record. */
const LEN_BYTES = 4;

/** Atomics.waitAsync (Node >= 16; not in the ES2023 lib typings this project compiles with). */
type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult;
  }
).waitAsync;

/** A new ring's shared memory: `capacity` data bytes (a multiple of 16, at least 64). */
export function createRing(capacity: number): SharedArrayBuffer {
  if (!Number.isInteger(capacity) || capacity < 64 || capacity % (2 * ALIGN) !== 0) {
    throw new RangeError(`ring capacity must be a multiple of 16 and >= 64, got ${capacity}`);
  }
  return new SharedArrayBuffer(HEADER_BYTES + capacity);
}

/** What both ends share: views on the header and on the data area. */
class RingEnd {
  /** The header words (ring-indexes.ts). */
  readonly state: Int32Array;
  /** The data area as bytes (payloads are read and written here). */
  readonly bytes: Buffer;
  /** The data area as 32-bit words (length words; Int32 fields of a record's own header). */
  readonly words: Int32Array;
  readonly capacity: number;
  /** The largest payload that can ever be written (it fits in an empty ring). */
  readonly maxRecord: number;

  constructor(readonly sab: SharedArrayBuffer) {
    this.capacity = sab.byteLength - HEADER_BYTES;
    if (this.capacity < 64 || this.capacity % (2 * ALIGN) !== 0) {
      throw new RangeError('not a ring: use createRing()');
    }
    this.state = new Int32Array(sab, 0, HEADER_WORDS);
    this.bytes = Buffer.from(sab, HEADER_BYTES, this.capacity);
    this.words = new Int32Array(sab, HEADER_BYTES, this.capacity >> 2);
    this.maxRecord = this.capacity / 2 - LEN_BYTES;
  }

  /** Bytes taken by unread records (and padding) right now. */
  get usedBytes(): number {
    const w = Atomics.load(this.state, WRITE);
    const r = Atomics.load(this.state, READ);
    return w >= r ? w - r : this.capacity - r + w;
  }

  get closed(): boolean {
    return Atomics.load(this.state, STATE) === CLOSED;
  }
}

/** The producing end. One thread only. */
export class RingWriter extends RingEnd {
  /** Our own WRITE (only we store it). */
  private w: number;
  /** The record reserved and not committed yet: its start and total size (with padding). */
  private recAt = -1;
  private recNeed = 0;
  /** READ as the last reserve() saw it: a wait for room sleeps only while it still holds. */
  private seenRead = 0;

  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.w = Atomics.load(this.state, WRITE);
  }

  /**
   * Room for a record of `n` payload bytes: returns the offset of its payload in `bytes` (write
   * it there, then commit()), or -1 when the ring is too full now. A second reserve() before
   * commit() replaces the first. Throws a RangeError when n > maxRecord: it could never fit.
   */
  reserve(n: number): number {
    if (n > this.maxRecord || n < 0) {
      throw new RangeError(
        `record of ${n} bytes is larger than the ring allows (${this.maxRecord})`,
      );
    }
    const need = (LEN_BYTES + n + ALIGN - 1) & -ALIGN;
    const cap = this.capacity;
    const w = this.w;
    const r = (this.seenRead = Atomics.load(this.state, READ));
    let at: number;
    if (w >= r) {
      // Free: [w, cap) and [0, r). Ending exactly at cap wraps W to 0, which must not be R.
      if (cap - w > need || (cap - w === need && r > 0)) at = w;
      else if (need < r) {
        this.words[w >> 2] = PAD; // w < cap and 8-aligned: the word is there
        at = 0;
      } else return -1;
    } else if (r - w > need) at = w;
    else return -1;
    this.words[at >> 2] = n;
    this.recAt = at;
    this.recNeed = need;
    return at + LEN_BYTES;
  }

  /** Publish the reserved record; wakes the consumer if it sleeps. */
  commit(): void {
    const at = this.recAt;
    if (at < 0) throw new Error('RingWriter.commit() without reserve()');
    this.recAt = -1;
    let w = at + this.recNeed;
    if (w === this.capacity) w = 0;
    this.w = w;
    const state = this.state;
    Atomics.store(state, WRITE, w);
    if (Atomics.load(state, READER_WAITING) !== 0) ring(state);
  }

  /** Write one record made of `buf`; false when the ring is too full now. */
  tryWrite(buf: Uint8Array): boolean {
    const at = this.reserve(buf.length);
    if (at < 0) return false;
    this.bytes.set(buf, at);
    this.commit();
    return true;
  }

  /** No more records: the consumer reads what is left, then sees `ended`. */
  close(): void {
    Atomics.store(this.state, STATE, CLOSED);
    ring(this.state);
  }

  /**
   * Worker side: block this thread until the consumer frees some room (or `timeoutMs` passes,
   * or it already did). Call after reserve() returned -1, then reserve() again.
   */
  waitForRoom(timeoutMs: number): void {
    const state = this.state;
    Atomics.store(state, WRITER_WAITING, 1);
    // Sleep only while READ is what the failed reserve() saw: if the consumer freed room since
    // (before it could see the flag), wait() returns 'not-equal' at once.
    Atomics.wait(state, READ, this.seenRead, timeoutMs);
    Atomics.store(state, WRITER_WAITING, 0);
  }

  /** Main-thread side of waitForRoom(): resolves when READ moves (or after `timeoutMs`). */
  waitForRoomAsync(timeoutMs?: number): Promise<void> {
    Atomics.store(this.state, WRITER_WAITING, 1);
    return wake(this.state, READ, WRITER_WAITING, this.seenRead, timeoutMs);
  }
}

/** The consuming end. One thread only. */
export class RingReader extends RingEnd {
  /** Our own READ (only we store it). */
  private r: number;
  /** Offset in `bytes` of the payload that next() found. */
  offset = 0;
  private end = -1;

  constructor(sab: SharedArrayBuffer) {
    super(sab);
    this.r = Atomics.load(this.state, READ);
  }

  /**
   * Length of the oldest unread record, whose payload is at `this.offset` in `bytes`, or -1 when
   * there is none. The payload stays valid (and its room taken) until release().
   */
  next(): number {
    let r = this.r;
    const state = this.state;
    if (r === Atomics.load(state, WRITE)) return -1;
    let n = this.words[r >> 2];
    if (n === PAD) {
      // The producer published W only after the record it wrapped to 0: it is there.
      r = this.r = 0;
      n = this.words[0];
    }
    this.offset = r + LEN_BYTES;
    this.end = r + ((LEN_BYTES + n + ALIGN - 1) & -ALIGN);
    return n;
  }

  /** Free the record next() returned; wakes the producer if it waits for room. */
  release(): void {
    let r = this.end;
    if (r < 0) throw new Error('RingReader.release() without next()');
    this.end = -1;
    if (r === this.capacity) r = 0;
    this.r = r;
    const state = this.state;
    Atomics.store(state, READ, r);
    if (Atomics.load(state, WRITER_WAITING) !== 0) Atomics.notify(state, READ);
  }

  /** The producer closed the ring and every record was read. */
  get ended(): boolean {
    return this.closed && this.r === Atomics.load(this.state, WRITE);
  }

  /** Worker side: block until a record may be there, the ring closes, or `timeoutMs` passes. */
  wait(timeoutMs: number): void {
    const state = this.state;
    const bell = Atomics.load(state, SIGNAL);
    Atomics.store(state, READER_WAITING, 1);
    if (this.idle()) Atomics.wait(state, SIGNAL, bell, timeoutMs);
    Atomics.store(state, READER_WAITING, 0);
  }

  /**
   * Main-thread side of wait(): resolves when a record may be there, the ring closes, or after
   * `timeoutMs`. Never blocks the event loop.
   */
  waitAsync(timeoutMs?: number): Promise<void> {
    const state = this.state;
    const bell = Atomics.load(state, SIGNAL);
    Atomics.store(state, READER_WAITING, 1);
    if (!this.idle()) {
      Atomics.store(state, READER_WAITING, 0);
      return resolved;
    }
    return wake(state, SIGNAL, READER_WAITING, bell, timeoutMs);
  }

  /** Nothing to read and the ring still open (looked at after READER_WAITING is set). */
  private idle(): boolean {
    const state = this.state;
    return Atomics.load(state, WRITE) === this.r && Atomics.load(state, STATE) === OPEN;
  }
}

const resolved = Promise.resolve();

/** The consumer's doorbell (see the header). */
function ring(state: Int32Array): void {
  Atomics.add(state, SIGNAL, 1);
  Atomics.notify(state, SIGNAL);
}

/**
 * Atomics.waitAsync on `slot` while it still holds `value`; clears `flag` (set by the caller
 * before it looked at the ring) once woken.
 */
function wake(
  state: Int32Array,
  slot: number,
  flag: number,
  value: number,
  timeoutMs?: number,
): Promise<void> {
  const res = waitAsync(state, slot, value, timeoutMs);
  if (!res.async) {
    Atomics.store(state, flag, 0);
    return resolved;
  }
  return res.value.then(() => {
    Atomics.store(state, flag, 0);
  });
}
