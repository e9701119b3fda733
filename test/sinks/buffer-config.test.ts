// The `buffer` key every sink has: defaults per type, and the errors a wrong one gets.

import { describe, expect, test } from 'vitest';
import { BUFFER_DEFAULT_MAX_BYTES } from '../../src/sinks/buffer-config.js';
import { expectConfigError, parse } from '../config/helpers.js';

const SRC = 'sources:\n  in: {type: stdin}\n';
const sink = (buffer: string, type = 'file, path: out.ndjson') =>
  parse(`${SRC}sinks:\n  out: {type: ${type}${buffer ? `, buffer: ${buffer}` : ''}}\n`).sinks.out;

describe('sinks.<name>.buffer', () => {
  test.each([
    ['', { type: 'memory', max_bytes: 16 * 1024 * 1024, when_full: 'block' }],
    [
      '{type: memory}',
      { type: 'memory', max_bytes: BUFFER_DEFAULT_MAX_BYTES.memory, when_full: 'block' },
    ],
    ['{type: disk}', { type: 'disk', max_bytes: 1024 ** 3, when_full: 'block' }],
    [
      '{type: disk, max_bytes: 2GiB, when_full: drop_newest}',
      { type: 'disk', max_bytes: 2 * 1024 ** 3, when_full: 'drop_newest' },
    ],
    ['{max_bytes: 1MiB}', { type: 'memory', max_bytes: 1024 * 1024, when_full: 'block' }],
  ])('%s', (text, want) => {
    expect(sink(text)).toMatchObject({ buffer: want });
    expect(sink(text, 'stdout')).toMatchObject({ buffer: want });
  });

  test('unknown keys, wrong choices and tiny bounds are errors naming the key', () => {
    expectConfigError(() => sink('{type: disk, max_size: 1GiB}'), {
      code: 'VES_CONFIG_UNKNOWN_KEY',
      path: 'sinks.out.buffer.max_size',
      says: 'max_bytes',
    });
    expectConfigError(() => sink('{type: disk, when_full: drop_oldest}'), {
      code: 'VES_CONFIG_ENUM',
      path: 'sinks.out.buffer.when_full',
      says: 'block | drop_newest',
    });
    expectConfigError(() => sink('{type: tape}'), {
      code: 'VES_CONFIG_ENUM',
      path: 'sinks.out.buffer.type',
    });
    expectConfigError(() => sink('{type: disk, max_bytes: 1KiB}'), {
      code: 'VES_CONFIG_RANGE',
      path: 'sinks.out.buffer.max_bytes',
    });
  });
});
