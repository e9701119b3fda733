// Config fields every line source shares (parser, static fields, line length bound), defined
// once so file and stdin sources cannot drift apart in defaults or docs.

import { bytes, fields, oneOf } from '../config/schema.js';
import { parserNames, plannedParsers } from '../parsers/index.js';

export const parser = oneOf(parserNames, {
  default: 'raw',
  planned: plannedParsers,
  doc: 'How a line becomes an event: raw keeps it as `message` (json, logfmt, nginx, apache, syslog and template arrive with the fast-path release).',
});

export const staticFields = fields({
  doc: 'Static fields added to every event, e.g. {service: web}.',
});

export const maxLineBytes = bytes({
  default: '256KiB', // bounds the memory one runaway line (a binary file, a missing \n) can take
  min: 1,
  doc: 'Longer lines are cut here and flagged `truncated`.',
});
