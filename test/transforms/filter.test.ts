// filter: one table per parser family (fixed keys, dynamic keys, raw lines), each row a
// condition and the lines it keeps; then action, combinations and folding to constants.

import { describe, expect, test } from 'vitest';
import { chainOf, config, processLines } from './helpers.js';

const clock = { now: 0 };

/** The lines `condition` keeps (action: keep) from `lines`, for a source with `source` keys. */
function kept(source: string, condition: string, lines: string[]): string[] {
  const cfg = config(source, `- {type: filter, action: keep, condition: ${condition}}`);
  return chainOf(cfg, clock)(lines);
}

const nginx = (path: string, status: number | string, ua = 'curl/8', bytes = '512'): string =>
  `10.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET ${path} HTTP/1.1" ${status} ${bytes} "-" "${ua}"`;

describe('nginx (fixed keys)', () => {
  const lines = [
    nginx('/', 200),
    nginx('/api/users', 404, 'Googlebot/2.1'),
    nginx('/api/orders', 500),
    nginx('/login', 302, 'Mozilla/5.0'),
    'not an access log line',
  ];
  const [ok, notFound, error, redirect, garbage] = lines;
  test.each([
    ['{field: status, equals: 404}', [notFound]],
    ['{field: status, equals: "404"}', [notFound]],
    ['{field: status, in: [404, 500]}', [notFound, error]],
    ['{field: status, in: ["302", 200]}', [ok, redirect]],
    ['{field: status, gt: 302}', [notFound, error]],
    ['{field: status, gte: 302}', [notFound, error, redirect]],
    ['{field: status, lt: 302}', [ok]],
    ['{field: status, lte: 302}', [ok, redirect]],
    ['{field: status, gte: 400, lt: 500}', [notFound]],
    ['{field: path, prefix: /api/}', [notFound, error]],
    ['{field: path, equals: /login}', [redirect]],
    ['{field: http_user_agent, contains: bot}', [notFound]],
    ['{field: method, in: [GET, HEAD]}', [ok, notFound, error, redirect]],
    ['{field: message, contains: orders}', [error]],
    ['{field: message, prefix: not}', [garbage]],
    ['{field: remote_user, equals: "-"}', []], // `-` is null, not text
    ['{field: no_such_field, equals: x}', []], // nginx never writes it: folds to false
    ['{not: {field: no_such_field, equals: x}}', lines],
    ['{all: [{field: status, gte: 400}, {field: path, prefix: /api/orders}]}', [error]],
    ['{any: [{field: status, equals: 200}, {field: status, equals: 302}]}', [ok, redirect]],
    ['{not: {field: status, lt: 400}}', [notFound, error, garbage]],
  ])('%s', (condition, want) => {
    expect(kept('parser: nginx', condition, lines)).toEqual(want);
  });
});

test('nginx \\xHH escapes are decoded before a filter compares (as the encoder writes them)', () => {
  const quoted = nginx('/q?a=\\x22b\\x22', 200, 'say \\x22hi\\x22 \\xC3\\xA9');
  const lines = [quoted, nginx('/', 200)];
  expect(kept('parser: nginx', '{field: path, equals: \'/q?a="b"\'}', lines)).toEqual([quoted]);
  expect(kept('parser: nginx', '{field: http_user_agent, equals: \'say "hi" é\'}', lines)).toEqual([
    quoted,
  ]);
});

describe('json (dynamic keys)', () => {
  const lines = [
    '{"level":"info","msg":"up","ms":12,"ok":true}',
    '{"level":"ERROR","msg":"down","ms":1500.5,"ok":false,"user":{"id":7}}',
    '{"level":"warning","msg":"quote \\" inside","ms":-3}',
    '{"level":50,"msg":"pino error"}',
    '{"host":"h1","msg":"clashes with the agent key"}',
    'not json',
    '{"message":"hello \\u00e9t\\u00e9","level":"debug"}',
  ];
  const [info, error, warning, pino, clash, garbage, message] = lines;
  test.each([
    ['{field: level, equals: info}', [info]],
    ['{field: ms, gt: 100}', [error]],
    ['{field: ms, lt: 0}', [warning]],
    ['{field: ms, equals: 1500.5}', [error]],
    ['{field: ok, equals: true}', [info]],
    ['{field: ok, equals: false}', [error]],
    ['{field: msg, equals: "quote \\" inside"}', [warning]],
    ['{field: msg, contains: "\\""}', [warning]],
    ['{field: user, equals: x}', []], // an object is never equal to text
    ['{field: _host, equals: h1}', [clash]], // written as `_host`: looked up as written
    ['{level_at_least: warn}', [error, warning, pino]],
    ['{level_at_least: error}', [error, pino]],
    ['{level_at_least: trace}', [info, error, warning, pino, message]],
    ['{field: message, prefix: not}', [garbage]],
    ['{field: message, equals: "hello été"}', [message]], // the JSON `message`, decoded
    ['{level_at_least: debug}', [info, error, warning, pino, message]],
  ])('%s', (condition, want) => {
    expect(kept('parser: json', condition, lines)).toEqual(want);
  });
});

describe('logfmt and syslog levels', () => {
  test.each([
    ['level=debug msg=a', false],
    ['level=INFO msg=b', false],
    ['level=notice msg=c', false],
    ['level=Warn msg=d', true],
    ['level=warning msg=e', true],
    ['level=err msg=f', true],
    ['level=fatal msg=g', true],
    ['level=emerg msg=h', true],
    ['level=loud msg=i', false], // not a level name
    ['msg=no-level', false],
  ])('logfmt %s -> at least warn: %s', (line, want) => {
    expect(kept('parser: logfmt', '{level_at_least: warn}', [line])).toEqual(want ? [line] : []);
  });

  test.each([
    ['<11>1 2026-11-23T12:00:00Z host app - - - disk failed', true], // severity 3 (error)
    ['<12>1 2026-11-23T12:00:00Z host app - - - low disk', true], // 4 (warning)
    ['<13>1 2026-11-23T12:00:00Z host app - - - notice', false], // 5 (notice)
    ['<14>Nov 23 12:00:00 host app[1]: informational', false], // 6 (info)
    ['<8>Nov 23 12:00:00 host app[1]: emergency', true], // 0
  ])('syslog %s -> at least warn: %s', (line, want) => {
    expect(kept('parser: syslog', '{level_at_least: warn}', [line])).toEqual(want ? [line] : []);
  });
});

describe('raw lines: the message is the whole line', () => {
  const lines = ['GET /health 200', 'ERROR db down', 'WARN slow', 'ERROR\tdisk'];
  test.each([
    ['{field: message, equals: WARN slow}', ['WARN slow']],
    ['{field: message, prefix: ERROR}', ['ERROR db down', 'ERROR\tdisk']],
    ['{field: message, contains: " d"}', ['ERROR db down']],
    ['{field: message, contains: health}', ['GET /health 200']],
    ['{field: message, in: [WARN slow, nope]}', ['WARN slow']],
    ['{field: status, equals: 200}', []], // raw has no other field
    ['{level_at_least: warn}', []], // nor a level
  ])('%s', (condition, want) => {
    expect(kept('parser: raw', condition, lines)).toEqual(want);
  });

  test('contains over many lines finds each match once (the shared forward scan)', () => {
    const many = Array.from({ length: 1000 }, (_, i) =>
      i % 7 === 0 ? `x needle ${i}` : `hay ${i}`,
    );
    expect(kept('parser: raw', '{field: message, contains: needle}', many)).toEqual(
      many.filter((l) => l.includes('needle')),
    );
  });

  test('CRLF lines: the \\r is not part of the message', () => {
    const cfg = config('', '- {type: filter, condition: {field: message, equals: b}}');
    const r = processLines(cfg, ['a\r', 'b\r', 'c']);
    expect(r.events.map((e) => e.message)).toEqual(['b']);
    expect(r.raw).toEqual(['b']);
  });
});

describe('action, statics and counters', () => {
  test('action: drop removes what matches; the default action is keep', () => {
    const lines = ['a 1', 'b 2', 'a 3'];
    const drop = config(
      '',
      '- {type: filter, action: drop, condition: {field: message, prefix: a}}',
    );
    expect(chainOf(drop, clock)(lines)).toEqual(['b 2']);
    const keep = config('', '- {type: filter, condition: {field: message, prefix: a}}');
    expect(chainOf(keep, clock)(lines)).toEqual(['a 1', 'a 3']);
  });

  test('a condition on a static field is decided once per source', () => {
    const src = 'fields: {env: prod, tier: 2}';
    const lines = ['x', 'y'];
    expect(kept(src, '{field: env, equals: prod}', lines)).toEqual(lines);
    expect(kept(src, '{field: env, equals: dev}', lines)).toEqual([]);
    expect(kept(src, '{field: tier, gte: 2}', lines)).toEqual(lines);
    expect(kept(src, '{field: tier, in: ["2"]}', lines)).toEqual(lines);
  });

  test('dropped events are counted per transform and in total; encoded events are the kept', () => {
    const cfg = config(
      'parser: nginx',
      `- {type: filter, name: no_2xx, action: drop, condition: {field: status, lt: 300}}
- {type: filter, action: drop, condition: {field: path, prefix: /api/}}`,
    );
    const r = processLines(cfg, [
      nginx('/', 200),
      nginx('/api/x', 500),
      nginx('/x', 404),
      'garbage',
    ]);
    expect(r.events.map((e) => e.path ?? e.message)).toEqual(['/x', 'garbage']);
    expect(r.count).toBe(2);
    expect(r.raw).toHaveLength(2);
    expect(r.counters.transforms.get('no_2xx')).toEqual({ dropped: 1 });
    expect(r.counters.transforms.get('filter_1')).toEqual({ dropped: 1 });
    expect(r.counters.transformDropped).toBe(2);
    expect(r.counters.linesIn).toBe(4);
    expect(r.counters.parseErrors).toBe(1); // the kept garbage line
  });

  test('a fully filtered chunk still carries its mark (a Block of 0 events)', () => {
    const cfg = config('', '- {type: filter, condition: {field: message, equals: never}}');
    const r = processLines(cfg, ['a', 'b']);
    expect(r.count).toBe(0);
    expect(r.events).toEqual([]);
    expect(r.raw).toEqual([]);
  });

  test('raw-only sinks still filter a parsed source (the parse runs for the transforms)', () => {
    const cfg = config('parser: nginx', '- {type: filter, condition: {field: status, gte: 400}}');
    const r = processLines(cfg, [nginx('/', 200), nginx('/x', 404)], { ndjson: false, raw: true });
    expect(r.raw).toEqual([nginx('/x', 404)]);
    expect(r.count).toBe(1);
    expect(r.events).toEqual([]);
  });
});
