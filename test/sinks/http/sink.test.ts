// The http sink against a local receiver: the shared sink contract per compression, headers and
// auth, concurrency, the health check, stats, and close() while a batch is still retrying.

import { afterEach, describe, expect, test } from 'vitest';
import { VesError } from '../../../src/errors.js';
import { assertSinkCompliance } from '../../helpers/sink-compliance.js';
import { captureLogger } from '../../helpers/logger.js';
import { waitFor } from '../../helpers/wait.js';
import { missing, seqBatch, sinkFor } from './helpers.js';
import { startReceiver, type Receiver } from './receiver.js';

let rx: Receiver;
afterEach(async () => {
  await rx?.close();
});

describe('http sink', () => {
  test.each([['none'], ['gzip'], ['zstd']])('compliance (compression: %s)', async (compression) => {
    rx = await startReceiver();
    // concurrency 1: the contract checks that two writes land in order.
    const sink = await sinkFor({ uri: `${rx.url}/v1/logs`, compression, concurrency: 1 });
    await assertSinkCompliance(sink, () => rx.acceptedBytes(), 'ndjson');
    expect(rx.all[0].method).toBe('OPTIONS'); // the health check
    const r = rx.accepted[1];
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/v1/logs');
    expect(r.headers['content-type']).toBe('application/x-ndjson');
    expect(r.headers['content-encoding']).toBe(compression === 'none' ? undefined : compression);
    expect(r.headers['user-agent']).toMatch(/^ves-log-collector\//);
  });

  test('zstd is the default for ndjson', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url });
    await sink.write(seqBatch(0, 3));
    await sink.close();
    expect(rx.accepted[0].headers['content-encoding']).toBe('zstd');
    expect(rx.seqs()).toEqual([0, 1, 2]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['bearer', { strategy: 'bearer', token: 's3cret' }, 'Bearer s3cret'],
    [
      'basic',
      { strategy: 'basic', user: 'ingest', password: 'p:ss' },
      `Basic ${Buffer.from('ingest:p:ss').toString('base64')}`,
    ],
  ])('auth: %s', async (_n, auth, header) => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, auth, compression: 'none' });
    await sink.healthcheck();
    await sink.write(seqBatch(0, 1));
    await sink.close();
    expect(rx.all.map((r) => r.headers.authorization)).toEqual([header, header]);
  });

  test('headers: sent as configured; Content-Type can be replaced, not doubled', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({
      uri: rx.url,
      method: 'PUT',
      headers: { 'X-Scope-OrgID': 'tenant1', 'Content-Type': 'application/json', 'X-Num': 7 },
    });
    await sink.write(seqBatch(0, 1));
    await sink.close();
    const r = rx.accepted[0];
    expect(r.method).toBe('PUT');
    expect(r.headers['x-scope-orgid']).toBe('tenant1');
    expect(r.headers['x-num']).toBe('7');
    expect(r.headers['content-type']).toBe('application/json');
  });

  test('concurrency: up to `concurrency` requests in flight, every event delivered', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({ uri: rx.url, concurrency: 3, compression: 'none' });
    // The first three answers come 150 ms late (the sink's timeout is 30 s): they overlap.
    rx.inject({ kind: 'stall', ms: 150 }, 3);
    const writes = Array.from({ length: 12 }, (_, i) => sink.write(seqBatch(i * 10, 10)));
    await waitFor(() => rx.all.length >= 3, { what: 'three requests in flight' });
    expect(rx.all.length).toBe(3); // the fourth waits for a free slot
    await Promise.all(writes);
    await sink.close();
    expect(missing(rx.seqs(), 120)).toEqual([]);
    expect(rx.seqs()).toHaveLength(120);
    expect(sink.stats).toMatchObject({ requests: 12, retries: 0, rejected: 0 });
  });

  test('stats count requests, retries and bytes sent', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({
      uri: rx.url,
      compression: 'none',
      retry: { initial_backoff: '1ms', max_backoff: '5ms' },
    });
    rx.inject({ kind: 'status', status: 500 }, 2);
    const b = seqBatch(0, 5);
    await sink.write(b);
    await sink.close();
    expect(sink.stats).toEqual({
      requests: 3,
      retries: 2,
      bytesSent: 3 * b.ndjson!.length,
      rejected: 0,
    });
  });

  describe('healthcheck', () => {
    test('any HTTP answer passes for ndjson (the receiver is there)', async () => {
      rx = await startReceiver();
      rx.respond = () => ({ status: 405 });
      const sink = await sinkFor({ uri: `${rx.url}/v1/logs` });
      await sink.healthcheck();
      expect(rx.all[0].method).toBe('OPTIONS');
      expect(rx.all[0].url).toBe('/v1/logs');
      await sink.close();
    });

    test('an unreachable endpoint fails with VES_SINK_HEALTHCHECK naming the uri', async () => {
      rx = await startReceiver();
      const url = rx.url;
      await rx.close();
      const sink = await sinkFor({ uri: `${url}/v1/logs?token=hidden` });
      const err = await sink.healthcheck().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VesError);
      expect((err as VesError).code).toBe('VES_SINK_HEALTHCHECK');
      expect((err as VesError).message).toContain(`${url}/v1/logs is not reachable`);
      expect((err as VesError).message).toContain('ECONNREFUSED');
      expect((err as VesError).message).not.toContain('hidden');
      await sink.close();
      rx = await startReceiver(); // for afterEach
    });

    test('healthcheck: false skips the probe', async () => {
      rx = await startReceiver();
      const url = rx.url;
      await rx.close();
      const sink = await sinkFor({ uri: url, healthcheck: false });
      await sink.healthcheck();
      await sink.close();
      rx = await startReceiver();
    });

    test('elasticsearch: GET / must answer 2xx; 401 says to check auth', async () => {
      rx = await startReceiver();
      rx.respond = () => ({ status: 401, body: '{"error":"missing authentication credentials"}' });
      const sink = await sinkFor({ uri: rx.url, format: 'elasticsearch' });
      const err = (await sink.healthcheck().catch((e: unknown) => e)) as VesError;
      expect(err.code).toBe('VES_SINK_HEALTHCHECK');
      expect(err.message).toContain('answered 401 to GET / (check `auth`)');
      expect(err.message).toContain('missing authentication credentials');
      expect(rx.all[0]).toMatchObject({ method: 'GET', url: '/' });
      await sink.close();
    });

    test('clickhouse: GET /ping', async () => {
      rx = await startReceiver();
      rx.respond = () => ({ status: 200, body: 'Ok.\n' });
      const sink = await sinkFor({ uri: rx.url, format: 'clickhouse', clickhouse: { table: 't' } });
      await sink.healthcheck();
      expect(rx.all[0]).toMatchObject({ method: 'GET', url: '/ping' });
      await sink.close();
    });
  });

  test('close() while a batch is retrying: the write rejects at once, unacknowledged', async () => {
    rx = await startReceiver();
    const { log, records } = captureLogger();
    const sink = await sinkFor(
      { uri: rx.url, retry: { initial_backoff: '10s', max_backoff: '10s' } },
      log,
    );
    rx.inject({ kind: 'status', status: 503 }, 100);
    const w = sink.write(seqBatch(0, 1)).catch((e: unknown) => e);
    await waitFor(() => records.some((r) => r.msg === 'request failed; retrying'), {
      what: 'a retry',
    });
    const t = Date.now();
    await sink.close();
    const err = (await w) as VesError;
    expect(Date.now() - t).toBeLessThan(2000);
    expect(err.code).toBe('VES_SINK_WRITE');
    expect(err.message).toContain('closed before');
    // The retry warning names the uri and status, never a secret.
    expect(records[0]).toMatchObject({ code: 'VES_SINK_WRITE', attempt: 1, error: 'HTTP 503' });
  });

  test('abort(): retrying, waiting and in-flight writes all reject now; close() after it', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({
      uri: rx.url,
      concurrency: 2,
      healthcheck: false,
      retry: { initial_backoff: '10s', max_backoff: '10s' },
    });
    rx.inject({ kind: 'status', status: 503 }, 1); // the first retries (sleeping 0..10 s)
    rx.inject({ kind: 'stall', ms: 20_000 }, 1); // the second hangs in flight
    const writes = [0, 1, 2].map((i) =>
      sink.write(seqBatch(i, 1)).then(
        () => 'delivered',
        (e: VesError) => e.code,
      ),
    ); // the third waits for a slot
    await waitFor(() => rx.all.length === 2, { what: 'two requests' });
    const t = Date.now();
    sink.abort();
    expect(await Promise.all(writes)).toEqual([
      'VES_SINK_WRITE',
      'VES_SINK_WRITE',
      'VES_SINK_WRITE',
    ]);
    await sink.close();
    expect(Date.now() - t).toBeLessThan(2000);
    expect(await sink.write(seqBatch(9, 1)).catch((e: VesError) => e.code)).toBe('VES_SINK_WRITE');
  });

  test('max_attempts: the write gives up (not permanent) after that many attempts', async () => {
    rx = await startReceiver();
    const sink = await sinkFor({
      uri: rx.url,
      retry: { initial_backoff: '1ms', max_backoff: '2ms', max_attempts: 3 },
    });
    rx.inject({ kind: 'status', status: 502, body: 'bad gateway' }, 10);
    const err = (await sink.write(seqBatch(0, 1)).catch((e: unknown) => e)) as VesError;
    await sink.close();
    expect(err.code).toBe('VES_SINK_WRITE');
    expect(err.message).toContain('after 3 attempts');
    expect(err.message).toContain('HTTP 502: bad gateway');
    expect((err as { permanent?: boolean }).permanent).toBeUndefined();
    expect(rx.all).toHaveLength(3);
  });
});
