// Timestamp readers and the RFC 3339 writer of src/parsers/time.ts against Date.

import { describe, expect, test } from 'vitest';
import { prng } from '../../src/gen/nginx.js';
import {
  ClfClock,
  daysFromCivil,
  inRange,
  IsoWriter,
  parseAnyTime,
  parseClf,
  parseRfc3164,
  parseRfc3339,
} from '../../src/parsers/time.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const at = (f: (buf: Buffer, s: number, e: number) => number, s: string) =>
  f(b(`>${s}<`), 1, s.length + 1); // offsets inside a bigger buffer
const NOW = Date.UTC(2026, 10, 23, 12);

describe('readers', () => {
  test.each<[string, number]>([
    ['23/Nov/2026:12:00:00 +0000', Date.UTC(2026, 10, 23, 12)],
    ['01/Jan/1970:00:00:00 +0000', 0],
    ['29/Feb/2024:23:59:59 -0130', Date.UTC(2024, 1, 29, 23, 59, 59) + 90 * 60_000],
    ['10/Oct/2000:13:55:36 -0700', Date.parse('2000-10-10T20:55:36Z')],
    ['23/Nov/2026:12:00:00 +0000 ', NaN],
    ['23/Nov/2026:24:00:00 +0000', NaN],
    ['23/nov/2026:12:00:00 +0000', NaN],
    ['23/Nov/2026:12:00:00 +2400', NaN],
    ['aa/Nov/2026:12:00:00 +0000', NaN],
  ])('CLF %j', (s, ms) => {
    expect(at(parseClf, s)).toBe(ms);
    expect(
      new ClfClock().parse(b(s), new DataView(b(s).buffer, b(s).byteOffset), 0, s.length),
    ).toBe(ms);
  });

  test('ClfClock: cached date and zone, only hh:mm:ss read again', () => {
    const clock = new ClfClock();
    const text =
      '23/Nov/2026:12:00:00 +0100|23/Nov/2026:12:00:59 +0100|23/Nov/2026:12:0x:59 +0100|24/Nov/2026:00:00:00 +0100';
    const buf = b(text);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
    const got = [0, 27, 54, 81].map((s) => clock.parse(buf, dv, s, s + 26));
    expect(got).toEqual([
      Date.UTC(2026, 10, 23, 11),
      Date.UTC(2026, 10, 23, 11, 0, 59),
      NaN,
      Date.UTC(2026, 10, 23, 23),
    ]);
  });

  test.each<[string, number]>([
    ['2026-11-23T12:00:00Z', Date.UTC(2026, 10, 23, 12)],
    ['2026-11-23t12:00:00z', Date.UTC(2026, 10, 23, 12)],
    ['2026-11-23 12:00:00.5Z', Date.UTC(2026, 10, 23, 12, 0, 0, 500)],
    ['2026-11-23T12:00:00.123456789+02:00', Date.UTC(2026, 10, 23, 10, 0, 0, 123)],
    ['2026-11-23T12:00:00,25-0130', Date.UTC(2026, 10, 23, 13, 30, 0, 250)],
    ['2003-08-24T05:14:15.000003-07:00', Date.UTC(2003, 7, 24, 12, 14, 15)],
    ['2026-11-23T12:00:00', new Date(2026, 10, 23, 12).getTime()], // no zone: local time
    ['2026-11-23T12:00:00.Z', NaN],
    ['2026-11-23T12:00:00+2', NaN],
    ['2026-13-23T12:00:00Z', NaN],
    ['2026-11-23X12:00:00Z', NaN],
    ['2026-11-23', NaN],
  ])('RFC 3339 %j', (s, ms) => {
    expect(at(parseRfc3339, s)).toBe(ms);
  });

  test.each<[string, number]>([
    ['Nov 23 12:00:00', new Date(2026, 10, 23, 12).getTime()],
    ['Nov  3 01:02:03', new Date(2026, 10, 3, 1, 2, 3).getTime()],
    ['Dec 31 23:59:59', new Date(2025, 11, 31, 23, 59, 59).getTime()],
    ['Nov 23 12:00', NaN],
    ['Nov 32 12:00:00', NaN],
    ['Xyz 23 12:00:00', NaN],
  ])('RFC 3164 %j (now 2026-11-23)', (s, ms) => {
    expect(parseRfc3164(b(s), 0, s.length, NOW)).toBe(ms);
  });

  test.each<[string, number]>([
    ['1795435200', 1795435200000],
    ['1795435200.5', 1795435200500],
    ['1795435200123', 1795435200123],
    ['1795435200123.9', 1795435200123],
    ['179543520', NaN],
    ['1795435200.', NaN],
    ['10/Oct/2000:13:55:36 -0700', Date.parse('2000-10-10T20:55:36Z')],
    ['2000-10-10T20:55:36Z', Date.parse('2000-10-10T20:55:36Z')],
    ['Nov 23 12:00:00', new Date(2026, 10, 23, 12).getTime()],
  ])('any %j', (s, ms) => {
    expect(parseAnyTime(b(s), 0, s.length, NOW)).toBe(ms);
  });

  test('inRange: 4-digit years only', () => {
    const y0 = new Date(Date.UTC(2000, 0, 1));
    y0.setUTCFullYear(0);
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    expect(inRange(y0.getTime())).toBe(y0.getTime());
    expect(inRange(y0.getTime() - 1)).toBeNaN();
    expect(inRange(max)).toBe(max);
    expect(inRange(max + 1)).toBeNaN();
  });

  test('daysFromCivil agrees with Date over 4 centuries', () => {
    for (let y = 1800; y <= 2200; y += 7) {
      for (const [m, d] of [
        [1, 1],
        [2, 28],
        [2, 29],
        [3, 1],
        [12, 31],
      ]) {
        if (m === 2 && d === 29 && new Date(Date.UTC(y, 1, 29)).getUTCMonth() !== 1) continue;
        expect(daysFromCivil(y, m, d)).toBe(Date.UTC(y, m - 1, d) / 86_400_000);
      }
    }
  });
});

describe('IsoWriter', () => {
  test('matches Date#toISOString, cached second or not (seed 9)', () => {
    const w = new IsoWriter();
    const out = Buffer.alloc(32);
    const dv = new DataView(out.buffer, out.byteOffset, out.length);
    const rnd = prng(9);
    let ms = Date.UTC(1970, 0, 1);
    for (let i = 0; i < 20_000; i++) {
      ms = rnd() < 0.5 ? ms + Math.floor(rnd() * 1500) : Math.floor(rnd() * 253402300799999);
      expect(w.write(ms, dv, 4)).toBe(28);
      expect(out.toString('latin1', 4, 28)).toBe(new Date(ms).toISOString());
    }
  });

  test('year 0 and year 9999', () => {
    const w = new IsoWriter();
    const out = Buffer.alloc(24);
    const dv = new DataView(out.buffer);
    const y0 = new Date(Date.UTC(2000, 0, 1));
    y0.setUTCFullYear(0);
    w.write(y0.getTime(), dv, 0);
    expect(out.toString('latin1')).toBe('0000-01-01T00:00:00.000Z');
    w.write(Date.UTC(9999, 11, 31, 23, 59, 59, 999), dv, 0);
    expect(out.toString('latin1')).toBe('9999-12-31T23:59:59.999Z');
  });
});
