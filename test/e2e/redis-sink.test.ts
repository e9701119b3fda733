// The built binary ships a file into Redis Streams: file source (nginx parser) -> redis sink
// against Debian's redis-server started here. Every line is in the stream (XLEN), each entry
// with the event's fields; a graceful stop and restart adds no duplicate; a redis-server that
// is not there fails the start with exit 1 and a message naming the url, not its password.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nginxGenerator } from '../../src/gen/nginx.js';
import { useRedisServer, freePort, readStream, type RedisServer } from '../helpers/redis-server.js';
import { runAgent, startAgent, useTestDir } from './harness.js';

let redis: RedisServer;
useRedisServer((r) => (redis = r), { password: 'e2e-secret' });

let dir: string;
useTestDir((d) => (dir = d));

const LINES = 20_000;

async function nginxLog(path: string, from: number, n: number): Promise<string[]> {
  const gen = nginxGenerator(11);
  const start = Date.UTC(2026, 10, 23, 12);
  const lines: string[] = [];
  for (let i = 0; i < from + n; i++) {
    const line = gen.line(start + i * 10);
    if (i >= from) lines.push(line);
  }
  await writeFile(path, lines.join('\n') + '\n', { flag: from === 0 ? 'w' : 'a' });
  return lines;
}

async function config(log: string, stream: string, url: string, extra = ''): Promise<string> {
  const path = join(dir, 'agent.yaml');
  await writeFile(
    path,
    `data_dir: ${join(dir, 'data')}
checkpoint_interval: 100ms
sources:
  web:
    type: file
    include: [${JSON.stringify(log)}]
    parser: nginx
    fields: {service: web}
sinks:
  streams:
    type: redis
    url: ${url}
    auth: {password: "\${REDIS_PASSWORD}"}
    stream: ${stream}
    maxlen: 0
${extra}batch: {max_events: 1000, timeout: 5ms}
`,
  );
  return path;
}

describe('file -> redis sink (built binary)', () => {
  test('every line arrives as one stream entry with the parsed fields; a restart adds no duplicate', async () => {
    const log = join(dir, 'access.log');
    const lines = await nginxLog(log, 0, LINES);
    const cfg = await config(log, 'nginx:{service}', redis.url);
    const env = { REDIS_PASSWORD: 'e2e-secret' };
    const first = startAgent(['--config', cfg], { env });
    await waitForLen('nginx:web', LINES, first.stderr);
    first.proc.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(first.stderr()).not.toContain('e2e-secret');

    // More lines while it is stopped; the restart sends only those.
    const more = await nginxLog(log, LINES, 1000);
    const second = startAgent(['--config', cfg], { env });
    await waitForLen('nginx:web', LINES + 1000, second.stderr);
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(await redis.client.xlen('nginx:web')).toBe(LINES + 1000);

    // The nginx parser keeps no `message` (its fields hold all of the line): compare those.
    const COMBINED =
      /^(\S+) - (\S+) \[[^\]]+\] "(\S+) (\S+) (\S+)" (\d+) (\d+) "([^"]*)" "([^"]*)"$/;
    const want = [...lines, ...more].map((line) => {
      const m = COMBINED.exec(line);
      if (!m) throw new Error(`test bug: cannot parse ${line}`);
      return [m[1], m[3], m[4], m[6], m[7], m[9]].join(' ');
    });
    const entries = await readStream(redis.client, 'nginx:web');
    const got = entries.map(([, f]) =>
      [f.remote_addr, f.method, f.path, f.status, f.body_bytes_sent, f.http_user_agent].join(' '),
    );
    expect(got).toEqual(want);
    const f = entries[0][1];
    expect(f).toMatchObject({ service: 'web', source: log, protocol: 'HTTP/1.1' });
    expect(Number(f.status)).toBeGreaterThanOrEqual(100); // a JSON number in the event, text here
    expect(typeof f.host).toBe('string');
    expect(new Date(f.timestamp).toISOString()).toBe(f.timestamp);
  }, 120_000);

  test('redis-server not there: exit 1, VES_SINK_HEALTHCHECK naming the url without the password', async () => {
    const log = join(dir, 'access.log');
    await nginxLog(log, 0, 10);
    const port = await freePort();
    const cfg = await config(log, 'x', `redis://127.0.0.1:${port}/0`, '    timeout: 2s\n');
    const r = await runAgent(['--config', cfg], { env: { REDIS_PASSWORD: 'not-to-be-seen' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('VES_SINK_HEALTHCHECK');
    expect(r.stderr).toContain(`redis://127.0.0.1:${port}/0`);
    expect(r.stderr).not.toContain('not-to-be-seen');
  }, 60_000);

  test('validate accepts the example config/file-to-redis.yaml', async () => {
    const r = await runAgent(['validate', 'config/file-to-redis.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

/** Polls XLEN until the stream holds `want` entries (the harness's waitFor is synchronous). */
async function waitForLen(key: string, want: number, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000; // 20,000 lines take well under a second idle
  for (;;) {
    const n = await redis.client.xlen(key);
    if (n >= want) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${want} entries in ${key} (have ${n}): ${stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
