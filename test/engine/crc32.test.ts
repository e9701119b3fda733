// CRC-32 (IEEE): known answers, and agreement with zlib's own CRC-32 as gzip writes it in its
// trailer (RFC 1952: CRC32 then ISIZE, little-endian), for every length and alignment.

import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { crc32, crc32Bytewise, crc32Slice8 } from '../../src/engine/crc32.js';

/** zlib's CRC-32 of `buf`, read from the gzip trailer: an independent implementation. */
const zlibCrc = (buf: Uint8Array): number => {
  const gz = gzipSync(buf, { level: 0 });
  return gz.readUInt32LE(gz.length - 8);
};

describe('crc32', () => {
  test.each([
    ['', 0x00000000],
    ['a', 0xe8b7be43],
    ['abc', 0x352441c2],
    ['123456789', 0xcbf43926], // the "check" value of CRC-32/ISO-HDLC
    ['The quick brown fox jumps over the lazy dog', 0x414fa339],
    ['x'.repeat(1000), 0x3b41c9e6], // python3 -c "import zlib; print(hex(zlib.crc32(b'x' * 1000)))"
  ])('known answer for %j', (text, want) => {
    const buf = Buffer.from(text);
    expect(crc32(buf)).toBe(want);
    expect(crc32Slice8(buf)).toBe(want);
    expect(crc32Bytewise(buf)).toBe(want);
  });

  test('matches zlib for every length 0..300 at every alignment 0..7', () => {
    const big = randomBytes(400);
    for (let off = 0; off < 8; off++) {
      for (let len = 0; len <= 300; len++) {
        const b = big.subarray(off, off + len);
        const want = zlibCrc(b);
        expect(crc32(b)).toBe(want);
        expect(crc32Slice8(b)).toBe(want);
      }
    }
  });

  test('matches zlib on 1 MiB of random bytes, and all ones', () => {
    for (const b of [randomBytes(1 << 20), Buffer.alloc(4097, 0xff)]) {
      expect(crc32(b)).toBe(zlibCrc(b));
      expect(crc32Slice8(b)).toBe(zlibCrc(b));
    }
  });

  test('start/end select a range; prev continues over parts', () => {
    const b = randomBytes(5000);
    expect(crc32(b, 100, 4000)).toBe(zlibCrc(b.subarray(100, 4000)));
    for (const cut of [0, 1, 7, 63, 64, 65, 2500, 4999, 5000]) {
      expect(crc32(b, cut, b.length, crc32(b, 0, cut))).toBe(crc32(b));
    }
  });

  test('one flipped bit changes the checksum', () => {
    const b = randomBytes(1024);
    const before = crc32(b);
    for (const bit of [0, 7, 4000, 8191]) {
      const c = Buffer.from(b);
      c[bit >> 3] ^= 1 << (bit & 7);
      expect(crc32(c)).not.toBe(before);
    }
  });
});
