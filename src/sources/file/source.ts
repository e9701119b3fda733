// The `file` source: tails the files its globs name (engine/tailer) and hands each chunk of whole
// lines to the pipeline with the checkpoint mark that covers it.
// The tailer only reads checkpoints to find where to start; the acker writes them once delivered.

import { performance } from 'node:perf_hooks';
import type { FileSourceConfig } from '../../config/types.js';
import { ConfigError } from '../../errors.js';
import { Tailer } from '../../engine/tailer/index.js';
import type { LineChunk, Source, SourceContext } from '../../pipeline/types.js';
import { MultilineAggregator } from '../multiline.js';

/** 10 ms: the multiline timeout check never runs more often than this. */
const MIN_MULTILINE_TICK_MS = 10;

export async function build(config: FileSourceConfig, ctx: SourceContext): Promise<Source> {
  if (config.include.length === 0) {
    throw new ConfigError(
      'VES_CONFIG_INVALID',
      `sources.${ctx.id}.include`,
      'names no files: add at least one glob, e.g. /var/log/app/*.log',
    );
  }
  const sourceId = ctx.id;
  const store = ctx.checkpoints;
  // With multiline, chunks pass through the per-file aggregator, which holds each file's last
  // event (and its mark) until the next start line or the timeout.
  const ml = config.multiline ? new MultilineAggregator(config.multiline, ctx.emit) : null;
  const emit = ml === null ? ctx.emit : (chunk: LineChunk) => ml.push(chunk);
  let mlTimer: NodeJS.Timeout | null = null;
  const tailer = new Tailer({
    include: config.include,
    exclude: config.exclude,
    cwd: process.cwd(),
    readFrom: config.read_from,
    fingerprint: config.fingerprint,
    maxLineBytes: config.max_line_bytes,
    readChunkBytes: config.read_chunk_bytes,
    partialLineTimeoutMs: config.partial_line_timeout,
    pollIntervalMs: config.poll_interval,
    idleTimeoutMs: config.idle_timeout,
    log: ctx.log,
    positions: {
      get: (key) => store.get(sourceId, key),
      findByInode: (dev, ino) => store.findByInode(sourceId, dev, ino),
      rekey: (oldKey, newKey) => store.rekey(sourceId, oldKey, newKey),
    },
    // Once per chunk (hundreds of lines), not per line: two small objects are fine here.
    onLines: (path, key, buf, lines, truncated, offset, dev, ino) => {
      emit({
        sourceId,
        path,
        buf,
        lines,
        truncated,
        mark: { sourceId, key, offset, path, dev, ino },
        readAt: performance.now(),
      });
    },
  });
  return {
    start: async () => {
      if (ml !== null && config.multiline) {
        // Half the timeout: a held event leaves at most 1.5 x timeout after its last line.
        const every = Math.max(MIN_MULTILINE_TICK_MS, config.multiline.timeout / 2);
        mlTimer = setInterval(() => ml.flushIdle(performance.now()), every);
        mlTimer.unref();
      }
      await tailer.start();
    },
    pause: () => tailer.pause(),
    resume: () => tailer.resume(),
    // Partial lines are not flushed at stop: the checkpoint is before them, so they are read
    // whole once their writer finishes them (flushing would split them in two). Held multiline
    // events neither: their marks were held back, so they are read again whole.
    stop: () => {
      if (mlTimer !== null) clearInterval(mlTimer);
      return tailer.stop();
    },
  };
}
