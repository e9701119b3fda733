// The template compiler and matcher (src/parsers/template/): compile errors that point at the
// bad character, field types, `-` as null, dispatch by first byte, hits, and the nginx
// combined format written as a template agreeing with the hand-written nginx parser.

import { describe, expect, test } from 'vitest';
import { nginxLines } from '../../src/gen/nginx.js';
import { compileTemplate, TemplateError } from '../../src/parsers/template/compile.js';
import { encode, makeParser, NOW_ISO, parseOne, pick, type Event } from './helpers.js';

const NGINX =
  '{remote_addr} - {remote_user} [{time_local:timestamp}] "{method} {path} {protocol}" {status:int} {body_bytes_sent:int} "{http_referer}" "{http_user_agent}"';

describe('compile errors point at the bad character', () => {
  test.each<[string, string, number]>([
    ['', 'the template is empty', 1],
    ['{a} {b', 'unclosed `{`', 5],
    ['{a} {b {c}', 'unclosed `{`', 5],
    ['{a} } x', 'a lone `}`', 5],
    ['x {} y', 'a field needs a name', 3],
    ['x {:int} y', 'a field needs a name', 3],
    ['{1abc}', 'field name `1abc`', 2],
    ['{a b}', 'field name `a b`', 2],
    ['{status:integer}', 'unknown type `integer`: use string, int, float or timestamp', 9],
    ['{status:innt}', 'did you mean `int`?', 9],
    ['{a}{b}', 'two fields in a row', 4],
    ['{a} {a}', 'field `a` appears twice', 6],
    ['{timestamp} {x}', 'name this one differently, e.g. {time:timestamp}', 2],
    ['{host} {x}', '`host` is a field every event gets from the agent', 2],
    ['{source} x', '`source` is a field every event gets', 2],
    ['{message:int} x', '`message` is the event text', 2],
    ['just text', 'no {field} in the template', 1],
    ['{a}\n{b}', 'cannot hold a line break', 4],
  ])('%j', (template, reason, column) => {
    let err: unknown;
    try {
      compileTemplate(template);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    const te = err as TemplateError;
    expect(te.message).toContain(reason);
    expect(te.index + 1).toBe(column);
    expect(te.message).toContain(`(column ${column})`);
    // the caret line points under the character
    const lines = te.message.split('\n');
    expect(lines[lines.length - 1]).toBe('    ' + ' '.repeat(column - 1) + '^');
  });

  test('{{ and }} are literal braces, {_} matches and drops', () => {
    const t = compileTemplate('{{{a}}} {_} {b}');
    expect(t.fields).toEqual(['a', 'b']);
    expect(parseOne('template', '{x} skipped y', { templates: ['{{{a}}} {_} {b}'] })).toMatchObject(
      { a: 'x', b: 'y' },
    );
  });
});

describe('matching', () => {
  const T = (...templates: string[]) => ({ templates });

  test.each<[string, string[], string, Event]>([
    [
      'a field runs to the first occurrence of the next literal',
      ['{a} {b}'],
      'x y z',
      { a: 'x', b: 'y z' },
    ],
    [
      'the last field runs to the line end',
      ['[{level}] {msg}'],
      '[info] a ] b',
      { level: 'info', msg: 'a ] b' },
    ],
    [
      'before the closing literal a field runs to the last one',
      ['"{a}"'],
      '"say "hi""',
      { a: 'say "hi"' },
    ],
    ['an empty field is an empty string', ['[{a}] {b}'], '[] x', { a: '', b: 'x' }],
    [
      '`-` alone is null, whatever the type',
      ['{a} {b:int} {c:float} {d:timestamp}'],
      '- - - -',
      { a: null, b: null, c: null, d: null },
    ],
    [
      'int: sign, leading zeros',
      ['{a:int} {b:int} {c:int} {d:int}'],
      '-12 +7 007 -00',
      { a: -12, b: 7, c: 7, d: -0 },
    ],
    [
      'float: fraction and exponent',
      ['{a:float} {b:float} {c:float}'],
      '3.25 -0.5e3 1E-2',
      { a: 3.25, b: -500, c: 0.01 },
    ],
    [
      'a big int keeps its digits',
      ['{a:int}'],
      '123456789012345678901234567890',
      { a: 1.2345678901234568e29 },
    ],
    ['multi-byte literals', ['{a} → {b}'], 'x → y', { a: 'x', b: 'y' }],
    [
      'escaped quotes inside a quoted field',
      ['"{ua}" {n:int}'],
      '"a \\"b\\" c" 5',
      { ua: 'a "b" c', n: 5 },
    ],
    [
      'a field named message is the event message',
      ['{level}: {message}'],
      'warn: disk full',
      { level: 'warn', message: 'disk full' },
    ],
    [
      'timestamp: CLF',
      ['[{t:timestamp}] {x}'],
      '[10/Oct/2000:13:55:36 -0700] x',
      { t: '10/Oct/2000:13:55:36 -0700', timestamp: '2000-10-10T20:55:36.000Z' },
    ],
    [
      'timestamp: RFC 3339 with fraction and offset',
      ['{t:timestamp} {x}'],
      '2026-11-23T12:00:00.123456+02:00 x',
      { timestamp: '2026-11-23T10:00:00.123Z' },
    ],
    [
      'timestamp: epoch seconds with fraction',
      ['{t:timestamp} {x}'],
      '1795435200.25 x',
      { timestamp: '2026-11-23T12:00:00.250Z' },
    ],
    [
      'timestamp: epoch ms',
      ['{t:timestamp} {x}'],
      '1795435200123 x',
      { timestamp: '2026-11-23T12:00:00.123Z' },
    ],
    [
      'timestamp that does not parse: kept as text, ingest time',
      ['{t:timestamp} {x}'],
      'yesterday x',
      { t: 'yesterday', timestamp: NOW_ISO },
    ],
  ])('%s', (_name, templates, line, expected) => {
    const e = parseOne('template', line, T(...templates));
    expect(e.parse_error).toBeUndefined();
    expect(pick(e, Object.keys(expected))).toStrictEqual(expected);
  });

  test('a message field replaces the line as message (not repeated as a field)', () => {
    const e = parseOne('template', 'warn: disk full', T('{level}: {message}'));
    expect(e).toStrictEqual({ message: 'disk full', timestamp: NOW_ISO, level: 'warn' });
  });

  test.each<[string, string[], string]>([
    ['a literal that does not match', ['[{a}]'], '(x)'],
    ['text after the closing literal', ['[{a}]'], '[x] more'],
    ['an int that is not a number', ['{a:int} {b}'], '12x y'],
    ['a float that is not JSON', ['{a:float} {b}'], '1. y'],
    ['a missing literal', ['{a} - {b}'], 'x y'],
  ])('no match: %s', (_name, templates, line) => {
    const e = parseOne('template', line, T(...templates));
    expect(e).toStrictEqual({ message: line, timestamp: NOW_ISO, parse_error: true });
  });

  test('several templates: first byte dispatch, last match first, hits per template', () => {
    const p = makeParser('template', {
      templates: ['[{level}] {msg}', '{ip} {status:int}', '<{pri:int}>{msg}'],
    });
    const { events, parseErrors } = encode(p, [
      '[info] started',
      '10.0.0.1 200',
      '<13>hello',
      '10.0.0.2 404',
      '10.0.0.3 oops', // the int does not parse, and no other template fits
      '[warn] x',
    ]);
    expect(events.map((e) => e.parse_error ?? pick(e, ['level', 'ip', 'status', 'pri']))).toEqual([
      { level: 'info' },
      { ip: '10.0.0.1', status: 200 },
      { pri: 13 },
      { ip: '10.0.0.2', status: 404 },
      true,
      { level: 'warn' },
    ]);
    expect(parseErrors).toBe(1);
    expect([...p.hits]).toEqual([2, 2, 1]);
  });

  test('a line that fails the last-matched template tries the others; overlapping templates follow the last match', () => {
    const p = makeParser('template', { templates: ['{a} {b:int}', '{a} {b}'] });
    const { events } = encode(p, ['x 1', 'x y', 'x 2']);
    // `x 2` fits both: the template that matched last (the string one) is tried first.
    expect(events.map((e) => e.b)).toEqual([1, 'y', '2']);
    expect([...p.hits]).toEqual([1, 2]);
  });

  test('the nginx combined template agrees with the nginx parser', () => {
    const text = nginxLines(2000, 11);
    const viaTemplate = encode('template', text, T(NGINX)).events;
    const viaParser = encode('nginx', text).events;
    expect(viaTemplate).toHaveLength(2000);
    for (let i = 0; i < viaTemplate.length; i++) {
      const t = viaTemplate[i];
      const n = viaParser[i];
      expect(t.parse_error).toBeUndefined();
      for (const k of [
        'remote_addr',
        'remote_user',
        'time_local',
        'method',
        'path',
        'protocol',
        'status',
        'body_bytes_sent',
        'http_referer',
        'http_user_agent',
        'timestamp',
        'message',
      ]) {
        expect(t[k], k).toStrictEqual(n[k]);
      }
    }
  });

  test("nginx's \\xHH in a field between quotes is decoded, as by the nginx parser; elsewhere it stays", () => {
    const line =
      '1.2.3.4 - - [23/Nov/2026:12:00:00 +0000] "GET /a\\x22b HTTP/1.1" 200 1 "-" "x\\x22y \\xC3\\xA9"';
    const t = encode('template', [line], T(NGINX)).events[0];
    expect(t.http_user_agent).toBe('x"y \u00e9');
    expect(t.http_user_agent).toBe(encode('nginx', [line]).events[0].http_user_agent);
    // {path} is not between quotes of its own: escapes are not looked for (as with `\"`)
    expect(t.path).toBe('/a\\x22b');
  });

  test('CRLF and a long line', () => {
    const long = 'x'.repeat(100_000);
    const { events } = encode('template', `a=1 ${long}\r\na=2 y\r\n`, T('a={n:int} {rest}'));
    expect(events.map((e) => [e.n, (e.rest as string).length])).toEqual([
      [1, 100_000],
      [2, 1],
    ]);
  });
});
