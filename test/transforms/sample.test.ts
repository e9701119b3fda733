// sample: 1 in N by a counter that runs on across chunks, or by a hash of a key field.

import { describe, expect, test } from 'vitest';
import { chainOf, config } from './helpers.js';

const clock = { now: 0 };
const seq = (from: number, to: number, f = (i: number) => `line ${i}`): string[] =>
  Array.from({ length: to - from }, (_, k) => f(from + k));

describe('sample', () => {
  test('rate 3 keeps the 1st, 4th, 7th... line, counting on across chunks', () => {
    const run = chainOf(config('', '- {type: sample, rate: 3}'), clock);
    expect(run(seq(0, 5))).toEqual(['line 0', 'line 3']);
    expect(run(seq(5, 10))).toEqual(['line 6', 'line 9']);
  });

  test('deterministic: the same input keeps the same lines', () => {
    const lines = seq(0, 1000);
    const a = chainOf(config('', '- {type: sample, rate: 7}'), clock)(lines);
    const b = chainOf(config('', '- {type: sample, rate: 7}'), clock)(lines);
    expect(a).toEqual(b);
    expect(a).toHaveLength(143);
  });

  test('rate 1 keeps everything (no step at all)', () => {
    expect(chainOf(config('', '- {type: sample, rate: 1}'), clock)(seq(0, 4))).toEqual(seq(0, 4));
  });

  test('by key: all lines with the same value are kept or dropped together, ~1/rate of values', () => {
    const run = chainOf(config('parser: logfmt', '- {type: sample, rate: 4, key: trace}'), clock);
    const lines = seq(0, 4000, (i) => `trace=t${i % 400} n=${i}`);
    const out = run(lines);
    const traces = new Set(out.map((l) => l.split(' ')[0]));
    // Every kept trace is kept whole: 10 lines each.
    for (const t of traces) expect(out.filter((l) => l.startsWith(`${t} `))).toHaveLength(10);
    expect(traces.size).toBeGreaterThan(60); // 100 expected of 400
    expect(traces.size).toBeLessThan(140);
    // Deterministic across runs and chunkings.
    const again = chainOf(config('parser: logfmt', '- {type: sample, rate: 4, key: trace}'), clock);
    expect([...again(lines.slice(0, 1234)), ...again(lines.slice(1234))]).toEqual(out);
  });

  test('by key: lines without the key go through the counter', () => {
    const run = chainOf(config('parser: logfmt', '- {type: sample, rate: 2, key: trace}'), clock);
    expect(run(['msg=a', 'msg=b', 'msg=c', 'msg=d'])).toEqual(['msg=a', 'msg=c']);
  });
});
