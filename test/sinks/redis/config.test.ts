// The redis sink's config through the real loader: defaults, the url taken apart (host, port,
// db, credentials, TLS), and errors that name the key and line:col.

import { describe, expect, test } from 'vitest';
import type { RedisSinkConfig } from '../../../src/config/types.js';
import { parseRedisUrl } from '../../../src/sinks/redis/config.js';
import { expectConfigError, parse, type Expected } from '../../config/helpers.js';

const SRC = 'sources:\n  web: {type: file, include: [a.log]}\n';
const head = `${SRC}sinks:\n  r:\n    type: redis\n`;
const sink = (body: string, env: NodeJS.ProcessEnv = {}): RedisSinkConfig =>
  parse(head + body, env).sinks.r as RedisSinkConfig;

describe('defaults', () => {
  test('every default', () => {
    const { buffer, ...c } = sink('    url: redis://cache:6379\n    stream: logs\n');
    expect(c).toEqual({
      type: 'redis',
      url: 'redis://cache:6379',
      auth: null,
      tls: { ca: null, cert: null, key: null, verify: true },
      stream: 'logs',
      maxlen: 1_000_000,
      encoding: 'fields',
      timeout: 10_000,
      healthcheck: true,
    });
    expect(buffer).toEqual({ type: 'memory', max_bytes: 16 << 20, when_full: 'block' });
  });

  test('a password from the environment', () => {
    const c = sink('    url: redis://h\n    stream: s\n    auth: {password: "${REDIS_PW}"}\n', {
      REDIS_PW: 'from-env',
    });
    expect(c.auth).toEqual({ user: null, password: 'from-env' });
  });
});

describe('the url', () => {
  test.each([
    ['redis://h', { host: 'h', port: 6379, db: 0, tls: false, where: 'redis://h/0' }],
    ['redis://h:7000/5', { host: 'h', port: 7000, db: 5, where: 'redis://h:7000/5' }],
    ['rediss://h:6380/', { tls: true, port: 6380, db: 0, where: 'rediss://h:6380/0' }],
    ['redis://[::1]:6379', { host: '::1', where: 'redis://[::1]:6379/0' }],
    ['redis://app:p%40ss@h/1', { username: 'app', password: 'p@ss', db: 1, where: 'redis://h/1' }],
    ['redis://:only-pw@h', { username: undefined, password: 'only-pw', where: 'redis://h/0' }],
  ])('%s', (url, want) => {
    expect(parseRedisUrl(url)).toMatchObject(want);
  });
});

describe('errors name the key and line:col', () => {
  test.each<[string, string, Expected]>([
    [
      'an http url',
      '    url: http://h:6379\n    stream: s\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.r.url', line: 6, col: 10, says: 'redis://' },
    ],
    [
      'a db that is not a number',
      '    url: redis://h/logs\n    stream: s\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.r.url', says: 'database number' },
    ],
    [
      'a query string',
      '    url: redis://h?db=1\n    stream: s\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.r.url', says: '?query' },
    ],
    [
      'no stream',
      '    url: redis://h\n',
      { code: 'VES_CONFIG_MISSING', path: 'sinks.r.stream', says: 'is required' },
    ],
    [
      'a bad placeholder',
      '    url: redis://h\n    stream: "logs:{a b}"\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.r.stream', says: 'not a field name' },
    ],
    [
      'a lone brace',
      '    url: redis://h\n    stream: "logs:{x"\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.r.stream', says: 'without its pair' },
    ],
    [
      'a negative maxlen',
      '    url: redis://h\n    stream: s\n    maxlen: -1\n',
      { code: 'VES_CONFIG_RANGE', path: 'sinks.r.maxlen', line: 8, col: 13, says: 'at least 0' },
    ],
    [
      'an unknown encoding',
      '    url: redis://h\n    stream: s\n    encoding: ndjson\n',
      { code: 'VES_CONFIG_ENUM', path: 'sinks.r.encoding', says: 'fields | json' },
    ],
    [
      'credentials twice',
      '    url: redis://:a@h\n    stream: s\n    auth: {password: b}\n',
      { code: 'VES_CONFIG_INVALID', path: 'sinks.r.auth', says: 'one place' },
    ],
    [
      'tls options on redis://',
      '    url: redis://h\n    stream: s\n    tls: {verify: false}\n',
      { code: 'VES_CONFIG_INVALID', path: 'sinks.r.tls', says: 'rediss://' },
    ],
    [
      'tls cert without key',
      '    url: rediss://h\n    stream: s\n    tls: {cert: c.pem}\n',
      { code: 'VES_CONFIG_INVALID', path: 'sinks.r.tls', says: 'go together' },
    ],
    [
      'auth without password',
      '    url: redis://h\n    stream: s\n    auth: {user: app}\n',
      { code: 'VES_CONFIG_MISSING', path: 'sinks.r.auth.password', says: 'is required' },
    ],
  ])('%s', (_n, body, want) => {
    expectConfigError(() => parse(head + body), want);
  });

  test('a url password never appears in a config error', () => {
    const err = expectConfigError(
      () => parse(`${head}    url: redis://:hunter2@h/x\n    stream: s\n`),
      { code: 'VES_CONFIG_TYPE', path: 'sinks.r.url' },
    );
    expect(err.message).not.toContain('hunter2');
  });
});
