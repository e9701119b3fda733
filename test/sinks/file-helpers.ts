// Shared by the file sink tests: the sink context and a config with the defaults filled in.

import type { FileSinkConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/observe/logger.js';

export const ctx = { id: 'out', dataDir: '/nonexistent', log: silentLogger };

/** A file sink config writing `path` (ndjson, no compression, no fsync, no rotation). */
export function cfg(path: string, extra: Partial<FileSinkConfig> = {}): FileSinkConfig {
  return {
    type: 'file',
    path,
    encoding: 'ndjson',
    compression: 'none',
    fsync: false,
    rotate: null,
    ...extra,
  };
}
