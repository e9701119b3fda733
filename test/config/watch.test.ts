// watchConfig: the config `--watch GLOB...` runs with, and where its checkpoints live.

import { homedir } from 'node:os';
import { describe, expect, test } from 'vitest';
import { stateDir, watchConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { defaultBufferConfig } from '../../src/sinks/buffer-config.js';

const env = { VES_STATE_DIR: '/state' };

describe('watchConfig', () => {
  test('one file source from the beginning, one NDJSON stdout sink', () => {
    const c = watchConfig({ watch: ['logs/*.log', '/var/log/x.log'], env, cwd: '/home/u' });
    expect(c.sources).toEqual({
      watch: expect.objectContaining({
        type: 'file',
        include: ['/home/u/logs/*.log', '/var/log/x.log'],
        read_from: 'beginning',
        parser: 'raw',
        read_chunk_bytes: 262_144, // the schema's defaults apply
      }),
    });
    expect(c.sinks).toEqual({
      stdout: { type: 'stdout', encoding: 'ndjson', buffer: defaultBufferConfig() },
    });
    expect(c.data_dir).toMatch(/^\/state\/watch-[0-9a-f]{8}$/);
    expect(c.batch.max_events).toBe(1000);
  });

  test('the same globs share a data_dir in any order and spelling; others do not', () => {
    const dir = (watch: string[], cwd = '/home/u') => watchConfig({ watch, env, cwd }).data_dir;
    expect(dir(['a.log', 'b.log'])).toBe(dir(['b.log', './a.log']));
    expect(dir(['a.log'])).toBe(dir(['/home/u/a.log'], '/elsewhere'));
    expect(dir(['a.log'])).not.toBe(dir(['b.log']));
    expect(dir(['a.log'])).not.toBe(dir(['a.log'], '/other'));
  });

  test('globs are taken literally: no ${VAR} expansion of flags', () => {
    const c = watchConfig({ watch: ['/logs/$${X}.log'], env, cwd: '/' });
    expect(c.sources.watch).toMatchObject({ include: ['/logs/$${X}.log'] });
  });

  test('every parser but template works from the command line', () => {
    for (const parser of ['raw', 'json', 'logfmt', 'nginx', 'apache', 'syslog']) {
      expect(watchConfig({ watch: ['a'], parser, env, cwd: '/' }).sources.watch).toMatchObject({
        parser,
      });
    }
  });

  test('dataDir and parser', () => {
    const c = watchConfig({ watch: ['a'], parser: 'raw', dataDir: '/tmp/d', env, cwd: '/' });
    expect(c.data_dir).toBe('/tmp/d');
    expect(c.sources.watch).toMatchObject({ parser: 'raw' });
  });

  test.each([
    [{ watch: [] }, 'VES_USAGE', '--watch', 'at least one'],
    [{ watch: ['a'], parser: 'template' }, 'VES_USAGE', '--parser', 'needs `templates:`'],
    [{ watch: ['a'], parser: 'ngnix' }, 'VES_CONFIG_ENUM', '--parser', 'known: raw'],
  ])('%j fails with %s', (opts, code, path, says) => {
    let err: unknown;
    try {
      watchConfig({ ...opts, env });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ code, path, exitCode: 2 });
    expect((err as Error).message).toContain(says);
  });
});

describe('stateDir', () => {
  test.each([
    [{ VES_STATE_DIR: '/s', XDG_STATE_HOME: '/x' }, '/s'],
    [{ VES_STATE_DIR: 'rel' }, '/cwd/rel'],
    [{ XDG_STATE_HOME: '/x', HOME: '/h' }, '/x/ves-log-collector'],
    [{ XDG_STATE_HOME: 'relative', HOME: '/h' }, '/h/.local/state/ves-log-collector'],
    [{ HOME: '/h' }, '/h/.local/state/ves-log-collector'],
    [{}, `${homedir()}/.local/state/ves-log-collector`],
  ])('%j -> %s', (e, dir) => {
    expect(stateDir(e, '/cwd')).toBe(dir);
  });
});
