// The `transforms:` list in the config: each entry is checked against the registry, with the
// key path and line:col of what is wrong.

import { describe, expect, test } from 'vitest';
import { expectConfigError, parse, SINK } from '../config/helpers.js';
import type { AgentConfig, FileSourceConfig } from '../../src/config/types.js';

const SOURCES = 'sources:\n  web: {type: stdin}\n  app: {type: stdin}\n';
const cfg = (transforms: string): string => `${SOURCES}transforms:\n${transforms}${SINK}`;

describe('transforms config', () => {
  test('entries decode with their defaults and names', () => {
    const c = parse(
      cfg(`  - type: filter
    condition: {field: status, gte: 400, lt: 500}
  - {type: enrich, name: tag, fields: {team: a}}
  - {type: sample, rate: 10, sources: web}
  - {type: throttle, events_per_second: 100, key: remote_addr}
`),
    );
    expect(c.transforms).toEqual([
      {
        type: 'filter',
        name: 'filter_0',
        sources: [],
        action: 'keep',
        condition: { field: 'status', gte: 400, lt: 500 },
      },
      {
        type: 'enrich',
        name: 'tag',
        sources: [],
        fields: { team: 'a' },
        env: {},
        host: true,
        source: true,
        timestamp: 'parsed',
      },
      { type: 'sample', name: 'sample_2', sources: ['web'], rate: 10 },
      {
        type: 'throttle',
        name: 'throttle_3',
        sources: [],
        events_per_second: 100,
        key: 'remote_addr',
        max_keys: 10000,
      },
    ]);
  });

  test.each([
    [
      'an unknown key',
      '  - type: filter\n    condition: {field: a, equals: b}\n    acton: drop\n',
      {
        code: 'VES_CONFIG_UNKNOWN_KEY',
        path: 'transforms[0].acton',
        line: 7,
        col: 5,
        says: 'action',
      },
    ],
    [
      'an unknown type',
      '  - {type: grep}\n',
      {
        code: 'VES_CONFIG_ENUM',
        path: 'transforms[0].type',
        line: 5,
        col: 12,
        says: 'filter, enrich, sample, throttle',
      },
    ],
    [
      'a field without a test',
      '  - {type: filter, condition: {field: a}}\n',
      { code: 'VES_CONFIG_MISSING', path: 'transforms[0].condition.field', says: 'equals, prefix' },
    ],
    [
      'a test without a field',
      '  - {type: filter, condition: {equals: a}}\n',
      { code: 'VES_CONFIG_MISSING', path: 'transforms[0].condition.field' },
    ],
    [
      'two tests in one leaf',
      '  - {type: filter, condition: {field: a, equals: b, prefix: c}}\n',
      { code: 'VES_CONFIG_INVALID', path: 'transforms[0].condition.prefix', says: 'all: [...]' },
    ],
    [
      'a nested condition with an unknown key',
      '  - type: filter\n    condition:\n      any:\n        - {field: a, equals: b}\n        - {feild: a, equals: b}\n',
      {
        code: 'VES_CONFIG_UNKNOWN_KEY',
        path: 'transforms[0].condition.any[1].feild',
        line: 9,
        col: 12,
      },
    ],
    [
      'an empty any',
      '  - {type: filter, condition: {any: []}}\n',
      { code: 'VES_CONFIG_INVALID', path: 'transforms[0].condition.any' },
    ],
    [
      'a level that is none',
      '  - {type: filter, condition: {level_at_least: loud}}\n',
      { code: 'VES_CONFIG_ENUM', path: 'transforms[0].condition.level_at_least', says: 'warn' },
    ],
    [
      'a number that is not one',
      '  - {type: filter, condition: {field: a, gt: ten}}\n',
      { code: 'VES_CONFIG_TYPE', path: 'transforms[0].condition.gt' },
    ],
    [
      'a source that does not exist',
      '  - {type: sample, rate: 2, sources: [web, wbe]}\n',
      {
        code: 'VES_CONFIG_INVALID',
        path: 'transforms[0].sources[1]',
        line: 5,
        col: 44,
        says: 'wbe',
      },
    ],
    [
      'two transforms with one name',
      '  - {type: sample, rate: 2, name: x}\n  - {type: sample, rate: 3, name: x}\n',
      { code: 'VES_CONFIG_INVALID', path: 'transforms[1].name', says: 'transforms[0]' },
    ],
    [
      'enrich turning host off',
      '  - {type: enrich, host: false}\n',
      { code: 'VES_CONFIG_INVALID', path: 'transforms[0].host' },
    ],
    [
      'enrich setting a built-in field',
      '  - {type: enrich, fields: {message: x}}\n',
      { code: 'VES_CONFIG_INVALID', path: 'transforms[0].fields.message' },
    ],
    [
      'enrich env that is not a variable name',
      '  - {type: enrich, env: {region: "aws region"}}\n',
      { code: 'VES_CONFIG_TYPE', path: 'transforms[0].env.region' },
    ],
    [
      'a throttle of 0',
      '  - {type: throttle, events_per_second: 0}\n',
      { code: 'VES_CONFIG_RANGE', path: 'transforms[0].events_per_second' },
    ],
    [
      'a sample rate of 0',
      '  - {type: sample, rate: 0}\n',
      { code: 'VES_CONFIG_RANGE', path: 'transforms[0].rate' },
    ],
  ])('%s', (_what, transforms, want) => {
    expectConfigError(() => parse(cfg(transforms)), want);
  });

  test('an empty list is fine, and so is leaving it out', () => {
    expect(parse(`${SOURCES}transforms: []\n${SINK}`).transforms).toEqual([]);
    expect(parse(`${SOURCES}${SINK}`).transforms).toEqual([]);
  });
});

/** The `multiline` of source `app` (a file source: the only kind with that key besides stdin). */
function multilineOf(c: AgentConfig): FileSourceConfig['multiline'] {
  return (c.sources.app as FileSourceConfig).multiline;
}

describe('multiline config', () => {
  const src = (ml: string): string =>
    `sources:\n  app:\n    type: file\n    include: [/tmp/x.log]\n    multiline: ${ml}\n${SINK}`;

  test('decodes with defaults; absent is null', () => {
    expect(multilineOf(parse(src('{mode: indented}')))).toEqual({
      mode: 'indented',
      timeout: 1000,
      max_bytes: 1048576,
    });
    expect(
      multilineOf(parse(src('{mode: start_pattern, pattern: "^\\\\d{4}-", timeout: 200ms}'))),
    ).toEqual({
      mode: 'start_pattern',
      pattern: '^\\d{4}-',
      timeout: 200,
      max_bytes: 1048576,
    });
    expect(multilineOf(parse(src('')))).toBeNull();
  });

  test.each([
    ['{mode: start_prefix}', { code: 'VES_CONFIG_MISSING', path: 'sources.app.multiline.prefix' }],
    [
      '{mode: start_pattern}',
      { code: 'VES_CONFIG_MISSING', path: 'sources.app.multiline.pattern' },
    ],
    [
      '{mode: start_pattern, pattern: "(["}',
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sources.app.multiline.pattern',
        says: 'regular expression',
      },
    ],
    [
      '{mode: indented, prefix: x}',
      { code: 'VES_CONFIG_INVALID', path: 'sources.app.multiline.prefix' },
    ],
    [
      '{mode: tabs}',
      { code: 'VES_CONFIG_ENUM', path: 'sources.app.multiline.mode', line: 5, col: 23 },
    ],
    [
      '{mode: indented, max_lines: 3}',
      { code: 'VES_CONFIG_UNKNOWN_KEY', path: 'sources.app.multiline.max_lines' },
    ],
  ])('%s', (ml, want) => {
    expectConfigError(() => parse(src(ml)), want);
  });
});

test('config/transforms.yaml: the example decodes into the transforms it shows', async () => {
  const { loadConfigFile } = await import('../../src/config/index.js');
  const c = await loadConfigFile(
    new URL('../../config/transforms.yaml', import.meta.url).pathname,
    { AWS_REGION: 'eu-west-1' },
  );
  expect(c.transforms.map((t) => [t.type, t.name, t.sources])).toEqual([
    ['filter', 'web_errors_only', ['web']],
    ['filter', 'filter_1', ['web']],
    ['throttle', 'throttle_2', ['web']],
    ['filter', 'filter_3', ['app']],
    ['enrich', 'enrich_4', []],
  ]);
  expect(multilineOf(c)).toMatchObject({ mode: 'start_pattern', max_bytes: 512 * 1024 });
});
