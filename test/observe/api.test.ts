// The admin API in-process: each endpoint's status, type and body; read-only; loopback names only.
import { request } from 'node:http';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { startApi, splitAddress, type ApiServer } from '../../src/observe/api.js';
import { Counters } from '../../src/observe/counters.js';
import { sinksHealth } from '../../src/observe/health.js';
import { Sampler, type PipelineView } from '../../src/observe/sampler.js';
import { silentLogger } from '../../src/observe/logger.js';

let api: ApiServer;
let counters: Counters;
let sampler: Sampler;
let view: PipelineView | undefined;
let running = true;

beforeEach(async () => {
  counters = new Counters();
  counters.sink('out');
  running = true;
  view = {
    inFlight: { batches: 0, bytes: 0, events: 0 },
    health: () => ({ running, sinks: sinksHealth(counters, ['out']) }),
  };
  sampler = new Sampler(counters, { view: () => view, usage: async () => ({ cpu: 1, rss: 1 }) });
  api = await startApi({
    address: '127.0.0.1:0',
    counters,
    sampler,
    view: () => view,
    log: silentLogger,
  });
});
afterEach(async () => {
  sampler.stop();
  await api.close();
});

function get(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; type: string; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          type: String(res.headers['content-type']),
          body,
          headers: res.headers,
        }),
      );
    });
    req.on('error', reject).end();
  });
}

test('splitAddress takes IPv4, names and bracketed IPv6', () => {
  expect(splitAddress('127.0.0.1:8686')).toEqual({ host: '127.0.0.1', port: 8686 });
  expect(splitAddress('localhost:0')).toEqual({ host: 'localhost', port: 0 });
  expect(splitAddress('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
});

test('binds the loopback address, on the free port it was given', () => {
  expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  expect(api.url.endsWith(':0')).toBe(false);
});

test('/metrics is Prometheus text', async () => {
  counters.sourceChunk('web', 10, 100);
  const r = await get('/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
  expect(r.body).toContain('ves_source_lines_total{source="web"} 10');
  expect(r.body).toMatch(/^process_resident_memory_bytes \d+$/m);
});

test('/health: 200 ok; 503 with the reason while a sink fails; 503 stopping; 503 starting', async () => {
  let r = await get('/health');
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body)).toMatchObject({ status: 'ok', sinks: { out: { healthy: true } } });

  const s = counters.sink('out');
  s.failuresInARow = 5;
  s.failingSince = Date.now() - 2000;
  s.lastError = 'VES_SINK_WRITE: ENOSPC: no space left on device';
  r = await get('/health');
  expect(r.status).toBe(503);
  const body = JSON.parse(r.body);
  expect(body.status).toBe('unhealthy');
  expect(body.reason).toMatch(
    /^sink out: 5 writes failed in a row over 2\.\d s: VES_SINK_WRITE: ENOSPC/,
  );
  expect(body.sinks.out).toMatchObject({ healthy: false, failures_in_a_row: 5 });

  s.failuresInARow = 0;
  s.failingSince = 0;
  running = false;
  r = await get('/health');
  expect([r.status, JSON.parse(r.body).status]).toEqual([503, 'stopping']);
  view = undefined;
  r = await get('/health');
  expect([r.status, JSON.parse(r.body).status]).toEqual([503, 'starting']);
});

test('/stats is the JSON snapshot', async () => {
  const r = await get('/stats');
  expect(r.status).toBe(200);
  expect(r.type).toContain('application/json');
  const s = JSON.parse(r.body);
  expect(s).toMatchObject({ status: 'ok', queue: { batches: 0 }, sinks: [{ id: 'out' }] });
  expect(s.latency_ms.handoff).toHaveProperty('p99');
});

test('/ui is the self-contained dashboard, with a CSP that forbids loading anything else', async () => {
  const r = await get('/ui');
  expect(r.status).toBe(200);
  expect(r.type).toBe('text/html; charset=utf-8');
  expect(r.body).toContain('<canvas id="c-tp">');
  expect(r.body).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
  expect(String(r.headers['content-security-policy'])).toContain("default-src 'none'");
  expect((await get('/')).status).toBe(302);
});

test('/events sends the history, then a snapshot per tick', async () => {
  await sampler.tick();
  const chunks: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const req = request(`${api.url}/events`, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      res.setEncoding('utf8').on('data', (d: string) => {
        chunks.push(d);
        if (chunks.join('').split('\n\ndata: ').length >= 3) {
          req.destroy();
          resolve();
        }
      });
      void sampler.tick();
    });
    req.on('error', reject).end();
  });
  const text = chunks.join('');
  expect(text.startsWith('retry: 2000\nevent: history\ndata: [{')).toBe(true);
  const events = text.split('\n\n').filter((e) => e.startsWith('data: {'));
  expect(events.length).toBeGreaterThanOrEqual(2);
  expect(JSON.parse(events[0].slice(6))).toHaveProperty('point');
});

test('read-only, 404 for the rest, and only loopback Host names (DNS rebinding)', async () => {
  expect((await get('/metrics', {}, 'POST')).status).toBe(405);
  expect((await get('/nope')).status).toBe(404);
  expect((await get('/stats', { host: 'attacker.example:8686' })).status).toBe(403);
  expect((await get('/stats', { host: 'localhost:8686' })).status).toBe(200);
});

test('a port in use fails with VES_API_LISTEN', async () => {
  const port = new URL(api.url).port;
  await expect(
    startApi({
      address: `127.0.0.1:${port}`,
      counters,
      sampler,
      view: () => view,
      log: silentLogger,
    }),
  ).rejects.toMatchObject({ code: 'VES_API_LISTEN', message: expect.stringContaining('in use') });
});
