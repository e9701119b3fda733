// Config schema of the `blackhole` sink: acknowledges every batch at once and keeps nothing.
// For benchmarks (`bench --sink null`) and for trying a source or parser without an output.

import { object, oneOf, type Schema } from '../../config/schema.js';
import type { BlackholeSinkConfig } from '../../config/types.js';
import { bufferSchema } from '../buffer-config.js';

export const schema: Schema<BlackholeSinkConfig> = object(
  {
    type: oneOf(['blackhole'], { doc: 'Discards events (acknowledges every batch at once).' }),
    encoding: oneOf(['ndjson', 'raw'], {
      default: 'ndjson',
      doc: 'The encoding the pipeline builds for it (ndjson costs the encoder, as a real sink would).',
    }),
    buffer: bufferSchema,
  },
  { doc: 'Discards events: measures the pipeline without an output.' },
);
