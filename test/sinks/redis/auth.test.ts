// The redis sink against a password-protected redis-server (--requirepass): credentials from
// the url or from `auth`, never in a message; refused credentials fail the health check; an ACL
// that refuses some keys is retried (VES_SINK_AUTH), and the retry sends only what was refused.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { VesError } from '../../../src/errors.js';
import { isPermanent } from '../../../src/pipeline/sink-runner.js';
import { readStream, startRedis, type RedisServer } from '../../helpers/redis-server.js';
import { seqBatch } from '../http/helpers.js';
import { redisSink } from './helpers.js';

const PASSWORD = 's3cret-pw';

let redis: RedisServer;
let base: string;
beforeAll(async () => {
  redis = await startRedis({ password: PASSWORD });
  base = `127.0.0.1:${redis.port}`;
}, 30_000);
afterAll(async () => {
  await redis?.close();
});

async function failedHealthcheck(keys: Record<string, unknown>): Promise<VesError> {
  const sink = await redisSink({ stream: 'never', ...keys });
  const err = await sink.healthcheck().then(
    () => null,
    (e: unknown) => e,
  );
  await sink.close();
  expect(err).toBeInstanceOf(VesError);
  return err as VesError;
}

describe('redis sink: authentication', () => {
  // Functions: the server's port is only known once beforeAll ran.
  test.each([
    ['the url', () => ({ url: `redis://:${PASSWORD}@${base}` })],
    ['the url with the default user', () => ({ url: `redis://default:${PASSWORD}@${base}/0` })],
    ['auth: {password}', () => ({ url: `redis://${base}`, auth: { password: PASSWORD } })],
    [
      'auth: {user, password}',
      () => ({ url: `redis://${base}`, auth: { user: 'default', password: PASSWORD } }),
    ],
  ])('a password from %s is used', async (_, keys) => {
    const sink = await redisSink({ ...keys(), stream: 'authed' });
    await sink.healthcheck();
    const before = await redis.client.xlen('authed');
    await sink.write(seqBatch(0, 5));
    await sink.close();
    expect(await redis.client.xlen('authed')).toBe(before + 5);
  });

  test('a wrong password fails the health check, naming the url without any password', async () => {
    const err = await failedHealthcheck({ url: `redis://:wrong-pw-123@${base}` });
    expect(err.code).toBe('VES_SINK_HEALTHCHECK');
    expect(err.message).toContain(`redis://${base}/0`);
    expect(err.message).toContain('check `auth`');
    expect(err.message).not.toContain('wrong-pw-123');
    expect(err.message).not.toContain(PASSWORD);
  });

  test('no password: NOAUTH fails the health check with the same hint', async () => {
    const err = await failedHealthcheck({ url: `redis://${base}` });
    expect(err.code).toBe('VES_SINK_HEALTHCHECK');
    expect(err.message).toMatch(/NOAUTH|Authentication required/);
    expect(err.message).toContain('check `auth`');
  });

  test('an ACL that refuses some keys: VES_SINK_AUTH, retried; the retry sends only the refused events', async () => {
    const user = 'shipper';
    const secret = 'shipper-pw-42';
    // May XADD to logs:web only; PING and INFO for the connection's own checks.
    await redis.client.call('ACL', 'SETUSER', user, 'reset', 'on', `>${secret}`, '~logs:web');
    await redis.client.call('ACL', 'SETUSER', user, '+xadd', '+ping', '+info', '+client');
    const sink = await redisSink({
      url: `redis://${base}`,
      auth: { user, password: secret },
      stream: 'logs:{service}',
    });
    await sink.healthcheck();
    const web = seqBatch(0, 3, { service: 'web' });
    const both = Buffer.concat([web.ndjson!, seqBatch(3, 2, { service: 'db' }).ndjson!]);
    const batch = { ...web, events: 5, ndjson: both, bytes: both.length };

    const err = await sink.write(batch).then(
      () => null,
      (e: unknown) => e as VesError,
    );
    expect(err?.code).toBe('VES_SINK_AUTH');
    expect(err?.message).toContain('NOPERM');
    expect(err?.message).not.toContain(secret);
    expect(isPermanent(err)).toBe(false);
    expect(await redis.client.xlen('logs:web')).toBe(3);
    expect(await redis.client.exists('logs:db')).toBe(0);

    // The operator fixes the ACL; the runner's retry writes the same batch again.
    await redis.client.call('ACL', 'SETUSER', user, '~logs:*');
    await sink.write(batch);
    await sink.close();
    const seqs = async (key: string) =>
      (await readStream(redis.client, key)).map(([, f]) => Number(f.seq));
    expect(await seqs('logs:web')).toEqual([0, 1, 2]); // not sent twice
    expect(await seqs('logs:db')).toEqual([3, 4]);
  });
});
