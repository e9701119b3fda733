// Agent -> aggregator, both the built binary: an agent tails a file and ships it with its http
// sink (format ndjson, zstd, bearer token) to an aggregator whose http source writes a file.
// Every line must arrive; after a kill -9 of the aggregator, at least once.

import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import {
  type Agent,
  lineCount,
  readNdjson,
  seqLines,
  seqs,
  startAgent,
  tempDir,
  waitFor,
} from './harness.js';

const TOKEN = 'e2e-token-5b1c';
const running: Agent[] = [];
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const a of running.splice(0)) {
    if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGKILL');
    await a.exited;
  }
  for (const c of cleanups.splice(0)) await c();
});

async function setup() {
  const { dir, cleanup } = await tempDir('ves-e2e-http-src-');
  cleanups.push(cleanup);
  return {
    dir,
    log: join(dir, 'app.log'),
    out: join(dir, 'fleet.ndjson'),
    aggConfig: join(dir, 'aggregator.yaml'),
    agentConfig: join(dir, 'agent.yaml'),
  };
}

async function writeAggregator(p: Awaited<ReturnType<typeof setup>>, port: number) {
  await writeFile(
    p.aggConfig,
    `data_dir: ${join(p.dir, 'agg-data')}
sources:
  fleet:
    type: http
    address: 127.0.0.1:${port}
    auth: {strategy: bearer, token: "\${VES_TOKEN}"}
sinks:
  store:
    type: file
    path: ${p.out}
`,
  );
}

/** Starts the aggregator and waits for the port it listens on (from its log). */
async function startAggregator(p: Awaited<ReturnType<typeof setup>>): Promise<[Agent, number]> {
  const agg = startAgent(['--config', p.aggConfig], { env: { VES_TOKEN: TOKEN } });
  running.push(agg);
  let port = 0;
  await waitFor(
    () => {
      const m = /http source listening url=http:\/\/127\.0\.0\.1:(\d+)\/v1\/logs/.exec(
        agg.stderr(),
      );
      if (m) port = Number(m[1]);
      return port > 0;
    },
    'the aggregator to listen',
    15_000,
    agg.stderr,
  );
  return [agg, port];
}

async function startShipper(p: Awaited<ReturnType<typeof setup>>, port: number): Promise<Agent> {
  await writeFile(
    p.agentConfig,
    `data_dir: ${join(p.dir, 'agent-data')}
host: edge-1
checkpoint_interval: 100ms
sources:
  app:
    type: file
    include: [${JSON.stringify(p.log)}]
    poll_interval: 50ms
sinks:
  up:
    type: http
    uri: http://127.0.0.1:${port}/v1/logs
    format: ndjson
    compression: zstd
    auth: {strategy: bearer, token: "\${VES_TOKEN}"}
    retry: {initial_backoff: 20ms, max_backoff: 200ms}
batch:
  max_events: 500
  timeout: 5ms
`,
  );
  const agent = startAgent(['--config', p.agentConfig], { env: { VES_TOKEN: TOKEN } });
  running.push(agent);
  return agent;
}

describe('agent http sink -> aggregator http source -> file', () => {
  test('every line arrives exactly once, with the agent’s own source, host and timestamp', async () => {
    const p = await setup();
    const total = 20_000;
    await writeFile(p.log, seqLines(0, total / 2));
    await writeAggregator(p, 0);
    const [agg, port] = await startAggregator(p);
    const agent = await startShipper(p, port);
    await waitFor(() => lineCount(p.out) >= total / 2, 'the first half', 30_000, agg.stderr);
    await appendFile(p.log, seqLines(total / 2, total));
    await waitFor(() => lineCount(p.out) >= total, 'every line', 30_000, agg.stderr);

    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    agg.proc.kill('SIGTERM');
    expect((await agg.exited).code).toBe(0);

    const events = readNdjson(p.out);
    expect(events).toHaveLength(total);
    const got = seqs(events).sort((a, b) => a - b);
    expect(got).toEqual(Array.from({ length: total }, (_, i) => i));
    // The agent's events as it sent them (forwarded): its message, timestamp, source (the
    // file it tailed) and host; the aggregator adds no source or host of its own.
    for (const e of events) {
      expect(e.message).toMatch(/^line seq=\d+ /);
      expect(e.source).toBe(p.log);
      expect(e.host).toBe('edge-1');
      expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(e._source).toBeUndefined();
      expect(e._host).toBeUndefined();
    }
    expect(agg.stderr()).not.toContain(TOKEN);
    expect(agent.stderr()).not.toContain(TOKEN);
  });

  test('kill -9 of the aggregator mid-stream: after its restart every line is there', async () => {
    const p = await setup();
    const total = 30_000;
    await writeFile(p.log, seqLines(0, total));
    await writeAggregator(p, 0);
    const [first, port] = await startAggregator(p);
    const agent = await startShipper(p, port);
    await waitFor(() => lineCount(p.out) >= 2_000, 'some lines', 30_000, first.stderr);
    first.proc.kill('SIGKILL');
    await first.exited;
    const atKill = lineCount(p.out);
    // The same port again: the agent's uri names it.
    await writeAggregator(p, port);
    const [second] = await startAggregator(p);
    await waitFor(
      // Polled while the aggregator writes, and between the kill and the restart's repair.
      () => new Set(seqs(readNdjson(p.out, { complete: true }))).size === total,
      'every line after the restart',
      60_000,
      () => `${lineCount(p.out)} lines (${atKill} at the kill); ${second.stderr()}`,
    );
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    // At-least-once: only requests in flight at the kill may arrive twice.
    const events = readNdjson(p.out);
    expect(events.length - total).toBeLessThan(total / 2);
  }, 120_000);
});
