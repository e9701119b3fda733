// The http source against a real client on an ephemeral port: routing, auth, the 400/413/503
// refusals (nothing of a refused request is emitted), compressed bodies, a body cut mid-line,
// and the answer waiting for the commit of the request's mark.

import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { compress } from '@mongodb-js/zstd/bindings.js';
import { afterEach, describe, expect, test } from 'vitest';
import { Counters } from '../../../src/observe/counters.js';
import { renderMetrics } from '../../../src/observe/metrics.js';
import { delay, waitFor } from '../../helpers/wait.js';
import { ndjson, post, startSource, type Harness } from './helpers.js';

const TOKEN = 'tok-3f9a';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Post, wait for the chunk(s) to be emitted, commit them, and return the answer. */
async function postAndCommit(harness: Harness, body: string | Buffer, headers = {}) {
  const before = harness.chunks.length;
  const answer = post(harness.url, body, { headers });
  // The answer may also be a refusal (no chunk emitted): whichever comes first.
  let settled = false;
  void answer.then(() => (settled = true));
  await waitFor(() => settled || harness.chunks.length > before, { what: 'an emit or an answer' });
  if (!settled) {
    await waitFor(() => harness.lastMark() !== null && harness.chunks.at(-1)!.mark !== null);
    harness.commit(harness.lastMark()!.offset);
  }
  return answer;
}

describe('accepting', () => {
  test('emits the lines with the peer as path, answers 200 only once the mark is committed', async () => {
    h = await startSource();
    const answer = post(h.url, ndjson(3));
    let settled = false;
    void answer.then(() => (settled = true));
    await waitFor(() => h!.chunks.length === 1, { what: 'the chunk' });
    const c = h.chunks[0];
    expect(c).toMatchObject({ sourceId: 'fleet', path: '127.0.0.1', lines: 3, truncated: false });
    expect(c.mark).toMatchObject({ sourceId: 'fleet', key: 'http', offset: 1 });
    expect(c.buf.toString()).toBe(ndjson(3));
    // No commit yet: no answer, however long we wait for it here.
    await delay(100);
    expect(settled).toBe(false);
    h.commit(0); // an earlier mark does not cover request 1
    await delay(50);
    expect(settled).toBe(false);
    h.commit(1);
    const a = await answer;
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ accepted: 3 });
  });

  test('one commit answers every request up to its mark, in order', async () => {
    h = await startSource();
    const answers = [post(h.url, ndjson(1, 'a')), post(h.url, ndjson(2, 'b'))];
    await waitFor(() => h!.chunks.length === 2);
    expect(h.chunks.map((c) => c.mark?.offset)).toEqual([1, 2]);
    h.commit(2);
    expect((await Promise.all(answers)).map((a) => a.json.accepted)).toEqual([1, 2]);
  });

  test.each([
    ['gzip', (b: Buffer) => Promise.resolve(gzipSync(b))],
    ['zstd', (b: Buffer) => compress(b, 1)], // exactly what the http sink sends
    ['x-gzip', (b: Buffer) => Promise.resolve(gzipSync(b))],
  ])('%s bodies are decoded', async (encoding, pack) => {
    h = await startSource();
    const text = ndjson(500, encoding);
    const a = await postAndCommit(h, await pack(Buffer.from(text)), {
      'content-encoding': encoding,
    });
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ accepted: 500 });
    expect(h.lines().join('\n') + '\n').toBe(text);
  });

  test('a big body is cut into chunks at line ends; only the last carries the mark', async () => {
    h = await startSource();
    const text = ndjson(30_000); // ~900 KiB: several 256 KiB chunks
    const a = await postAndCommit(h, text);
    expect(a.json).toEqual({ accepted: 30_000 });
    expect(h.chunks.length).toBeGreaterThan(2);
    expect(h.chunks.every((c) => c.buf.at(-1) === 10)).toBe(true);
    expect(h.chunks.slice(0, -1).every((c) => c.mark === null)).toBe(true);
    expect(h.chunks.reduce((n, c) => n + c.lines, 0)).toBe(30_000);
    expect(Buffer.concat(h.chunks.map((c) => c.buf)).toString()).toBe(text);
  });

  test('blank lines are skipped and a last line without a newline is taken', async () => {
    h = await startSource();
    const a = await postAndCommit(h, '\n{"message":"a"}\r\n  \n{"message":"b"}');
    expect(a.json).toEqual({ accepted: 2 });
    expect(h.lines()).toEqual(['{"message":"a"}\r', '{"message":"b"}']);
    expect(h.chunks.reduce((n, c) => n + c.lines, 0)).toBe(2);
  });

  test('an empty body is answered 200 at once, nothing emitted', async () => {
    h = await startSource();
    const a = await post(h.url, '');
    expect(a.status).toBe(200);
    expect(a.json).toEqual({ accepted: 0 });
    expect(h.chunks).toEqual([]);
  });
});

describe('400: the first bad line, nothing of the request taken', () => {
  test.each([
    ['{"a":1}\n{"a":\n{"b":2}\n', 2, 'not valid JSON'],
    ['{"a":1}\n\n[1,2]\n', 3, 'valid JSON but not an object'],
    ['"text"\n', 1, 'valid JSON but not an object'],
    ['{"a":1} {"b":2}\n', 1, 'not valid JSON'],
    ['{"a":1}\n{"a":"\u0001"}\n', 2, 'not valid JSON'], // a raw control character
    ['{"a":1}\n{"a":1', 2, 'not valid JSON'], // cut mid-line, but framed as complete
  ])('%j -> line %i', async (body, line, reason) => {
    h = await startSource();
    const a = await post(h.url, body);
    expect(a.status).toBe(400);
    expect(a.json.error).toContain(`line ${line}: ${reason}`);
    expect(h.chunks).toEqual([]);
  });

  test('a corrupt compressed body is a 400', async () => {
    h = await startSource();
    for (const enc of ['gzip', 'zstd']) {
      const a = await post(h.url, 'not compressed at all', {
        headers: { 'content-encoding': enc },
      });
      expect(a.status).toBe(400);
      expect(a.json.error).toContain(`not a valid ${enc} body`);
    }
    expect(h.chunks).toEqual([]);
  });

  test('an unknown Content-Encoding is a 415', async () => {
    h = await startSource();
    const a = await post(h.url, 'x', { headers: { 'content-encoding': 'br' } });
    expect(a.status).toBe(415);
  });
});

describe('401: bearer token', () => {
  test.each([
    ['no header', {}],
    ['a wrong token', { authorization: 'Bearer tok-3f9b' }],
    ['a longer token', { authorization: `Bearer ${TOKEN}x` }],
    ['another scheme', { authorization: `Basic ${TOKEN}` }],
  ])('%s -> 401, nothing emitted', async (_what, headers) => {
    h = await startSource({ auth: { strategy: 'bearer', token: TOKEN } });
    const a = await post(h.url, ndjson(1), { headers });
    expect(a.status).toBe(401);
    expect(a.headers['www-authenticate']).toBe('Bearer');
    expect(a.body).not.toContain(TOKEN);
    expect(h.chunks).toEqual([]);
  });

  test('the right token (scheme in any case) is accepted; the token is never logged', async () => {
    h = await startSource({ auth: { strategy: 'bearer', token: TOKEN } });
    expect((await postAndCommit(h, ndjson(1), AUTH)).status).toBe(200);
    const b = await postAndCommit(h, ndjson(1), { authorization: `bearer ${TOKEN}` });
    expect(b.status).toBe(200);
    await post(h.url, ndjson(1), { headers: { authorization: 'Bearer nope' } });
    expect(JSON.stringify(h.records)).not.toContain(TOKEN);
  });
});

describe('413: body bounds', () => {
  test('Content-Length over max_body_bytes: refused unread', async () => {
    h = await startSource({ max_body_bytes: '1KiB' });
    const a = await post(h.url, ndjson(100));
    expect(a.status).toBe(413);
    expect(a.headers.connection).toBe('close');
    expect(h.chunks).toEqual([]);
  });

  test('a chunked body that grows over max_body_bytes', async () => {
    h = await startSource({ max_body_bytes: '1KiB' });
    const a = await post(h.url, ndjson(100), { chunked: true });
    expect(a.status).toBe(413);
    expect(h.chunks).toEqual([]);
  });

  test.each([
    ['gzip', (b: Buffer) => Promise.resolve(gzipSync(b))],
    ['zstd', (b: Buffer) => compress(b, 3)],
  ])('a %s body inflating past max_body_bytes (a zip bomb)', async (encoding, pack) => {
    h = await startSource({ max_body_bytes: '64KiB' });
    const bomb = await pack(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MiB of spaces
    expect(bomb.length).toBeLessThan(64 * 1024);
    const a = await post(h.url, bomb, { headers: { 'content-encoding': encoding } });
    expect(a.status).toBe(413);
    expect(a.json.error).toMatch(/inflates? to more than max_body_bytes/);
    expect(h.chunks).toEqual([]);
  });
});

describe('503: admission, pause, stop, ack timeout', () => {
  test('max_in_flight_requests: a request waiting for its ack holds its slot', async () => {
    h = await startSource({ max_in_flight_requests: 1 });
    const first = post(h.url, ndjson(1, 'first'));
    await waitFor(() => h!.chunks.length === 1);
    const second = await post(h.url, ndjson(1, 'second'));
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    expect(second.headers.connection).toBe('close');
    expect(h.chunks.length).toBe(1);
    h.commit(1);
    expect((await first).status).toBe(200);
    // The slot is free again: the retry goes through.
    const retry = await postAndCommit(h, ndjson(1, 'second'));
    expect(retry.status).toBe(200);
    expect(h.lines().map((l) => JSON.parse(l).message)).toEqual(['first-0', 'second-0']);
  });

  test('max_in_flight_bytes: by Content-Length before reading, or as a chunked body streams', async () => {
    h = await startSource({ max_in_flight_bytes: '2KiB', retry_after: '3s' });
    const first = post(h.url, ndjson(60)); // ~1.5 KiB, waits for its ack
    await waitFor(() => h!.chunks.length === 1);
    expect(Buffer.byteLength(ndjson(60))).toBeGreaterThan(1024);
    const known = await post(h.url, ndjson(60));
    expect(known.status).toBe(503);
    expect(known.headers['retry-after']).toBe('3');
    const streamed = await post(h.url, ndjson(60), { chunked: true });
    expect(streamed.status).toBe(503);
    expect(h.chunks.length).toBe(1);
    h.commit(1);
    expect((await first).status).toBe(200);
    expect((await postAndCommit(h, ndjson(60))).status).toBe(200);
  });

  test('Expect: 100-continue: a refused client never sends its body; an admitted one does', async () => {
    h = await startSource({ max_in_flight_requests: 1 });
    const first = post(h.url, ndjson(3), { expectContinue: true });
    await waitFor(() => h!.chunks.length === 1);
    const refused = await post(h.url, ndjson(3, 'second'), { expectContinue: true });
    expect(refused.status).toBe(503);
    expect(h.counters.http!.bytes).toBe(Buffer.byteLength(ndjson(3)));
    h.commit(1);
    expect((await first).json).toEqual({ accepted: 3 });
  });

  test('while the pipeline has paused the source, and again after resume()', async () => {
    h = await startSource();
    h.src.pause();
    const a = await post(h.url, ndjson(1));
    expect(a.status).toBe(503);
    expect(a.headers['retry-after']).toBe('1');
    expect(a.json.error).toContain('busy');
    expect((await post(h.url, '', { method: 'GET' }).catch(() => null))?.status).toBe(405);
    h.src.resume();
    expect((await postAndCommit(h, ndjson(1))).status).toBe(200);
  });

  test('no commit within ack_timeout: 503 (the client retries)', async () => {
    h = await startSource({ ack_timeout: '50ms' });
    const a = await post(h.url, ndjson(2));
    expect(a.status).toBe(503);
    expect(a.headers['retry-after']).toBe('1');
    expect(a.json.error).toContain('ack_timeout');
    expect(h.chunks.length).toBe(1); // it was emitted: at-least-once, the retry may duplicate
    h.commit(1); // a late commit finds nobody to answer
  });

  test('stop(): new requests get 503, waiting ones are still answered on commit', async () => {
    h = await startSource();
    const waiting = post(h.url, ndjson(1));
    await waitFor(() => h!.chunks.length === 1);
    await h.src.stop();
    // The listener is closed: a new connection is refused outright.
    await expect(post(h.url, ndjson(1))).rejects.toThrow(/ECONNREFUSED/);
    h.commit(1);
    const a = await waiting;
    expect(a.status).toBe(200);
    expect(a.headers.connection).toBe('close');
  });
});

describe('a client that goes away', () => {
  test('a body cut mid-line (client aborts): nothing emitted, its slot freed', async () => {
    h = await startSource({ max_in_flight_requests: 1 });
    const url = new URL(h.url);
    const full = Buffer.from(ndjson(100));
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-length': String(full.length) },
        agent: false,
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      // Half the body, ending mid-line, then the connection drops.
      req.write(full.subarray(0, Math.floor(full.length / 2) + 3), () => {
        setTimeout(() => req.destroy(), 50);
      });
    });
    // The next request gets the one slot (so the aborted one released it) and is the only one emitted.
    await waitFor(
      async () => {
        const a = await postAndCommit(h!, ndjson(1, 'after'));
        return a.status === 200;
      },
      { what: 'the slot to be released', interval: 20 },
    );
    expect(h.lines().map((l) => JSON.parse(l).message)).toEqual(['after-0']);
  });
});

describe('routing', () => {
  test('other paths 404, other methods 405, OPTIONS 204, GET /health', async () => {
    h = await startSource();
    const base = h.url.replace('/v1/logs', '');
    expect((await post(`${base}/v1/other`, ndjson(1))).status).toBe(404);
    const put = await post(h.url, ndjson(1), { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('POST, OPTIONS');
    expect((await post(h.url, '', { method: 'OPTIONS' })).status).toBe(204);
    const health = await post(`${base}/health`, '', { method: 'GET' });
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    h.src.pause();
    expect((await post(`${base}/health`, '', { method: 'GET' })).status).toBe(503);
    expect(h.chunks).toEqual([]);
  });

  test('a query string is allowed on /v1/logs', async () => {
    h = await startSource();
    const before = h.chunks.length;
    const answer = post(`${h.url}?tenant=a`, ndjson(1));
    await waitFor(() => h!.chunks.length > before);
    h.commit(1);
    expect((await answer).status).toBe(200);
  });
});

describe('counters', () => {
  test('requests by status and bytes as received reach /metrics', async () => {
    h = await startSource({ auth: { strategy: 'bearer', token: TOKEN } });
    const packed = gzipSync(ndjson(10));
    await postAndCommit(h, packed, { ...AUTH, 'content-encoding': 'gzip' });
    await post(h.url, '[1]\n', { headers: AUTH });
    await post(h.url, ndjson(1));
    await post(h.url, ndjson(1));
    expect(Object.fromEntries(h.counters.http!.requests)).toEqual({ 200: 1, 400: 1, 401: 2 });
    expect(h.counters.http!.bytes).toBe(packed.length + 4); // 401s are refused unread

    const counters = new Counters();
    counters.sources.set('fleet', h.counters);
    const text = renderMetrics({
      counters,
      view: undefined,
      version: 'test',
      node: process.version,
      rssBytes: 0,
      cpuSeconds: 0,
      startTimeSeconds: 0,
    });
    expect(text).toContain('ves_http_source_requests_total{source="fleet",status="200"} 1\n');
    expect(text).toContain('ves_http_source_requests_total{source="fleet",status="401"} 2\n');
    expect(text).toContain(
      `ves_http_source_received_bytes_total{source="fleet"} ${packed.length + 4}\n`,
    );
    expect(text).not.toContain(TOKEN);
  });
});
