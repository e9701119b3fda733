// The syslog source's config through the real loader: defaults, units, and every rule with its
// key and line:col (exit 2).

import { describe, expect, test } from 'vitest';
import { expectConfigError, parse, SINK } from '../../config/helpers.js';

const src = (body: string): string => `sources:\n  sys:\n    type: syslog\n${body}${SINK}`;

describe('syslog source config', () => {
  test('defaults: tcp on loopback 5514, 64 KiB frames, the syslog parser', () => {
    expect(parse(src('')).sources.sys).toEqual({
      type: 'syslog',
      mode: 'tcp',
      address: '127.0.0.1:5514',
      max_frame_bytes: 65_536,
      max_connections: 1024,
      connection_idle_timeout: 0,
      tls: null,
      parser: 'syslog',
      templates: [],
      keep_message: false,
      fields: {},
    });
  });

  test('units, TLS files, another parser and static fields', () => {
    const c = parse(
      src(
        '    address: "[::1]:6514"\n    max_frame_bytes: 8KiB\n    connection_idle_timeout: 5m\n' +
          '    tls: {cert_file: /etc/ves/tls.crt, key_file: /etc/ves/tls.key}\n' +
          '    parser: raw\n    fields: {env: prod}\n',
      ),
    ).sources.sys;
    expect(c).toMatchObject({
      address: '[::1]:6514',
      max_frame_bytes: 8192,
      connection_idle_timeout: 300_000,
      tls: { cert_file: '/etc/ves/tls.crt', key_file: '/etc/ves/tls.key' },
      parser: 'raw',
      fields: { env: 'prod' },
    });
  });

  test.each([
    [
      'bad address',
      '    address: localhost\n',
      'VES_CONFIG_TYPE',
      'sources.sys.address',
      4,
      14,
      'e.g. 127.0.0.1:5514',
    ],
    ['mode', '    mode: tls\n', 'VES_CONFIG_ENUM', 'sources.sys.mode', 4, 11, 'tcp | udp'],
    [
      'frames too big',
      '    max_frame_bytes: 1GiB\n',
      'VES_CONFIG_RANGE',
      'sources.sys.max_frame_bytes',
      4,
      22,
      '',
    ],
    [
      'no connections',
      '    max_connections: 0\n',
      'VES_CONFIG_RANGE',
      'sources.sys.max_connections',
      4,
      22,
      '',
    ],
    [
      'tls with udp',
      '    mode: udp\n    tls: {cert_file: a, key_file: b}\n',
      'VES_CONFIG_INVALID',
      'sources.sys.tls',
      5,
      5,
      'only used with mode: tcp',
    ],
    [
      'max_connections with udp',
      '    mode: udp\n    max_connections: 5\n',
      'VES_CONFIG_INVALID',
      'sources.sys.max_connections',
      5,
      5,
      'only used with mode: tcp',
    ],
    [
      'a half tls',
      '    tls: {cert_file: a}\n',
      'VES_CONFIG_MISSING',
      'sources.sys.tls.key_file',
      4,
      5,
      '',
    ],
    [
      'a file-source key',
      '    include: [/var/log/syslog]\n',
      'VES_CONFIG_UNKNOWN_KEY',
      'sources.sys.include',
      4,
      5,
      '',
    ],
    [
      'a static field the parser writes',
      '    fields: {hostname: x}\n',
      'VES_CONFIG_INVALID',
      'sources.sys.fields.hostname',
      4,
      14,
      'syslog parser writes',
    ],
  ])('%s is refused with its key and line:col', (_name, body, code, path, line, col, says) => {
    expectConfigError(() => parse(src(body)), { code, path, line, col, says });
  });

  test('udp leaves the tcp-only keys at their defaults', () => {
    expect(parse(src('    mode: udp\n    tls: null\n')).sources.sys).toMatchObject({
      mode: 'udp',
      tls: null,
    });
  });
});
