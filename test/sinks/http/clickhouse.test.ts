// The http sink into a real ClickHouse: Debian's clickhouse-server (18.16) started as an
// ordinary process by test/helpers/clickhouse.ts. 100,000 nginx events
// go in through `format: clickhouse` with gzip; count and values are read back. A batch with a
// value the table cannot take is refused for good (HTTP 500 + "Code: 27"), not retried.
// CI installs the server (.ci/run); without it this test fails and says so, it never skips.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SinkRejectedError } from '../../../src/errors.js';
import { nginxGenerator } from '../../../src/gen/nginx.js';
import type { Batch } from '../../../src/pipeline/types.js';
import {
  INGEST_PASSWORD,
  INGEST_USER,
  startClickHouse,
  type ClickHouse,
} from '../../helpers/clickhouse.js';
import { sinkFor } from './helpers.js';

const EVENTS = 100_000;
const PER_BATCH = 1000;

/** nginx "combined", as the generator writes it. Test-side parsing: the events' fields. */
const COMBINED = /^(\S+) - (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d+) (\d+) "([^"]*)" "([^"]*)"$/;

interface Totals {
  bytes: number;
  notFound: number;
  first: Record<string, unknown>;
}

function makeBatches(): { batches: Batch[]; totals: Totals } {
  const gen = nginxGenerator(7);
  const start = Date.UTC(2026, 10, 23, 12);
  const batches: Batch[] = [];
  const totals: Totals = { bytes: 0, notFound: 0, first: {} };
  for (let b = 0; b < EVENTS / PER_BATCH; b++) {
    let s = '';
    for (let i = 0; i < PER_BATCH; i++) {
      const n = b * PER_BATCH + i;
      const line = gen.line(start + n * 10);
      const m = COMBINED.exec(line);
      if (!m) throw new Error(`test bug: cannot parse ${line}`);
      const ev = {
        message: line,
        timestamp: new Date(start + n * 10).toISOString(),
        source: '/var/log/nginx/access.log',
        host: 'edge-1',
        remote_addr: m[1],
        remote_user: m[2],
        time_local: m[3],
        method: m[4],
        path: m[5],
        protocol: m[6],
        status: Number(m[7]),
        body_bytes_sent: Number(m[8]),
        http_referer: m[9],
        http_user_agent: m[10],
        seq: n, // not a column: skipped (skip_unknown_fields)
      };
      if (n === 0) totals.first = ev;
      totals.bytes += ev.body_bytes_sent;
      if (ev.status === 404) totals.notFound++;
      s += JSON.stringify(ev) + '\n';
    }
    const ndjson = Buffer.from(s);
    batches.push({
      seq: b + 1,
      events: PER_BATCH,
      ndjson,
      raw: null,
      bytes: ndjson.length,
      marks: [],
      firstReadAt: 0,
      sealedAt: 0,
    });
  }
  return { batches, totals };
}

describe('clickhouse-server (Debian 18.16)', () => {
  let ch: ClickHouse | undefined;
  let url = '';
  const query = (sql: string): Promise<string> => ch!.query(sql);

  beforeAll(async () => {
    // One server for the file.
    ch = await startClickHouse();
    url = ch.url;
    await query(
      `CREATE TABLE access (
        timestamp DateTime, host String, source String, message String,
        remote_addr String, remote_user String, time_local String, method String, path String,
        protocol String, status UInt16, body_bytes_sent UInt64, http_referer String,
        http_user_agent String
      ) ENGINE = MergeTree ORDER BY timestamp`,
    );
  }, 30_000);

  afterAll(async () => ch?.stop(), 15_000);

  test('100,000 nginx events arrive, with their values', async () => {
    const { batches, totals } = makeBatches();
    const sink = await sinkFor({
      uri: url,
      format: 'clickhouse',
      compression: 'gzip',
      concurrency: 4,
      auth: { strategy: 'basic', user: INGEST_USER, password: INGEST_PASSWORD },
      clickhouse: { table: 'access' },
    });
    await sink.healthcheck();
    await Promise.all(batches.map((b) => sink.write(b)));
    await sink.close();
    expect(sink.stats.requests).toBe(EVENTS / PER_BATCH);
    expect(sink.stats.retries).toBe(0);

    expect(Number(await query('SELECT count() FROM access'))).toBe(EVENTS);
    expect(Number(await query('SELECT sum(body_bytes_sent) FROM access'))).toBe(totals.bytes);
    expect(Number(await query('SELECT countIf(status = 404) FROM access'))).toBe(totals.notFound);
    const f = totals.first;
    const row = JSON.parse(
      await query(
        `SELECT toUnixTimestamp(timestamp) AS ts, * FROM access WHERE message = '${String(f.message).replace(/'/g, "\\'")}' FORMAT JSONEachRow`,
      ),
    ) as Record<string, unknown>;
    expect(row).toMatchObject({
      ts: Date.parse(String(f.timestamp)) / 1000, // RFC 3339 with ms and Z, read best-effort
      host: 'edge-1',
      remote_addr: f.remote_addr,
      method: f.method,
      path: f.path,
      status: f.status,
      http_user_agent: f.http_user_agent,
    });
  }, 60_000);

  test('a value the table cannot take: refused for good, not retried', async () => {
    const sink = await sinkFor({
      uri: url,
      format: 'clickhouse',
      clickhouse: { table: 'access' },
      retry: { initial_backoff: '1ms', max_backoff: '1ms' },
    });
    const ndjson = Buffer.from('{"message":"bad","status":"not a number"}\n');
    const err = (await sink.write(makeOne(ndjson)).catch((e: unknown) => e)) as SinkRejectedError;
    await sink.close();
    expect(err).toBeInstanceOf(SinkRejectedError);
    expect(err.status).toBe(500);
    expect(err.detail).toMatch(/^Code: 27, .*Cannot parse input/);
    expect(sink.stats).toMatchObject({ requests: 1, retries: 0, rejected: 1 });
    expect(Number(await query("SELECT count() FROM access WHERE message = 'bad'"))).toBe(0);
  });

  test('a missing table is a 404: refused for good', async () => {
    const sink = await sinkFor({ uri: url, format: 'clickhouse', clickhouse: { table: 'nope' } });
    const err = (await sink
      .write(makeOne(Buffer.from('{"message":"x"}\n')))
      .catch((e: unknown) => e)) as SinkRejectedError;
    await sink.close();
    expect(err.status).toBe(404);
    expect(err.detail).toContain("Table default.nope doesn't exist");
  });
});

function makeOne(ndjson: Buffer): Batch {
  return {
    seq: 1,
    events: 1,
    ndjson,
    raw: null,
    bytes: ndjson.length,
    marks: [],
    firstReadAt: 0,
    sealedAt: 0,
  };
}
