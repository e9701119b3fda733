// The RFC 6587 frame decoder alone (src/sources/syslog/framing.ts): each framing, each corner
// case the brief names, and property-style runs that split streams at every offset.

import { describe, expect, test } from 'vitest';
import { FrameDecoder } from '../../../src/sources/syslog/framing.js';
import { chunkLines } from '../../helpers/line-chunk.js';

interface Out {
  buf: Buffer;
  frames: number;
  ends: Int32Array | null;
  truncated: boolean;
}

/** Feeds `parts` to a decoder; returns what it handed over (kept as given, read at the end). */
function run(parts: Array<string | Buffer>, max = 1024, end = true) {
  const got: Out[] = [];
  const dec = new FrameDecoder(max, (buf, frames, ends, truncated) =>
    got.push({ buf, frames, ends, truncated }),
  );
  for (const p of parts) dec.push(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
  if (end) dec.end();
  return { got, dec, messages: () => messages(got) };
}

/** [message, truncated] of everything handed over, checked against the LineChunk contract. */
function messages(got: Out[]): Array<[string, boolean]> {
  return got.flatMap((o) =>
    chunkLines({ ...o, lines: o.frames }, 'latin1').map((m): [string, boolean] => [m, o.truncated]),
  );
}

const texts = (m: Array<[string, boolean]>) => m.map(([t]) => t);

describe('FrameDecoder: framing', () => {
  test.each<[string, string[], string[]]>([
    ['LF framing', ['a\nbb\n'], ['a', 'bb']],
    ['NUL trailer', ['a\0bb\0'], ['a', 'bb']],
    ['CRLF trailer (the CR stays for the encoder to drop)', ['a\r\nb\r\n'], ['a\r', 'b\r']],
    ['octet counting', ['5 hello6 world!'], ['hello', 'world!']],
    [
      'a counted trailing LF is not part of the message',
      ['6 hello\n7 world\r\n'],
      ['hello', 'world'],
    ],
    [
      'an uncounted LF after a counted frame is an empty line',
      ['5 hello\n5 world\n'],
      ['hello', 'world'],
    ],
    ['zero-length frame is ignored', ['0 5 hello0 '], ['hello']],
    ['empty lines are ignored', ['\n\n\r\n\0a\n\n'], ['a']],
    [
      'mixed framing on one connection',
      ['5 hello<13>plain\n3 abc<14>x\0'],
      ['hello', '<13>plain', 'abc', '<14>x'],
    ],
    ['digits without a space are a message', ['2024-01-01 up\n123\n'], ['2024-01-01 up', '123']],
    ['11 digits are not a length', ['12345678901 x\n'], ['12345678901 x']],
    [
      'garbage before the length: LF-framed up to the next LF',
      ['xx12 <13>hi\n5 hello'],
      ['xx12 <13>hi', 'hello'],
    ],
    ['a last line without trailer is handed over at the end', ['a\nlast'], ['a', 'last']],
    ['digits only at the end are a message', ['42'], ['42']],
  ])('%s', (_name, parts, want) => {
    const r = run(parts);
    expect(texts(r.messages())).toEqual(want);
    expect(r.messages().every(([, t]) => !t)).toBe(true);
  });

  test('the messages of one read leave as one chunk', () => {
    const r = run(['a\nb\n5 hello3 xyz']);
    expect(r.got).toHaveLength(1);
    expect(r.got[0].frames).toBe(4);
    expect(r.got[0].ends).toBeNull();
  });

  test('an octet-counted message holding LF stays one message, with ends', () => {
    const r = run(['a\n11 hello\nworld3 end']);
    expect(r.got).toHaveLength(1);
    expect(Array.from(r.got[0].ends!)).toEqual([2, 14, 18]);
    expect(texts(r.messages())).toEqual(['a', 'hello\nworld', 'end']);
  });

  test('counts zero-length frames and empty lines', () => {
    const r = run(['0 \n\n0 a\n']);
    expect(texts(r.messages())).toEqual(['a']);
    expect(r.dec.stats).toEqual({ frames: 1, empty: 4, truncated: 0, incomplete: 0 });
  });
});

describe('FrameDecoder: corner cases', () => {
  test('octet count larger than the data so far: waits for more', () => {
    const got: Out[] = [];
    const dec = new FrameDecoder(1024, (buf, frames, ends, truncated) =>
      got.push({ buf, frames, ends, truncated }),
    );
    dec.push(Buffer.from('11 hello'));
    expect(got).toHaveLength(0);
    expect(dec.pending).toBe(true);
    dec.push(Buffer.from(' world'));
    expect(texts(messages(got))).toEqual(['hello world']);
    expect(dec.pending).toBe(false);
  });

  test('octet count larger than the data at close: what arrived, flagged truncated', () => {
    const r = run(['a\n20 only part'], 1024, true);
    expect(r.messages()).toEqual([
      ['a', false],
      ['only part', true],
    ]);
    expect(r.dec.stats).toMatchObject({ frames: 2, truncated: 1, incomplete: 1 });
  });

  test('octet count larger than max_frame_bytes: first max bytes, truncated; the rest skipped', () => {
    const r = run(['10 0123', '456789', '2 ok'], 4);
    expect(r.messages()).toEqual([
      ['0123', true],
      ['ok', false],
    ]);
    expect(r.dec.stats).toMatchObject({ frames: 2, truncated: 1 });
  });

  test('a non-transparent message longer than max_frame_bytes: cut, skipped up to its LF', () => {
    const r = run(['<13>abcdefgh', 'ijk\nok\n'], 6);
    expect(r.messages()).toEqual([
      ['<13>ab', true],
      ['ok', false],
    ]);
  });

  test('a message of exactly max_frame_bytes is whole', () => {
    const r = run(['abcd\n4 wxyz'], 4);
    expect(r.messages()).toEqual([
      ['abcd', false],
      ['wxyz', false],
    ]);
  });

  test('a truncated message travels alone, between the runs before and after it', () => {
    const r = run(['a\nb\n0123456789\nc\n'], 4);
    expect(r.got.map((g) => [g.frames, g.truncated])).toEqual([
      [2, false],
      [1, true],
      [1, false],
    ]);
    expect(texts(r.messages())).toEqual(['a', 'b', '0123', 'c']);
  });

  test('chunks already handed over are never written again', () => {
    const big = 'x'.repeat(5000);
    const r = run(['a\nb', `\n${big}\n`, `7 12345${'\n'}`, '9'], 8000);
    expect(texts(r.messages())).toEqual(['a', 'b', big, '12345\n9']);
  });
});

describe('FrameDecoder: a frame split across reads at every position', () => {
  // Every framing feature in one stream; each split must give the same messages as one read.
  const stream = Buffer.from(
    '<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hi\n' +
      '0 ' +
      '52 <165>1 2003-08-24T05:14:15.000003-07:00 h app - - -\n' +
      '\r\n' +
      '17 line1\nline2\nline3' +
      '<13>Oct 11 22:14:15 host app: nul\0' +
      '25 0123456789abcdefghijklmno' +
      'garbage3 x\n' +
      '9 12345678\n' +
      '<13>Oct 11 22:14:15 host app: a very long message that gets cut\n' +
      'last',
    'latin1',
  );
  const MAX = 20;
  const whole = run([stream], MAX).messages();

  test('the reference reading', () => {
    expect(whole).toEqual([
      ['<34>1 2003-10-11T22:', true],
      ['<165>1 2003-08-24T05', true],
      ['line1\nline2\nline3', false],
      ['<13>Oct 11 22:14:15 ', true],
      ['0123456789abcdefghij', true],
      ['garbage3 x', false],
      ['12345678', false],
      ['<13>Oct 11 22:14:15 ', true],
      ['last', false],
    ]);
  });

  test('two reads, split at each offset', () => {
    for (let i = 0; i <= stream.length; i++) {
      const got = run([stream.subarray(0, i), stream.subarray(i)], MAX).messages();
      expect(got, `split at ${i}`).toEqual(whole);
    }
  });

  test('three reads, split at each pair of offsets', () => {
    // ~45,000 readings: compared as one string each, expect() only on a difference.
    const want = JSON.stringify(whole);
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const parts = [stream.subarray(0, i), stream.subarray(i, j), stream.subarray(j)];
        const got = run(parts, MAX).messages();
        if (JSON.stringify(got) !== want) expect(got, `split at ${i}, ${j}`).toEqual(whole);
      }
    }
  });

  test('one byte per read', () => {
    const parts: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) parts.push(stream.subarray(i, i + 1));
    expect(run(parts, MAX).messages()).toEqual(whole);
  });

  test('without truncation (large max), split at each offset', () => {
    const ref = run([stream], 1024).messages();
    expect(ref.every(([, t]) => !t)).toBe(true);
    for (let i = 0; i <= stream.length; i++) {
      const got = run([stream.subarray(0, i), stream.subarray(i)], 1024).messages();
      expect(got, `split at ${i}`).toEqual(ref);
    }
  });

  test('random streams of random frames, random splits (seeded)', () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const max = 1 + rnd(12);
      const want: Array<[string, boolean]> = [];
      let s = '';
      for (let k = rnd(8); k >= 0; k--) {
        const body = 'ab\ncd ef0123456789'.slice(0, 1 + rnd(16)).replace(/^[\n\d]/, 'z');
        if (rnd(2) === 0) {
          s += `${body.length} ${body}`;
          const kept = body.slice(0, max).replace(/\n+$/, '');
          if (kept !== '') want.push([kept, body.length > max]);
        } else {
          const line = body.replace(/\n/g, ' ');
          s += `${line}\n`;
          want.push([line.slice(0, max), line.length > max]);
        }
      }
      const buf = Buffer.from(s, 'latin1');
      const cuts = [rnd(buf.length + 1), rnd(buf.length + 1)].sort((a, b) => a - b);
      const parts = [
        buf.subarray(0, cuts[0]),
        buf.subarray(cuts[0], cuts[1]),
        buf.subarray(cuts[1]),
      ];
      expect(run(parts, max).messages(), `${JSON.stringify(s)} max ${max} cuts ${cuts}`).toEqual(
        want,
      );
    }
  });
});

describe('FrameDecoder.message (UDP datagrams)', () => {
  test('one datagram, one message: trailers dropped, LF inside kept with ends', () => {
    const got: Out[] = [];
    const dec = new FrameDecoder(1024, (buf, frames, ends, truncated) =>
      got.push({ buf, frames, ends, truncated }),
    );
    dec.message(Buffer.from('<13>a\n'));
    dec.message(Buffer.from('<13>b\r\n'));
    dec.message(Buffer.from('<13>c\0'));
    dec.message(Buffer.from('<13>d\ne'));
    dec.message(Buffer.from('\n')); // empty: ignored
    expect(got).toHaveLength(0); // waits for flush()
    dec.flush();
    expect(got).toHaveLength(1);
    expect(texts(messages(got))).toEqual(['<13>a', '<13>b', '<13>c', '<13>d\ne']);
    expect(dec.stats).toMatchObject({ frames: 4, empty: 1 });
  });

  test('an oversized datagram is cut at max_frame_bytes and flagged', () => {
    const got: Out[] = [];
    const dec = new FrameDecoder(4, (buf, frames, ends, truncated) =>
      got.push({ buf, frames, ends, truncated }),
    );
    dec.message(Buffer.from('ok'));
    dec.message(Buffer.from('0123456789'));
    dec.message(Buffer.from('yes'));
    dec.flush();
    expect(messages(got)).toEqual([
      ['ok', false],
      ['0123', true],
      ['yes', false],
    ]);
  });
});
