// The http sink under receiver faults: every event arrives at least once through 503s (with
// Retry-After honoured), connection resets, stalls past the timeout and 5xx; a 400 is a
// permanent refusal, sent once and never retried.

import { afterEach, describe, expect, test } from 'vitest';
import { SinkRejectedError, VesError } from '../../../src/errors.js';
import { isPermanent } from '../../../src/sinks/http/service.js';
import { missing, seqBatch, sinkFor } from './helpers.js';
import { startReceiver, type Fault, type Receiver } from './receiver.js';

let rx: Receiver;
afterEach(async () => {
  await rx?.close();
});

/** Short waits so each fault costs milliseconds; timeout 300 ms for the stalls. */
const FAST = {
  timeout: '300ms',
  retry: { initial_backoff: '5ms', max_backoff: '50ms' },
  healthcheck: false,
};

describe('every event arrives at least once', () => {
  test.each<[string, Fault, number]>([
    ['503 without Retry-After', { kind: 'status', status: 503 }, 5],
    ['500', { kind: 'status', status: 500, body: 'internal' }, 5],
    ['429', { kind: 'status', status: 429 }, 3],
    ['408', { kind: 'status', status: 408 }, 2],
    ['connection reset', { kind: 'reset' }, 5],
    ['a stall past the timeout', { kind: 'stall', ms: 1000 }, 2],
  ])('%s', async (_name, fault, times) => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, concurrency: 4, ...FAST });
    rx.inject(fault, times);
    // 20 batches of 50: faults hit whichever requests come first, several in flight.
    await Promise.all(Array.from({ length: 20 }, (_, i) => sink.write(seqBatch(i * 50, 50))));
    await sink.close();
    expect(missing(rx.seqs(), 1000)).toEqual([]);
    expect(sink.stats.retries).toBe(times);
    expect(sink.stats.rejected).toBe(0);
  });

  test('faults of every kind mixed, on one sink', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, concurrency: 3, ...FAST });
    rx.inject({ kind: 'reset' }, 2);
    rx.inject({ kind: 'status', status: 503, headers: { 'retry-after': '0' } }, 2);
    rx.inject({ kind: 'stall', ms: 800 }, 1);
    rx.inject({ kind: 'status', status: 502 }, 2);
    await Promise.all(Array.from({ length: 30 }, (_, i) => sink.write(seqBatch(i * 10, 10))));
    await sink.close();
    expect(missing(rx.seqs(), 300)).toEqual([]);
  });
});

describe('Retry-After', () => {
  test.each<[string, () => string, number]>([
    ['in seconds', () => '1', 900],
    // An HTTP-date has whole seconds: now + 2 s lands between 1 and 2 s ahead.
    ['as an HTTP date', () => new Date(Date.now() + 2000).toUTCString(), 900],
  ])('on 503 %s: the retry waits for it', async (_n, value, atLeastMs) => {
    rx = await startReceiver();
    // Backoff alone would retry within 5 ms: the gap shows Retry-After was read.
    const sink = await sinkFor({ uri: rx.url, ...FAST });
    rx.inject({ kind: 'status', status: 503, headers: { 'retry-after': value() } }, 1);
    await sink.write(seqBatch(0, 1));
    await sink.close();
    expect(rx.all).toHaveLength(2);
    const gap = rx.all[1].at - rx.all[0].at;
    expect(gap).toBeGreaterThanOrEqual(atLeastMs);
    expect(gap).toBeLessThan(5000);
  });

  test('on 429 too', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, ...FAST });
    rx.inject({ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, 1);
    await sink.write(seqBatch(0, 1));
    await sink.close();
    expect(rx.all[1].at - rx.all[0].at).toBeGreaterThanOrEqual(900);
  });

  test('not on 500: the backoff applies', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, ...FAST });
    rx.inject({ kind: 'status', status: 500, headers: { 'retry-after': '30' } }, 1);
    await sink.write(seqBatch(0, 1));
    await sink.close();
    expect(rx.all[1].at - rx.all[0].at).toBeLessThan(1000);
  });
});

describe('refusals', () => {
  test('a 400 for one batch: that write rejects with a permanent error, sent once', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, concurrency: 4, ...FAST });
    const reason = 'bad event: ' + 'x'.repeat(1000);
    rx.inject({ kind: 'status', status: 400, body: reason }, 1, (body) =>
      body.includes('"seq":100}'),
    );
    const batches = Array.from({ length: 10 }, (_, i) => seqBatch(i * 50, 50));
    const results = await Promise.allSettled(batches.map((b) => sink.write(b)));
    await sink.close();
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [[i, r.reason]] : []));
    expect(failed.map(([i]) => i)).toEqual([2]);
    const err = failed[0][1] as SinkRejectedError;
    expect(err).toBeInstanceOf(SinkRejectedError);
    expect(err).toBeInstanceOf(VesError);
    expect(err.code).toBe('VES_SINK_REJECTED');
    expect(err.permanent).toBe(true);
    expect(isPermanent(err)).toBe(true);
    expect(err.status).toBe(400);
    expect(err.detail).toBe(reason.slice(0, 500));
    expect(err.message).toContain('refused a batch for good (HTTP 400): bad event');
    expect(err.rejected.toString()).toBe(batches[2].ndjson!.toString());
    expect(err.events).toBe(50);
    // Sent once, never retried; the other batches all arrived.
    expect(rx.all.filter((r) => r.body.includes('"seq":100}'))).toHaveLength(1);
    expect(missing(rx.seqs(), 500)).toEqual([...Array(50).keys()].map((i) => 100 + i));
    expect(sink.stats.rejected).toBe(50);
    expect(sink.stats.retries).toBe(0);
  });

  test.each([[401], [403], [404], [413], [422]])('%i is permanent too', async (status) => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, ...FAST });
    rx.inject({ kind: 'status', status }, 1);
    const err = await sink.write(seqBatch(0, 1)).catch((e: unknown) => e);
    await sink.close();
    expect(isPermanent(err)).toBe(true);
    expect((err as SinkRejectedError).status).toBe(status);
    expect(rx.all).toHaveLength(1);
  });

  test('a network error is not permanent', () => {
    expect(isPermanent(new VesError('VES_SINK_WRITE', 'x'))).toBe(false);
    expect(isPermanent(new Error('ECONNRESET'))).toBe(false);
    expect(isPermanent({ permanent: true })).toBe(true);
  });
});
