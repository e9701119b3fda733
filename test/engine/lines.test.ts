import { describe, expect, test } from 'vitest';
import { LineSplitter } from '../../src/engine/lines.js';

interface Out {
  text: string;
  lines: number;
  truncated: boolean;
  end: number;
}

function splitter(max: number, start = 0): { s: LineSplitter; out: Out[] } {
  const out: Out[] = [];
  const s = new LineSplitter(
    max,
    (buf, lines, truncated, end) =>
      out.push({ text: buf.toString('latin1'), lines, truncated, end }),
    start,
  );
  return { s, out };
}

/** Feed reads the way the tailer does: alloc() (carried partial first), read into it, push(). */
function feed(s: LineSplitter, reads: string[]): void {
  for (const r of reads) {
    const data = Buffer.from(r, 'latin1');
    // Ask for more than arrives: a short read leaves uninitialised bytes the splitter must ignore.
    const buf = s.alloc(data.length + 7);
    buf.fill(10, s.carriedBytes); // newlines in the unused tail would be wrong lines if scanned
    data.copy(buf, s.carriedBytes);
    s.push(buf, s.carriedBytes + data.length);
  }
}

const c = (text: string, lines: number, end: number, truncated = false): Out => ({
  text,
  lines,
  truncated,
  end,
});

describe('LineSplitter', () => {
  test.each<[string, number, string[], Out[], boolean]>([
    ['two lines in one read', 10, ['a\nb\n'], [c('a\nb\n', 2, 4)], false],
    ['CRLF is kept for the encoder', 10, ['a\r\nb\r\n'], [c('a\r\nb\r\n', 2, 6)], false],
    ['empty lines count', 10, ['\n\n\n'], [c('\n\n\n', 3, 3)], false],
    ['no trailing newline: the last line waits', 10, ['a\nbc'], [c('a\n', 1, 2)], true],
    [
      'a line across three reads',
      10,
      ['ab', 'c\nd', 'e\n'],
      [c('abc\n', 1, 4), c('de\n', 1, 7)],
      false,
    ],
    ['a read with no newline emits nothing', 10, ['abc', 'def'], [], true],
    ['line exactly max', 3, ['abc\n'], [c('abc\n', 1, 4)], false],
    ['line exactly max, CR counted', 3, ['ab\r\n'], [c('ab\r\n', 1, 4)], false],
    ['line max+1 is cut, offset after its newline', 3, ['abcd\n'], [c('abc\n', 1, 5, true)], false],
    [
      'a cut line travels alone between runs',
      3,
      ['x\ny\nabcdefg\nz\nw\n'],
      [c('x\ny\n', 2, 4), c('abc\n', 1, 12, true), c('z\nw\n', 2, 16)],
      false,
    ],
    [
      'a long line spanning several reads',
      4,
      ['012', '3456', '789', '0\nok\n'],
      [c('0123\n', 1, 12, true), c('ok\n', 1, 15)],
      false,
    ],
    ['a cut line waits for its end', 4, ['0123456'], [], true],
    ['partial exactly max, then its newline', 3, ['abc', '\n'], [c('abc\n', 1, 4)], false],
    ['partial exactly max, then one byte more', 3, ['abc', 'd\n'], [c('abc\n', 1, 5, true)], false],
    [
      'newline right at a read boundary',
      10,
      ['ab\n', 'cd\n'],
      [c('ab\n', 1, 3), c('cd\n', 1, 6)],
      false,
    ],
    ['an empty read', 10, ['a\n', '', 'b\n'], [c('a\n', 1, 2), c('b\n', 1, 4)], false],
  ])('%s', (_name, max, reads, want, pending) => {
    const { s, out } = splitter(max);
    feed(s, reads);
    expect(out).toEqual(want);
    expect(s.hasPending).toBe(pending);
    expect(s.readPos).toBe(reads.join('').length);
  });

  test('flushPartial emits the held line with a synthetic newline, offset counts real bytes', () => {
    const { s, out } = splitter(10);
    feed(s, ['a\nbc']);
    expect(s.flushPartial()).toBe(true);
    expect(out).toEqual([c('a\n', 1, 2), c('bc\n', 1, 4)]);
    expect(s.emittedOffset).toBe(4);
    expect(s.flushPartial()).toBe(false);
    // The rest of that line, when it comes, is a line of its own.
    feed(s, ['d\n']);
    expect(out[2]).toEqual(c('d\n', 1, 6));
  });

  test('flushPartial of a cut line: emitted now, its tail still skipped', () => {
    const { s, out } = splitter(3);
    feed(s, ['abcdef']);
    expect(s.flushPartial()).toBe(true);
    expect(out).toEqual([c('abc\n', 1, 6, true)]);
    feed(s, ['gh\nz\n']);
    expect(out).toEqual([c('abc\n', 1, 6, true), c('z\n', 1, 11)]);
    expect(s.truncatedLines).toBe(1);
  });

  test('offsets start at the given position', () => {
    const { s, out } = splitter(10, 100);
    feed(s, ['a\nb']);
    expect(out).toEqual([c('a\n', 1, 102)]);
    expect(s.readPos).toBe(103);
  });

  test('write() for streams: chunks used as they come, partial carried', () => {
    const { s, out } = splitter(10);
    s.write(Buffer.from('ab'));
    s.write(Buffer.from('c\nd\n'));
    s.write(Buffer.from('e'));
    s.flushPartial();
    expect(out).toEqual([c('abc\nd\n', 2, 6), c('e\n', 1, 7)]);
  });

  test('emitted buffers are never touched again', () => {
    const kept: Buffer[] = [];
    const copies: string[] = [];
    const s2 = new LineSplitter(4, (buf) => {
      kept.push(buf);
      copies.push(buf.toString());
    });
    feed(s2, ['ab\ncd', 'ef\n', 'ghijklmn', 'op\nq', 'r\n']);
    expect(kept.map((b) => b.toString())).toEqual(copies);
  });

  test('reset drops what is held and continues at the offset', () => {
    const { s, out } = splitter(10);
    feed(s, ['a\nbc']);
    s.reset(0);
    expect(s.hasPending).toBe(false);
    feed(s, ['x\n']);
    expect(out).toEqual([c('a\n', 1, 2), c('x\n', 1, 2)]);
  });

  test('compact copies a small held line out of a big buffer', () => {
    const { s, out } = splitter(1024);
    const big = 'x\n'.repeat(20_000) + 'tail';
    feed(s, [big]);
    s.compact();
    feed(s, ['\n']);
    expect(out.at(-1)).toEqual(c('tail\n', 1, big.length + 1));
  });

  test('rejects a max below 1', () => {
    expect(() => new LineSplitter(0, () => undefined)).toThrow(RangeError);
  });

  // Every split of a random input, at every read size, gives the lines a naive split gives.
  test.each([1, 2, 3, 7, 64, 4096])('random input read %i bytes at a time', (readSize) => {
    let seed = 42 + readSize;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const max = 16;
    let input = '';
    while (input.length < 5000) {
      const len = rnd(5) === 0 ? rnd(60) : rnd(20);
      input += 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2).slice(0, len);
      input += rnd(9) === 0 ? '\r\n' : '\n';
    }
    input += 'no-newline';
    // Reference: naive split, cut to max, end offsets.
    const want: { line: string; truncated: boolean; end: number }[] = [];
    let pos = 0;
    for (;;) {
      const nl = input.indexOf('\n', pos);
      if (nl === -1) break;
      const line = input.slice(pos, nl);
      want.push({ line: line.slice(0, max), truncated: line.length > max, end: nl + 1 });
      pos = nl + 1;
    }
    const { s, out } = splitter(max);
    const reads: string[] = [];
    for (let i = 0; i < input.length; i += readSize) reads.push(input.slice(i, i + readSize));
    feed(s, reads);
    const got: { line: string; truncated: boolean; end: number }[] = [];
    for (const o of out) {
      const ls = o.text.slice(0, -1).split('\n');
      expect(ls.length).toBe(o.lines);
      if (o.truncated) expect(o.lines).toBe(1);
      ls.forEach((line, i) =>
        got.push({ line, truncated: o.truncated, end: i === ls.length - 1 ? o.end : -1 }),
      );
    }
    expect(got.map((g) => g.line)).toEqual(want.map((w) => w.line));
    expect(got.map((g) => g.truncated)).toEqual(want.map((w) => w.truncated));
    for (let i = 0; i < got.length; i++)
      if (got[i].end !== -1) expect(got[i].end).toBe(want[i].end);
    expect(s.truncatedLines).toBe(want.filter((w) => w.truncated).length);
    expect(s.flushPartial()).toBe(true);
    expect(out.at(-1)).toEqual(c('no-newline\n', 1, input.length));
  });
});
