// Config schema of the `stdout` sink: batches written to standard output.
// The agent's own log goes to stderr, so stdout carries events only.

import { object, oneOf, type Schema } from '../../config/schema.js';
import type { StdoutSinkConfig } from '../../config/types.js';
import { bufferSchema } from '../buffer-config.js';

export const schema: Schema<StdoutSinkConfig> = object(
  {
    type: oneOf(['stdout'], { doc: 'Writes events to standard output.' }),
    encoding: oneOf(['ndjson', 'raw'], {
      default: 'ndjson',
      doc: 'ndjson: one JSON object per line; raw: the original lines.',
    }),
    buffer: bufferSchema,
  },
  { doc: 'Writes events to standard output.' },
);
