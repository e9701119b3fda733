// The `stdin` source: splits standard input into chunks of whole lines (engine/lines) for the
// pipeline. No checkpoints: what was read is delivered, the held partial line too at the end.

import { performance } from 'node:perf_hooks';
import type { StdinSourceConfig } from '../../config/types.js';
import { LineSplitter } from '../../engine/lines.js';
import type { LineChunk, Source, SourceContext } from '../../pipeline/types.js';
import { MultilineAggregator } from '../multiline.js';

/** 10 ms: the multiline timeout check never runs more often than this. */
const MIN_MULTILINE_TICK_MS = 10;

export interface StdinSourceOptions {
  /** Where to read from; process.stdin by default (tests pass a PassThrough). */
  input?: NodeJS.ReadableStream;
}

export async function build(
  config: StdinSourceConfig,
  ctx: SourceContext,
  opts: StdinSourceOptions = {},
): Promise<Source> {
  const input = opts.input ?? process.stdin;
  const sourceId = ctx.id;
  // With multiline, chunks pass through the aggregator, which holds the last event until the
  // next start line, the timeout or the end of the stream.
  const ml = config.multiline ? new MultilineAggregator(config.multiline, ctx.emit) : null;
  const emit = ml === null ? ctx.emit : (chunk: LineChunk) => ml.push(chunk);
  let mlTimer: NodeJS.Timeout | null = null;
  const splitter = new LineSplitter(config.max_line_bytes, (buf, lines, truncated) => {
    emit({ sourceId, path: '-', buf, lines, truncated, mark: null, readAt: performance.now() });
  });
  let ended = false;
  let stopped = false;
  let started = false;

  const onData = (chunk: Buffer | string): void => {
    splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  };
  const detach = (): void => {
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('error', onError);
  };
  const finish = (): void => {
    if (ended) return;
    ended = true;
    detach();
    // A last line without a newline is still a line; a held event has nothing left to wait for.
    splitter.flushPartial();
    stopMultiline();
    ctx.done();
  };
  function stopMultiline(): void {
    if (mlTimer !== null) clearInterval(mlTimer);
    mlTimer = null;
    ml?.flushAll();
  }
  function onEnd(): void {
    finish();
  }
  function onError(err: Error): void {
    ctx.log.error('cannot read standard input; treating it as ended', {
      code: 'VES_SOURCE_READ',
      error: err.message,
    });
    finish();
  }

  return {
    async start() {
      if (started || stopped) return;
      started = true;
      if (ml !== null && config.multiline) {
        const every = Math.max(MIN_MULTILINE_TICK_MS, config.multiline.timeout / 2);
        mlTimer = setInterval(() => ml.flushIdle(performance.now()), every);
        mlTimer.unref();
      }
      input.on('data', onData);
      input.on('end', onEnd);
      input.on('error', onError);
      input.resume();
    },
    pause() {
      if (!ended && !stopped) input.pause();
    },
    resume() {
      if (started && !ended && !stopped) input.resume();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (ended) return;
      detach();
      // A paused stdin no longer holds the event loop open, so the process can exit.
      input.pause();
      // Nothing can re-read a stream: deliver the held partial line (and event) now.
      splitter.flushPartial();
      stopMultiline();
    },
  };
}
