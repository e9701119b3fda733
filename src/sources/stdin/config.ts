// Config schema of the `stdin` source: lines from standard input, ending the run at EOF.
// No checkpoints: a pipe cannot be re-read.

import { object, oneOf, type Schema } from '../../config/schema.js';
import type { StdinSourceConfig } from '../../config/types.js';
import { maxLineBytes, parser, staticFields } from '../shared-config.js';

export const schema: Schema<StdinSourceConfig> = object(
  {
    type: oneOf(['stdin'], { doc: 'Reads lines from standard input until it closes.' }),
    parser,
    fields: staticFields,
    max_line_bytes: maxLineBytes,
  },
  { doc: 'Reads lines from standard input; the agent stops when it closes.' },
);
