// The batcher: seals at max_events, max_bytes or timeout; splits blocks at line boundaries with
// the mark on the remainder only; one mark per file per batch; seq, readAt and sealedAt.

import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { afterNthNewline, Batcher } from '../../src/engine/batcher.js';
import type { AckMark, Batch, Block } from '../../src/pipeline/types.js';
import type { BatchConfig } from '../../src/config/types.js';

/** A block of `n` lines `<tag>0`, `<tag>1`, ... in both encodings (ndjson longer, as in life). */
function block(tag: string, n: number, mark: AckMark | null = null, readAt = 0): Block {
  const raw: string[] = [];
  const nd: string[] = [];
  for (let i = 0; i < n; i++) {
    raw.push(`${tag}${i}\n`);
    nd.push(`{"message":"${tag}${i}"}\n`);
  }
  return {
    events: n,
    ndjson: Buffer.from(nd.join('')),
    raw: Buffer.from(raw.join('')),
    mark,
    readAt,
  };
}

function mark(key: string, offset: number, sourceId = 's'): AckMark {
  return { sourceId, key, offset, path: `/p/${key}` };
}

function setup(cfg: Partial<BatchConfig> = {}) {
  const batches: Batch[] = [];
  const b = new Batcher({ max_events: 1000, max_bytes: 1 << 20, timeout: 5, ...cfg }, (x) =>
    batches.push(x),
  );
  return { b, batches };
}

const rawLines = (x: Batch) => x.raw!.toString().split('\n').slice(0, -1);
const ndLines = (x: Batch) =>
  x
    .ndjson!.toString()
    .split('\n')
    .slice(0, -1)
    .map((l) => (JSON.parse(l) as { message: string }).message);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('sealing', () => {
  test('at max_events exactly', () => {
    const { b, batches } = setup({ max_events: 3 });
    b.push(block('a', 2));
    expect(batches).toHaveLength(0);
    b.push(block('b', 1));
    expect(batches).toHaveLength(1);
    expect(batches[0].events).toBe(3);
    expect(rawLines(batches[0])).toEqual(['a0', 'a1', 'b0']);
    expect(ndLines(batches[0])).toEqual(['a0', 'a1', 'b0']);
  });

  test('at max_bytes (the larger encoding counts)', () => {
    // each ndjson line `{"message":"a0"}\n` is 17 bytes, raw `a0\n` is 3
    const { b, batches } = setup({ max_bytes: 34 });
    b.push(block('a', 1));
    b.push(block('b', 1));
    expect(batches).toHaveLength(1);
    expect(batches[0].bytes).toBe(34);
    expect(batches[0].ndjson!.length).toBe(34);
  });

  test('at timeout, counted from the first event of the open batch', () => {
    const { b, batches } = setup({ timeout: 5 });
    b.push(block('a', 1));
    vi.advanceTimersByTime(3);
    b.push(block('b', 1)); // does not restart the timer
    vi.advanceTimersByTime(1);
    expect(batches).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(batches).toHaveLength(1);
    expect(batches[0].events).toBe(2);
  });

  test('no timer while nothing is open; a new batch gets its own', () => {
    const { b, batches } = setup({ timeout: 5 });
    vi.advanceTimersByTime(100);
    expect(batches).toHaveLength(0);
    b.push(block('a', 1));
    vi.advanceTimersByTime(5);
    b.push(block('b', 1));
    vi.advanceTimersByTime(4);
    expect(batches).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(batches).toHaveLength(2);
  });

  test('flush seals now, close seals and refuses more', () => {
    const { b, batches } = setup();
    b.flush();
    expect(batches).toHaveLength(0); // nothing open: nothing sealed
    b.push(block('a', 2));
    b.flush();
    expect(batches).toHaveLength(1);
    b.push(block('b', 1));
    b.close();
    expect(batches).toHaveLength(2);
    expect(() => b.push(block('c', 1))).toThrow();
    vi.advanceTimersByTime(100);
    expect(batches).toHaveLength(2);
  });

  test('seq increases by one; sealedAt and firstReadAt', () => {
    const { b, batches } = setup({ max_events: 2 });
    b.push(block('a', 1, null, 50));
    b.push(block('b', 1, null, 20));
    b.push(block('c', 2, null, 70));
    expect(batches.map((x) => x.seq)).toEqual([1, 2]);
    expect(batches[0].firstReadAt).toBe(20);
    expect(batches[1].firstReadAt).toBe(70);
    for (const x of batches) expect(x.sealedAt).toBeGreaterThanOrEqual(0);
  });

  test('pendingBytes and pendingEvents describe the open batch', () => {
    const { b } = setup();
    b.push(block('a', 2));
    expect(b.pendingEvents).toBe(2);
    expect(b.pendingBytes).toBe(34);
    b.flush();
    expect(b.pendingEvents).toBe(0);
    expect(b.pendingBytes).toBe(0);
  });
});

describe('splitting at line boundaries', () => {
  test.each<[string, Partial<BatchConfig>, number[], number]>([
    // name, config, block sizes pushed, expected events per sealed batch ...
    ['by events', { max_events: 4 }, [10], 4],
    ['by events, after a partial batch', { max_events: 4 }, [3, 10], 4],
    ['by bytes', { max_bytes: 17 * 3 }, [10], 3],
    ['by bytes, after a partial batch', { max_bytes: 17 * 3 }, [2, 10], 3],
  ])('%s', (_n, cfg, sizes, per) => {
    const { b, batches } = setup(cfg);
    let all: string[] = [];
    sizes.forEach((n, k) => {
      const tag = 'ab'[k]; // one-letter tags: every ndjson line is 17 bytes
      b.push(block(tag, n));
      all = all.concat(Array.from({ length: n }, (_, i) => `${tag}${i}`));
    });
    b.flush();
    for (const x of batches.slice(0, -1)) expect(x.events).toBe(per);
    expect(batches.flatMap(rawLines)).toEqual(all);
    expect(batches.flatMap(ndLines)).toEqual(all);
    for (const x of batches) {
      expect(rawLines(x)).toHaveLength(x.events);
      expect(ndLines(x)).toHaveLength(x.events);
      expect(x.bytes).toBe(Math.max(x.ndjson!.length, x.raw!.length));
    }
  });

  test('the mark stays with the remainder: no batch checkpoints lines it does not hold', () => {
    const { b, batches } = setup({ max_events: 4 });
    b.push(block('a', 3, mark('f', 30)));
    b.push(block('b', 6, mark('f', 90))); // 1 fits, 4 in the next batch, 1 left open
    expect(batches).toHaveLength(2);
    expect(batches[0].marks).toEqual([mark('f', 30)]);
    expect(batches[1].marks).toEqual([]);
    b.flush();
    expect(batches[2].marks).toEqual([mark('f', 90)]);
    expect(rawLines(batches[2])).toEqual(['b5']);
  });

  test('one event bigger than max_bytes goes alone', () => {
    const { b, batches } = setup({ max_bytes: 10 });
    b.push(block('a', 3, mark('f', 9)));
    b.flush();
    expect(batches.map((x) => x.events)).toEqual([1, 1, 1]);
    expect(batches.map((x) => x.marks.length)).toEqual([0, 0, 1]);
  });

  test('a big event after small ones: the open batch is sealed first', () => {
    const { b, batches } = setup({ max_bytes: 40 });
    b.push(block('a', 1)); // 17 bytes
    b.push({
      events: 1,
      ndjson: Buffer.from(`{"message":"${'x'.repeat(50)}"}\n`),
      raw: null,
      mark: null,
      readAt: 0,
    });
    b.flush();
    expect(batches.map((x) => x.events)).toEqual([1, 1]);
    expect(batches[1].bytes).toBe(65);
  });

  test('only one encoding present (raw only)', () => {
    const { b, batches } = setup({ max_events: 2 });
    const blk = block('r', 5);
    b.push({ ...blk, ndjson: null });
    b.flush();
    expect(batches.map((x) => x.ndjson)).toEqual([null, null, null]);
    expect(batches.flatMap(rawLines)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  test('no encoding at all still counts events', () => {
    const { b, batches } = setup({ max_events: 2 });
    b.push({ events: 5, ndjson: null, raw: null, mark: mark('f', 5), readAt: 0 });
    b.flush();
    expect(batches.map((x) => x.events)).toEqual([2, 2, 1]);
    expect(batches[2].marks).toEqual([mark('f', 5)]);
  });
});

describe('marks', () => {
  test('one mark per (source, key): the last one read', () => {
    const { b, batches } = setup();
    b.push(block('a', 1, mark('f', 10)));
    b.push(block('b', 1, mark('g', 5)));
    b.push(block('c', 1, mark('f', 20)));
    b.push(block('d', 1, mark('f', 20, 'other')));
    b.flush();
    expect(batches[0].marks).toEqual([mark('f', 20), mark('g', 5), mark('f', 20, 'other')]);
  });

  test('a block with no events still carries its mark', () => {
    const { b, batches } = setup({ timeout: 5 });
    b.push({ events: 0, ndjson: Buffer.alloc(0), raw: null, mark: mark('f', 100), readAt: 0 });
    vi.advanceTimersByTime(5);
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ events: 0, marks: [mark('f', 100)] });
  });
});

describe('afterNthNewline', () => {
  const buf = Buffer.from('a\nbb\n\nccc\nd\n'); // 5 lines
  test.each([
    [0, 0],
    [1, 2],
    [2, 5],
    [3, 6],
    [4, 10],
    [5, 12],
  ])('k=%i -> %i', (k, want) => {
    expect(afterNthNewline(buf, k, 5)).toBe(want);
  });
});

describe('adaptive size target', () => {
  // performance.now() is the rate's clock: fake it with the timers.
  beforeEach(() => {
    vi.useRealTimers();
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
  });

  /** Push blocks of `events` every `everyMs` for `forMs`. */
  function feed(b: Batcher, events: number, everyMs: number, forMs: number): void {
    for (let t = 0; t < forMs; t += everyMs) {
      b.push(block('a', events));
      vi.advanceTimersByTime(everyMs);
    }
  }

  test('quiet: each push seals at once, no timeout wait', () => {
    const { b, batches } = setup({ adaptive: true });
    b.push(block('a', 1));
    expect(batches).toHaveLength(1);
    vi.advanceTimersByTime(2000);
    b.push(block('b', 1));
    expect(batches).toHaveLength(2);
    expect(b.sizeTarget).toBe(1);
  });

  test('busy: the target follows rate x timeout / 2; batches grow to it', () => {
    const { b, batches } = setup({ adaptive: true, timeout: 5 });
    feed(b, 100, 1, 2000); // 100,000 events/s
    expect(b.observedRate).toBeGreaterThan(90_000);
    expect(b.observedRate).toBeLessThan(110_000);
    expect(b.sizeTarget).toBeGreaterThanOrEqual(225); // 100,000 x 5 ms / 2 = 250
    expect(b.sizeTarget).toBeLessThanOrEqual(275);
    // Once the rate is known, batches are sealed at the first push reaching the target.
    const late = batches.slice(-20);
    for (const x of late) expect(x.events).toBe(Math.ceil(b.sizeTarget / 100) * 100);
  });

  test('the target stops at max_events', () => {
    const { b } = setup({ adaptive: true, timeout: 5, max_events: 1000 });
    feed(b, 1000, 1, 1500); // 1,000,000 events/s: 2,500 wanted
    expect(b.sizeTarget).toBe(1000);
  });

  test('a chunk that carries a timeout of lines seals at once (a busy file read every 5 ms)', () => {
    const { b, batches } = setup({ adaptive: true, timeout: 5 });
    feed(b, 500, 5, 2000); // 100,000 events/s in chunks of 500: target ~250
    const n = batches.length;
    b.push(block('z', 450)); // a little smaller than average: still no wait
    expect(batches).toHaveLength(n + 1);
  });

  test('an odd close pair (one append read in two pieces) does not make the second wait', () => {
    const { b, batches } = setup({ adaptive: true, timeout: 5 });
    feed(b, 800, 8, 2000); // 100,000 events/s, one push every 8 ms: fewer than one a timeout
    b.push(block('first', 700));
    vi.advanceTimersByTime(1);
    const n = batches.length;
    b.push(block('rest', 30)); // 1 ms after the last push, far below the rate target
    expect(batches).toHaveLength(n + 1);
  });

  test('the target never splits a block; the timeout still bounds a small batch', () => {
    const { b, batches } = setup({ adaptive: true, timeout: 5 });
    feed(b, 100, 1, 2000);
    b.flush();
    const n = batches.length;
    b.push(block('big', 700)); // above the ~250 target, below max_events: one batch, whole
    expect(batches).toHaveLength(n + 1);
    expect(batches[n].events).toBe(700);
    b.push(block('small', 10)); // below the target: waits for the timeout, no longer
    expect(batches).toHaveLength(n + 1);
    vi.advanceTimersByTime(5);
    expect(batches).toHaveLength(n + 2);
  });

  test('after an idle spell the first line ships at once', () => {
    const { b, batches } = setup({ adaptive: true, timeout: 5 });
    feed(b, 100, 1, 2000);
    b.flush();
    vi.advanceTimersByTime(3000);
    const n = batches.length;
    b.push(block('after', 1));
    expect(batches).toHaveLength(n + 1);
    expect(b.sizeTarget).toBe(1);
  });

  test('adaptive: false (or absent) keeps max_events', () => {
    const { b, batches } = setup({ adaptive: false });
    b.push(block('a', 1));
    expect(batches).toHaveLength(0);
    expect(b.sizeTarget).toBe(1000);
  });
});
