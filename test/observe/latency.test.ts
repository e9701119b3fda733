// Latency histograms: percentiles within HDR's 1%, Prometheus buckets and an exact sum, the
// per-interval window, and values that cannot be latencies.
import { describe, expect, test } from 'vitest';
import { BUCKET_BOUNDS_US, Latency, LatencyHistogram } from '../../src/observe/latency.js';
import type { Batch } from '../../src/pipeline/types.js';

describe('LatencyHistogram', () => {
  test('percentiles are within 1% of the exact ones', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) h.recordMs(i / 1000); // 1 µs .. 10 ms, uniform
    const p = h.percentiles();
    expect(p.count).toBe(10_000);
    expect(p.p50).toBeCloseTo(5, 1);
    expect(Math.abs(p.p99 - 9.9) / 9.9).toBeLessThan(0.01);
    expect(Math.abs(p.p999 - 9.99) / 9.99).toBeLessThan(0.01);
    expect(p.max).toBe(10);
    expect(p.p999).toBeLessThanOrEqual(p.max);
  });

  test('Prometheus buckets count each value once, in the first bound >= it; the sum is exact', () => {
    const h = new LatencyHistogram();
    h.recordMs(0.05); // 50 µs -> le 100 µs
    h.recordMs(0.1); // exactly 100 µs -> le 100 µs (le is inclusive)
    h.recordMs(3); // 3 ms -> le 5 ms
    h.recordMs(60_000); // 60 s -> +Inf
    const at = (us: number) => BUCKET_BOUNDS_US.indexOf(us);
    expect(h.buckets[at(100)]).toBe(2);
    expect(h.buckets[at(5_000)]).toBe(1);
    expect(h.buckets[BUCKET_BOUNDS_US.length]).toBe(1);
    expect([...h.buckets].reduce((a, b) => a + b, 0)).toBe(4);
    expect(h.count).toBe(4);
    expect(h.sumUs).toBe(50 + 100 + 3_000 + 60_000_000);
  });

  test('takeWindow gives the interval since the last call, the total keeps everything', () => {
    const h = new LatencyHistogram();
    h.recordMs(1);
    h.recordMs(2);
    expect(h.takeWindow().count).toBe(2);
    expect(h.takeWindow()).toMatchObject({ count: 0, p50: NaN, p99: NaN });
    h.recordMs(4);
    const w = h.takeWindow();
    expect(w.count).toBe(1);
    expect(w.p50).toBeCloseTo(4, 1);
    expect(h.percentiles().count).toBe(3);
  });

  test('negative or NaN differences (a clock from another process) are not recorded', () => {
    const h = new LatencyHistogram();
    h.recordMs(-5);
    h.recordMs(NaN);
    expect(h.count).toBe(0);
    h.recordMs(0); // same microsecond: recorded as the lowest value
    h.recordMs(10 * 3600_000); // 10 h: clamped to the 1 h ceiling, not thrown
    expect(h.count).toBe(2);
    expect(h.percentiles().max).toBe(3600_000);
  });

  test.each([
    [0.5, 0.5],
    [99, 99],
    [12.345, 12.345],
  ])('valueAt reads back %s ms as ~%s ms', (v, want) => {
    const h = new LatencyHistogram();
    h.recordMs(v);
    expect(Math.abs(h.valueAt(50) - want) / want).toBeLessThan(0.01);
  });
});

test('Latency records the handoff per sealed batch and acks into the sink and the total', () => {
  const l = new Latency();
  const batch = { firstReadAt: 100, sealedAt: 100.25 } as Batch;
  l.sealed(batch);
  expect(l.handoff.percentiles().p50).toBeCloseTo(0.25, 2);
  const sink = new LatencyHistogram();
  l.acked(sink, batch, 102);
  expect(sink.count).toBe(1);
  expect(l.ack.count).toBe(1);
  expect(sink.percentiles().p50).toBeCloseTo(2, 1);
});
