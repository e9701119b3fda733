// The redis sink over TLS (rediss://) against redis-server's own TLS port, with a self-signed
// certificate made by openssl at test time: verified with `tls.ca`, refused without it (the
// health check names the problem), accepted with `verify: false`.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VesError } from '../../../src/errors.js';
import { selfSigned } from '../../helpers/tls.js';
import { startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { seqBatch } from '../http/helpers.js';
import { redisSink } from './helpers.js';

let redis: RedisServer;
let dir: string;
let cert: { cert: string; key: string };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ves-redis-tls-'));
  cert = selfSigned(dir, 'redis');
  redis = await startRedis({ tls: cert });
}, 30_000);
afterAll(async () => {
  await redis?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('redis sink over TLS', () => {
  test('rediss:// with the server certificate as tls.ca: every event stored', async () => {
    expect(redis.url.startsWith('rediss://')).toBe(true);
    const sink = await redisSink({ url: redis.url, stream: 'tls', tls: { ca: cert.cert } });
    await sink.healthcheck();
    await sink.write(seqBatch(0, 100));
    await sink.close();
    expect(await redis.client.xlen('tls')).toBe(100);
  });

  test('an untrusted certificate fails the health check and says why', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'tls-no', timeout: '2s' });
    const err = (await sink.healthcheck().catch((e: unknown) => e)) as VesError;
    await sink.close();
    expect(err).toBeInstanceOf(VesError);
    expect(err.code).toBe('VES_SINK_HEALTHCHECK');
    expect(err.message).toContain(redis.url);
    expect(err.message).toMatch(/self[- ]signed certificate/i);
  });

  test('verify: false accepts it (tests only)', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'tls-off', tls: { verify: false } });
    await sink.healthcheck();
    await sink.write(seqBatch(0, 10));
    await sink.close();
    expect(await redis.client.xlen('tls-off')).toBe(10);
  });

  test('a missing tls.ca file fails the build with VES_SINK_TLS', async () => {
    const err = (await redisSink({
      url: redis.url,
      stream: 'x',
      tls: { ca: join(dir, 'missing.pem') },
    }).catch((e: unknown) => e)) as VesError;
    expect(err.code).toBe('VES_SINK_TLS');
    expect(err.message).toContain('cannot read tls.ca');
  });
});
