// The NDJSON encoder against hostile input: every output line must be valid JSON whose message
// is exactly what Buffer#toString('utf8') makes of the input line (minus a trailing \r).

import { describe, expect, test } from 'vitest';
import {
  encodeLines,
  jsonStringMaxBytes,
  makeEncodeOptions,
  writeJsonString,
} from '../../src/engine/encoder.js';
import { prng } from '../../src/gen/nginx.js';
import type { LineChunk, Wants } from '../../src/pipeline/types.js';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const TS = '2026-01-02T03:04:05.678Z';
const BOTH: Wants = { ndjson: true, raw: true };

function chunk(buf: Buffer, lines: number, extra: Partial<LineChunk> = {}): LineChunk {
  return {
    sourceId: 's',
    path: '/var/log/app.log',
    buf,
    lines,
    truncated: false,
    mark: null,
    readAt: 1,
    ...extra,
  };
}

/** The lines of a chunk as the encoder must read them: split on \n, a last line without \n
 *  counts, one trailing \r is not part of the message. */
function expectedMessages(buf: Buffer): string[] {
  const out: string[] = [];
  let s = 0;
  while (s < buf.length) {
    let e = buf.indexOf(10, s);
    const next = e < 0 ? buf.length : e + 1;
    if (e < 0) e = buf.length;
    if (e > s && buf[e - 1] === 13) e--;
    out.push(buf.subarray(s, e).toString('utf8'));
    s = next;
  }
  return out;
}

function expectedRaw(buf: Buffer): Buffer {
  const parts = expectedMessages(buf).length;
  const out: Buffer[] = [];
  let s = 0;
  for (let k = 0; k < parts; k++) {
    let e = buf.indexOf(10, s);
    const next = e < 0 ? buf.length : e + 1;
    if (e < 0) e = buf.length;
    if (e > s && buf[e - 1] === 13) e--;
    out.push(buf.subarray(s, e), Buffer.from('\n'));
    s = next;
  }
  return Buffer.concat(out);
}

/** Encode `buf` and check the property on every event; returns the parsed events. */
function check(buf: Buffer, opts = makeEncodeOptions({ host: 'h', now: () => NOW })) {
  const msgs = expectedMessages(buf);
  const block = encodeLines(chunk(buf, msgs.length), BOTH, opts);
  const text = block.ndjson!.toString('utf8');
  expect(text.endsWith('\n') || msgs.length === 0).toBe(true);
  // The encoder's own output is valid UTF-8: nothing was replaced by this decode.
  expect(Buffer.from(text, 'utf8').equals(block.ndjson!)).toBe(true);
  const lines = text.split('\n');
  lines.pop();
  expect(lines.length).toBe(msgs.length);
  expect(block.events).toBe(msgs.length);
  const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  events.forEach((ev, k) => expect(ev.message).toBe(msgs[k]));
  expect(block.raw!.equals(expectedRaw(buf))).toBe(true);
  return { block, events };
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('encodeLines: hostile lines', () => {
  const cases: [string, Buffer][] = [
    ['plain ascii', Buffer.from('hello world\n')],
    ['empty line', Buffer.from('\n')],
    ['several empty lines', Buffer.from('\n\n\n')],
    ['double quotes', Buffer.from('say "hi" and ""\n')],
    ['backslashes', Buffer.from('C:\\path\\to\\file \\" \\\\\n')],
    ['quote at every alignment', Buffer.from('"a"bb"ccc"dddd"eeeee"\n')],
    ['NUL bytes', Buffer.from('a\0b\0\0c\n')],
    [
      'every control char',
      Buffer.concat([Buffer.from(range(0, 32).filter((c) => c !== 10)), Buffer.from('\n')]),
    ],
    [
      'control chars one per line',
      Buffer.from(
        range(0, 32)
          .filter((c) => c !== 10 && c !== 13)
          .map((c) => String.fromCharCode(c, 10))
          .join(''),
      ),
    ],
    ['DEL', Buffer.from('a\x7fb\n')],
    ['CRLF', Buffer.from('one\r\ntwo\r\n')],
    ['mixed LF and CRLF', Buffer.from('one\ntwo\r\nthree\n')],
    ['lone CR inside', Buffer.from('a\rb\r\rc\n')],
    ['CR CR LF keeps one CR', Buffer.from('a\r\r\n')],
    ['only CRLF', Buffer.from('\r\n')],
    ['last line without newline', Buffer.from('a\nb')],
    ['last line ends with CR, no LF', Buffer.from('a\nb\r')],
    ['single byte no newline', Buffer.from('x')],
    ['valid 2-byte', Buffer.from('caf\u00e9 na\u00efve\n')],
    ['valid 3-byte', Buffer.from('\u20ac \u2603 \u4e2d\u6587\n')],
    ['4-byte emoji', Buffer.from('smile \u{1f600} \u{1f4a9}\u{1f680}\n')],
    ['U+2028 U+2029 (valid JSON)', Buffer.from('a\u2028b\u2029c\n')],
    ['U+FFFD itself', Buffer.from('\ufffd\n')],
    ['max code point U+10FFFF', hex('f4 8f bf bf 0a')],
    ['stray continuation byte', hex('61 80 62 0a')],
    ['many continuation bytes', hex('80 bf 80 bf 0a')],
    ['lone lead byte at end of line', hex('61 c3 0a')],
    ['lone lead byte then ascii', hex('c3 61 0a')],
    ['truncated 3-byte', hex('e2 82 0a')],
    ['truncated 3-byte then ascii', hex('e2 82 41 0a')],
    ['truncated 4-byte', hex('f0 9f 98 0a')],
    ['truncated 4-byte before CR', hex('f0 9f 98 0d 0a')],
    ['overlong 2-byte C0 AF', hex('c0 af 0a')],
    ['overlong 2-byte C1 BF', hex('c1 bf 0a')],
    ['overlong 3-byte E0 80 AF', hex('e0 80 af 0a')],
    ['overlong 3-byte E0 9F BF', hex('e0 9f bf 0a')],
    ['overlong 4-byte F0 80 80 AF', hex('f0 80 80 af 0a')],
    ['overlong 4-byte F0 8F BF BF', hex('f0 8f bf bf 0a')],
    ['surrogate ED A0 80', hex('ed a0 80 0a')],
    ['surrogate ED BF BF', hex('ed bf bf 0a')],
    ['surrogate pair encoded (CESU)', hex('ed a0 bd ed b8 80 0a')],
    ['above U+10FFFF F4 90 80 80', hex('f4 90 80 80 0a')],
    ['F5..FF leads', hex('f5 f8 fc fe ff 0a')],
    ['invalid at every alignment', hex('ff 61 ff 61 61 ff 61 61 61 ff 61 61 61 61 ff 0a')],
    ['valid after invalid', hex('ff e2 82 ac 0a')],
    [
      'invalid inside a long ascii run',
      Buffer.concat([Buffer.from('x'.repeat(37)), hex('c3'), Buffer.from('y'.repeat(41) + '\n')]),
    ],
    ['multibyte split by newline', hex('e2 82 0a ac 0a')],
    ['quotes and invalid together', hex('22 ff 5c c3 28 22 0a')],
    ['long line', Buffer.from('a"b\\'.repeat(5000) + '\n')],
    ['all 256 byte values', Buffer.concat([Buffer.from(range(0, 256)), Buffer.from('\n')])],
    ['JSON-looking line', Buffer.from('{"message":"x","host":"evil"}\n')],
  ];

  test.each(cases)('%s', (_name, buf) => {
    const { events } = check(buf);
    for (const ev of events) {
      expect(ev.timestamp).toBe(TS);
      expect(ev.source).toBe('/var/log/app.log');
      expect(ev.host).toBe('h');
      expect(ev).not.toHaveProperty('truncated');
    }
  });

  test('the same lines in one chunk each, and all in one chunk, agree', () => {
    const all = Buffer.concat(
      cases.map(([, b]) => (b[b.length - 1] === 10 ? b : Buffer.concat([b, Buffer.from('\n')]))),
    );
    check(all);
  });
});

describe('encodeLines: event fields', () => {
  test('field order and layout are fixed', () => {
    const opts = makeEncodeOptions({ host: 'web-01', fields: { service: 'web' }, now: () => NOW });
    const b = encodeLines(chunk(Buffer.from('x\n'), 1), BOTH, opts);
    expect(b.ndjson!.toString()).toBe(
      `{"message":"x","timestamp":"${TS}","source":"/var/log/app.log","host":"web-01","service":"web"}\n`,
    );
  });

  test('truncated chunk adds "truncated":true', () => {
    const opts = makeEncodeOptions({ host: 'h', now: () => NOW });
    const b = encodeLines(chunk(Buffer.from('abc'), 1, { truncated: true }), BOTH, opts);
    expect(JSON.parse(b.ndjson!.toString())).toEqual({
      message: 'abc',
      timestamp: TS,
      source: '/var/log/app.log',
      host: 'h',
      truncated: true,
    });
    expect(b.raw!.toString()).toBe('abc\n');
  });

  test.each<[string, Record<string, string | number | boolean>]>([
    ['quotes and backslashes', { 'k"ey': 'v"a\\l' }],
    ['control chars', { tab: 'a\tb', nl: 'x\ny', nul: '\0' }],
    ['unicode', { 'cl\u00e9': '\u{1f600}', lone: '\ud800' }],
    ['numbers and booleans', { n: 42, f: 1.5, neg: -3, t: true, b: false, inf: Infinity }],
    ['empty key and value', { '': '' }],
  ])('static fields with %s', (_name, fields) => {
    const opts = makeEncodeOptions({ host: 'h"o\\st\n', fields, now: () => NOW });
    const { events } = check(Buffer.from('line\n'), opts);
    const ev = events[0];
    expect(ev.host).toBe('h"o\\st\n');
    for (const [k, v] of Object.entries(fields)) {
      const want = typeof v === 'number' && !Number.isFinite(v) ? null : v;
      expect(ev[k]).toBe(typeof v === 'string' ? Buffer.from(v).toString() : want);
    }
  });

  test.each(['message', 'timestamp', 'source', 'host', 'truncated'])(
    'static field "%s" clashing with a built-in key is refused',
    (key) => {
      expect(() => makeEncodeOptions({ host: 'h', fields: { [key]: 'x' } })).toThrow(
        expect.objectContaining({ code: 'VES_CONFIG_INVALID' }),
      );
    },
  );

  test('source path with special and invalid characters', () => {
    const opts = makeEncodeOptions({ host: 'h', now: () => NOW });
    for (const path of ['/tmp/a"b\\c\n.log', '/tmp/\ud800.log', '-', '/tmp/caf\u00e9.log']) {
      const b = encodeLines({ ...chunk(Buffer.from('x\n'), 1), path }, BOTH, opts);
      expect(JSON.parse(b.ndjson!.toString()).source).toBe(Buffer.from(path).toString());
    }
  });

  test('one RFC 3339 ingest timestamp per chunk, ms precision', () => {
    const opts = makeEncodeOptions({ host: 'h' });
    const b = encodeLines(chunk(Buffer.from('a\nb\n'), 2), BOTH, opts);
    const [e1, e2] = b
      .ndjson!.toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(e1.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(e2.timestamp).toBe(e1.timestamp);
  });
});

describe('encodeLines: encodings and block fields', () => {
  const opts = makeEncodeOptions({ host: 'h', now: () => NOW });
  const mark = { sourceId: 's', key: 'k', offset: 10, path: '/p' };

  test('raw is zero-copy when there is nothing to remove', () => {
    const buf = Buffer.from('a\nb\n');
    const b = encodeLines(chunk(buf, 2, { mark, readAt: 7 }), { ndjson: false, raw: true }, opts);
    expect(b.raw).toBe(buf);
    expect(b.ndjson).toBeNull();
    expect(b.events).toBe(2);
    expect(b.mark).toBe(mark);
    expect(b.readAt).toBe(7);
  });

  test.each<[string, string, string]>([
    ['CRLF removed', 'a\r\nb\r\n', 'a\nb\n'],
    ['newline added to last line', 'a\nb', 'a\nb\n'],
    ['trailing lone CR dropped', 'a\r', 'a\n'],
    ['CR CR LF keeps one CR', 'a\r\r\n', 'a\r\n'],
    ['lone CR inside kept', 'a\rb\n', 'a\rb\n'],
  ])('raw only: %s', (_n, input, want) => {
    const b = encodeLines(chunk(Buffer.from(input), 1), { ndjson: false, raw: true }, opts);
    expect(b.raw!.toString()).toBe(want);
  });

  test('nothing wanted: neither encoding is built', () => {
    const b = encodeLines(chunk(Buffer.from('a\n'), 1), { ndjson: false, raw: false }, opts);
    expect(b).toMatchObject({ ndjson: null, raw: null, events: 1 });
  });

  test('empty chunk', () => {
    const b = encodeLines(chunk(Buffer.alloc(0), 0), BOTH, opts);
    expect(b.events).toBe(0);
    expect(b.ndjson!.length).toBe(0);
    expect(b.raw!.length).toBe(0);
  });

  test('a wrong line count in the chunk only changes the size guess', () => {
    const buf = Buffer.from('a\n'.repeat(1000));
    const b = encodeLines(chunk(buf, 1), BOTH, opts);
    expect(b.events).toBe(1000);
    expect(b.ndjson!.toString().split('\n').length).toBe(1001);
  });

  test('the output grows when escapes outrun the first guess', () => {
    // Every byte a control char: 6 output bytes per input byte, far past the 1/8 slack.
    const buf = Buffer.concat([
      Buffer.alloc(100_000, 1),
      Buffer.from('\n'),
      Buffer.alloc(50_000, 0xff),
      Buffer.from('\n'),
    ]);
    check(buf);
  });

  test('a chunk inside a larger (shared) buffer', () => {
    const big = Buffer.from('XXXX"a"\nb\\\nYYYY');
    check(big.subarray(4, 12));
    const sab = new SharedArrayBuffer(64);
    const view = Buffer.from(sab, 3, 20);
    view.write('x"y\n\u00e9\xff\n', 'latin1');
    check(view.subarray(0, 8));
  });
});

describe('encodeLines: randomized property (fixed seed)', () => {
  // Bytes drawn to hit the interesting classes often: ASCII, escapes, CR/LF, continuation and
  // lead bytes of every length, the boundary bytes of the overlong/surrogate/range rules.
  const SPECIAL = [
    0x00, 0x01, 0x08, 0x09, 0x0a, 0x0d, 0x0d, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
    0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
  ];
  test.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: 300 chunks of random bytes', (seed) => {
    const rnd = prng(seed);
    const opts = makeEncodeOptions({ host: 'h', now: () => NOW });
    for (let n = 0; n < 300; n++) {
      const len = Math.floor(rnd() * 300);
      const buf = Buffer.alloc(len);
      for (let i = 0; i < len; i++) {
        const r = rnd();
        buf[i] =
          r < 0.5
            ? 0x20 + Math.floor(rnd() * 95)
            : r < 0.8
              ? SPECIAL[Math.floor(rnd() * SPECIAL.length)]
              : Math.floor(rnd() * 256);
      }
      // Also valid text, so the fast path (whole chunk valid UTF-8) is exercised.
      const text = Buffer.from(
        Array.from({ length: Math.floor(rnd() * 20) }, () =>
          String.fromCodePoint(
            Math.floor(rnd() * 4) === 0 ? Math.floor(rnd() * 0x10ffff) : Math.floor(rnd() * 0x800),
          ),
        )
          .join('')
          .replace(/[\ud800-\udfff]/g, 'x') + '\n',
      );
      check(buf, opts);
      check(text, opts);
      // Few newlines and many escapes: the output outgrows its first guess mid-line.
      const heavy = Buffer.alloc(len * 4);
      for (let i = 0; i < heavy.length; i++) {
        heavy[i] =
          rnd() < 0.002 ? 0x0a : rnd() < 0.7 ? Math.floor(rnd() * 0x20) : Math.floor(rnd() * 256);
      }
      check(heavy, opts);
    }
  });
});

describe('writeJsonString', () => {
  test.each<[string, Buffer]>([
    ['ascii', Buffer.from('abc')],
    ['escapes', Buffer.from('"\\\n\r\t\b\f\0\x1f')],
    ['newline is escaped, not a line end', Buffer.from('a\nb')],
    ['invalid utf-8', hex('ff c3 28 e2 82 f0 9f 98 ed a0 80')],
    ['emoji', Buffer.from('\u{1f600}')],
  ])('%s', (_n, src) => {
    const out = Buffer.alloc(jsonStringMaxBytes(src.length) + 10);
    out[0] = 0x22;
    const end = writeJsonString(src, 0, src.length, out, 1);
    out[end] = 0x22;
    expect(JSON.parse(out.subarray(0, end + 1).toString())).toBe(src.toString('utf8'));
  });

  test('a sub-range of a larger buffer, written mid-buffer', () => {
    const src = Buffer.from('xx"a\u00e9b"yy');
    const out = Buffer.alloc(64, 0x20);
    out.write('{"k":"', 0);
    const end = writeJsonString(src, 2, src.length - 2, out, 6);
    out.write('"}', end);
    expect(JSON.parse(out.subarray(0, end + 2).toString())).toEqual({ k: '"a\u00e9b"' });
  });

  test('random bytes into an output of exactly jsonStringMaxBytes (no write is dropped)', () => {
    const rnd = prng(99);
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(rnd() * 40);
      const src = Buffer.alloc(len);
      for (let i = 0; i < len; i++)
        src[i] = rnd() < 0.5 ? Math.floor(rnd() * 0x30) : Math.floor(rnd() * 256);
      // Typed arrays drop writes past their end silently: a too-small bound would show here as
      // a wrong decode, not as an exception.
      const out = Buffer.alloc(jsonStringMaxBytes(len));
      const end = writeJsonString(src, 0, len, out, 0);
      const text = '"' + out.subarray(0, end).toString('utf8') + '"';
      expect(JSON.parse(text)).toBe(src.toString('utf8'));
    }
  });

  test('validUtf8 = true copies high bytes as they are', () => {
    const src = Buffer.from('\u00e9\u20ac');
    const out = Buffer.alloc(jsonStringMaxBytes(src.length));
    const end = writeJsonString(src, 0, src.length, out, 0, true);
    expect(out.subarray(0, end).equals(src)).toBe(true);
  });
});

function range(a: number, b: number): number[] {
  return Array.from({ length: b - a }, (_, i) => a + i);
}
