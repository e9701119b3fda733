// Every kind of config problem, each asserted with its code, exact key path and line:col, and
// the file-level ones (missing, empty, bad YAML, not a map).

import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfigFile } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { expectConfigError, parse, SINK, type Expected } from './helpers.js';

const WEB = 'sources:\n  web:\n    type: file\n    include: [/var/log/*.log]\n'; // lines 1-4

describe('each problem names its key and line:col', () => {
  test.each<[string, string, Expected]>([
    [
      'unknown top-level key',
      'sourcs:\n  a: {type: stdin}\n' + SINK,
      {
        code: 'VES_CONFIG_UNKNOWN_KEY',
        path: 'sourcs',
        line: 1,
        col: 1,
        says: 'did you mean `sources`?',
      },
    ],
    [
      'unknown key in a source',
      WEB + '    read_form: end\n' + SINK,
      {
        code: 'VES_CONFIG_UNKNOWN_KEY',
        path: 'sources.web.read_form',
        line: 5,
        col: 5,
        says: 'did you mean `read_from`?',
      },
    ],
    [
      'unknown key far from any known one lists the known keys',
      SINK + 'sources:\n  s: {type: stdin}\nbatch:\n  flush_everything: true\n',
      {
        code: 'VES_CONFIG_UNKNOWN_KEY',
        path: 'batch.flush_everything',
        line: 6,
        col: 3,
        says: 'known keys: max_events, max_bytes, timeout',
      },
    ],
    [
      'wrong type: text for a number',
      WEB + SINK + 'batch:\n  max_events: lots\n',
      {
        code: 'VES_CONFIG_TYPE',
        path: 'batch.max_events',
        line: 8,
        col: 15,
        says: 'expected a whole number, got "lots"',
      },
    ],
    [
      'wrong type: quoted number is text',
      WEB + SINK + 'batch: {max_events: "10"}\n',
      { code: 'VES_CONFIG_TYPE', path: 'batch.max_events', line: 7, col: 21 },
    ],
    [
      'wrong type: number for a string',
      WEB + SINK + 'data_dir: 5\n',
      { code: 'VES_CONFIG_TYPE', path: 'data_dir', line: 7, col: 11, says: 'quote it' },
    ],
    [
      'wrong type: yes is not a boolean in YAML 1.2',
      WEB + SINK + 'api:\n  enabled: yes\n',
      {
        code: 'VES_CONFIG_TYPE',
        path: 'api.enabled',
        line: 8,
        col: 12,
        says: 'expected true or false',
      },
    ],
    [
      'wrong type: a map where a list belongs',
      'sources:\n  web:\n    type: file\n    include: {a: 1}\n' + SINK,
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sources.web.include',
        line: 4,
        col: 14,
        says: 'expected a list',
      },
    ],
    [
      'wrong type: a list item',
      'sources:\n  web:\n    type: file\n    include: [a.log, 7]\n' + SINK,
      { code: 'VES_CONFIG_TYPE', path: 'sources.web.include[1]', line: 4, col: 22 },
    ],
    [
      'wrong type: bad duration',
      WEB + '    poll_interval: 5 parsecs\n' + SINK,
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sources.web.poll_interval',
        line: 5,
        col: 20,
        says: 'expected a duration like 5ms',
      },
    ],
    [
      'wrong type: bad size',
      WEB + '    max_line_bytes: 1 mb\n' + SINK,
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sources.web.max_line_bytes',
        line: 5,
        col: 21,
        says: 'expected a size',
      },
    ],
    [
      'wrong type: nested map in fields',
      WEB + '    fields:\n      service: {name: web}\n' + SINK,
      { code: 'VES_CONFIG_TYPE', path: 'sources.web.fields.service', line: 6, col: 16 },
    ],
    [
      'wrong type: api.address without a port',
      WEB + SINK + 'api: {address: localhost}\n',
      { code: 'VES_CONFIG_TYPE', path: 'api.address', line: 7, col: 16, says: 'host:port' },
    ],
    [
      'wrong type: a source name with a space',
      'sources:\n  "my web": {type: stdin}\n' + SINK,
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sources.my web',
        line: 2,
        col: 3,
        says: 'not a valid source name',
      },
    ],
    [
      'missing required key points at its parent key',
      'sources:\n  web:\n    type: file\n' + SINK,
      {
        code: 'VES_CONFIG_MISSING',
        path: 'sources.web.include',
        line: 2,
        col: 3,
        says: 'is required',
      },
    ],
    [
      'required key with no value points at the key',
      'sources:\n  web:\n    type: file\n    include:\n' + SINK,
      {
        code: 'VES_CONFIG_MISSING',
        path: 'sources.web.include',
        line: 4,
        col: 5,
        says: 'needs a value',
      },
    ],
    [
      'missing type',
      'sources:\n  web: {include: [a]}\n' + SINK,
      {
        code: 'VES_CONFIG_MISSING',
        path: 'sources.web.type',
        line: 2,
        col: 3,
        says: 'one of file, stdin',
      },
    ],
    [
      'missing rotate.max_bytes',
      WEB + 'sinks:\n  out:\n    type: file\n    path: o.log\n    rotate:\n      max_files: 3\n',
      { code: 'VES_CONFIG_MISSING', path: 'sinks.out.rotate.max_bytes', line: 9, col: 5 },
    ],
    [
      'bad enum value',
      WEB + '    read_from: middle\n' + SINK,
      {
        code: 'VES_CONFIG_ENUM',
        path: 'sources.web.read_from',
        line: 5,
        col: 16,
        says: 'expected one of beginning | end, got "middle"',
      },
    ],
    [
      'enum typo gets a suggestion',
      WEB + '    fingerprint: checksun\n' + SINK,
      {
        code: 'VES_CONFIG_ENUM',
        path: 'sources.web.fingerprint',
        line: 5,
        col: 18,
        says: 'did you mean `checksum`?',
      },
    ],
    [
      'unknown source type lists the known ones',
      'sources:\n  web:\n    type: fiel\n' + SINK,
      {
        code: 'VES_CONFIG_ENUM',
        path: 'sources.web.type',
        line: 3,
        col: 11,
        says: 'unknown source type "fiel" (known: file, stdin, http); did you mean `file`?',
      },
    ],
    [
      'a sink type that arrives later says so',
      WEB + 'sinks:\n  up: {type: redis, uri: "redis://x"}\n',
      {
        code: 'VES_CONFIG_ENUM',
        path: 'sinks.up.type',
        line: 6,
        col: 14,
        says: 'arrives in a later release',
      },
    ],
    [
      'an unknown parser lists the known ones',
      WEB + '    parser: ngnix\n' + SINK,
      {
        code: 'VES_CONFIG_ENUM',
        path: 'sources.web.parser',
        line: 5,
        col: 13,
        says: 'expected one of raw | json | logfmt | nginx | apache | syslog | template, got "ngnix"; did you mean `nginx`?',
      },
    ],
    [
      'a template that does not compile points at the item and at the character',
      WEB + '    parser: template\n    templates:\n      - "{ip} {status:integer}"\n' + SINK,
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sources.web.templates[0]',
        line: 7,
        col: 9,
        says: 'bad template: unknown type `integer`: use string, int, float or timestamp (column 14)\n    {ip} {status:integer}\n                 ^',
      },
    ],
    [
      'the second template of a list',
      WEB + '    parser: template\n    templates: ["{a} {b}", "{a"]\n' + SINK,
      {
        code: 'VES_CONFIG_TYPE',
        path: 'sources.web.templates[1]',
        line: 6,
        col: 28,
        says: 'unclosed `{`',
      },
    ],
    [
      'parser: template needs templates',
      WEB + '    parser: template\n' + SINK,
      {
        code: 'VES_CONFIG_MISSING',
        path: 'sources.web.templates',
        says: 'is required with parser: template',
      },
    ],
    [
      'templates with another parser',
      WEB + '    parser: nginx\n    templates: ["{a} {b}"]\n' + SINK,
      {
        code: 'VES_CONFIG_INVALID',
        path: 'sources.web.templates',
        line: 6,
        col: 5,
        says: 'is only used with parser: template (this source has parser: nginx)',
      },
    ],
    [
      "a static field named like one of the parser's fields",
      WEB + '    parser: nginx\n    fields: {status: up}\n' + SINK,
      {
        code: 'VES_CONFIG_INVALID',
        path: 'sources.web.fields.status',
        line: 6,
        col: 14,
        says: 'the nginx parser writes a field `status` too',
      },
    ],
    [
      'zstd compression arrives with the shipping release',
      WEB + 'sinks:\n  out: {type: file, path: o.log, compression: zstd}\n',
      {
        code: 'VES_CONFIG_ENUM',
        path: 'sinks.out.compression',
        line: 6,
        col: 47,
        says: 'zstd arrives with the shipping release',
      },
    ],
    [
      'below the minimum, shown with its unit',
      WEB + '    read_chunk_bytes: 1KiB\n' + SINK,
      {
        code: 'VES_CONFIG_RANGE',
        path: 'sources.web.read_chunk_bytes',
        line: 5,
        col: 23,
        says: 'must be at least 4KiB',
      },
    ],
    [
      'above the maximum',
      WEB + '    read_chunk_bytes: 1GiB\n' + SINK,
      {
        code: 'VES_CONFIG_RANGE',
        path: 'sources.web.read_chunk_bytes',
        line: 5,
        col: 23,
        says: 'must be at most 64MiB',
      },
    ],
    [
      'zero events per batch',
      WEB + SINK + 'batch: {max_events: 0}\n',
      {
        code: 'VES_CONFIG_RANGE',
        path: 'batch.max_events',
        line: 7,
        col: 21,
        says: 'must be at least 1',
      },
    ],
    [
      'a negative duration',
      WEB + SINK + 'shutdown_timeout: -5\n',
      { code: 'VES_CONFIG_RANGE', path: 'shutdown_timeout', line: 7, col: 19 },
    ],
    [
      'a removed key gives its replacement',
      WEB + '    start_at_beginning: true\n' + SINK,
      {
        code: 'VES_CONFIG_REMOVED',
        path: 'sources.web.start_at_beginning',
        line: 5,
        col: 5,
        says: 'use `read_from: beginning`',
      },
    ],
    [
      'a removed batch key',
      WEB + SINK + 'batch:\n  timeout_ms: 5\n',
      {
        code: 'VES_CONFIG_REMOVED',
        path: 'batch.timeout_ms',
        line: 8,
        col: 3,
        says: 'timeout: 5ms',
      },
    ],
    [
      'no sources at all',
      SINK,
      { code: 'VES_CONFIG_INVALID', path: 'sources', line: 1, col: 1, says: 'no sources' },
    ],
    [
      'an empty sources map',
      SINK + 'sources: {}\n',
      { code: 'VES_CONFIG_INVALID', path: 'sources', line: 3, col: 1, says: 'no sources' },
    ],
    [
      'no sinks',
      WEB + 'sinks:\n',
      { code: 'VES_CONFIG_INVALID', path: 'sinks', line: 5, col: 1, says: 'no sinks' },
    ],
    [
      'a transform of an unknown type',
      WEB + SINK + 'transforms:\n  - {type: filtr}\n',
      {
        code: 'VES_CONFIG_ENUM',
        path: 'transforms[0].type',
        line: 8,
        col: 12,
        says: 'did you mean `filter`?',
      },
    ],
  ])('%s', (_name, text, want) => {
    expectConfigError(() => parse(text), want);
  });
});

describe('the file itself', () => {
  test.each<[string, string, Expected]>([
    [
      'empty',
      '',
      { code: 'VES_CONFIG_INVALID', path: '', line: 1, col: 1, says: 'the config file is empty' },
    ],
    [
      'only comments',
      '# nothing yet\n\n',
      { code: 'VES_CONFIG_INVALID', path: '', line: 1, col: 1, says: 'empty' },
    ],
    [
      'a list',
      '- a\n- b\n',
      { code: 'VES_CONFIG_TYPE', path: '', line: 1, col: 1, says: 'must be a map' },
    ],
    [
      'bad YAML',
      'sources:\n  web: [a, b\nsinks: {}\n',
      { code: 'VES_CONFIG_YAML', path: '', line: 3, col: 1, says: 'invalid YAML' },
    ],
    [
      'a tab indent',
      'sources:\n\tweb: {}\n',
      { code: 'VES_CONFIG_YAML', path: '', line: 2, col: 1 },
    ],
    [
      'a duplicated key',
      WEB + SINK + 'sinks: {}\n',
      { code: 'VES_CONFIG_YAML', path: '', line: 7, col: 1, says: 'unique' },
    ],
  ])('%s', (_name, text, want) => {
    expectConfigError(() => parse(text), want);
  });

  test('a missing file names the path', async () => {
    const file = join(tmpdir(), 'ves-no-such-dir', 'agent.yaml');
    const err = await loadConfigFile(file, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code: 'VES_CONFIG_NOT_FOUND', exitCode: 2 });
    expect((err as Error).message).toBe(`config file not found: ${file}`);
  });

  test('a directory is not a config file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ves-config-'));
    await expect(loadConfigFile(dir, {})).rejects.toMatchObject({
      code: 'VES_CONFIG_NOT_FOUND',
      message: `config path is a directory, not a file: ${dir}`,
    });
  });

  test('errors carry the file name as given', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ves-config-'));
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'sources:\n  web: {type: file, include: a, read_from: end}\nsinkz: {}\n');
    await expect(loadConfigFile(file, {})).rejects.toMatchObject({
      code: 'VES_CONFIG_UNKNOWN_KEY',
      location: { file, line: 3, col: 1 },
      message: `${file}:3:1: sinkz: unknown key; did you mean \`sinks\`?`,
    });
  });
});

describe('several problems', () => {
  test('are all reported, the earliest first with its location', () => {
    const text =
      'sources:\n  web:\n    type: file\n    include: a\n    read_from: middle\n' +
      SINK +
      'batch: {max_events: 0, timeout: soon}\napi: {enabld: true}\n';
    const err = expectConfigError(() => parse(text), {
      code: 'VES_CONFIG_ENUM',
      path: 'sources.web.read_from',
      line: 5,
      col: 16,
    });
    expect(err.message.split('\n').slice(1)).toEqual([
      '  also: agent.yaml:8:21: batch.max_events: must be at least 1 [VES_CONFIG_RANGE]',
      '  also: agent.yaml:8:33: batch.timeout: expected a duration like 5ms, 1s, 2m or 1h, ' +
        'got "soon" [VES_CONFIG_TYPE]',
      '  also: agent.yaml:9:7: api.enabld: unknown key; did you mean `enabled`? ' +
        '[VES_CONFIG_UNKNOWN_KEY]',
    ]);
  });
});
