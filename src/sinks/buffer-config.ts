// Config schema of a sink's `buffer` (every sink type has one): where batches wait for the sink,
// in memory or in a durable disk buffer, how much, and what happens when it is full.
// The semantics are in src/pipeline/sink-runner.ts; the disk format in src/engine/disk-buffer/.

import { bytes, object, oneOf, optional, refine, type Schema } from '../config/schema.js';
import type { BufferConfig } from '../config/types.js';

/**
 * Default bound per buffer type. Memory 16 MiB: the pipeline's own in-flight bound (16 default
 * batches keep a sink busy; 64 MiB caught up no faster and peaked at 205 MB RSS instead of 148 MB,
 * bench/e2e/catchup.mjs). Disk 1 GiB: minutes of a busy host's logs, small next to a disk.
 */
export const BUFFER_DEFAULT_MAX_BYTES = { memory: 16 * 1024 * 1024, disk: 1024 * 1024 * 1024 };

/** What a sink gets when its config has no `buffer` (and what code-built configs use). */
export function defaultBufferConfig(): BufferConfig {
  return { type: 'memory', max_bytes: BUFFER_DEFAULT_MAX_BYTES.memory, when_full: 'block' };
}

const shape = object(
  {
    type: oneOf(['memory', 'disk'], {
      default: 'memory',
      doc:
        'memory: a batch is acknowledged once the sink wrote it. disk: once it is fsynced into ' +
        '<data_dir>/buffers/<sink>/, so checkpoints advance while the sink is slow or down; ' +
        'survives restarts and kill -9.',
    }),
    max_bytes: {
      ...optional(
        bytes({
          min: '64KiB', // below that the bound is smaller than one default batch
          doc: 'Bound on batches waiting for this sink (memory: held; disk: unacknowledged on disk).',
        }),
      ),
      defaultText: '16MiB (memory), 1GiB (disk)',
    },
    when_full: oneOf(['block', 'drop_newest'], {
      default: 'block',
      doc:
        'block: stop acknowledging, so the sources pause (file data waits on disk). ' +
        'drop_newest: drop the new batch, counted as dropped events (data loss by choice).',
    }),
  },
  { doc: 'Where batches wait for this sink: {type: memory|disk, max_bytes, when_full}.' },
);

/** The `buffer` key, for every sink schema (stdout, file, http...): `buffer: bufferSchema`. */
export const bufferSchema: Schema<BufferConfig> = {
  ...refine(shape, (b): BufferConfig => ({
    type: b.type,
    max_bytes: b.max_bytes ?? BUFFER_DEFAULT_MAX_BYTES[b.type],
    when_full: b.when_full,
  })),
  fallback: defaultBufferConfig,
};
