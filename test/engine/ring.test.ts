// The SPSC ring: records in order, wrap-around with a PAD word, full and empty, the largest
// record at every position, close/ended, the async wakeups, and two threads hammering it with
// checksummed records both ways.

import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, test } from 'vitest';
import { createRing, RingReader, RingWriter } from '../../src/engine/ring.js';
import { HEADER_BYTES, PAD, READ, WRITE } from '../../src/engine/ring-indexes.js';
import { bundleForWorker } from '../helpers/bundle.js';
import { fold, recordByte, recordLength } from '../fixtures/ring-worker.js';

function pair(capacity = 256) {
  const sab = createRing(capacity);
  return { sab, w: new RingWriter(sab), r: new RingReader(sab) };
}

/** Write a record of the given bytes; false when full. */
function put(w: RingWriter, s: string): boolean {
  return w.tryWrite(Buffer.from(s));
}

/** Read one record as text, or null when empty. */
function take(r: RingReader): string | null {
  const n = r.next();
  if (n < 0) return null;
  const s = r.bytes.toString('latin1', r.offset, r.offset + n);
  r.release();
  return s;
}

describe('one thread', () => {
  test('records come out in order, with their lengths (0 included)', () => {
    const { w, r } = pair();
    for (const s of ['a', '', 'hello', 'x'.repeat(33)]) expect(put(w, s)).toBe(true);
    expect([take(r), take(r), take(r), take(r), take(r)]).toEqual([
      'a',
      '',
      'hello',
      'x'.repeat(33),
      null,
    ]);
  });

  test('empty: next() is -1 and the indexes meet', () => {
    const { sab, w, r } = pair();
    expect(r.next()).toBe(-1);
    put(w, 'abc');
    take(r);
    const state = new Int32Array(sab, 0, 8);
    expect(state[WRITE]).toBe(state[READ]);
    expect(r.next()).toBe(-1);
    expect(w.usedBytes).toBe(0);
  });

  test('full: reserve answers -1 and never overwrites; room comes back on release', () => {
    const { w, r } = pair(64); // records of 4 payload bytes take 8 bytes each
    let n = 0;
    while (put(w, `r${n % 10}ab`)) n++;
    // 64 bytes, and W may never catch up with R: 7 records of 8 bytes.
    expect(n).toBe(7);
    expect(w.reserve(4)).toBe(-1);
    expect(take(r)).toBe('r0ab');
    expect(put(w, 'zzzz')).toBe(true);
    const got: string[] = [];
    for (let s = take(r); s !== null; s = take(r)) got.push(s);
    expect(got).toEqual(['r1ab', 'r2ab', 'r3ab', 'r4ab', 'r5ab', 'r6ab', 'zzzz']);
  });

  test('wrap-around: a record that does not fit at the end leaves PAD and goes to 0', () => {
    const { sab, w, r } = pair(128);
    const words = new Int32Array(sab, HEADER_BYTES);
    // 3 records of 28 bytes (32 with the length word): W = 96.
    for (const c of 'abc') expect(put(w, c.repeat(28))).toBe(true);
    expect(take(r)).toBe('a'.repeat(28)); // R = 32: room at the front only
    // 36 bytes need 40: 128 - 96 = 32 is too little at the end, 40 > 32 (R) too much in front.
    expect(w.reserve(36)).toBe(-1);
    expect(take(r)).toBe('b'.repeat(28)); // R = 64
    expect(put(w, 'd'.repeat(36))).toBe(true);
    expect(words[96 / 4]).toBe(PAD);
    expect(new Int32Array(sab, 0, 8)[WRITE]).toBe(40);
    expect(take(r)).toBe('c'.repeat(28));
    expect(take(r)).toBe('d'.repeat(36)); // skipped the PAD
    expect(take(r)).toBeNull();
  });

  test('a record ending exactly at the end wraps W to 0 (only if R is not 0)', () => {
    const { w, r } = pair(64);
    expect(put(w, 'x'.repeat(28))).toBe(true); // 32 bytes: W = 32
    // R = 0: ending at 64 would make W = 0 = R, which reads as empty, so it must not fit.
    expect(w.reserve(28)).toBe(-1);
    expect(take(r)).toBe('x'.repeat(28)); // R = 32
    expect(put(w, 'y'.repeat(28))).toBe(true); // W = 64 -> 0
    expect(put(w, 'z'.repeat(20))).toBe(true); // 24 < R: fits in front
    expect(take(r)).toBe('y'.repeat(28));
    expect(take(r)).toBe('z'.repeat(20));
  });

  test.each([0, 8, 56, 64, 72, 120])(
    'a record of maxRecord bytes fits an empty ring whose indexes stand at %i',
    (pos) => {
      const { w, r } = pair(128);
      // Move both indexes to `pos` with records of 4 bytes (8 each).
      for (let i = 0; i < pos / 8; i++) {
        put(w, 'abcd');
        take(r);
      }
      expect(w.maxRecord).toBe(60);
      expect(put(w, 'm'.repeat(w.maxRecord))).toBe(true);
      expect(take(r)).toBe('m'.repeat(60));
      expect(() => w.reserve(61)).toThrow(RangeError);
    },
  );

  test('thousands of mixed sizes through a small ring keep order and bytes', () => {
    const { w, r } = pair(1024);
    const maxLen = 200;
    let written = 0;
    let read = 0;
    let hw = 2166136261;
    let hr = 2166136261;
    while (read < 5000) {
      // Write a few, read a few: W and R chase each other around many times.
      for (let k = 0; k < 3 && written < 5000; k++) {
        const n = recordLength(written, maxLen);
        const at = w.reserve(n);
        if (at < 0) break;
        w.bytes.writeUInt32LE(written, at);
        for (let j = 4; j < n; j++) w.bytes[at + j] = recordByte(written, j);
        hw = fold(hw, w.bytes, at, at + n);
        w.commit();
        written++;
      }
      for (let k = 0; k < 2; k++) {
        const n = r.next();
        if (n < 0) break;
        expect(r.bytes.readUInt32LE(r.offset)).toBe(read);
        expect(n).toBe(recordLength(read, maxLen));
        hr = fold(hr, r.bytes, r.offset, r.offset + n);
        r.release();
        read++;
      }
    }
    expect(hr).toBe(hw);
  });

  test('close wakes a reader that waits (the doorbell), with no timeout', async () => {
    const { w, r } = pair();
    const woke = r.waitAsync();
    setTimeout(() => w.close(), 10);
    await woke;
    expect(r.ended).toBe(true);
  });

  test('close: the reader drains what is left, then is ended', () => {
    const { w, r } = pair();
    put(w, 'last');
    w.close();
    expect(r.ended).toBe(false);
    expect(take(r)).toBe('last');
    expect(r.ended).toBe(true);
  });

  test('waitAsync resolves when a record arrives, and at once when one is there', async () => {
    const { w, r } = pair();
    let woke = false;
    const p = r.waitAsync().then(() => (woke = true));
    await new Promise((res) => setTimeout(res, 20));
    expect(woke).toBe(false);
    put(w, 'ping');
    await p;
    expect(woke).toBe(true);
    await r.waitAsync(); // not empty: resolves without waiting
    expect(take(r)).toBe('ping');
  });

  test('waitForRoomAsync resolves when the reader frees room', async () => {
    const { w, r } = pair(64);
    while (put(w, 'abcd'));
    let woke = false;
    const p = w.waitForRoomAsync().then(() => (woke = true));
    await new Promise((res) => setTimeout(res, 20));
    expect(woke).toBe(false);
    take(r);
    await p;
    expect(put(w, 'abcd')).toBe(true);
  });

  test('capacity must be a multiple of 16, at least 64', () => {
    expect(() => createRing(100)).toThrow(RangeError);
    expect(() => createRing(32)).toThrow(RangeError);
    expect(() => new RingWriter(new SharedArrayBuffer(HEADER_BYTES + 40))).toThrow(RangeError);
  });
});

describe('two threads', () => {
  let entry: string;
  beforeAll(async () => {
    entry = await bundleForWorker('test/fixtures/ring-worker.ts');
  });

  function runWorker(data: object): Promise<number> {
    const worker = new Worker(entry, { workerData: data });
    return new Promise((resolve, reject) => {
      worker.once('message', (m: { ok: boolean; checksum: number; error?: string }) =>
        m.ok ? resolve(m.checksum) : reject(new Error(m.error)),
      );
      worker.once('error', reject);
    });
  }

  // A small ring (many wraps, many full/empty turns) and a roomier one.
  test.each([
    [4096, 1000, 20_000],
    [64 * 1024, 8000, 20_000],
  ])('worker -> main: ring %i B, records up to %i B, %i records', async (cap, maxLen, count) => {
    const sab = createRing(cap);
    const r = new RingReader(sab);
    // No timeouts on either side: a lost wakeup would hang the test.
    const produced = runWorker({ role: 'produce', sab, count, maxLen, waitMs: 60_000 });
    let h = 2166136261;
    let i = 0;
    for (;;) {
      const n = r.next();
      if (n < 0) {
        if (r.ended) break;
        await r.waitAsync();
        continue;
      }
      // Plain checks: an expect() per record would cost more than the ring itself.
      if (r.bytes.readUInt32LE(r.offset) !== i || n !== recordLength(i, maxLen)) {
        throw new Error(`record ${i}: index ${r.bytes.readUInt32LE(r.offset)}, length ${n}`);
      }
      h = fold(h, r.bytes, r.offset, r.offset + n);
      r.release();
      i++;
    }
    expect(i).toBe(count);
    expect(h).toBe(await produced);
  });

  test.each([
    [4096, 1000, 20_000],
    [64 * 1024, 8000, 20_000],
  ])('main -> worker: ring %i B, records up to %i B, %i records', async (cap, maxLen, count) => {
    const sab = createRing(cap);
    const w = new RingWriter(sab);
    const consumed = runWorker({ role: 'consume', sab, count, maxLen, waitMs: 60_000 });
    let h = 2166136261;
    for (let i = 0; i < count; i++) {
      const n = recordLength(i, maxLen);
      let at = w.reserve(n);
      while (at < 0) {
        await w.waitForRoomAsync();
        at = w.reserve(n);
      }
      w.bytes.writeUInt32LE(i, at);
      for (let j = 4; j < n; j++) w.bytes[at + j] = recordByte(i, j);
      h = fold(h, w.bytes, at, at + n);
      w.commit();
    }
    w.close();
    expect(await consumed).toBe(h);
  });
});
