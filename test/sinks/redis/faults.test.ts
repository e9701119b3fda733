// The redis sink when Redis is not there or says no: unreachable at start (a clear health check
// error), down then up while running (the runner's retries deliver every event), a server that
// stops answering (the write times out and is retried: at-least-once, duplicates possible),
// and WRONGTYPE (permanent: dead-lettered, not retried), for a whole batch or some events.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { SinkRejectedError, VesError } from '../../../src/errors.js';
import { Counters } from '../../../src/observe/counters.js';
import { silentLogger } from '../../../src/observe/logger.js';
import { isPermanent, SinkRunner } from '../../../src/pipeline/sink-runner.js';
import type { Batch, Sink } from '../../../src/pipeline/types.js';
import {
  useRedisServer,
  freePort,
  readStream,
  type RedisServer,
} from '../../helpers/redis-server.js';
import { captureLogger } from '../../helpers/logger.js';
import { useTempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { missing, seqBatch } from '../http/helpers.js';
import { redisSink } from './helpers.js';

let redis: RedisServer;
useRedisServer((r) => (redis = r));

/** A runner over `sink` with short retries, as the pipeline builds one (memory buffer). */
async function runner(sink: Sink, dataDir: string) {
  const acks: number[] = [];
  const counters = new Counters();
  const r = await SinkRunner.open({
    id: 'r',
    sink,
    log: silentLogger,
    counters,
    dataDir,
    buffer: { type: 'memory', max_bytes: 64 << 20, when_full: 'block' },
    onAck: (seq) => acks.push(seq),
    onFatal: (err) => {
      throw err;
    },
    tuning: { retryFirstMs: 20, retryMaxMs: 200 },
  });
  return { r, acks, counters };
}

const seqsOf = async (key: string) =>
  (await readStream(redis.client, key)).map(([, f]) => Number(f.seq));

describe('redis sink: faults', () => {
  const tmp = useTempDir();

  test('unreachable at start: VES_SINK_HEALTHCHECK names the url, never its password', async () => {
    const port = await freePort();
    const sink = await redisSink({
      url: `redis://app:pa55-word@127.0.0.1:${port}/2`,
      stream: 'never',
      timeout: '2s',
    });
    const err = (await sink.healthcheck().catch((e: unknown) => e)) as VesError;
    await sink.close();
    expect(err).toBeInstanceOf(VesError);
    expect(err.code).toBe('VES_SINK_HEALTHCHECK');
    expect(err.message).toContain(`redis://127.0.0.1:${port}/2`);
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).not.toContain('pa55-word');
  });

  test('Redis down, then up: writes fail (retryable), the runner retries, every event arrives once', async () => {
    const { log, records } = captureLogger();
    const sink = await redisSink({ url: redis.url, stream: 'downup' }, log);
    await sink.healthcheck();
    const { r, acks, counters } = await runner(sink, tmp());
    const batches: Batch[] = [];
    for (let i = 0; i < 5; i++) batches.push(seqBatch(i * 200, 200));
    r.enqueue(batches[0]);
    await waitFor(() => acks.length === 1, { timeout: 20_000, what: 'the first batch' });

    await redis.stop(); // no persistence: the stream starts empty again after start()
    for (const b of batches.slice(1)) r.enqueue(b);
    await waitFor(() => counters.sinkErrors >= 3, { timeout: 20_000, what: 'failed writes' });
    expect(acks.length).toBe(1);

    await redis.start();
    await waitFor(() => acks.length === 5, { timeout: 30_000, what: 'every batch acked' });
    await r.close();
    // Nothing was stored while Redis was down, so the retries add no duplicates.
    expect(await seqsOf('downup')).toEqual(Array.from({ length: 800 }, (_, i) => 200 + i));
    // One warning per 10 s for the lost connection (not one per reconnect attempt; a loaded
    // machine may take longer than 10 s to restart redis-server), one line when it is back.
    const warned = records.filter((r) => r.msg === 'Redis connection failed; reconnecting');
    expect(warned.length).toBeGreaterThanOrEqual(1);
    expect(warned.length).toBeLessThanOrEqual(2);
    expect(warned[0]).toMatchObject({
      level: 'warn',
      code: 'VES_SINK_WRITE',
      url: `${redis.url}/0`,
    });
    expect(records.some((r) => r.msg === 'Redis connection restored')).toBe(true);
  }, 60_000);

  test('a server that stops answering: the write times out and is retried; nothing is lost (duplicates may be)', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'frozen', timeout: '300ms' });
    await sink.healthcheck();
    const { r, acks, counters } = await runner(sink, tmp());
    redis.pause();
    try {
      r.enqueue(seqBatch(0, 100));
      await waitFor(() => counters.sinkErrors >= 1, { timeout: 20_000, what: 'a timed-out write' });
      expect(acks.length).toBe(0);
    } finally {
      redis.resume();
    }
    await waitFor(() => acks.length === 1, { timeout: 30_000, what: 'the batch acked' });
    await r.close();
    const seqs = await seqsOf('frozen');
    // The timed-out XADDs were in the server's socket buffer: once it wakes up it may run them
    // before it sees the connection closed, and then the retry stores them again.
    // At-least-once: every event at least once, whole batches at most twice.
    expect(missing(seqs, 100)).toEqual([]);
    expect(seqs.length % 100).toBe(0);
  }, 60_000);

  test('WRONGTYPE: the batch is refused for good (SinkRejectedError, permanent), not retried', async () => {
    await redis.client.set('not-a-stream', 'a string');
    const sink = await redisSink({ url: redis.url, stream: 'not-a-stream' });
    const batch = seqBatch(0, 4);
    const err = await sink.write(batch).catch((e: unknown) => e);
    await sink.close();
    expect(err).toBeInstanceOf(SinkRejectedError);
    const e = err as SinkRejectedError;
    expect(isPermanent(e)).toBe(true);
    expect(e.message).toContain('WRONGTYPE');
    expect(e.events).toBe(4);
    expect(e.rejected.toString()).toBe(batch.ndjson!.toString());
    expect(await redis.client.get('not-a-stream')).toBe('a string');
  });

  test('WRONGTYPE for some events only: those go to the dead-letter file, the rest into their streams', async () => {
    await redis.client.set('app:broken', 'a string');
    const sink = await redisSink({ url: redis.url, stream: 'app:{service}' });
    await sink.healthcheck();
    const { r, acks, counters } = await runner(sink, tmp());
    const ok = seqBatch(0, 3, { service: 'fine' });
    const bad = seqBatch(3, 2, { service: 'broken' });
    const mixed = Buffer.concat([ok.ndjson!, bad.ndjson!]);
    r.enqueue({ ...ok, events: 5, ndjson: mixed, bytes: mixed.length });
    await waitFor(() => acks.length === 1, { timeout: 20_000, what: 'the batch acked' });
    await r.close();
    expect(await seqsOf('app:fine')).toEqual([0, 1, 2]);
    expect(counters.deadLetteredEvents).toBe(2);
    expect(counters.eventsOut).toBe(3);
    const letters = (await readFile(join(tmp(), 'dead-letter', 'r.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { code: string; events: number; body: string; reason: string });
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ code: 'VES_SINK_REJECTED', events: 2 });
    expect(letters[0].reason).toContain('WRONGTYPE');
    expect(letters[0].body).toBe(bad.ndjson!.toString());
  });
});
