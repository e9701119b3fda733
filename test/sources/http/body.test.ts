// The body helpers of the http source: the zstd size bound read from frame headers (it must
// never be below what the frames decode to), and the line check + chunking of NDJSON bodies.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { compress, decompress } from '@mongodb-js/zstd/bindings.js';
import { describe, expect, test } from 'vitest';
import { decodeBody, splitBody, zstdBound } from '../../../src/sources/http/body.js';
import { ndjson } from './helpers.js';

const LIMIT = Number.MAX_SAFE_INTEGER;

describe('zstdBound', () => {
  test.each([
    ['empty', Buffer.alloc(0)],
    ['small text', Buffer.from(ndjson(3))],
    ['NDJSON, several blocks', Buffer.from(ndjson(20_000))],
    ['incompressible', randomBytes(300_000)],
    ['one byte repeated (RLE blocks)', Buffer.alloc(1_000_000, 0x61)],
  ])('%s: bound >= decoded size, and close to it', async (_what, data) => {
    for (const level of [1, 3, 9, 15, 16, 19]) {
      const frame = await compress(data, level);
      const bound = zstdBound(frame, LIMIT);
      const decoded = await decompress(frame);
      expect(decoded.length).toBe(data.length);
      expect(bound).toBeGreaterThanOrEqual(decoded.length);
      // Tight up to level 15 (what agents use: the http sink sends level 1); 16+ split blocks.
      if (level <= 15) expect(bound).toBeLessThanOrEqual(decoded.length + 128 * 1024);
    }
  });

  test('concatenated frames and skippable frames add up', async () => {
    const a = await compress(Buffer.from(ndjson(1000, 'a')), 1);
    const b = await compress(Buffer.from(ndjson(1000, 'b')), 1);
    const skip = Buffer.alloc(8 + 5);
    skip.writeUInt32LE(0x184d2a53, 0);
    skip.writeUInt32LE(5, 4);
    const all = Buffer.concat([a, skip, b]);
    const decoded = await decompress(all);
    expect(zstdBound(all, LIMIT)).toBeGreaterThanOrEqual(decoded.length);
  });

  test('frames of the zstd command line (content size, checksum) are bounded too', () => {
    const data = Buffer.from(ndjson(5000));
    for (const args of [
      ['-c', '-q'],
      ['-c', '-q', '--no-check'],
    ]) {
      let frame: Buffer;
      try {
        frame = execFileSync('zstd', args, { input: data });
      } catch {
        return; // no zstd binary here: the library cases above still hold
      }
      expect(zstdBound(frame, LIMIT)).toBeGreaterThanOrEqual(data.length);
    }
  });

  test.each([
    ['not zstd', Buffer.from('hello world, not a frame')],
    ['a frame cut short', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x01])],
    [
      'a stray byte after a frame',
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x00, 0x01, 0x00, 0x00, 0x07]),
    ],
  ])('%s -> -1', (_what, buf) => {
    expect(zstdBound(buf, LIMIT)).toBe(-1);
  });

  test('a bomb is refused from its headers, before it is inflated', async () => {
    const bomb = await compress(Buffer.alloc(64 * 1024 * 1024), 3);
    expect(bomb.length).toBeLessThan(16 * 1024);
    expect(zstdBound(bomb, 1024 * 1024)).toBeGreaterThan(1024 * 1024);
    await expect(decodeBody(bomb, 'zstd', 1024 * 1024)).rejects.toMatchObject({ status: 413 });
  });
});

describe('splitBody', () => {
  test('chunks end at line ends and hold every line once', () => {
    const body = Buffer.from(ndjson(1000));
    const out = splitBody(body, 4096);
    if ('line' in out) throw new Error(out.reason);
    expect(out.events).toBe(1000);
    expect(out.chunks.length).toBeGreaterThan(5);
    expect(out.chunks.every((c) => c.at(-1) === 10 && c.length < 4096 + 64)).toBe(true);
    expect(out.lines.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(Buffer.concat(out.chunks).equals(body)).toBe(true);
    // No copy on the common path: chunks are views of the body.
    expect(out.chunks[0].buffer).toBe(body.buffer);
  });

  test('a line longer than a chunk travels whole', () => {
    const long = `{"message":"${'x'.repeat(10_000)}"}\n`;
    const out = splitBody(Buffer.from(`{"a":1}\n${long}{"b":2}\n`), 1024);
    if ('line' in out) throw new Error(out.reason);
    expect(out.lines).toEqual([2, 1]);
  });

  test('the first bad line wins over blank lines before it', () => {
    expect(splitBody(Buffer.from('\n\n{"a":1}\nnope\n{"b":2}\n'), 1024)).toEqual({
      line: 4,
      reason: 'not valid JSON',
    });
  });
});
