// The retry rules of the http sink, as pure functions: Retry-After parsing, full-jitter backoff,
// the classification of answers, and the refusal detail's 500-byte cut.

import { describe, expect, test } from 'vitest';
import { makeFormat } from '../../../src/sinks/http/formats/index.js';
import {
  backoffMs,
  classify,
  describeError,
  detailOf,
  retryAfterMs,
  type Answer,
} from '../../../src/sinks/http/service.js';
import { httpConfig } from './helpers.js';

const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);

describe('retryAfterMs', () => {
  test.each<[string | string[] | undefined, number | undefined]>([
    ['3', 3000],
    [' 0 ', 0],
    [['2', '9'], 2000],
    ['Mon, 23 Nov 2026 12:00:10 GMT', 10_000],
    ['Mon, 23 Nov 2026 11:59:00 GMT', 0], // in the past: now
    ['86400', 300_000], // capped at 5 minutes
    ['soon', undefined],
    ['-1', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%j -> %j', (v, ms) => {
    expect(retryAfterMs(v, NOW)).toBe(ms);
  });
});

describe('backoffMs (full jitter)', () => {
  test.each<[number, number]>([
    [1, 100],
    [2, 200],
    [3, 400],
    [9, 25_600],
    [10, 30_000], // capped
    [1000, 30_000], // no overflow
  ])('attempt %i: the ceiling is %i ms', (attempt, ceiling) => {
    expect(backoffMs(attempt, 100, 30_000, () => 0.999999)).toBe(Math.floor(0.999999 * ceiling));
    expect(backoffMs(attempt, 100, 30_000, () => 0)).toBe(0);
  });
});

describe('classify', () => {
  const ndjson = makeFormat(httpConfig({ uri: 'http://h:1' }));
  const answer = (status: number, body = '', headers: Answer['headers'] = {}): Answer => ({
    status,
    headers,
    body: Buffer.from(body),
  });
  test.each<[number, string]>([
    [200, 'ok'],
    [204, 'ok'],
    [408, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [503, 'retry'],
    [599, 'retry'],
    [301, 'refused'],
    [400, 'refused'],
    [401, 'refused'],
    [404, 'refused'],
    [413, 'refused'],
  ])('%i -> %s', (status, kind) => {
    expect(classify(answer(status), ndjson).kind).toBe(kind);
  });

  test('Retry-After counts on 429 and 503 only', () => {
    const h = { 'retry-after': '7' };
    expect(classify(answer(503, '', h), ndjson, NOW)).toMatchObject({ waitMs: 7000 });
    expect(classify(answer(429, '', h), ndjson, NOW)).toMatchObject({ waitMs: 7000 });
    expect(classify(answer(500, '', h), ndjson, NOW)).toMatchObject({ waitMs: undefined });
  });

  test('a refusal carries the first 500 bytes of the answer', () => {
    const out = classify(answer(400, 'é'.repeat(400)), ndjson);
    expect(out).toMatchObject({ kind: 'refused', status: 400 });
    // 'é' is 2 bytes: 250 whole characters fit in 500 bytes.
    expect(out.kind === 'refused' && out.detail).toBe('é'.repeat(250));
    expect(detailOf(Buffer.from('a' + 'é'.repeat(300)))).toBe('a' + 'é'.repeat(249));
  });
});

test('describeError names the code and, for TLS, the fix', () => {
  const e = Object.assign(new Error('self-signed certificate'), {
    code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  });
  expect(describeError(e)).toBe(
    'DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate (set tls.ca to the certificate that signed it, or tls.verify: false for tests)',
  );
  expect(
    describeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
  ).toBe('connect ECONNREFUSED');
});
