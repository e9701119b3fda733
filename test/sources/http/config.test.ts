// The http source's config: defaults, and the errors a bad one gets (key path and line:col).

import { describe, expect, test } from 'vitest';
import type { HttpSourceConfig } from '../../../src/config/types.js';
import { expectConfigError, parse, SINK } from '../../config/helpers.js';

const src = (keys: string): string => `sources:\n  fleet:\n    type: http\n${keys}${SINK}`;

describe('http source config', () => {
  test('defaults: loopback 8700, json parser, bounds', () => {
    expect(parse(src('')).sources.fleet as HttpSourceConfig).toEqual({
      type: 'http',
      address: '127.0.0.1:8700',
      auth: null,
      tls: null,
      max_body_bytes: 10 * 1024 * 1024,
      max_in_flight_requests: 64,
      max_in_flight_bytes: 64 * 1024 * 1024,
      ack_timeout: 20_000,
      retry_after: 1000,
      parser: 'json',
      keep_message: false,
      forwarded: true,
      fields: {},
    });
  });

  test('forwarded: a boolean; anything else names the key', () => {
    expect(parse(src('    forwarded: false\n')).sources.fleet).toMatchObject({ forwarded: false });
    expect(() => parse(src('    forwarded: maybe\n'))).toThrow(/forwarded/);
  });

  test('the DESIGN.md example, with the token from the environment', () => {
    const c = parse(
      src(
        '    address: 127.0.0.1:8700\n    auth: {strategy: bearer, token: "${VES_TOKEN}"}\n    max_body_bytes: 10MiB\n',
      ),
      { VES_TOKEN: 't0k' },
    );
    expect(c.sources.fleet).toMatchObject({ auth: { strategy: 'bearer', token: 't0k' } });
  });

  test.each([
    [
      '    address: 8700\n',
      { code: 'VES_CONFIG_TYPE', path: 'sources.fleet.address', line: 4, col: 14 },
    ],
    [
      '    auth: {strategy: bearer}\n',
      { code: 'VES_CONFIG_MISSING', path: 'sources.fleet.auth.token' },
    ],
    [
      '    auth: {strategy: basic, token: x}\n',
      { code: 'VES_CONFIG_ENUM', path: 'sources.fleet.auth.strategy' },
    ],
    [
      '    tls: {cert_file: a.pem}\n',
      { code: 'VES_CONFIG_MISSING', path: 'sources.fleet.tls.key_file' },
    ],
    ['    max_body_bytes: 0\n', { code: 'VES_CONFIG_RANGE', path: 'sources.fleet.max_body_bytes' }],
    [
      '    max_in_flight_requests: 0\n',
      { code: 'VES_CONFIG_RANGE', path: 'sources.fleet.max_in_flight_requests' },
    ],
    ['    retry_after: 10ms\n', { code: 'VES_CONFIG_RANGE', path: 'sources.fleet.retry_after' }],
    ['    parser: nginx\n', { code: 'VES_CONFIG_ENUM', path: 'sources.fleet.parser' }],
    [
      '    include: [/var/log/*.log]\n',
      { code: 'VES_CONFIG_UNKNOWN_KEY', path: 'sources.fleet.include' },
    ],
    [
      '    max_body: 1MiB\n',
      { code: 'VES_CONFIG_UNKNOWN_KEY', path: 'sources.fleet.max_body', says: 'max_body_bytes' },
    ],
  ])('%j', (keys, want) => {
    expectConfigError(() => parse(src(keys)), want);
  });
});
