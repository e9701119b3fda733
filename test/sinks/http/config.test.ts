// The http sink's config through the real loader: defaults (compression per format), the
// format option blocks, auth strategies, headers, TLS pairs, and errors with key and line:col.

import { describe, expect, test } from 'vitest';
import type { HttpSinkConfig } from '../../../src/config/types.js';
import { expectConfigError, parse, type Expected } from '../../config/helpers.js';

const SRC = 'sources:\n  web: {type: file, include: [a.log]}\n';
const sink = (body: string, env: NodeJS.ProcessEnv = {}): HttpSinkConfig =>
  parse(`${SRC}sinks:\n  up:\n    type: http\n${body}`, env).sinks.up as HttpSinkConfig;

describe('defaults', () => {
  test('ndjson with every default', () => {
    // `buffer` is the pipeline's (shared by every sink, tested with the sink runner).
    const { buffer: _buffer, ...c } = sink(
      '    uri: https://collector.example:8443/v1/logs\n',
    ) as HttpSinkConfig & { buffer?: unknown };
    expect(c).toEqual({
      type: 'http',
      uri: 'https://collector.example:8443/v1/logs',
      method: 'POST',
      headers: {},
      auth: null,
      tls: { ca: null, cert: null, key: null, verify: true },
      timeout: 30_000,
      concurrency: 4,
      compression: 'zstd',
      format: 'ndjson',
      clickhouse: null,
      loki: null,
      elasticsearch: null,
      retry: { initial_backoff: 100, max_backoff: 30_000, max_attempts: 0 },
      healthcheck: true,
    });
  });

  test.each([['loki'], ['elasticsearch'], ['otlp']])('%s defaults to gzip', (format) => {
    expect(sink(`    uri: http://h:1\n    format: ${format}\n`).compression).toBe('gzip');
  });

  test('clickhouse: gzip, database default, both options on', () => {
    const c = sink(
      '    uri: http://h:8123\n    format: clickhouse\n    clickhouse: {table: logs}\n',
    );
    expect(c.compression).toBe('gzip');
    expect(c.clickhouse).toEqual({
      database: 'default',
      table: 'logs',
      skip_unknown_fields: true,
      date_time_best_effort: true,
    });
  });

  test('loki and elasticsearch options default when left out', () => {
    expect(sink('    uri: http://h:1\n    format: loki\n').loki).toEqual({
      labels: { host: '{host}', source: '{source}' },
    });
    expect(sink('    uri: http://h:1\n    format: elasticsearch\n').elasticsearch).toEqual({
      index: 'ves-%Y.%m.%d',
    });
  });

  test('auth secrets come from the environment', () => {
    const c = sink('    uri: http://h:1\n    auth: {strategy: bearer, token: "${TOKEN}"}\n', {
      TOKEN: 'abc',
    });
    expect(c.auth).toEqual({ strategy: 'bearer', token: 'abc' });
    const b = sink(
      '    uri: http://h:1\n    auth:\n      strategy: basic\n      user: u\n      password: "${PW}"\n',
      { PW: 'pw' },
    );
    expect(b.auth).toEqual({ strategy: 'basic', user: 'u', password: 'pw' });
  });
});

describe('errors', () => {
  const head = `${SRC}sinks:\n  up:\n    type: http\n`; // the sink's keys start on line 6
  test.each<[string, string, Expected]>([
    [
      'zstd with clickhouse',
      '    uri: http://h:8123\n    format: clickhouse\n    clickhouse: {table: t}\n    compression: zstd\n',
      {
        code: 'VES_CONFIG_INVALID',
        path: 'sinks.up.compression',
        line: 9,
        col: 18,
        says: 'ClickHouse 18.16 takes gzip, not zstd',
      },
    ],
    [
      'clickhouse without its table',
      '    uri: http://h:8123\n    format: clickhouse\n',
      { code: 'VES_CONFIG_MISSING', path: 'sinks.up.clickhouse', says: 'at least {table: <name>}' },
    ],
    [
      'clickhouse options with another format',
      '    uri: http://h:8123\n    clickhouse: {table: t}\n',
      {
        code: 'VES_CONFIG_INVALID',
        path: 'sinks.up.clickhouse',
        line: 7,
        col: 5,
        says: 'is for `format: clickhouse`, but format is ndjson',
      },
    ],
    [
      'a uri with credentials',
      '    uri: https://u:p@h/x\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.up.uri', line: 6, col: 10, says: 'use `auth:' },
    ],
    [
      'a uri that is not http',
      '    uri: ftp://h/x\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.up.uri', says: 'expected an http:// or https://' },
    ],
    [
      'an unknown auth strategy',
      '    uri: http://h\n    auth: {strategy: digest}\n',
      { code: 'VES_CONFIG_ENUM', path: 'sinks.up.auth.strategy', says: 'bearer | basic' },
    ],
    [
      'a basic key under bearer',
      '    uri: http://h\n    auth: {strategy: bearer, token: t, user: u}\n',
      { code: 'VES_CONFIG_UNKNOWN_KEY', path: 'sinks.up.auth.user', line: 7, col: 40 },
    ],
    [
      'auth without strategy',
      '    uri: http://h\n    auth: {token: t}\n',
      { code: 'VES_CONFIG_MISSING', path: 'sinks.up.auth.strategy', says: 'bearer or basic' },
    ],
    [
      'a reserved header',
      '    uri: http://h\n    headers: {Content-Encoding: br}\n',
      {
        code: 'VES_CONFIG_INVALID',
        path: 'sinks.up.headers.Content-Encoding',
        says: '`compression`',
      },
    ],
    [
      'Authorization header and auth together',
      '    uri: http://h\n    auth: {strategy: bearer, token: t}\n    headers: {Authorization: x}\n',
      { code: 'VES_CONFIG_INVALID', path: 'sinks.up.headers.Authorization', says: 'keep one' },
    ],
    [
      'a header name with a space',
      '    uri: http://h\n    headers: {"X Bad": 1}\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.up.headers.X Bad', says: 'not a valid header name' },
    ],
    [
      'tls cert without key',
      '    uri: https://h\n    tls: {cert: c.pem}\n',
      { code: 'VES_CONFIG_INVALID', path: 'sinks.up.tls', says: 'go together' },
    ],
    [
      'an upper-case index',
      '    uri: http://h\n    format: elasticsearch\n    elasticsearch: {index: Logs-%Y}\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.up.elasticsearch.index', says: 'lower case' },
    ],
    [
      'an unknown date token',
      '    uri: http://h\n    format: elasticsearch\n    elasticsearch: {index: logs-%j}\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.up.elasticsearch.index', says: '%Y, %m, %d, %H' },
    ],
    [
      'a bad Loki label name',
      '    uri: http://h\n    format: loki\n    loki: {labels: {"1x": a}}\n',
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sinks.up.loki.labels.1x',
        says: 'not a valid Loki label name',
      },
    ],
    [
      'concurrency 0',
      '    uri: http://h\n    concurrency: 0\n',
      { code: 'VES_CONFIG_RANGE', path: 'sinks.up.concurrency', says: 'at least 1' },
    ],
    [
      'a table name with a backtick',
      '    uri: http://h\n    format: clickhouse\n    clickhouse: {table: "a`b"}\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.up.clickhouse.table', says: 'backticks' },
    ],
    [
      'a typo',
      '    uri: http://h\n    concurency: 2\n',
      {
        code: 'VES_CONFIG_UNKNOWN_KEY',
        path: 'sinks.up.concurency',
        says: 'did you mean `concurrency`?',
      },
    ],
  ])('%s', (_n, body, want) => {
    expectConfigError(() => parse(head + body), want);
  });

  test('an unset token names the variable, never a value', () => {
    const err = expectConfigError(
      () =>
        parse(`${head}    uri: http://h\n    auth: {strategy: bearer, token: "\${VES_TOKEN}"}\n`),
      { code: 'VES_CONFIG_ENV', path: 'sinks.up.auth.token', says: 'VES_TOKEN' },
    );
    expect(err.message).not.toContain('Bearer');
  });
});
