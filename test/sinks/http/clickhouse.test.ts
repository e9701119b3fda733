// The http sink into a real ClickHouse: Debian's clickhouse-server (18.16) started here as an
// ordinary process with its config in a temp dir, on free loopback ports. 100,000 nginx events
// go in through `format: clickhouse` with gzip; count and values are read back. A batch with a
// value the table cannot take is refused for good (HTTP 500 + "Code: 27"), not retried.
// CI installs the server (.ci/run); without it this test fails and says so, it never skips.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SinkRejectedError } from '../../../src/errors.js';
import { nginxGenerator } from '../../../src/gen/nginx.js';
import type { Batch } from '../../../src/pipeline/types.js';
import { waitFor } from '../../helpers/wait.js';
import { sinkFor } from './helpers.js';

const CANDIDATES = [
  '/usr/sbin/clickhouse-server',
  '/usr/bin/clickhouse-server',
  '/usr/bin/clickhouse',
];
const EVENTS = 100_000;
const PER_BATCH = 1000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const configXml = (dir: string, http: number, tcp: number): string => `<?xml version="1.0"?>
<!-- Written by test/sinks/http/clickhouse.test.ts: a throwaway server in ${dir}. -->
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/server.log</log>
    <errorlog>${dir}/server.err.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <max_connections>64</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>16</max_concurrent_queries>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mark_cache_size>67108864</mark_cache_size>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <!-- Stop at once on SIGTERM instead of waiting up to 5 s for idle keep-alive connections. -->
  <shutdown_wait_unfinished>0</shutdown_wait_unfinished>
</yandex>
`;

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <ingest>
      <password>s3cret</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </ingest>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
`;

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
  let server: ChildProcess | undefined;
  let url = '';
  let dir = '';

  const query = async (sql: string): Promise<string> => {
    const res = await fetch(`${url}/?user=default`, { method: 'POST', body: sql });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse said ${res.status} to ${sql}: ${text}`);
    return text.trim();
  };

  beforeAll(async () => {
    const bin = CANDIDATES.find((p) => existsSync(p));
    if (!bin) {
      throw new Error(
        'clickhouse-server is not installed: run .ci/run (CI installs it), or `apt-get install -y clickhouse-server`',
      );
    }
    // One server for the file: a temp dir of its own (useTempDir is per test).
    dir = await mkdtemp(join(tmpdir(), 'ves-ch-'));
    const [http, tcp] = [await freePort(), await freePort()];
    await writeFile(join(dir, 'config.xml'), configXml(dir, http, tcp));
    await writeFile(join(dir, 'users.xml'), USERS_XML);
    url = `http://127.0.0.1:${http}`;
    const args = bin.endsWith('/clickhouse') ? ['server'] : [];
    server = spawn(bin, [...args, `--config-file=${join(dir, 'config.xml')}`], {
      cwd: dir,
      stdio: 'ignore',
    });
    let exited: string | undefined;
    server.once('exit', (code, sig) => (exited = `exited (${code ?? sig})`));
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`clickhouse-server ${exited}`);
          const r = await fetch(`${url}/ping`).catch(() => null);
          return r !== null && (await r.text()) === 'Ok.\n';
        },
        { timeout: 20_000, interval: 50, what: 'clickhouse-server to answer /ping' },
      );
    } catch (err) {
      const log = await readFile(join(dir, 'server.err.log'), 'utf8').catch(() => '(no log)');
      throw new Error(`${(err as Error).message}\n--- server.err.log ---\n${log.slice(-3000)}`);
    }
    await query(
      `CREATE TABLE access (
        timestamp DateTime, host String, source String, message String,
        remote_addr String, remote_user String, time_local String, method String, path String,
        protocol String, status UInt16, body_bytes_sent UInt64, http_referer String,
        http_user_agent String
      ) ENGINE = MergeTree ORDER BY timestamp`,
    );
  }, 30_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const gone = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      const t = setTimeout(() => server!.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  }, 15_000);

  test('100,000 nginx events arrive, with their values', async () => {
    const { batches, totals } = makeBatches();
    const sink = await sinkFor({
      uri: url,
      format: 'clickhouse',
      compression: 'gzip',
      concurrency: 4,
      auth: { strategy: 'basic', user: 'ingest', password: 's3cret' },
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
