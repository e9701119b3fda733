// The seed's flat keys (watch_path, batch_size, ship_url): how each maps onto the long form, and
// the clear error when a shorthand and its long key are both set.

import { describe, expect, test } from 'vitest';
import { expectConfigError, parse, SINK, type Expected } from './helpers.js';

describe('mapping', () => {
  test.each([
    ['watch_path: /var/log/app.log\n', ['/var/log/app.log']],
    ['watch_path: [a.log, "b/*.log"]\n', ['a.log', 'b/*.log']],
    ['watch_path:\n  - ${DIR}/*.log\n', ['/srv/*.log']],
  ])('%j becomes sources.main', (text, include) => {
    const c = parse(text + SINK, { DIR: '/srv' });
    expect(Object.keys(c.sources)).toEqual(['main']);
    expect(c.sources.main).toMatchObject({ type: 'file', include, read_from: 'beginning' });
  });

  test('watch_path sits next to other sources', () => {
    const c = parse('watch_path: a.log\nsources:\n  pipe: {type: stdin}\n' + SINK);
    expect(Object.keys(c.sources)).toEqual(['main', 'pipe']);
  });

  test('batch_size becomes batch.max_events, keeping the other batch keys', () => {
    const c = parse('watch_path: a.log\nbatch_size: 250\nbatch: {timeout: 20ms}\n' + SINK);
    expect(c.batch).toEqual({ max_events: 250, max_bytes: 1_048_576, timeout: 20, adaptive: true });
  });

  test('ship_url becomes sinks.ship, an http sink sending ndjson (zstd)', () => {
    const c = parse('watch_path: a.log\nship_url: ${URL}\n' + SINK, {
      URL: 'https://c.example/v1/logs',
    });
    expect(Object.keys(c.sinks)).toEqual(['ship', 'out']);
    expect(c.sinks.ship).toMatchObject({
      type: 'http',
      uri: 'https://c.example/v1/logs',
      format: 'ndjson',
      compression: 'zstd',
      method: 'POST',
    });
  });

  test('the shorthand keys do not leak into the resolved config', () => {
    const c = parse('watch_path: a.log\nbatch_size: 5\n' + SINK);
    expect(Object.keys(c)).not.toContain('watch_path');
    expect(Object.keys(c)).not.toContain('batch_size');
    expect(Object.keys(c)).not.toContain('ship_url');
  });
});

describe('errors', () => {
  test.each<[string, string, Expected]>([
    [
      'watch_path and sources.main',
      'sources:\n  main: {type: stdin}\nwatch_path: a.log\n' + SINK,
      {
        code: 'VES_CONFIG_INVALID',
        path: 'watch_path',
        line: 3,
        col: 1,
        says: 'shorthand for `sources.main`',
      },
    ],
    [
      'batch_size and batch.max_events',
      'watch_path: a.log\nbatch:\n  max_events: 10\nbatch_size: 20\n' + SINK,
      { code: 'VES_CONFIG_INVALID', path: 'batch_size', line: 4, col: 1, says: 'keep one of them' },
    ],
    [
      'ship_url and sinks.ship',
      'watch_path: a.log\nsinks:\n  ship: {type: stdout}\nship_url: https://collector.example/v1/logs\n',
      {
        code: 'VES_CONFIG_INVALID',
        path: 'ship_url',
        line: 4,
        col: 1,
        says: 'shorthand for `sinks.ship`',
      },
    ],
    [
      'ship_url that is not a URL',
      'watch_path: a.log\nship_url: collector.example\n',
      { code: 'VES_CONFIG_TYPE', path: 'sinks.ship.uri', says: 'expected a URL' },
    ],
    [
      'watch_path of the wrong type',
      'watch_path: {a: 1}\n' + SINK,
      { code: 'VES_CONFIG_TYPE', path: 'watch_path', line: 1, col: 13, says: 'or a single string' },
    ],
    [
      'batch_size out of range',
      'watch_path: a.log\nbatch_size: 0\n' + SINK,
      { code: 'VES_CONFIG_RANGE', path: 'batch_size', line: 2, col: 13 },
    ],
  ])('%s', (_name, text, want) => {
    expectConfigError(() => parse(text), want);
  });
});
