// The built binary shipping over HTTP: a file source into the http sink (zstd, 4 requests in
// flight) against the local receiver while it resets connections and answers 503; every line
// arrives and a graceful stop exits 0. Also the seed's `ship_url` shorthand, and a health check
// that fails the start with VES_SINK_HEALTHCHECK.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { seqLines, startAgent, tempDir, waitFor } from '../../e2e/harness.js';
import { missing } from './helpers.js';
import { startReceiver, type Receiver } from './receiver.js';

let rx: Receiver | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await rx?.close();
  await cleanup?.();
  rx = undefined;
  cleanup = undefined;
});

/** `seq=<n>` of every line the receiver accepted (the events carry the lines as `message`). */
function lineSeqs(r: Receiver): number[] {
  const out: number[] = [];
  for (const m of r
    .acceptedBytes()
    .toString('utf8')
    .matchAll(/seq=(\d+)/g))
    out.push(Number(m[1]));
  return out;
}

describe('the binary with an http sink', () => {
  test('every line arrives through resets and 503s; SIGTERM exits 0', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    rx = await startReceiver();
    const LINES = 20_000;
    const log = join(t.dir, 'app.log');
    await writeFile(log, seqLines(0, LINES));
    // Faults for batches only (a body): the start-up probe must pass.
    const batch = (body: string): boolean => body.length > 0;
    rx.inject({ kind: 'reset' }, 3, batch);
    rx.inject({ kind: 'status', status: 503, headers: { 'retry-after': '0' } }, 3, batch);
    const cfg = join(t.dir, 'agent.yaml');
    await writeFile(
      cfg,
      `data_dir: ${join(t.dir, 'data')}
sources:
  app: {type: file, include: [${JSON.stringify(log)}]}
batch: {max_events: 500}
sinks:
  up:
    type: http
    uri: ${rx.url}/v1/logs
    compression: zstd
    concurrency: 4
    auth: {strategy: bearer, token: "\${VES_TOKEN}"}
    retry: {initial_backoff: 5ms, max_backoff: 50ms}
`,
    );
    const agent = startAgent(['--config', cfg, '--log-level', 'warn'], {
      env: { VES_TOKEN: 'e2e-token' },
    });
    await waitFor(
      () => missing(lineSeqs(rx!), LINES).length === 0,
      'every line at the receiver',
      20_000,
      () => `${new Set(lineSeqs(rx!)).size} of ${LINES}; stderr: ${agent.stderr().slice(-2000)}`,
    );
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(rx.all.length - rx.accepted.length).toBe(6); // the faults did happen
    const posts = rx.all.filter((r) => r.method === 'POST');
    expect(posts.every((r) => r.headers.authorization === 'Bearer e2e-token')).toBe(true);
    expect(posts.every((r) => r.headers['content-encoding'] === 'zstd')).toBe(true);
    // The token never reaches the agent's log.
    expect(agent.stderr()).not.toContain('e2e-token');
  });

  test('ship_url: the seed shorthand ships NDJSON to that URL', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    rx = await startReceiver();
    const log = join(t.dir, 'app.log');
    await writeFile(log, seqLines(0, 100));
    const cfg = join(t.dir, 'agent.yaml');
    await writeFile(
      cfg,
      `data_dir: ${join(t.dir, 'data')}\nwatch_path: ${JSON.stringify(log)}\nship_url: ${rx.url}/ingest\n`,
    );
    const agent = startAgent(['--config', cfg, '--log-level', 'warn']);
    await waitFor(() => missing(lineSeqs(rx!), 100).length === 0, 'the lines at the receiver');
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(rx.accepted.some((r) => r.url === '/ingest')).toBe(true);
  });

  test('an unreachable endpoint fails the start with VES_SINK_HEALTHCHECK', async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    const probe = await startReceiver();
    const url = probe.url;
    await probe.close();
    const log = join(t.dir, 'app.log');
    await writeFile(log, seqLines(0, 1));
    const cfg = join(t.dir, 'agent.yaml');
    await writeFile(
      cfg,
      `data_dir: ${join(t.dir, 'data')}\nsources:\n  app: {type: file, include: [${JSON.stringify(log)}]}\nsinks:\n  up: {type: http, uri: ${url}/v1/logs}\n`,
    );
    const agent = startAgent(['--config', cfg]);
    const { code } = await agent.exited;
    expect(code).not.toBe(0);
    expect(agent.stderr()).toContain('VES_SINK_HEALTHCHECK');
    expect(agent.stderr()).toContain(`${url}/v1/logs is not reachable`);
  });
});
