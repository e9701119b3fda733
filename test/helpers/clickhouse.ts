// A throwaway ClickHouse: Debian's clickhouse-server (18.16) started as an ordinary process with
// its config in a temp dir, on free loopback ports, stopped and removed by `stop()`.
// Used by the http sink's clickhouse test and the fleet e2e test. CI installs the server
// (.ci/run); without it startClickHouse() fails and says so: the tests never skip.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.js';
import { waitFor } from './wait.js';

const CANDIDATES = [
  '/usr/sbin/clickhouse-server',
  '/usr/bin/clickhouse-server',
  '/usr/bin/clickhouse',
];

const configXml = (dir: string, http: number, tcp: number): string => `<?xml version="1.0"?>
<!-- Written by test/helpers/clickhouse.ts: a throwaway server in ${dir}. -->
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

/** Two users: `default` (no password, for the test's own queries) and `ingest` / INGEST_PASSWORD. */
export const INGEST_USER = 'ingest';
export const INGEST_PASSWORD = 's3cret';

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
    <${INGEST_USER}>
      <password>${INGEST_PASSWORD}</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${INGEST_USER}>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
`;

export interface ClickHouse {
  /** http://127.0.0.1:<port> of the HTTP interface. */
  url: string;
  /** Runs one statement as `default`; the trimmed answer, or throws with ClickHouse's text. */
  query(sql: string): Promise<string>;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Starts a server and waits (up to 20 s) until it answers /ping. */
export async function startClickHouse(): Promise<ClickHouse> {
  const bin = CANDIDATES.find((p) => existsSync(p));
  if (!bin) {
    throw new Error(
      'clickhouse-server is not installed: run .ci/run (CI installs it), or `apt-get install -y clickhouse-server`',
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'ves-ch-'));
  const [http, tcp] = [await freePort(), await freePort()];
  await writeFile(join(dir, 'config.xml'), configXml(dir, http, tcp));
  await writeFile(join(dir, 'users.xml'), USERS_XML);
  const url = `http://127.0.0.1:${http}`;
  const args = bin.endsWith('/clickhouse') ? ['server'] : [];
  const server: ChildProcess = spawn(bin, [...args, `--config-file=${join(dir, 'config.xml')}`], {
    cwd: dir,
    stdio: 'ignore',
  });
  let exited: string | undefined;
  server.once('exit', (code, sig) => (exited = `exited (${code ?? sig})`));

  const stop = async (): Promise<void> => {
    if (server.exitCode === null && server.signalCode === null) {
      const gone = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      const t = setTimeout(() => server.kill('SIGKILL'), 5000);
      await gone;
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };

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
    await stop();
    throw new Error(`${(err as Error).message}\n--- server.err.log ---\n${log.slice(-3000)}`);
  }

  const query = async (sql: string): Promise<string> => {
    const res = await fetch(`${url}/?user=default`, { method: 'POST', body: sql });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse said ${res.status} to ${sql}: ${text}`);
    return text.trim();
  };
  return { url, query, stop };
}
