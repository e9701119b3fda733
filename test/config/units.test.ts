// Durations and sizes: every accepted spelling and the rejected ones, as tables.

import { describe, expect, test } from 'vitest';
import { durationMs, parseBytes, parseDuration, sizeBytes } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { parse, SINK } from './helpers.js';

describe('durationMs', () => {
  test.each([
    ['5ms', 5],
    ['0ms', 0],
    ['1s', 1000],
    ['1.5s', 1500],
    ['1.1s', 1100],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['250', 250],
    [' 10 ms ', 10],
    [42, 42],
    [0.5, 0.5],
  ])('%j is %d ms', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });

  test.each(['', 'ms', '5 seconds', '5S', '1d', '-1s', '1e3ms', '1m30s', '5ms5', 'abc'])(
    '%j is not a duration',
    (text) => {
      expect(durationMs(text)).toBeUndefined();
    },
  );
});

describe('sizeBytes', () => {
  test.each([
    ['1B', 1],
    ['512KiB', 524_288],
    ['1MiB', 1_048_576],
    ['1GiB', 1_073_741_824],
    ['1TiB', 2 ** 40],
    ['10KB', 10_000],
    ['10MB', 10_000_000],
    ['2GB', 2e9],
    ['1.5KiB', 1536],
    ['4096', 4096],
    [' 64 KiB', 65_536],
    [1024, 1024],
  ])('%j is %d bytes', (text, n) => {
    expect(sizeBytes(text)).toBe(n);
  });

  test.each(['', 'MiB', '1kib', '1 mb', '1Mb', '1.1B', '0.5', '-1KiB', '1PB', 'lots', 1.5])(
    '%j is not a size',
    (text) => {
      expect(sizeBytes(text)).toBeUndefined();
    },
  );
});

describe('in a config', () => {
  test('units become numbers under the same key names', () => {
    const c = parse(
      'sources:\n  s: {type: file, include: a, read_chunk_bytes: 1MiB, idle_timeout: 1h}\n' +
        'batch: {max_bytes: 512KiB, timeout: 1.5s}\n' +
        SINK,
    );
    expect(c.batch).toEqual({
      max_events: 1000,
      max_bytes: 524_288,
      timeout: 1500,
      adaptive: true,
    });
    expect(c.sources.s).toMatchObject({ read_chunk_bytes: 1_048_576, idle_timeout: 3_600_000 });
  });
});

describe('flag parsers for the CLI', () => {
  test('parseDuration and parseBytes', () => {
    expect(parseDuration('10s', '--duration')).toBe(10_000);
    expect(parseBytes('1MiB', '--max-bytes')).toBe(1_048_576);
  });

  test('a bad flag value is a usage error naming the flag', () => {
    const err = (() => {
      try {
        parseDuration('ten', '--duration');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'VES_USAGE', path: '--duration', exitCode: 2 });
    expect(() => parseBytes('big', '--max-bytes')).toThrow(/--max-bytes: expected a size/);
  });
});
