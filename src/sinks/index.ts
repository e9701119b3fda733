// The sink registry: a config `type` -> its schema and, loaded lazily, its builder. Commands
// that never start a pipeline (--version, validate) load no sink code.

import { union, type Schema } from '../config/schema.js';
import type {
  BlackholeSinkConfig,
  FileSinkConfig,
  HttpSinkConfig,
  RedisSinkConfig,
  SinkConfig,
  StdoutSinkConfig,
} from '../config/types.js';
import type { ComponentContext, Sink } from '../pipeline/types.js';
import { schema as blackhole } from './blackhole/config.js';
import { schema as file } from './file/config.js';
import { schema as http } from './http/config.js';
import { schema as redis } from './redis/config.js';
import { schema as stdout } from './stdout/config.js';

/** What src/sinks/<type>/sink.ts exports. */
export interface SinkModule<C> {
  build(config: C, ctx: ComponentContext): Promise<Sink>;
}

export interface SinkEntry<C> {
  schema: Schema<C>;
  load: () => Promise<SinkModule<C>>;
}

export const sinks: {
  stdout: SinkEntry<StdoutSinkConfig>;
  file: SinkEntry<FileSinkConfig>;
  http: SinkEntry<HttpSinkConfig>;
  redis: SinkEntry<RedisSinkConfig>;
  blackhole: SinkEntry<BlackholeSinkConfig>;
} = {
  stdout: { schema: stdout, load: () => import('./stdout/sink.js') },
  file: { schema: file, load: () => import('./file/sink.js') },
  http: { schema: http, load: () => import('./http/sink.js') },
  // ioredis is bundled into the binary but initialised only here, when a redis sink is built.
  redis: { schema: redis, load: () => import('./redis/sink.js') },
  blackhole: { schema: blackhole, load: () => import('./blackhole/sink.js') },
};

export const sinkSchema: Schema<SinkConfig> = union(
  {
    stdout: sinks.stdout.schema,
    file: sinks.file.schema,
    http: sinks.http.schema,
    redis: sinks.redis.schema,
    blackhole: sinks.blackhole.schema,
  },
  { what: 'sink', doc: 'A named output; `type` picks which.' },
);
