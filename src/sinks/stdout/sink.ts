// The `stdout` sink: writes each batch (NDJSON or the raw lines) to standard output in one write.
// A batch is acked once the stream took its bytes; a closed stdout (EPIPE) fails for good.

import type { Writable } from 'node:stream';
import type { StdoutSinkConfig } from '../../config/types.js';
import { VesError } from '../../errors.js';
import type { Batch, ComponentContext, Sink } from '../../pipeline/types.js';

/**
 * Build the sink. `stream` is process.stdout unless a test (or an embedding program) passes
 * another writable.
 */
export async function build(
  config: StdoutSinkConfig,
  ctx: ComponentContext,
  stream: Writable = process.stdout,
): Promise<Sink> {
  return new StdoutSink(config, ctx, stream);
}

class StdoutSink implements Sink {
  readonly wants: { ndjson: boolean; raw: boolean };
  private readonly ndjson: boolean;
  /** The first error the stream reported (EPIPE...): every later write fails with it. */
  private failed: Error | null = null;
  private readonly onError = (err: Error): void => {
    // Without a listener an 'error' on stdout (EPIPE when the reader exits) kills the process.
    if (this.failed === null) {
      this.failed = err;
      this.ctx.log.warn('stdout failed; events are no longer written there', {
        code: 'VES_SINK_WRITE',
        error: describe(err),
      });
    }
  };

  constructor(
    config: StdoutSinkConfig,
    private readonly ctx: ComponentContext,
    private readonly stream: Writable,
  ) {
    this.ndjson = config.encoding !== 'raw';
    this.wants = { ndjson: this.ndjson, raw: !this.ndjson };
    stream.on('error', this.onError);
  }

  async healthcheck(): Promise<void> {
    if (!this.stream.writable) {
      throw new VesError(
        'VES_SINK_HEALTHCHECK',
        `sink ${this.ctx.id}: stdout is not writable (closed?); run the agent with an open stdout or use a file sink`,
      );
    }
  }

  write(batch: Batch): Promise<void> {
    const buf = this.ndjson ? batch.ndjson : batch.raw;
    if (buf === null || buf.length === 0) return Promise.resolve();
    if (this.failed !== null) return Promise.reject(this.error(this.failed));
    const stream = this.stream;
    // Once per batch: the closures below are per batch, not per line.
    return new Promise<void>((resolve, reject) => {
      let waits = 2; // the write callback, and 'drain' when write() said the buffer is full
      const done = (): void => {
        if (--waits === 0) {
          stream.off('close', onClose);
          resolve();
        }
      };
      const fail = (err: Error): void => {
        if (waits <= 0) return;
        waits = -1;
        stream.off('drain', done);
        stream.off('close', onClose);
        this.onError(err);
        reject(this.error(err));
      };
      const onClose = (): void => fail(this.failed ?? closedError());
      stream.once('close', onClose);
      let ok: boolean;
      try {
        ok = stream.write(buf, (err) => (err ? fail(err) : done()));
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (ok) done();
      else stream.once('drain', done);
    });
  }

  async close(): Promise<void> {
    // stdout belongs to the process: it is not ended here, only our listener goes.
    this.stream.off('error', this.onError);
  }

  private error(err: Error): VesError {
    // The stream only fails for good (EPIPE, closed): retrying cannot help, so say so.
    return new VesError(
      'VES_SINK_CLOSED',
      `sink ${this.ctx.id}: cannot write to stdout: ${describe(err)}`,
      undefined,
      { cause: err },
    );
  }
}

function closedError(): Error {
  return Object.assign(new Error('stdout was closed'), { code: 'ERR_STREAM_DESTROYED' });
}

function describe(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EPIPE') {
    return 'EPIPE: the reading end of the pipe is closed (e.g. piped into `head` that exited)';
  }
  if (code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END') {
    return 'stdout is closed';
  }
  return err.message;
}
