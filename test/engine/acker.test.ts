// The acker: marks reach the checkpoint store only when every sink acked the batch AND every
// earlier batch is committed; in-flight counters; drained().

import { describe, expect, test } from 'vitest';
import { Acker } from '../../src/engine/acker.js';
import type { AckMark, Batch } from '../../src/pipeline/types.js';
import { MemoryCheckpoints } from '../helpers/memory-checkpoints.js';

function batch(seq: number, offset: number | null, bytes = 100, events = 10, key = 'f'): Batch {
  const marks: AckMark[] =
    offset === null ? [] : [{ sourceId: 's', key, offset, path: `/log/${key}` }];
  return {
    seq,
    events,
    ndjson: null,
    raw: null,
    bytes,
    marks,
    firstReadAt: 0,
    sealedAt: 0,
  };
}

const offset = (store: MemoryCheckpoints, key = 'f') => store.get('s', key)?.offset;

describe('Acker', () => {
  test('commits only when every sink acked', () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    a.track(batch(1, 10), 2);
    a.ack(1);
    expect(offset(store)).toBeUndefined();
    a.ack(1);
    expect(offset(store)).toBe(10);
  });

  test.each<[string, number[]]>([
    ['in order', [1, 2, 3, 4]],
    ['reversed', [4, 3, 2, 1]],
    ['middle first', [3, 2, 4, 1]],
    ['last first', [4, 1, 2, 3]],
  ])('out-of-order acks commit in seq order (%s)', (_n, order) => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    const committed: number[] = [];
    const origSet = store.set.bind(store);
    store.set = (sid, key, e, reset) => {
      committed.push(e.offset);
      origSet(sid, key, e, reset);
    };
    for (let s = 1; s <= 4; s++) a.track(batch(s, s * 10), 1);
    for (const s of order) {
      a.ack(s);
      // Nothing past the first unacked batch is ever committed.
      const firstUnacked = [1, 2, 3, 4].find(
        (x) => !order.slice(0, order.indexOf(s) + 1).includes(x),
      );
      const max = firstUnacked === undefined ? 40 : (firstUnacked - 1) * 10;
      expect(offset(store) ?? 0).toBe(max);
    }
    expect(committed).toEqual([...committed].sort((x, y) => x - y));
    expect(offset(store)).toBe(40);
  });

  test('a batch acked by all sinks waits behind an unacked earlier one', () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    a.track(batch(1, 10, 100, 1, 'f'), 2);
    a.track(batch(2, 5, 100, 1, 'g'), 2);
    a.ack(2);
    a.ack(2);
    a.ack(1);
    expect(offset(store, 'g')).toBeUndefined();
    expect(a.inFlight).toEqual({ batches: 2, bytes: 100, events: 1 });
    a.ack(1);
    expect(offset(store, 'f')).toBe(10);
    expect(offset(store, 'g')).toBe(5);
    expect(a.inFlight).toEqual({ batches: 0, bytes: 0, events: 0 });
  });

  test('a batch with zero sinks is acked at once (but still in order)', () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    a.track(batch(1, 10), 0);
    expect(offset(store)).toBe(10);
    a.track(batch(2, 20), 1);
    a.track(batch(3, 30), 0);
    expect(offset(store)).toBe(10);
    a.ack(2);
    expect(offset(store)).toBe(30);
  });

  test('inFlight counts what sinks still hold', () => {
    const a = new Acker(new MemoryCheckpoints());
    a.track(batch(1, null, 100, 10), 1);
    a.track(batch(2, null, 50, 5), 1);
    expect(a.inFlight).toEqual({ batches: 2, bytes: 150, events: 15 });
    a.ack(2);
    expect(a.inFlight).toEqual({ batches: 2, bytes: 100, events: 10 });
    a.ack(1);
    expect(a.inFlight).toEqual({ batches: 0, bytes: 0, events: 0 });
  });

  test('drained resolves when nothing is in flight', async () => {
    const a = new Acker(new MemoryCheckpoints());
    await a.drained(); // nothing tracked: at once
    a.track(batch(1, 1), 1);
    a.track(batch(2, 2), 1);
    let done = false;
    const p = a.drained().then(() => (done = true));
    a.ack(2);
    await Promise.resolve();
    expect(done).toBe(false);
    a.ack(1);
    await p;
    expect(done).toBe(true);
  });

  test('double and unknown acks are ignored, never commit early', () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    a.track(batch(1, 10), 2);
    a.ack(1);
    a.ack(7);
    expect(offset(store)).toBeUndefined();
    expect(a.spuriousAcks).toBe(1);
    a.ack(1);
    a.ack(1);
    expect(a.spuriousAcks).toBe(2);
    expect(offset(store)).toBe(10);
  });

  test('track refuses a seq that does not increase', () => {
    const a = new Acker(new MemoryCheckpoints());
    a.track(batch(5, 1), 0);
    expect(() => a.track(batch(5, 1), 0)).toThrow(RangeError);
  });

  test('marks go backwards after a copytruncate (same key, later read)', () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    a.track(batch(1, 5000), 1);
    a.track(batch(2, 120), 1);
    a.ack(1);
    a.ack(2);
    expect(offset(store)).toBe(120);
  });

  test('dev and ino: from the mark, else the inode key, else the previous entry', () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    a.track(
      { ...batch(1, null), marks: [{ sourceId: 's', key: 'ino:12:34', offset: 1, path: '/a' }] },
      0,
    );
    expect(store.get('s', 'ino:12:34')).toMatchObject({ dev: 12, ino: 34, path: '/a' });
    store.set('s', 'fp:ab', { offset: 0, path: '/b', dev: 7, ino: 8, updated: 0 });
    a.track(
      { ...batch(2, null), marks: [{ sourceId: 's', key: 'fp:ab', offset: 9, path: '/b' }] },
      0,
    );
    expect(store.get('s', 'fp:ab')).toMatchObject({ dev: 7, ino: 8, offset: 9 });
    const withInode = { sourceId: 's', key: 'fp:cd', offset: 3, path: '/c', dev: 1, ino: 2 };
    a.track({ ...batch(3, null), marks: [withInode] }, 0);
    expect(store.get('s', 'fp:cd')).toMatchObject({ dev: 1, ino: 2 });
  });

  test('a long run with random ack order keeps order and compacts its queue', () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    let lastCommitted = 0;
    const origSet = store.set.bind(store);
    store.set = (sid, key, e, reset) => {
      expect(e.offset).toBeGreaterThan(lastCommitted);
      lastCommitted = e.offset;
      origSet(sid, key, e, reset);
    };
    const open: number[] = [];
    for (let s = 1; s <= 5000; s++) {
      a.track(batch(s, s), 1);
      open.push(s);
      while (open.length > 0 && rnd() < 0.5) {
        const i = Math.floor(rnd() * open.length);
        a.ack(open.splice(i, 1)[0]);
      }
    }
    for (const s of open) a.ack(s);
    expect(offset(store)).toBe(5000);
    expect(a.inFlight.batches).toBe(0);
  });
});

describe('Acker.listen', () => {
  test("a listening source's marks go to its listener in commit order, not to the store", () => {
    const store = new MemoryCheckpoints();
    const a = new Acker(store);
    const heard: number[] = [];
    a.listen('s', (m) => heard.push(m.offset));
    const other: Batch = {
      ...batch(3, null),
      marks: [{ sourceId: 'files', key: 'f', offset: 77, path: '/log/f' }],
    };
    a.track(batch(1, 1), 1);
    a.track(batch(2, 2), 1);
    a.track(other, 1);
    a.ack(2);
    expect(heard).toEqual([]); // 2 waits behind 1
    a.ack(1);
    expect(heard).toEqual([1, 2]);
    a.ack(3);
    expect(offset(store)).toBeUndefined(); // nothing of source `s` became a checkpoint
    expect(store.get('files', 'f')?.offset).toBe(77); // other sources still checkpoint
  });
});
