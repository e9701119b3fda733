// Config schema of the `stdin` source: lines from standard input, ending the run at EOF.
// No checkpoints: a pipe cannot be re-read.

import { object, oneOf, refine, type Schema } from '../../config/schema.js';
import type { StdinSourceConfig } from '../../config/types.js';
import {
  checkParser,
  keepMessage,
  maxLineBytes,
  multiline,
  parser,
  staticFields,
  templates,
} from '../shared-config.js';

export const schema: Schema<StdinSourceConfig> = refine(
  object(
    {
      type: oneOf(['stdin'], { doc: 'Reads lines from standard input until it closes.' }),
      parser,
      templates,
      keep_message: keepMessage,
      fields: staticFields,
      max_line_bytes: maxLineBytes,
      multiline,
    },
    { doc: 'Reads lines from standard input; the agent stops when it closes.' },
  ),
  checkParser,
);
