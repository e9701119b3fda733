// Config schema of the `file` sink: batches appended to a local file, optionally gzip-compressed,
// fsynced and rotated by size.

import {
  bool,
  bytes,
  int,
  nullable,
  object,
  oneOf,
  refine,
  string,
  type At,
  type Schema,
} from '../../config/schema.js';
import type { FileSinkConfig } from '../../config/types.js';
import { bufferSchema } from '../buffer-config.js';
import { compilePathTemplate } from './path-template.js';

/** 64 open outputs: a host's services or hosts per aggregator, well within a 1024 fd limit. */
export const MAX_OPEN_FILES_DEFAULT = 64;

function checkPath(path: string): string | undefined {
  try {
    compilePathTemplate(path);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** A `{field}` path needs the fields, which only the NDJSON encoding carries. */
function checkTemplate(c: FileSinkConfig, at: At): FileSinkConfig {
  if (c.encoding === 'raw' && compilePathTemplate(c.path) !== null) {
    at.child('path').fail(
      'VES_CONFIG_INVALID',
      'a path with {field} needs `encoding: ndjson` (raw lines carry no fields)',
    );
  }
  return c;
}

export const schema: Schema<FileSinkConfig> = refine(
  object(
    {
      type: oneOf(['file'], { doc: 'Appends events to a file.' }),
      path: string({
        check: checkPath,
        doc:
          'Output file; relative paths are relative to the working directory. `{field}` parts take ' +
          'the value of an event field (e.g. `/var/log/out/{service}/{host}.ndjson`; dots walk ' +
          'into objects: `{kubernetes.pod}`): `/`, `\\`, `..`, NUL and control characters in a ' +
          'value become `_`, as does an empty or missing value, so no event can write outside the ' +
          'directory before the first `{`.',
      }),
      encoding: oneOf(['ndjson', 'raw'], {
        default: 'ndjson',
        doc: 'ndjson: one JSON object per line; raw: the original lines.',
      }),
      compression: oneOf(['none', 'gzip'], {
        default: 'none',
        planned: { zstd: 'zstd arrives with the shipping release; use gzip or none meanwhile' },
        doc: 'Compress the output (gzip members, one per batch, readable with zcat).',
      }),
      fsync: bool({
        default: false,
        doc: 'fsync after every batch before acknowledging it (slower, survives power loss).',
      }),
      rotate: nullable(
        object(
          {
            max_bytes: bytes({
              min: '1KiB', // smaller would rotate on nearly every batch
              doc: 'Rotate when the file reaches this size.',
            }),
            max_files: int({ default: 5, min: 1, doc: 'How many rotated files to keep.' }),
          },
          { doc: 'Rotate the output by size: null (never) or {max_bytes, max_files}.' },
        ),
      ),
      max_open_files: int({
        default: MAX_OPEN_FILES_DEFAULT,
        min: 1,
        max: 65536,
        doc: 'With a `{field}` path: output files kept open at once; the least recently written is closed first.',
      }),
      buffer: bufferSchema,
    },
    { doc: 'Appends events to a local file.' },
  ),
  checkTemplate,
);
