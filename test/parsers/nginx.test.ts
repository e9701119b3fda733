// Golden tests of the nginx and apache parsers (src/parsers/clf.ts): real log lines, and the
// lines real servers write on a bad day.

import { describe, expect, test } from 'vitest';
import { encode, NOW_ISO, parseOne, pick, type Event } from './helpers.js';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/121.0';
const COMBINED = `203.0.113.7 - alice [23/Nov/2026:12:00:01 +0000] "GET /api/v1/users?id=7 HTTP/1.1" 200 512 "https://example.com/" "${UA}"`;

describe('nginx', () => {
  test('combined: every field, nginx variable names, numbers as numbers, in order', () => {
    const { events } = encode('nginx', [COMBINED], { fields: { service: 'web' } });
    expect(events[0]).toStrictEqual({
      timestamp: '2026-11-23T12:00:01.000Z',
      source: '/var/log/test.log',
      host: 'h1',
      service: 'web',
      remote_addr: '203.0.113.7',
      remote_user: 'alice',
      time_local: '23/Nov/2026:12:00:01 +0000',
      request: 'GET /api/v1/users?id=7 HTTP/1.1',
      method: 'GET',
      path: '/api/v1/users?id=7',
      protocol: 'HTTP/1.1',
      status: 200,
      body_bytes_sent: 512,
      http_referer: 'https://example.com/',
      http_user_agent: UA,
    });
    expect(Object.keys(events[0]).slice(0, 5)).toEqual([
      'timestamp',
      'source',
      'host',
      'service',
      'remote_addr',
    ]);
  });

  test('keep_message: the line is also kept as `message`, first', () => {
    const { events } = encode('nginx', [COMBINED], { keepMessage: true });
    expect(Object.keys(events[0]).slice(0, 5)).toEqual([
      'message',
      'timestamp',
      'source',
      'host',
      'remote_addr',
    ]);
    expect(events[0].message).toBe(COMBINED);
    expect(events[0].status).toBe(200);
  });

  const F = [
    'remote_addr',
    'remote_user',
    'time_local',
    'request',
    'method',
    'path',
    'protocol',
    'status',
    'body_bytes_sent',
    'http_referer',
    'http_user_agent',
    'http_x_forwarded_for',
    'timestamp',
    'parse_error',
  ];

  test.each<[string, string, Event]>([
    [
      'missing values `-` are null',
      '10.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 304 0 "-" "-"',
      { remote_user: null, http_referer: null, http_user_agent: null, body_bytes_sent: 0 },
    ],
    [
      'IPv6 remote_addr',
      '2001:db8::8a2e:370:7334 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/2.0" 200 1 "-" "curl/8"',
      { remote_addr: '2001:db8::8a2e:370:7334', protocol: 'HTTP/2.0' },
    ],
    [
      'IPv6 loopback',
      '::1 - - [23/Nov/2026:12:00:00 +0000] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.29"',
      { remote_addr: '::1', path: '/health' },
    ],
    [
      "nginx's \\x22 escape is decoded (a quote in the value)",
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /?q=\\x22hi\\x22 HTTP/1.1" 200 1 "-" "a\\x22b"',
      { request: 'GET /?q="hi" HTTP/1.1', path: '/?q="hi"', http_user_agent: 'a"b' },
    ],
    [
      "nginx's \\xHH: backslash, a control byte, an escaped UTF-8 sequence, upper and lower case",
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /a\\x5Cb HTTP/1.1" 200 1 "-" "c\\x1bd \\xC3\\xA9t\\xc3\\xa9"',
      { path: '/a\\b', http_user_agent: 'c\u001bd \u00e9t\u00e9' },
    ],
    [
      '\\x without two hex digits stays as written; \\\\x22 is a backslash, then x22',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /\\xZZ HTTP/1.1" 200 1 "-" "a\\\\x22 \\x4"',
      { path: '/\\xZZ', http_user_agent: 'a\\x22 \\x4' },
    ],
    [
      'a TLS handshake on a plain port: request kept, no method/path/protocol',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "\\x16\\x03\\x01\\x00\\xA5\\x01\\x00\\x00" 400 157 "-" "-"',
      {
        // decoded: controls escaped, 0xA5 alone (not UTF-8) is U+FFFD
        request: '\u0016\u0003\u0001\u0000\ufffd\u0001\u0000\u0000',
        method: null,
        path: null,
        protocol: null,
        status: 400,
      },
    ],
    [
      'request `-` (nginx: nothing was sent)',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "-" 400 0 "-" "-"',
      { request: null, method: null, path: null, protocol: null, status: 400 },
    ],
    [
      'empty request ""',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "" 400 0 "-" "-"',
      { request: '', method: null, status: 400 },
    ],
    [
      'HTTP/0.9 request without protocol',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /old" 200 10 "-" "-"',
      { method: 'GET', path: '/old', protocol: null },
    ],
    [
      'a path with spaces (rejected by nginx with 400, logged raw)',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /a b c HTTP/1.1" 400 0 "-" "-"',
      { path: '/a b c', protocol: 'HTTP/1.1' },
    ],
    [
      'remote_user with a space',
      '1.2.3.4 - john doe [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "-"',
      { remote_user: 'john doe' },
    ],
    [
      'common format: referer and user agent null',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1',
      { status: 200, http_referer: null, http_user_agent: null },
    ],
    [
      'stock nginx.conf `main`: x_forwarded_for',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8" "198.51.100.1, 10.0.0.2"',
      { http_user_agent: 'curl/8', http_x_forwarded_for: '198.51.100.1, 10.0.0.2' },
    ],
    [
      'extra variables after combined are ignored, so the line stays as message',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8" 0.003 upstream=10.0.0.5',
      {
        http_user_agent: 'curl/8',
        status: 200,
        message:
          '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8" 0.003 upstream=10.0.0.5',
      },
    ],
    [
      'time zone offset: the timestamp is UTC',
      '1.2.3.4 - - [23/Nov/2026:13:30:00 +0130] "GET / HTTP/1.1" 200 1 "-" "-"',
      { time_local: '23/Nov/2026:13:30:00 +0130', timestamp: '2026-11-23T12:00:00.000Z' },
    ],
    [
      'negative offset crossing midnight and a year',
      '1.2.3.4 - - [31/Dec/2026:22:00:00 -0500] "GET / HTTP/1.1" 200 1 "-" "-"',
      { timestamp: '2027-01-01T03:00:00.000Z' },
    ],
    [
      'a time that does not parse: ingest time, time_local kept',
      '1.2.3.4 - - [31/Foo/2026:22:00:00 -0500] "GET / HTTP/1.1" 200 1 "-" "-"',
      { time_local: '31/Foo/2026:22:00:00 -0500', timestamp: NOW_ISO },
    ],
    [
      'leading zeros are not JSON: 007 is 7',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 007 "-" "-"',
      { body_bytes_sent: 7 },
    ],
    [
      'status `-`',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" - 0 "-" "-"',
      { status: null },
    ],
    [
      'a raw control character in a field (no backslash in the line)',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /x HTTP/1.1" 200 1 "-" "x\u0001y\ttab"',
      { http_user_agent: 'x\u0001y\ttab', path: '/x' },
    ],
    [
      'quotes inside fields that do not end them',
      '1.2.3.4 - a"b [23/Nov/2026:12:00:00 +0000] "GET /x HTTP/1.1" 200 1 "-" "say "hi"there"',
      { remote_user: 'a"b', http_user_agent: 'say "hi"there' },
    ],
    [
      'a raw control character and a backslash in a field',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /a\\z HTTP/1.1" 200 1 "-" "x\u0001y"',
      { path: '/a\\z', http_user_agent: 'x\u0001y' },
    ],
  ])('%s', (_name, line, expected) => {
    const event = parseOne('nginx', line);
    expect(event.parse_error).toBeUndefined();
    expect(pick(event, Object.keys(expected))).toStrictEqual(expected);
    // the fields hold the whole line: no message (unless keep_message)
    if (!('message' in expected)) expect(event.message).toBeUndefined();
    for (const k of Object.keys(event)) expect(['message', ...F]).toContain(k);
    expect(parseOne('nginx', line, { keepMessage: true }).message).toBe(line);
  });

  test.each<[string, string]>([
    ['not a number as status', '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /" abc 1 "-" "-"'],
    ['no time', '1.2.3.4 - - "GET / HTTP/1.1" 200 1 "-" "-"'],
    ['unterminated request', '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1 200 1'],
    ['plain text', 'hello world'],
    ['empty line', ''],
  ])('no match, kept whole with parse_error: %s', (_name, line) => {
    const { events, parseErrors } = encode('nginx', line + '\n');
    expect(parseErrors).toBe(1);
    expect(events).toHaveLength(1);
    const { source: _s, host: _h, ...rest } = events[0];
    expect(rest).toStrictEqual({ message: line, timestamp: NOW_ISO, parse_error: true });
  });

  test('CRLF: the \\r is part of neither message nor user agent', () => {
    const { events } = encode('nginx', COMBINED + '\r\n' + COMBINED + '\r\n', {
      keepMessage: true,
    });
    expect(events).toHaveLength(2);
    for (const e of events) {
      expect(e.message).toBe(COMBINED);
      expect(e.http_user_agent).toBe(UA);
    }
  });

  test('non-UTF-8 bytes become U+FFFD; the event is still parsed', () => {
    const line = Buffer.concat([
      Buffer.from('1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /caf'),
      Buffer.from([0xe9, 0xff]),
      Buffer.from(' HTTP/1.1" 200 1 "-" "bad '),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"'),
    ]);
    const e = parseOne('nginx', line, { keepMessage: true });
    expect(e.path).toBe('/caf\ufffd\ufffd');
    expect(e.http_user_agent).toBe('bad \ufffd(');
    expect(e.message).toBe(line.toString('utf8'));
  });

  test('very long lines (a 200 KiB user agent)', () => {
    const ua = 'u'.repeat(200 * 1024);
    const e = parseOne(
      'nginx',
      `1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "${ua}"`,
    );
    expect(e.http_user_agent).toBe(ua);
    expect(e.status).toBe(200);
  });

  test('empty lines between matching ones stay events of their own', () => {
    const { events, parseErrors } = encode('nginx', `${COMBINED}\n\n${COMBINED}\n`);
    expect(events.map((e) => e.parse_error ?? false)).toEqual([false, true, false]);
    expect(parseErrors).toBe(1);
    expect(events[1].message).toBe('');
  });

  test('a last line without a newline is an event', () => {
    const { events } = encode('nginx', `${COMBINED}\n${COMBINED}`);
    expect(events).toHaveLength(2);
    expect(events[1].status).toBe(200);
  });

  test('a truncated chunk flags its event', () => {
    const { events } = encode('nginx', COMBINED.slice(0, 60) + '\n', { truncated: true });
    expect(events[0]).toMatchObject({ parse_error: true, truncated: true });
  });

  test('hits count the format variants', () => {
    const { stage } = encode('nginx', [
      COMBINED,
      COMBINED,
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1',
    ]);
    expect([...stage.parser.hits]).toEqual([2, 1, 0]);
  });
});

describe('apache', () => {
  test.each<[string, string, Event]>([
    [
      'combined, with remote_logname',
      '127.0.0.1 ident frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
      {
        remote_addr: '127.0.0.1',
        remote_logname: 'ident',
        remote_user: 'frank',
        time_local: '10/Oct/2000:13:55:36 -0700',
        timestamp: '2000-10-10T20:55:36.000Z',
        request: 'GET /apache_pb.gif HTTP/1.0',
        method: 'GET',
        path: '/apache_pb.gif',
        protocol: 'HTTP/1.0',
        status: 200,
        body_bytes_sent: 2326,
        http_referer: 'http://www.example.com/start.html',
        http_user_agent: 'Mozilla/4.08 [en] (Win98; I ;Nav)',
      },
    ],
    [
      'common: %b `-` is 0 bytes',
      '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 304 -',
      {
        remote_logname: null,
        remote_user: null,
        body_bytes_sent: 0,
        http_referer: null,
        http_user_agent: null,
      },
    ],
    [
      'escaped quotes and backslashes are decoded',
      '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /q?\\"x\\" HTTP/1.0" 200 1 "-" "Mozilla \\"quoted\\" \\\\ end\\ttab\\vvt\\x01"',
      { path: '/q?"x"', http_user_agent: 'Mozilla "quoted" \\ end\ttab\u000bvt\u0001' },
    ],
    [
      'an escaped quote followed by a space does not end the field',
      '127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1 "-" "say \\" hi"',
      { http_user_agent: 'say " hi' },
    ],
  ])('%s', (_name, line, expected) => {
    const event = parseOne('apache', line);
    expect(event.parse_error).toBeUndefined();
    expect(pick(event, Object.keys(expected))).toStrictEqual(expected);
  });

  test('apache has no http_x_forwarded_for (a third quoted field is ignored)', () => {
    const e = parseOne(
      'apache',
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "curl/8" "9.9.9.9"',
    );
    expect(e.http_x_forwarded_for).toBeUndefined();
    expect(e.http_user_agent).toBe('curl/8');
  });
});
