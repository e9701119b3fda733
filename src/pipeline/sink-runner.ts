// Feeds one sink its batches strictly in order, one write at a time, retrying a failed write
// with capped exponential backoff until it succeeds or the pipeline stops. A batch is acked
// (and its lines checkpointed) only after the sink's write resolved.

import type { Logger } from '../observe/logger.js';
import type { Counters } from '../observe/counters.js';
import type { Batch, Sink } from './types.js';

/** First retry after 100 ms, doubling up to 30 s: a sink that is down costs a few log lines a minute. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 30_000;

export class SinkRunner {
  private queue: Batch[] = [];
  private writing = false;
  private abandoned = false;
  private idle: Promise<void> = Promise.resolve();
  private wake: (() => void) | undefined;

  constructor(
    readonly id: string,
    private readonly sink: Sink,
    private readonly log: Logger,
    private readonly counters: Counters,
    private readonly onAck: (seq: number) => void,
    /** A permanent failure (VES_SINK_CLOSED): retrying cannot help, the pipeline must stop. */
    private readonly onFatal: (err: Error) => void,
  ) {}

  async healthcheck(): Promise<void> {
    if (this.sink.healthcheck) await this.sink.healthcheck();
  }

  enqueue(batch: Batch): void {
    this.queue.push(batch);
    if (!this.writing) this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0 && !this.abandoned) {
      const batch = this.queue[0];
      let delay = RETRY_FIRST_MS;
      for (;;) {
        try {
          await this.sink.write(batch);
          break;
        } catch (err) {
          if (this.abandoned) return;
          this.counters.sinkErrors++;
          if ((err as { code?: string }).code === 'VES_SINK_CLOSED') {
            this.writing = false;
            this.onFatal(err as Error);
            return;
          }
          this.log.warn('write failed; retrying', {
            code: (err as { code?: string }).code ?? 'VES_SINK_WRITE',
            error: (err as Error).message,
            retry_in_ms: delay,
          });
          // Full jitter keeps many agents from retrying in step against one receiver.
          await new Promise<void>((r) => {
            this.wake = r;
            setTimeout(r, Math.random() * delay).unref();
          });
          this.wake = undefined;
          if (this.abandoned) return;
          delay = Math.min(delay * 2, RETRY_MAX_MS);
        }
      }
      this.queue.shift();
      this.counters.eventsOut += batch.events;
      this.counters.bytesOut += batch.bytes;
      this.onAck(batch.seq);
    }
    this.writing = false;
  }

  /** Stop retrying (grace period over): unacked batches stay unacked and are re-read later. */
  abandon(): void {
    this.abandoned = true;
    this.queue.length = 0;
    this.wake?.();
  }

  async close(): Promise<void> {
    await this.idle;
    await this.sink.close();
  }
}
