// Config schema of the `file` sink: batches appended to a local file, optionally gzip-compressed,
// fsynced and rotated by size.

import {
  bool,
  bytes,
  int,
  nullable,
  object,
  oneOf,
  string,
  type Schema,
} from '../../config/schema.js';
import type { FileSinkConfig } from '../../config/types.js';
import { bufferSchema } from '../buffer-config.js';

export const schema: Schema<FileSinkConfig> = object(
  {
    type: oneOf(['file'], { doc: 'Appends events to a file.' }),
    path: string({ doc: 'Output file; relative paths are relative to the working directory.' }),
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
    buffer: bufferSchema,
  },
  { doc: 'Appends events to a local file.' },
);
