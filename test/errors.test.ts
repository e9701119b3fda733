// Every error code is documented: docs/errors.md has one row per code of src/errors.ts, and no
// row for a code that does not exist (as fastify's errors.test.js does for FST_ERR_*).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ConfigError, ERROR_CODES, VesError } from '../src/errors.js';

const doc = readFileSync(join(import.meta.dirname, '../docs/errors.md'), 'utf8');
const rows = [...doc.matchAll(/^\| `(VES_[A-Z_]+)` \|/gm)].map((m) => m[1]);

test.each(Object.keys(ERROR_CODES))('%s has a row in docs/errors.md', (code) => {
  expect(rows).toContain(code);
});

test('docs/errors.md lists no unknown code, and none twice', () => {
  expect(rows.filter((c) => !(c in ERROR_CODES))).toEqual([]);
  expect(new Set(rows).size).toBe(rows.length);
});

test('a ConfigError names where, what, and exits 2', () => {
  const err = new ConfigError('VES_CONFIG_TYPE', 'batch.timeout', 'expected a duration', {
    file: 'a.yaml',
    line: 3,
    col: 12,
  });
  expect(err).toBeInstanceOf(VesError);
  expect(err.message).toBe('a.yaml:3:12: batch.timeout: expected a duration');
  expect(err.exitCode).toBe(2);
});
