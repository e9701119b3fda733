// enrich: static and environment fields pre-encoded with the source's own, the timestamp
// choice, and the rules that keep event keys unique.

import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { Processor } from '../../src/pipeline/process.js';
import { Counters } from '../../src/observe/counters.js';
import { config, processLines } from './helpers.js';

const NGINX = '10.0.0.1 - - [23/Nov/2026:12:00:00 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8"';

describe('enrich', () => {
  test('fields and env are added to every event, after the source fields, in order', () => {
    const cfg = config(
      'fields: {service: web}',
      `- {type: enrich, fields: {team: payments, tier: 1, canary: false}, env: {region: REGION}}
- {type: enrich, fields: {tier: 2}}`,
      { REGION: 'eu-west-1' },
    );
    process.env.REGION = 'eu-west-1';
    try {
      const r = processLines(cfg, ['one', 'two']);
      expect(r.events).toHaveLength(2);
      for (const e of r.events) {
        expect(e).toMatchObject({
          service: 'web',
          team: 'payments',
          tier: 2,
          canary: false,
          region: 'eu-west-1',
        });
      }
      // Static fields are in the pre-encoded part: each key appears once.
      expect(Object.keys(r.events[0]).filter((k) => k === 'tier')).toHaveLength(1);
    } finally {
      delete process.env.REGION;
    }
  });

  test('an unset env variable stops the build with VES_CONFIG_ENV naming it (never a value)', () => {
    // Set when the config was read, gone at build (a code-built config, or a changed env).
    const cfg = config('', '- {type: enrich, env: {region: VES_TEST_SURELY_UNSET}}', {
      VES_TEST_SURELY_UNSET: 'x',
    });
    let err: unknown;
    try {
      new Processor(cfg, { ndjson: true, raw: false }, new Counters());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('VES_CONFIG_ENV');
    expect((err as ConfigError).path).toBe('transforms[0].env.region');
    expect((err as ConfigError).message).toContain('VES_TEST_SURELY_UNSET');
  });

  test('an env variable unset when the config is read is a config error with line:col', () => {
    let err: unknown;
    try {
      config('', '- {type: enrich, env: {region: VES_TEST_SURELY_UNSET}}', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('VES_CONFIG_ENV');
    expect((err as ConfigError).path).toBe('transforms[0].env.region');
    expect((err as ConfigError).location).toBeDefined();
  });

  test('timestamp: parsed uses the line time; ingest the read time', () => {
    const parsed = processLines(config('parser: nginx', '- {type: enrich, fields: {a: 1}}'), [
      NGINX,
    ]);
    expect(parsed.events[0].timestamp).toBe('2026-11-23T12:00:00.000Z');
    const before = Date.now();
    const ingest = processLines(config('parser: nginx', '- {type: enrich, timestamp: ingest}'), [
      NGINX,
    ]);
    const t = Date.parse(String(ingest.events[0].timestamp));
    expect(t).toBeGreaterThanOrEqual(before - 1);
    expect(t).toBeLessThanOrEqual(Date.now() + 1);
  });

  test('a field the parser writes cannot be added (duplicate keys)', () => {
    // Refused when the config is read (with line:col), before anything starts.
    expect(() => config('parser: nginx', '- {type: enrich, fields: {status: ok}}')).toThrow(
      /agent\.yaml:\d+:\d+: transforms\[0\]\.fields\.status: the nginx parser .* writes a field "status" too/,
    );
  });

  test('json keys equal to an enrich field get the `_` prefix, as for static fields', () => {
    const r = processLines(config('parser: json', '- {type: enrich, fields: {team: a}}'), [
      '{"team":"from-line","x":1}',
    ]);
    expect(r.events[0]).toMatchObject({ team: 'a', _team: 'from-line', x: 1 });
  });

  test('only the sources named get it', () => {
    const cfg = config('', '- {type: enrich, sources: [app], fields: {a: 1}}');
    expect(processLines(cfg, ['x']).events[0].a).toBe(1);
  });
});
