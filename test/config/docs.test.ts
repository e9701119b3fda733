// docs/configuration.md is generated from the schemas; this keeps it current.
// Regenerate with: UPDATE_DOCS=1 npx vitest run test/config/docs.test.ts

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { renderConfigDocs } from '../../src/config/docs.js';

const file = join(import.meta.dirname, '../../docs/configuration.md');

test('docs/configuration.md matches the schemas', () => {
  const rendered = renderConfigDocs();
  if (process.env.UPDATE_DOCS) writeFileSync(file, rendered);
  const stale = 'stale: run UPDATE_DOCS=1 npx vitest run test/config/docs.test.ts';
  expect(readFileSync(file, 'utf8'), stale).toBe(rendered);
});

test('every key of every component is documented with a type and a default', () => {
  const doc = renderConfigDocs();
  for (const key of ['data_dir', 'batch.max_events', 'api.address', 'host', 'watch_path']) {
    expect(doc).toContain(`| \`${key}\` |`);
  }
  for (const section of ['sources.<name>` with `type: file', 'sinks.<name>` with `type: file']) {
    expect(doc).toContain(section);
  }
  expect(doc).toContain('| `rotate.max_bytes` | size (min 1KiB) | **required** |');
  expect(doc).toContain('| `batch.timeout` | duration | `5ms` |');
  expect(doc).toContain('| `host` | string | `os.hostname()` |');
});
