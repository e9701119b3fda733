// The source registry: a config `type` -> its schema and, loaded lazily, its builder. Commands
// that never start a pipeline (--version, validate) load no source code.

import { union, type Schema } from '../config/schema.js';
import type {
  FileSourceConfig,
  HttpSourceConfig,
  SourceConfig,
  StdinSourceConfig,
} from '../config/types.js';
import type { Source, SourceContext } from '../pipeline/types.js';
import { schema as file } from './file/config.js';
import { schema as http } from './http/config.js';
import { schema as stdin } from './stdin/config.js';

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
  http: SourceEntry<HttpSourceConfig>;
} = {
  file: { schema: file, load: () => import('./file/source.js') },
  stdin: { schema: stdin, load: () => import('./stdin/source.js') },
  http: { schema: http, load: () => import('./http/source.js') },
};

/** Named in DESIGN.md, not built yet: a config using them gets this instead of "unknown". */
const planned: Record<string, string> = {
  syslog: 'the syslog source arrives in a later release; tail the syslog files with type: file',
};

export const sourceSchema: Schema<SourceConfig> = union(
  { file: sources.file.schema, stdin: sources.stdin.schema, http: sources.http.schema },
  { what: 'source', doc: 'A named input; `type` picks which.', planned },
);
