// Defaults: what a minimal config resolves to, key by key, and the "left out or empty means the
// default" rule.

import { hostname } from 'node:os';
import { describe, expect, test } from 'vitest';
import { parse, SINK } from './helpers.js';
import { defaultBufferConfig } from '../../src/sinks/buffer-config.js';

describe('defaults', () => {
  test('a minimal config resolves to every default', () => {
    const c = parse('sources:\n  in: {type: stdin}\nsinks:\n  out: {type: stdout}\n');
    expect(c).toEqual({
      data_dir: './data',
      sources: {
        in: {
          type: 'stdin',
          parser: 'raw',
          templates: [],
          keep_message: false,
          fields: {},
          max_line_bytes: 262_144,
          multiline: null,
        },
      },
      transforms: [],
      batch: { max_events: 1000, max_bytes: 1_048_576, timeout: 5, adaptive: true },
      workers: 'auto',
      sinks: { out: { type: 'stdout', encoding: 'ndjson', buffer: defaultBufferConfig() } },
      api: { enabled: false, address: '127.0.0.1:8686' },
      shutdown_timeout: 10_000,
      checkpoint_interval: 1000,
      host: hostname(),
    });
  });

  test('file source', () => {
    const c = parse('sources:\n  web: {type: file, include: /var/log/*.log}\n' + SINK);
    expect(c.sources.web).toEqual({
      type: 'file',
      include: ['/var/log/*.log'],
      exclude: [],
      read_from: 'beginning',
      parser: 'raw',
      templates: [],
      keep_message: false,
      fields: {},
      max_line_bytes: 262_144,
      read_chunk_bytes: 262_144,
      partial_line_timeout: 1000,
      poll_interval: 250,
      fingerprint: 'checksum',
      idle_timeout: 300_000,
      multiline: null,
    });
  });

  test('file sink, and rotate with only max_bytes', () => {
    const c = parse(
      'sources:\n  in: {type: stdin}\nsinks:\n' +
        '  a: {type: file, path: a.log}\n' +
        '  b: {type: file, path: b.log, rotate: {max_bytes: 10MiB}}\n',
    );
    expect(c.sinks.a).toEqual({
      type: 'file',
      path: 'a.log',
      encoding: 'ndjson',
      compression: 'none',
      fsync: false,
      rotate: null,
      max_open_files: 64,
      buffer: { type: 'memory', max_bytes: 16 * 1024 * 1024, when_full: 'block' },
    });
    expect(c.sinks.b).toMatchObject({ rotate: { max_bytes: 10_485_760, max_files: 5 } });
  });

  test.each([
    ['left out', ''],
    ['with no value', 'exclude:\nbatch:\napi:\ntransforms:\n'],
    ['null', 'exclude: null\nbatch: ~\napi: null\ntransforms: null\n'],
  ])('a key %s takes its default', (_name, keys) => {
    const [exclude = '', ...top] = keys.split('\n');
    const c = parse(
      `sources:\n  web:\n    type: file\n    include: a\n    ${exclude}\n` + SINK + top.join('\n'),
    );
    expect(c.sources.web).toMatchObject({ exclude: [] });
    expect(c.batch.max_events).toBe(1000);
    expect(c.api.enabled).toBe(false);
    expect(c.transforms).toEqual([]);
  });

  test('rotate: null is the same as leaving it out', () => {
    const c = parse(
      'sources:\n  in: {type: stdin}\nsinks:\n  f: {type: file, path: x, rotate: null}\n',
    );
    expect(c.sinks.f).toMatchObject({ rotate: null });
  });

  test('each load gets its own lists (defaults are not shared)', () => {
    const text = 'sources:\n  web: {type: file, include: a}\n' + SINK;
    const a = parse(text);
    const web = a.sources.web;
    if (web.type !== 'file') throw new Error('file source expected');
    web.exclude.push('mutated');
    web.fields.x = 1;
    expect(parse(text).sources.web).toMatchObject({ exclude: [], fields: {} });
  });
});
