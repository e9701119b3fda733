// Golden tests of the json parser (src/parsers/json.ts): top-level fields lifted as they are,
// the byte-level validator against every kind of broken JSON, and nesting far past any stack.

import { describe, expect, test } from 'vitest';
import { encode, NOW_ISO, parseOne } from './helpers.js';

describe('json: valid objects', () => {
  test('fields are lifted as they are, in order, values untouched', () => {
    const line =
      '{"level":"info","n":-1.5e3,"ok":true,"no":false,"nil":null,"list":[1,"two",{"x":[]}],"obj":{"a":{"b":"c"}},"esc":"tab\\there \\"q\\" \\u00e9 \\ud83d\\ude00"}';
    const e = parseOne('json', line);
    expect(e).toStrictEqual({
      timestamp: NOW_ISO,
      level: 'info',
      n: -1500,
      ok: true,
      no: false,
      nil: null,
      list: [1, 'two', { x: [] }],
      obj: { a: { b: 'c' } },
      esc: 'tab\there "q" \u00e9 \u{1f600}',
    });
  });

  test('keep_message: the line is kept as message when the object has none', () => {
    const line = '{"level":"info","n":1}';
    expect(parseOne('json', line, { keepMessage: true })).toStrictEqual({
      message: line,
      timestamp: NOW_ISO,
      level: 'info',
      n: 1,
    });
    expect(parseOne('json', '{"message":"m"}', { keepMessage: true }).message).toBe('m');
  });

  test('the value bytes are copied, not re-encoded (number text, escapes, spacing kept)', () => {
    const { ndjson } = encode('json', ['{ "n" : 1.50 , "s" : "\\u0041" , "a" : [ 1 , 2 ] }']);
    expect(ndjson).toContain(',"n":1.50,"s":"\\u0041","a":[ 1 , 2 ]}');
  });

  test('`message` becomes the event message (the line is not repeated)', () => {
    expect(parseOne('json', '{"level":"warn","message":"disk full"}')).toStrictEqual({
      message: 'disk full',
      timestamp: NOW_ISO,
      level: 'warn',
    });
    expect(parseOne('json', '{"message":{"nested":true}}').message).toStrictEqual({
      nested: true,
    });
  });

  test('an RFC 3339 `timestamp` becomes the event timestamp, in UTC', () => {
    expect(parseOne('json', '{"timestamp":"2026-11-23T14:00:00.5+02:00","a":1}')).toStrictEqual({
      timestamp: '2026-11-23T12:00:00.500Z',
      a: 1,
    });
  });

  test.each([
    ['a number', '{"timestamp":1700000000}', 1700000000],
    ['other text', '{"timestamp":"yesterday"}', 'yesterday'],
    ['an escaped string', '{"timestamp":"2026-11-23T14:00:00\\u005a"}', '2026-11-23T14:00:00Z'],
  ])('a `timestamp` that is %s is kept as _timestamp', (_n, line, value) => {
    const e = parseOne('json', line);
    expect(e.timestamp).toBe(NOW_ISO);
    expect(e._timestamp).toStrictEqual(value);
  });

  test('keys the agent writes get a `_` prefix instead of duplicating', () => {
    const e = parseOne(
      'json',
      '{"host":"app-1","source":"db","service":"billing","parse_error":1,"truncated":2,"message":"m","message":"again"}',
      { fields: { service: 'web' } },
    );
    expect(e).toStrictEqual({
      message: 'm',
      timestamp: NOW_ISO,
      service: 'web',
      _host: 'app-1',
      _source: 'db',
      _service: 'billing',
      _parse_error: 1,
      _truncated: 2,
      _message: 'again',
    });
  });

  test('duplicate keys are copied as they are (JSON.parse keeps the last)', () => {
    const { ndjson } = encode('json', ['{"a":1,"a":2}']);
    expect(ndjson).toContain(',"a":1,"a":2}');
  });

  test.each([
    ['surrounding whitespace', '  \t{"a":1} \t'],
    ['an empty object', '{}'],
    ['empty after spaces', ' { } '],
  ])('%s', (_n, line) => {
    const e = parseOne('json', line);
    expect(e.parse_error).toBeUndefined();
    expect(e.message).toBeUndefined();
  });

  test('CRLF', () => {
    const { events } = encode('json', '{"a":1}\r\n{"a":2}\r\n', { keepMessage: true });
    expect(events.map((e) => [e.a, e.message])).toEqual([
      [1, '{"a":1}'],
      [2, '{"a":2}'],
    ]);
  });

  test('nested 10,000 deep: no recursion, valid output, value intact', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const e = parseOne('json', `{"deep":${deep},"after":1}`);
    expect(e.after).toBe(1);
    let v = e.deep;
    let depth = 0;
    while (Array.isArray(v) && v.length > 0) {
      v = v[0];
      depth++;
    }
    expect(depth).toBe(9_999);
  });

  test('nested 1,000,000 deep objects and arrays mixed: still no crash', () => {
    const open = '{"a":['.repeat(500_000);
    const close = ']}'.repeat(500_000);
    const { events } = encode('json', `{"x":${open}1${close}}\n`);
    expect(events).toHaveLength(1);
    expect(events[0].parse_error).toBeUndefined();
  });

  test('invalid UTF-8 inside strings becomes U+FFFD, in keys and values', () => {
    const line = Buffer.concat([
      Buffer.from('{"k'),
      Buffer.from([0xff]),
      Buffer.from('":"v'),
      Buffer.from([0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from('","ok":"caf\u00e9"}'),
    ]);
    const e = parseOne('json', line);
    expect(e['k\ufffd']).toBe('v\ufffd(\ufffd');
    expect(e.ok).toBe('caf\u00e9');
  });
});

describe('json: anything else is kept whole with parse_error', () => {
  test.each([
    ['empty line', ''],
    ['plain text', 'hello'],
    ['an array', '[1,2]'],
    ['a string', '"s"'],
    ['a number', '42'],
    ['trailing comma', '{"a":1,}'],
    ['single quotes', "{'a':1}"],
    ['unquoted key', '{a:1}'],
    ['missing value', '{"a":}'],
    ['missing colon', '{"a" 1}'],
    ['a bad escape', '{"a":"\\x41"}'],
    ['a short \\u escape', '{"a":"\\u12"}'],
    ['a raw tab in a string', '{"a":"x\ty"}'],
    ['unterminated string', '{"a":"x}'],
    ['unterminated object', '{"a":1'],
    ['two objects', '{"a":1}{"b":2}'],
    ['trailing text', '{"a":1} x'],
    ['leading zero', '{"a":01}'],
    ['a bare fraction', '{"a":.5}'],
    ['a dangling point', '{"a":1.}'],
    ['an empty exponent', '{"a":1e}'],
    ['NaN', '{"a":NaN}'],
    ['a misspelt literal', '{"a":tru}'],
    ['mismatched brackets', '{"a":[1,2}'],
    ['an unclosed deep array', '{"a":' + '['.repeat(10_000) + '}'],
    ['closing too much', '{"a":[1]]}'],
    ['a trailing comma in a nested array', '{"a":[1,]}'],
    ['a comma where a key should be', '{"a":{,}}'],
  ])('%s', (_n, line) => {
    const { events, parseErrors } = encode('json', line + '\n');
    expect(parseErrors).toBe(1);
    const { source: _s, host: _h, ...rest } = events[0];
    expect(rest).toStrictEqual({ message: line, timestamp: NOW_ISO, parse_error: true });
  });
});
