// Every example a user may copy from config/ must load with the real loader.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { loadConfigFile } from '../../src/config/index.js';

const dir = join(import.meta.dirname, '../../config');
const examples = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

test('the examples are there', () => {
  expect(examples).toEqual(
    expect.arrayContaining([
      'minimal.yaml',
      'file-to-file.yaml',
      'stdin.yaml',
      'seed-shorthand.yaml',
      'aggregator.yaml',
    ]),
  );
});

/** What the examples read from the environment without a default (secrets). */
const ENV = { VES_TOKEN: 'example-token' };

test.each(examples)('config/%s validates', async (name) => {
  // transforms.yaml's enrich reads AWS_REGION: like a ${VAR}, it must be set to validate.
  const config = await loadConfigFile(join(dir, name), { ...ENV, AWS_REGION: 'eu-west-1' });
  expect(Object.keys(config.sources).length).toBeGreaterThan(0);
  expect(Object.keys(config.sinks).length).toBeGreaterThan(0);
});

test('file-to-file.yaml resolves units, fields and rotation', async () => {
  const c = await loadConfigFile(join(dir, 'file-to-file.yaml'), { DEPLOY_ENV: 'staging' });
  expect(c.data_dir).toBe('./data');
  expect(c.batch).toEqual({ max_events: 2000, max_bytes: 2_097_152, timeout: 10, adaptive: true });
  expect(c.sources.web).toMatchObject({
    exclude: ['/var/log/nginx/*error*'],
    fields: { service: 'web', env: 'staging', tier: 1 },
    max_line_bytes: 65_536,
  });
  expect(c.sinks.archive).toMatchObject({
    compression: 'gzip',
    rotate: { max_bytes: 104_857_600, max_files: 10 },
  });
});

test('seed-shorthand.yaml maps onto the long form', async () => {
  const c = await loadConfigFile(join(dir, 'seed-shorthand.yaml'), {});
  expect(c.sources.main).toMatchObject({ type: 'file', include: ['/var/log/app/*.log'] });
  expect(c.batch.max_events).toBe(500);
});

test('aggregator.yaml: an http source with bearer auth, on every interface', async () => {
  const c = await loadConfigFile(join(dir, 'aggregator.yaml'), ENV);
  expect(c.sources.fleet).toMatchObject({
    type: 'http',
    address: '0.0.0.0:8700',
    auth: { strategy: 'bearer', token: 'example-token' },
    tls: null,
    max_body_bytes: 10 * 1024 * 1024,
    parser: 'json',
  });
});
