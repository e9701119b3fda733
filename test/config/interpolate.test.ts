// ${VAR} expansion: the function's rules as a table, then through the loader: per scalar, after
// parsing (no YAML injection), typed keys read the expanded text, and secrets never reach a message.

import { describe, expect, test } from 'vitest';
import { interpolate } from '../../src/config/interpolate.js';
import { expectConfigError, parse, SINK } from './helpers.js';

const fail = (message: string): never => {
  throw new Error(message);
};

describe('interpolate', () => {
  test.each([
    ['no references', {}, 'no references'],
    ['a ${X} b', { X: '1' }, 'a 1 b'],
    ['${X}${Y}', { X: 'a', Y: 'b' }, 'ab'],
    ['${X:-fallback}', {}, 'fallback'],
    ['${X:-fallback}', { X: '' }, 'fallback'], // like the shell: empty counts as unset for :-
    ['${X:-fallback}', { X: 'set' }, 'set'],
    ['${X:-}', {}, ''],
    ['${X}', { X: '' }, ''],
    ['${X:-a:-b c}', {}, 'a:-b c'],
    ['$$', {}, '$'],
    ['$${X}', { X: 'no' }, '${X}'],
    ['$$$${X}', {}, '$${X}'],
    ['cost $5, regex a$', {}, 'cost $5, regex a$'],
    ['${_A1}', { _A1: 'ok' }, 'ok'],
  ])('%j with %j is %j', (text, env, out) => {
    expect(interpolate(text, env, fail)).toBe(out);
  });

  test.each([
    ['${NOPE}', 'environment variable NOPE is not set'],
    ['x ${NOPE} y', 'write ${NOPE:-default}'],
    ['${1X}', 'not a variable reference'],
    ['${A B}', 'not a variable reference'],
    ['${}', 'not a variable reference'],
    ['${X', 'unterminated'],
  ])('%j fails: %s', (text, says) => {
    expect(() => interpolate(text, {}, fail)).toThrow(says);
  });
});

describe('in a config', () => {
  test('expands string values, with defaults', () => {
    const c = parse(
      'data_dir: ${DIR}/state\n' +
        'sources:\n  s: {type: file, include: ["${LOGS:-/var/log}/*.log", "$$HOME/x"]}\n' +
        SINK,
      { DIR: '/srv' },
    );
    expect(c.data_dir).toBe('/srv/state');
    if (c.sources.s.type !== 'file') throw new Error('file source expected');
    expect(c.sources.s.include).toEqual(['/var/log/*.log', '$HOME/x']);
  });

  test('a value cannot inject YAML structure', () => {
    const evil = 'x\nsinks: {}\napi: {enabled: true}';
    const c = parse(
      'data_dir: ${EVIL}\nsources:\n  s: {type: stdin, fields: {k: "${OBJ}"}}\n' + SINK,
      { EVIL: evil, OBJ: '{a: 1}' },
    );
    expect(c.data_dir).toBe(evil);
    expect(c.api.enabled).toBe(false);
    expect(c.sources.s.fields).toEqual({ k: '{a: 1}' });
  });

  test('number, boolean, duration and size keys read the expanded text', () => {
    const c = parse(
      // Block style: in a flow map `{...}` a plain `${N}` is a YAML error; quote it there.
      'batch:\n  max_events: ${N}\n  timeout: ${T:-20ms}\n  max_bytes: "${B}"\n' +
        'api: {enabled: "${ON}"}\n' +
        'sources:\n  s: {type: stdin}\n' +
        SINK,
      { N: '50', ON: 'true', B: '2MiB' },
    );
    expect(c.batch).toEqual({ max_events: 50, timeout: 20, max_bytes: 2_097_152, adaptive: true });
    expect(c.api.enabled).toBe(true);
  });

  test('keys are names, not values: never expanded', () => {
    const c = parse('sources:\n  s: {type: stdin, fields: {"${X}": 1}}\n' + SINK, { X: 'no' });
    expect(c.sources.s.fields).toEqual({ ['${X}']: 1 });
  });

  test('an unset variable names itself, its key and line:col', () => {
    expectConfigError(
      () => parse('sources:\n  s: {type: stdin}\n' + SINK + 'data_dir: ${NOPE}\n'),
      {
        code: 'VES_CONFIG_ENV',
        path: 'data_dir',
        line: 5,
        col: 11,
        says: 'environment variable NOPE is not set',
      },
    );
  });

  test('a bad expanded value is reported without showing it (it may be a secret)', () => {
    const err = expectConfigError(
      () =>
        parse('batch:\n  max_events: ${SECRET}\nsources:\n  s: {type: stdin}\n' + SINK, {
          SECRET: 'hunter2',
        }),
      { code: 'VES_CONFIG_TYPE', path: 'batch.max_events', line: 2, col: 15, says: '${SECRET}' },
    );
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('value not shown');
  });
});
