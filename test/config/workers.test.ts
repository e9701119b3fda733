// `workers: auto | <int>` and `batch.adaptive`: what they accept, their defaults, and the errors
// (key path and line:col) for what they refuse.

import { describe, expect, test } from 'vitest';
import { expectConfigError, parse, SINK } from './helpers.js';

const SRC = 'sources:\n  s: {type: stdin}\n' + SINK;

describe('workers', () => {
  test.each<[string, string, NodeJS.ProcessEnv, 'auto' | number]>([
    ['absent: auto', '', {}, 'auto'],
    ['auto', 'workers: auto\n', {}, 'auto'],
    ['0: inline', 'workers: 0\n', {}, 0],
    ['a count', 'workers: 3\n', {}, 3],
    ['${VAR:-auto} unset', 'workers: ${W:-auto}\n', {}, 'auto'],
    ['${VAR} with a count', 'workers: ${W}\n', { W: '2' }, 2],
  ])('%s', (_name, text, env, want) => {
    expect(parse(text + SRC, env).workers).toEqual(want);
  });

  test.each([
    ['workers: -1\n', 'VES_CONFIG_RANGE', 'at least 0'],
    ['workers: 65\n', 'VES_CONFIG_RANGE', 'at most 64'],
    ['workers: many\n', 'VES_CONFIG_TYPE', 'whole number'],
    ['workers: 1.5\n', 'VES_CONFIG_TYPE', 'whole number'],
  ])('%j is refused', (text, code, says) => {
    expectConfigError(() => parse(text + SRC), { code, path: 'workers', line: 1, col: 10, says });
  });
});

describe('batch.adaptive', () => {
  test('defaults to true; false keeps max_events', () => {
    expect(parse(SRC).batch.adaptive).toBe(true);
    expect(parse('batch: {adaptive: false}\n' + SRC).batch.adaptive).toBe(false);
  });

  test('must be a boolean', () => {
    expectConfigError(() => parse('batch: {adaptive: sometimes}\n' + SRC), {
      code: 'VES_CONFIG_TYPE',
      path: 'batch.adaptive',
      line: 1,
      col: 19,
    });
  });
});
