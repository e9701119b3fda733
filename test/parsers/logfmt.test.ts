// Golden tests of the logfmt parser (src/parsers/logfmt.ts): quoting, escapes, bare keys, and
// the lines it refuses.

import { describe, expect, test } from 'vitest';
import { encode, NOW_ISO, parseOne, type Event } from './helpers.js';

describe('logfmt', () => {
  test.each<[string, string, Event]>([
    [
      'pairs, values stay strings',
      'level=info status=200 duration=1.5ms path=/api',
      { level: 'info', status: '200', duration: '1.5ms', path: '/api' },
    ],
    [
      'quoted values with spaces and escapes',
      'msg="hello \\"world\\" \\\\ done\\n" q="a=b c"',
      { msg: 'hello "world" \\ done\n', q: 'a=b c' },
    ],
    ['\\xHH is not a logfmt escape: kept as written', 'msg="a\\x22b"', { msg: 'a\\x22b' }],
    [
      'a bare key is true',
      'debug level=info verbose',
      { debug: true, level: 'info', verbose: true },
    ],
    ['key= is the empty string', 'a= b=""', { a: '', b: '' }],
    ['tabs and runs of spaces separate pairs', 'a=1\t\tb=2    c=3', { a: '1', b: '2', c: '3' }],
    ['an = inside an unquoted value is kept', 'url=/x?y=1&z=2', { url: '/x?y=1&z=2' }],
    ['unicode and \\u escapes', 'name="caf\u00e9 \\u00e9"', { name: 'caf\u00e9 \u00e9' }],
    ['a lone backslash in a quoted value is literal', 'p="C:\\dir"', { p: 'C:\\dir' }],
    ['a raw control character is escaped', 'a="x\u0001y"', { a: 'x\u0001y' }],
    ['keys with dots and dashes', 'http.status=200 x-id=7', { 'http.status': '200', 'x-id': '7' }],
  ])('%s', (_name, line, expected) => {
    const e = parseOne('logfmt', line);
    const { message, timestamp, ...fields } = e;
    expect(message).toBeUndefined();
    expect(timestamp).toBe(NOW_ISO);
    expect(fields).toStrictEqual(expected);
  });

  test('`message` is the event message, an RFC 3339 `timestamp` its time', () => {
    expect(
      parseOne('logfmt', 'timestamp=2026-11-23T12:00:00Z level=warn message="disk full"'),
    ).toStrictEqual({
      message: 'disk full',
      timestamp: '2026-11-23T12:00:00.000Z',
      level: 'warn',
    });
  });

  test('clashing keys get a `_` prefix; an unparsable timestamp too', () => {
    expect(
      parseOne('logfmt', 'host=a source=b timestamp=soon service=c', {
        fields: { service: 'web' },
      }),
    ).toStrictEqual({
      timestamp: NOW_ISO,
      service: 'web',
      _host: 'a',
      _source: 'b',
      _timestamp: 'soon',
      _service: 'c',
    });
  });

  test('CRLF', () => {
    const { events } = encode('logfmt', 'a=1\r\nb="2"\r\n', { keepMessage: true });
    expect(events.map((e) => [e.a ?? e.b, e.message])).toEqual([
      ['1', 'a=1'],
      ['2', 'b="2"'],
    ]);
  });

  test.each([
    ['empty line', ''],
    ['only spaces', '   '],
    ['a value with no key', '=x'],
    ['an unterminated quote', 'a="open'],
    ['a quote glued to what follows', 'a="x"y'],
    ['a stray quote where a key goes', '"a"=1'],
  ])('parse_error: %s', (_name, line) => {
    const { events, parseErrors } = encode('logfmt', line + '\n');
    expect(parseErrors).toBe(1);
    const { source: _s, host: _h, ...rest } = events[0];
    expect(rest).toStrictEqual({ message: line, timestamp: NOW_ISO, parse_error: true });
  });
});
