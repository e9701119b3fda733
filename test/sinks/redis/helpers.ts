// Shared by the redis sink tests: configs through the real schema (so defaults apply), and a
// sink built against a test's redis-server.

import { decodeValue } from '../../../src/config/schema.js';
import type { RedisSinkConfig } from '../../../src/config/types.js';
import { silentLogger, type Logger } from '../../../src/observe/logger.js';
import { schema } from '../../../src/sinks/redis/config.js';
import { build, type RedisSink } from '../../../src/sinks/redis/sink.js';

/** A config as a user would write it (plus `type: redis`), decoded with every default. */
export function redisConfig(keys: Record<string, unknown>): RedisSinkConfig {
  return decodeValue(schema, { type: 'redis', ...keys }, 'test.yaml');
}

export async function redisSink(
  keys: Record<string, unknown>,
  log: Logger = silentLogger,
): Promise<RedisSink> {
  return build(redisConfig(keys), { id: 'r', dataDir: '/nonexistent', log });
}
