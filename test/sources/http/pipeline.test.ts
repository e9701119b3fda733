// The http source inside a real Pipeline, shipping with the real http sink to a receiver that
// holds its answers until the test opens a gate: a client's 200 waits for the sink's ack, and a
// request refused with 503 then retried is delivered exactly once.

import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decompress } from '@mongodb-js/zstd/bindings.js';
import { afterEach, describe, expect, test } from 'vitest';
import { parseConfig } from '../../../src/config/index.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { captureLogger } from '../../helpers/logger.js';
import { useTempDir } from '../../helpers/tmp.js';
import { delay, waitFor } from '../../helpers/wait.js';
import { ndjson, post } from './helpers.js';

/** A downstream receiver (NDJSON, zstd) whose answers wait while its gate is closed. */
interface Gated {
  url: string;
  /** Requests that arrived (answered or not). */
  arrived: number;
  /** `message` of every event in an answered (2xx) request, duplicates kept. */
  delivered: string[];
  /** Those events whole. */
  events: Array<Record<string, unknown>>;
  open(): void;
  close(): Promise<void>;
}

async function startGated(): Promise<Gated> {
  let gateOpen = false;
  const waiting: Array<() => void> = [];
  const g: Gated = {
    url: '',
    arrived: 0,
    delivered: [],
    events: [],
    open() {
      gateOpen = true;
      for (const w of waiting.splice(0)) w();
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      g.arrived++;
      const answer = async (): Promise<void> => {
        const raw = Buffer.concat(parts);
        const body =
          req.headers['content-encoding'] === 'zstd' && raw.length > 0
            ? await decompress(raw)
            : raw;
        for (const line of body.toString('utf8').split('\n')) {
          if (line === '') continue;
          const e = JSON.parse(line) as Record<string, unknown>;
          g.delivered.push(e.message as string);
          g.events.push(e);
        }
        res.writeHead(200).end();
      };
      if (gateOpen) void answer();
      else waiting.push(() => void answer());
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  g.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
  return g;
}

const dir = useTempDir('ves-http-src-');
let pipeline: Pipeline | undefined;
let gated: Gated | undefined;
afterEach(async () => {
  gated?.open();
  await pipeline?.stop();
  await gated?.close();
  pipeline = undefined;
  gated = undefined;
});

async function start(sourceKeys: string): Promise<{ url: string }> {
  gated = await startGated();
  const yaml = `
data_dir: ${dir()}/data
workers: 0
batch: {timeout: 5ms}
sources:
  fleet:
    type: http
    address: 127.0.0.1:0
${sourceKeys}
sinks:
  down:
    type: http
    uri: ${gated.url}
    format: ndjson
    compression: zstd
    healthcheck: false
    retry: {initial_backoff: 20ms, max_backoff: 100ms}
`;
  const { log, records } = captureLogger();
  pipeline = await Pipeline.start(parseConfig(yaml, 'test.yaml', {}), { log });
  const listening = records.find((r) => r.msg === 'http source listening');
  return { url: listening!.url as string };
}

describe('http source -> pipeline -> http sink', () => {
  test('the client is answered only once the sink acknowledged its events', async () => {
    const { url } = await start('');
    let settled = false;
    const answer = post(url, ndjson(10, 'a'));
    void answer.then(() => (settled = true));
    await waitFor(() => gated!.arrived === 1, { what: 'the batch at the receiver' });
    await delay(200); // the receiver holds its answer: so must the source
    expect(settled).toBe(false);
    gated!.open();
    const a = await answer;
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ accepted: 10 });
    expect(gated!.delivered.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `a-${i}`).sort());
  });

  test('a request refused with 503 while another waits, then retried, arrives exactly once', async () => {
    const { url } = await start('    max_in_flight_requests: 1');
    const first = post(url, ndjson(5, 'first'));
    await waitFor(() => gated!.arrived === 1, { what: 'the first batch at the receiver' });
    const refused = await post(url, ndjson(5, 'second'));
    expect(refused.status).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    gated!.open();
    expect((await first).status).toBe(200);
    // The client's retry loop (without the Retry-After wait: the test need not sleep).
    let retry = await post(url, ndjson(5, 'second'));
    for (let i = 0; retry.status === 503 && i < 100; i++) {
      await delay(20);
      retry = await post(url, ndjson(5, 'second'));
    }
    expect(retry.status).toBe(200);
    const counts = new Map<string, number>();
    for (const m of gated!.delivered) counts.set(m, (counts.get(m) ?? 0) + 1);
    expect(counts.size).toBe(10);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  test('graceful stop answers the waiting requests once their events are delivered', async () => {
    const { url } = await start('');
    const answer = post(url, ndjson(3, 'late'));
    await waitFor(() => gated!.arrived === 1);
    const stopped = pipeline!.stop();
    await delay(50);
    gated!.open();
    expect(await stopped).toBe(true);
    expect((await answer).status).toBe(200);
    pipeline = undefined;
  });

  // What an agent's http sink (format ndjson) posts: whole events.
  const agentLines = [
    '{"message":"GET / 200","timestamp":"2026-11-20T08:00:01.250Z","source":"/var/log/nginx/access.log","host":"edge-17","status":200}',
    '{"message":"no origin","dc":"x"}',
  ].join('\n');

  test('forwarded (the default): the agent’s source, host and timestamp reach the sink', async () => {
    const { url } = await start('    fields: {dc: eu-1}');
    gated!.open();
    expect((await post(url, agentLines)).status).toBe(200);
    expect(gated!.events).toStrictEqual([
      {
        message: 'GET / 200',
        timestamp: '2026-11-20T08:00:01.250Z',
        dc: 'eu-1',
        source: '/var/log/nginx/access.log',
        host: 'edge-17',
        status: 200,
      },
      // no source or host of the aggregator's: a line without them gets none
      { message: 'no origin', timestamp: expect.any(String), dc: 'eu-1', _dc: 'x' },
    ]);
  });

  test('forwarded: false: the aggregator’s source (peer IP) and host, the agent’s with `_`', async () => {
    const { url } = await start('    forwarded: false');
    gated!.open();
    expect((await post(url, agentLines)).status).toBe(200);
    expect(gated!.events[0]).toMatchObject({
      timestamp: '2026-11-20T08:00:01.250Z',
      source: '127.0.0.1',
      host: expect.any(String),
      _source: '/var/log/nginx/access.log',
      _host: 'edge-17',
    });
    expect(gated!.events[0].host).not.toBe('edge-17');
  });
});
