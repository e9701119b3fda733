// The redis sink against a real redis-server (Debian's, started by the test): every event in the
// stream with its fields (XRANGE), in order; `encoding: json`; MAXLEN ~ trimming; stream keys
// from an event field; one pipelined round trip per batch.

import { describe, expect, test } from 'vitest';
import type { Batch } from '../../../src/pipeline/types.js';
import { useRedisServer, readStream, type RedisServer } from '../../helpers/redis-server.js';
import { assertSinkCompliance } from '../../helpers/sink-compliance.js';
import { seqBatch } from '../http/helpers.js';
import { redisSink } from './helpers.js';

let redis: RedisServer;
useRedisServer((r) => (redis = r));

/** What `encoding: fields` must turn an event into: strings as they are, the rest as JSON. */
function asFields(event: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(event))
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** The events of a batch, parsed back from its NDJSON. */
function eventsOf(batches: Batch[]): Record<string, unknown>[] {
  return batches.flatMap((b) =>
    b
      .ndjson!.toString()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>),
  );
}

describe('redis sink', () => {
  test('compliance (encoding: json): each event is one entry whose `event` is its JSON line', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'compliance', encoding: 'json' });
    const written = async () => {
      const entries = await readStream(redis.client, 'compliance');
      return Buffer.from(entries.map(([, f]) => f.event + '\n').join(''));
    };
    await assertSinkCompliance(sink, written, 'ndjson');
  });

  test('encoding: fields: 10,000 events, every one in order with each field, typed values as JSON text', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'fields' });
    await sink.healthcheck();
    const extra = {
      status: 200,
      ratio: 0.25,
      ok: true,
      missing: null,
      tags: ['a', 'b'],
      http: { method: 'GET', path: '/x?y=1' },
      text: 'ünïcödé "quoted" \\ back\nslash',
    };
    const batches: Batch[] = [];
    for (let i = 0; i < 10; i++) batches.push(seqBatch(i * 1000, 1000, extra));
    for (const b of batches) await sink.write(b);
    await sink.close();

    const entries = await readStream(redis.client, 'fields');
    const want = eventsOf(batches);
    // One comparison of everything: every event, every field, in order.
    expect(entries.map(([, f]) => f)).toEqual(want.map(asFields));
    expect(entries[0][1]).toMatchObject({
      message: 'event 0',
      seq: '0',
      status: '200',
      ratio: '0.25',
      ok: 'true',
      missing: 'null',
      tags: '["a","b"]',
      http: '{"method":"GET","path":"/x?y=1"}',
      text: 'ünïcödé "quoted" \\ back\nslash',
    });
    // Stream ids only grow: the entries are in the order of the events.
    const ids = entries.map(([id]) => id);
    expect([...ids].sort(compareIds)).toEqual(ids);
  }, 30_000);

  test('a batch is one pipelined write: the server reads it in a few chunks, not once per event', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'roundtrip', maxlen: 0 });
    await sink.healthcheck();
    const calls = await stat('commandstats', /cmdstat_xadd:calls=(\d+)/);
    const reads = await stat('stats', /total_reads_processed:(\d+)/);
    await sink.write(seqBatch(0, 500));
    expect((await stat('commandstats', /cmdstat_xadd:calls=(\d+)/)) - calls).toBe(500);
    // ~75 KB of commands arrive in 16 KiB reads (PROTO_IOBUF_LEN), plus this test's INFO
    // calls: a command per round trip would be 500 reads.
    expect((await stat('stats', /total_reads_processed:(\d+)/)) - reads).toBeLessThan(50);
    expect(await redis.client.xlen('roundtrip')).toBe(500);
    await sink.close();
  });

  test('maxlen trims each stream to about maxlen (MAXLEN ~), keeping the newest', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'trimmed', maxlen: 1000 });
    const batches = Array.from({ length: 10 }, (_, i) => seqBatch(i * 1000, 1000));
    for (const b of batches) await sink.write(b);
    await sink.close();
    const len = await redis.client.xlen('trimmed');
    // `~` trims whole radix-tree nodes (stream-node-max-entries, 100 by default): never below
    // maxlen, and at most one node above it.
    expect(len).toBeGreaterThanOrEqual(1000);
    expect(len).toBeLessThanOrEqual(1100);
    const entries = await readStream(redis.client, 'trimmed');
    expect(entries[entries.length - 1][1].seq).toBe('9999');
    expect(Number(entries[0][1].seq)).toBe(10_000 - len);
  });

  test('maxlen: 0 never trims', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'untrimmed', maxlen: 0 });
    for (let i = 0; i < 5; i++) await sink.write(seqBatch(i * 1000, 1000));
    await sink.close();
    expect(await redis.client.xlen('untrimmed')).toBe(5000);
  });

  test('stream: logs:{service} picks the stream per event; a missing field leaves it empty', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'logs:{service}', encoding: 'json' });
    const web = seqBatch(0, 3, { service: 'web' });
    const mixed = Buffer.concat([
      web.ndjson!,
      seqBatch(3, 2, { service: 'db' }).ndjson!,
      seqBatch(5, 1, { service: 7 }).ndjson!,
      seqBatch(6, 1).ndjson!,
    ]);
    await sink.write({ ...web, events: 7, ndjson: mixed, bytes: mixed.length });
    await sink.close();
    const seqsOf = async (key: string) =>
      (await readStream(redis.client, key)).map(([, f]) => JSON.parse(f.event).seq as number);
    expect(await seqsOf('logs:web')).toEqual([0, 1, 2]);
    expect(await seqsOf('logs:db')).toEqual([3, 4]);
    expect(await seqsOf('logs:7')).toEqual([5]);
    expect(await seqsOf('logs:')).toEqual([6]);
  });

  test('db from the url: /3 writes into database 3', async () => {
    const sink = await redisSink({ url: `${redis.url}/3`, stream: 'in-db3' });
    await sink.healthcheck();
    await sink.write(seqBatch(0, 10));
    await sink.close();
    expect(await redis.client.xlen('in-db3')).toBe(0);
    const other = redis.client.duplicate({ db: 3 });
    try {
      expect(await other.xlen('in-db3')).toBe(10);
    } finally {
      other.disconnect();
    }
  });

  test('an event that is not a JSON object is kept whole in `event`', async () => {
    const sink = await redisSink({ url: redis.url, stream: 'odd' });
    const ndjson = Buffer.from('{"message":"fine"}\n{}\nnot json at all\n[1,2]\n');
    await sink.write({ ...seqBatch(0, 1), events: 4, ndjson, bytes: ndjson.length });
    await sink.close();
    const entries = (await readStream(redis.client, 'odd')).map(([, f]) => f);
    expect(entries).toEqual([
      { message: 'fine' },
      { event: '{}' },
      { event: 'not json at all' },
      { event: '[1,2]' },
    ]);
  });

  /** A number from INFO <section>. */
  async function stat(section: string, re: RegExp): Promise<number> {
    const m = re.exec(await redis.client.info(section));
    return m ? Number(m[1]) : 0;
  }
});

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}
