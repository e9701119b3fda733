// throttle: token buckets on a pinned clock (read once per chunk), one per key value.

import { describe, expect, test } from 'vitest';
import { Counters } from '../../src/observe/counters.js';
import { chainOf, config } from './helpers.js';

const seq = (n: number, f = (i: number) => `line ${i}`): string[] =>
  Array.from({ length: n }, (_, i) => f(i));

describe('throttle', () => {
  test('a burst of events_per_second, then the refill rate; the excess counted', () => {
    const clock = { now: 1_000_000 };
    const counters = new Counters();
    const run = chainOf(
      config('', '- {type: throttle, name: limit, events_per_second: 4}'),
      clock,
      counters,
    );
    expect(run(seq(10))).toHaveLength(4); // the burst: one second's worth
    expect(run(seq(10))).toHaveLength(0); // same instant: nothing left
    clock.now += 500;
    expect(run(seq(10))).toHaveLength(2); // half a second refills 2
    clock.now += 10_000;
    expect(run(seq(10))).toHaveLength(4); // never more than the burst
    expect(counters.transforms.get('limit')).toEqual({ dropped: 40 - 10 });
    expect(counters.transformDropped).toBe(30);
  });

  test('the same input on the same clock gives the same output', () => {
    const go = (): string[][] => {
      const clock = { now: 0 };
      const run = chainOf(config('', '- {type: throttle, events_per_second: 3}'), clock);
      const out: string[][] = [];
      for (let k = 0; k < 5; k++) {
        out.push(run(seq(5, (i) => `c${k} l${i}`)));
        clock.now += 250;
      }
      return out;
    };
    const a = go();
    expect(go()).toEqual(a);
    // The burst (3), then 0.75 tokens per 250 ms step: 0, 1, 1, 1 more.
    expect(a.map((c) => c.length)).toEqual([3, 0, 1, 1, 1]);
  });

  test('per key: each value has its own bucket; lines without the key share one', () => {
    const clock = { now: 0 };
    const run = chainOf(
      config('parser: logfmt', '- {type: throttle, events_per_second: 2, key: ip}'),
      clock,
    );
    const lines = [
      ...seq(5, (i) => `ip=a n=${i}`),
      ...seq(5, (i) => `ip=b n=${i}`),
      ...seq(5, (i) => `n=${i}`),
    ];
    expect(run(lines)).toEqual(['ip=a n=0', 'ip=a n=1', 'ip=b n=0', 'ip=b n=1', 'n=0', 'n=1']);
    clock.now += 1000;
    expect(run(['ip=a n=9', 'ip=c n=9'])).toEqual(['ip=a n=9', 'ip=c n=9']);
  });

  test('max_keys bounds the buckets: idle keys are forgotten (and get a full bucket again)', () => {
    const clock = { now: 0 };
    const run = chainOf(
      config('parser: logfmt', '- {type: throttle, events_per_second: 1, key: k, max_keys: 2}'),
      clock,
    );
    expect(run(['k=a', 'k=a', 'k=b'])).toEqual(['k=a', 'k=b']);
    clock.now += 5000; // a and b refill: idle
    expect(run(['k=c', 'k=c', 'k=a'])).toEqual(['k=c', 'k=a']);
  });

  test('a rate below one per second still lets one event through, then waits', () => {
    const clock = { now: 0 };
    const run = chainOf(config('', '- {type: throttle, events_per_second: 0.5}'), clock);
    expect(run(seq(3))).toHaveLength(1);
    clock.now += 1000;
    expect(run(seq(3))).toHaveLength(0);
    clock.now += 1000;
    expect(run(seq(3))).toHaveLength(1);
  });
});
