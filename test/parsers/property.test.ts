// Property tests (fixed seeds): random lines through the byte-level parsers and encoder must
// give events that JSON.parse reads back with the same field values as a slow, obviously-right
// reference parser written here (regular expressions and JSON.parse on strings).

import { describe, expect, test } from 'vitest';
import { prng } from '../../src/gen/nginx.js';
import { encode, type Event } from './helpers.js';

type Rnd = () => number;
const int = (rnd: Rnd, n: number) => Math.floor(rnd() * n);
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[int(rnd, xs.length)];

/** Random text from a pool that has the hard cases: quotes, backslashes, controls, unicode. */
function text(rnd: Rnd, max: number, pool: readonly string[]): string {
  let s = '';
  const n = int(rnd, max + 1);
  for (let i = 0; i < n; i++) s += pick(rnd, pool);
  return s;
}
const PLAIN = [...'abcxyzABC019 -_/.:;,=?&%+()[]{}~!@#$*'];
const HARD = [...PLAIN, '\u00e9', '\u4e2d', '\u{1f600}', '\t', '\u0001', '\u007f', "'"];

/** Strip fields every event has; what remains is what a parser produced. */
function fields(e: Event): Event {
  const { source: _s, host: _h, timestamp: _t, ...rest } = e;
  return rest;
}

describe('nginx combined vs a regex reference', () => {
  const RE =
    /^(\S+) - (.*?) \[([^\]]*)\] "((?:[^"\\]|\\.)*)" (\d+|-) (\d+|-) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$/;
  const unescape = (s: string) => s.replace(/\\(["\\])/g, '$1');
  const nul = (s: string) => (s === '-' ? null : s);

  function reference(line: string): Event | null {
    const m = RE.exec(line);
    if (!m) return null;
    const request = unescape(m[4]);
    let method: string | null = null;
    let path: string | null = null;
    let protocol: string | null = null;
    const mm = /^([A-Za-z_-]{1,32}) ([\s\S]*)$/.exec(request);
    if (mm) {
      method = mm[1];
      const rest = mm[2];
      const sp = rest.lastIndexOf(' ');
      if (sp > 0 && rest.slice(sp + 1).startsWith('HTTP/')) {
        path = rest.slice(0, sp);
        protocol = rest.slice(sp + 1);
      } else path = rest;
    }
    const num = (s: string, dash: number | null) =>
      s === '-' ? dash : Number(s.replace(/^0+(?=\d)/, ''));
    return {
      remote_addr: nul(m[1]),
      remote_user: nul(m[2]),
      time_local: m[3],
      request: m[4] === '-' ? null : request,
      method,
      path,
      protocol,
      status: num(m[5], null),
      body_bytes_sent: num(m[6], 0),
      http_referer: nul(unescape(m[7])),
      http_user_agent: nul(unescape(m[8])),
    };
  }

  function line(rnd: Rnd): string {
    const esc = (s: string) => s.replace(/[\\"]/g, (c) => '\\' + c); // Apache-style
    const quoted = (pool: readonly string[]) =>
      rnd() < 0.15 ? '-' : esc(text(rnd, 40, pool)).replace(/^-$/, 'x');
    const addr = pick(rnd, ['10.0.0.1', '2001:db8::1', '::1', 'fe80::1%eth0', '-', 'unix:']);
    const user = pick(rnd, ['-', 'alice', 'john doe', '-x-', '[', '] ']);
    const time = pick(rnd, [
      '23/Nov/2026:12:00:00 +0000',
      '01/Jan/2000:00:00:00 -0130',
      '29/Feb/2024:23:59:59 +1400',
    ]);
    const method = pick(rnd, ['GET', 'POST', 'PROPFIND', 'M-SEARCH', '\\x16\\x03', '']);
    const path = text(rnd, 30, rnd() < 0.5 ? PLAIN : HARD);
    const proto = pick(rnd, ['HTTP/1.1', 'HTTP/2.0', '', 'HTTP/', 'FTP/1']);
    const request =
      rnd() < 0.05 ? '-' : esc([method, path, proto].filter((x) => x !== '').join(' '));
    const status = pick(rnd, ['200', '404', '-', '007', '500']);
    const bytes = pick(rnd, ['0', '1234', '-', '00']);
    return `${addr} - ${user} [${time}] "${request}" ${status} ${bytes} "${quoted(PLAIN)}" "${quoted(HARD)}"`;
  }

  test('4,000 random lines, seed 1', () => {
    const rnd = prng(1);
    const lines: string[] = [];
    for (let i = 0; i < 4000; i++) lines.push(line(rnd));
    const { events } = encode('nginx', lines);
    expect(events).toHaveLength(lines.length);
    let matched = 0;
    for (let i = 0; i < lines.length; i++) {
      const ref = reference(lines[i]);
      const got = fields(events[i]);
      if (ref === null) {
        // the reference is stricter (no trailing text, no odd spacing): ours may still parse
        continue;
      }
      matched++;
      expect(got, lines[i]).toStrictEqual(ref);
    }
    expect(matched).toBeGreaterThan(3000);
  });

  test('with and without keep_message the fields are the same (two copy paths), seed 6', () => {
    const rnd = prng(6);
    const lines: string[] = [];
    for (let i = 0; i < 2000; i++) lines.push(line(rnd));
    const without = encode('nginx', lines).events;
    const kept = encode('nginx', lines, { keepMessage: true }).events;
    for (let i = 0; i < lines.length; i++) {
      const { message, ...rest } = kept[i];
      expect(message).toBe(lines[i]);
      const { message: m2, ...rest2 } = without[i];
      if (m2 !== undefined) expect(m2).toBe(lines[i]); // unmapped text or no match
      expect(rest2, lines[i]).toStrictEqual(rest);
    }
  });
});

describe('json vs JSON.parse', () => {
  const KEYS = [
    'a',
    'b',
    'level',
    'msg',
    'message',
    'n',
    'user_id',
    'k\u00e9y',
    'esc"q',
    'back\\slash',
    '',
  ];
  function value(rnd: Rnd, depth: number): unknown {
    const r = rnd();
    if (depth > 4 || r < 0.5) {
      return pick(rnd, [
        () => text(rnd, 20, HARD),
        () => int(rnd, 1e6) - 5e5,
        () => rnd() * 1e6,
        () => true,
        () => false,
        () => null,
        () => 1e21,
        () => -0.000001,
      ])();
    }
    if (r < 0.75) return Array.from({ length: int(rnd, 4) }, () => value(rnd, depth + 1));
    return object(rnd, depth + 1);
  }
  function object(rnd: Rnd, depth: number): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (let i = int(rnd, 6); i > 0; i--) o[pick(rnd, KEYS)] = value(rnd, depth);
    return o;
  }
  /** JSON.stringify, then random whitespace between tokens (never inside strings). */
  function spaced(rnd: Rnd, json: string): string {
    let out = '';
    let inString = false;
    for (let i = 0; i < json.length; i++) {
      const c = json[i];
      out += c;
      if (inString) {
        if (c === '\\') out += json[++i];
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (',:{}[]'.includes(c) && rnd() < 0.2) out += pick(rnd, [' ', '\t', '  ', '\r ']);
    }
    return out;
  }
  /** What the line is as UTF-8 bytes read back (a lone surrogate is U+FFFD there). */
  const wellFormed = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

  test('3,000 random objects, seed 2: fields equal JSON.parse of the line', () => {
    const rnd = prng(2);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(spaced(rnd, JSON.stringify(object(rnd, 0))));
    const { events } = encode('json', lines);
    for (let i = 0; i < lines.length; i++) {
      const expected = JSON.parse(lines[i]) as Event;
      const { message, ...got } = fields(events[i]);
      if ('message' in expected) {
        expect(message).toStrictEqual(expected.message);
        delete expected.message;
      } else expect(message, lines[i]).toBeUndefined();
      expect(got, lines[i]).toStrictEqual(expected);
    }
  });

  test('3,000 corrupted objects, seed 3: accepted exactly when JSON.parse gives an object', () => {
    const rnd = prng(3);
    const MUT = [...'{}[],:"\\ 0-1.eEtfnu', 'x', '\t'];
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const s = JSON.stringify(object(rnd, 0));
      const at = int(rnd, s.length);
      const m = pick(rnd, [0, 1, 2]);
      const c = pick(rnd, MUT);
      lines.push(
        m === 0
          ? s.slice(0, at) + s.slice(at + 1)
          : m === 1
            ? s.slice(0, at) + c + s.slice(at)
            : s.slice(0, at) + c + s.slice(at + 1),
      );
    }
    const { events } = encode('json', lines);
    let rejected = 0;
    for (let i = 0; i < lines.length; i++) {
      let ok = false;
      let parsed: unknown;
      try {
        parsed = JSON.parse(wellFormed(lines[i]));
        ok = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      } catch {
        ok = false;
      }
      // JSON.parse takes a trailing \r or \t as whitespace; our lines lose a final \r to CRLF
      // handling, which is whitespace either way.
      expect(events[i].parse_error === true, lines[i]).toBe(!ok);
      if (!ok) rejected++;
      else {
        const got = fields(events[i]);
        if (!('message' in (parsed as object))) delete got.message;
        else got.message = (parsed as Event).message;
        expect(got, lines[i]).toStrictEqual(parsed);
      }
    }
    expect(rejected).toBeGreaterThan(1000);
  });
});

describe('logfmt vs a regex reference', () => {
  const TOKEN = /[ \t]*([^\s="]+)(?:=(?:"((?:[^"\\]|\\.)*)"(?=[ \t]|$)|([^ \t]*)))?/y;
  function reference(line: string): Event | null {
    const out: Event = {};
    TOKEN.lastIndex = 0;
    let any = false;
    while (TOKEN.lastIndex < line.length) {
      if (/^[ \t]*$/.test(line.slice(TOKEN.lastIndex))) break;
      const m = TOKEN.exec(line);
      if (!m) return null;
      any = true;
      const key = m[1];
      const v = m[2] !== undefined ? JSON.parse(`"${m[2]}"`) : m[3] !== undefined ? m[3] : true;
      out[key] = v;
    }
    return any ? out : null;
  }
  function line(rnd: Rnd): string {
    const parts: string[] = [];
    const used = new Set<string>();
    for (let i = 1 + int(rnd, 6); i > 0; i--) {
      let key = pick(rnd, ['level', 'msg', 'a', 'b.c', 'x-y', 'n', 'k\u00e9', 'flag']);
      if (used.has(key)) continue;
      used.add(key);
      const kind = int(rnd, 3);
      if (kind === 0) parts.push(key);
      else if (kind === 1)
        parts.push(
          `${key}=${text(
            rnd,
            10,
            PLAIN.filter((c) => c !== ' ' && c !== '"'),
          )}`,
        );
      else parts.push(`${key}=${JSON.stringify(text(rnd, 15, HARD))}`);
      key = '';
    }
    return parts.join(pick(rnd, [' ', '  ', '\t']));
  }

  test('3,000 random lines, seed 4', () => {
    const rnd = prng(4);
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(line(rnd));
    const { events } = encode('logfmt', lines);
    for (let i = 0; i < lines.length; i++) {
      const ref = reference(lines[i]);
      const got = fields(events[i]);
      expect(ref, lines[i]).not.toBeNull();
      expect(got.message).toBeUndefined();
      expect(got, lines[i]).toStrictEqual(ref);
    }
  });
});

describe('any bytes at all', () => {
  test.each(['nginx', 'apache', 'json', 'logfmt', 'syslog'])(
    '%s: random bytes give valid JSON, one event per line, message = the line',
    (parser) => {
      const rnd = prng(5);
      const parts: Buffer[] = [];
      const expected: string[] = [];
      for (let i = 0; i < 500; i++) {
        const n = int(rnd, 120);
        const b = Buffer.alloc(n);
        for (let k = 0; k < n; k++) {
          let c = int(rnd, 256);
          if (c === 10) c = 32;
          b[k] = c;
        }
        parts.push(b, Buffer.from('\n'));
        let s = b;
        if (s.length > 0 && s[s.length - 1] === 13) s = s.subarray(0, s.length - 1);
        expected.push(s.toString('utf8'));
      }
      const { events } = encode(parser, Buffer.concat(parts)); // throws on invalid JSON
      expect(events).toHaveLength(500);
      events.forEach((e, i) => {
        if (e.parse_error) expect(e.message).toBe(expected[i]);
      });
    },
  );
});
