// The `stdin` source: splits standard input into chunks of whole lines (engine/lines) for the
// pipeline. No checkpoints: what was read is delivered, the held partial line too at the end.

import { performance } from 'node:perf_hooks';
import type { StdinSourceConfig } from '../../config/types.js';
import { LineSplitter } from '../../engine/lines.js';
import type { Source, SourceContext } from '../../pipeline/types.js';

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
  const emit = ctx.emit;
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
    // A last line without a newline is still a line.
    splitter.flushPartial();
    ctx.done();
  };
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
      // Nothing can re-read a stream: deliver the held partial line now.
      splitter.flushPartial();
    },
  };
}
