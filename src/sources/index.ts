// The source registry: a config `type` -> its schema and, loaded lazily, its builder. Commands
// that never start a pipeline (--version, validate) load no source code.

import { union, type Schema } from '../config/schema.js';
import type {
  FileSourceConfig,
  SourceConfig,
  StdinSourceConfig,
  SyslogSourceConfig,
} from '../config/types.js';
import type { Source, SourceContext } from '../pipeline/types.js';
import { schema as file } from './file/config.js';
import { schema as stdin } from './stdin/config.js';
import { schema as syslog } from './syslog/config.js';

/** What src/sources/<type>/source.ts exports. */
export interface SourceModule<C> {
  build(config: C, ctx: SourceContext): Promise<Source>;
}

export interface SourceEntry<C> {
  schema: Schema<C>;
  load: () => Promise<SourceModule<C>>;
}

export const sources: {
  file: SourceEntry<FileSourceConfig>;
  stdin: SourceEntry<StdinSourceConfig>;
  syslog: SourceEntry<SyslogSourceConfig>;
} = {
  file: { schema: file, load: () => import('./file/source.js') },
  stdin: { schema: stdin, load: () => import('./stdin/source.js') },
  syslog: { schema: syslog, load: () => import('./syslog/source.js') },
};

/** Named in DESIGN.md, not built yet: a config using them gets this instead of "unknown". */
const planned: Record<string, string> = {
  http: 'the http source arrives with the aggregator release; use file or stdin meanwhile',
};

export const sourceSchema: Schema<SourceConfig> = union(
  { file: sources.file.schema, stdin: sources.stdin.schema, syslog: sources.syslog.schema },
  { what: 'source', doc: 'A named input; `type` picks which.', planned },
);
