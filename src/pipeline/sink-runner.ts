// Feeds one sink its batches through the sink's buffer (`sinks.<id>.buffer`), retrying failed
// writes with capped, fully jittered exponential backoff. A batch refused for good goes to the
// dead-letter file and is then acked; VES_SINK_CLOSED stops the agent (retrying cannot help).
//
// memory (default): a batch is acked once the sink's write resolved. The runner holds at most
//   max_bytes of batches: past that, `full` tells the pipeline to pause its sources (block), or
//   the new batch is dropped, counted and acked (drop_newest).
// disk: a batch is acked once it is fsynced into <data_dir>/buffers/<id>/ (src/engine/
//   disk-buffer), so checkpoints advance however slow the sink is; a drain loop reads the records
//   back in order and writes them to the sink, advancing the buffer's cursor only when the write
//   resolved. After a crash the records not yet acknowledged by the sink are sent again. A full
//   buffer stops acking (block: the pipeline's in-flight bound pauses the sources) or drops.
//
// Up to `concurrency` writes are in flight (the sink says how many it takes; 1 keeps delivery
// strictly in order). The acker copes with acks out of order; the disk cursor only moves over
// the prefix of records that are all done:
//
//   window (disk):  [ r7 done | r8 writing | r9 done | r10 writing ]   concurrency 4
//                     ^ acked in the buffer at once; r9 waits for r8 (the cursor is one offset)

import { join } from 'node:path';
import type { BufferConfig } from '../config/types.js';
import {
  DiskBuffer,
  diskBufferFileBytes,
  type BufferRecord,
  type DiskBufferOptions,
} from '../engine/disk-buffer/index.js';
import type { Logger } from '../observe/logger.js';
import type { Counters } from '../observe/counters.js';
import { decodeBatchRecord, encodeBatchRecord, recordBodyBytes } from './buffer-record.js';
import { DeadLetterFile } from './dead-letter.js';
import type { Batch, Sink } from './types.js';

/** First retry after ~100 ms, doubling up to 30 s: a sink that is down costs a few log lines a
 *  minute, and is tried again within 30 s of coming back. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 30_000;
/** A destination's Retry-After is honoured up to 5 min: longer is more likely a bad header than
 *  a plan, and the agent must keep trying within a bounded time. */
const RETRY_AFTER_MAX_MS = 5 * 60_000;
/** At close, writes in flight get 1 s to finish before the sink is closed under them: enough
 *  for a request already on the wire to be answered, short next to the 30 s that systemd and
 *  Kubernetes give before SIGKILL (the grace period itself was spent before). */
const CLOSE_WAIT_MS = 1000;
/** Drops and dead letters can come per batch: one warning per 10 s, with the count since. */
const LOSS_LOG_EVERY_MS = 10_000;

export interface SinkRunnerOptions {
  id: string;
  sink: Sink;
  log: Logger;
  counters: Counters;
  dataDir: string;
  buffer: BufferConfig;
  /** Writes in flight at once (the sink's own `concurrency`); default 1: one after another. */
  concurrency?: number;
  /** A batch is delivered (memory), or safely in the disk buffer (disk): the acker's ack. */
  onAck: (seq: number) => void;
  /** A permanent failure (VES_SINK_CLOSED, a failed disk buffer): the pipeline must stop. */
  onFatal: (err: Error) => void;
  /** How often the disk buffer's cursor is persisted (the pipeline's checkpoint_interval). ms. */
  cursorIntervalMs?: number;
  /** Tests shorten the backoff and the disk buffer's segment and fsync bounds. */
  tuning?: {
    retryFirstMs?: number;
    retryMaxMs?: number;
    disk?: Partial<Pick<DiskBufferOptions, 'segmentBytes' | 'fsyncIntervalMs' | 'fsyncBytes'>>;
  };
}

/** What a failed write may carry (VesError, SinkRejectedError, or any Error). */
interface WriteFailure {
  code?: string;
  message?: string;
  /** True (or code VES_SINK_REJECTED): refused for good, dead-letter it. */
  permanent?: boolean;
  /** HTTP status of a refusal. */
  status?: number;
  /** Only these events were refused (the rest were delivered), and how many. */
  rejected?: Buffer;
  events?: number;
  /** The destination asked to wait this long before trying again. ms. */
  retryAfterMs?: number;
}

/** Refused for good: sending the same batch again cannot succeed. */
export function isPermanent(err: unknown): boolean {
  const e = err as WriteFailure | null;
  return (
    typeof e === 'object' && e !== null && (e.permanent === true || e.code === 'VES_SINK_REJECTED')
  );
}

export class SinkRunner {
  readonly id: string;
  private readonly sink: Sink;
  private readonly log: Logger;
  private readonly counters: Counters;
  private readonly onAck: (seq: number) => void;
  private readonly onFatal: (err: Error) => void;
  private readonly concurrency: number;
  private readonly maxBytes: number;
  /** Memory buffer with when_full: block: the only kind that asks the pipeline to pause. */
  private readonly memBlock: boolean;
  private readonly memDrop: boolean;
  private readonly retryFirstMs: number;
  private readonly retryMaxMs: number;
  private readonly deadLetters: DeadLetterFile;
  private buffer: DiskBuffer | null = null;
  private drainLoop: Promise<void> = Promise.resolve();
  private draining = false;

  /** Memory: batches waiting for a write slot, oldest first. */
  private queue = new Fifo<Batch>();
  /** Bytes of batches received and not acked yet (memory: held; disk: being appended). */
  private held = 0;
  /** Writes in flight, and each one's promise (close() waits for them). */
  private active = 0;
  private readonly writes = new Set<Promise<unknown>>();
  /** No more writes: abandoned (grace period over) or failed for good. */
  private stopped = false;
  private readonly sleepers = new Set<() => void>();
  private slotWake: (() => void) | undefined;
  private idleWaiters: (() => void)[] = [];
  private replaySeq = 0;
  private losses = { drops: 0, dropsAt: -Infinity, dead: 0, deadAt: -Infinity };

  private constructor(o: SinkRunnerOptions) {
    this.id = o.id;
    this.sink = o.sink;
    this.log = o.log;
    this.counters = o.counters;
    this.onAck = o.onAck;
    this.onFatal = o.onFatal;
    this.concurrency = Math.max(1, Math.floor(o.concurrency ?? 1));
    this.maxBytes = o.buffer.max_bytes;
    this.memBlock = o.buffer.type === 'memory' && o.buffer.when_full === 'block';
    this.memDrop = o.buffer.type === 'memory' && o.buffer.when_full === 'drop_newest';
    this.retryFirstMs = o.tuning?.retryFirstMs ?? RETRY_FIRST_MS;
    this.retryMaxMs = o.tuning?.retryMaxMs ?? RETRY_MAX_MS;
    this.deadLetters = new DeadLetterFile(o.dataDir, o.id);
  }

  /** Builds the runner; with a disk buffer, opens (recovers) it: start() drains what it kept. */
  static async open(o: SinkRunnerOptions): Promise<SinkRunner> {
    const r = new SinkRunner(o);
    const dir = join(o.dataDir, 'buffers', o.id);
    if (o.buffer.type === 'disk') {
      r.buffer = await DiskBuffer.open({
        dir,
        maxBytes: o.buffer.max_bytes,
        whenFull: o.buffer.when_full,
        log: o.log,
        cursorIntervalMs: o.cursorIntervalMs,
        ...o.tuning?.disk,
      });
    } else {
      const left = await diskBufferFileBytes(dir);
      if (left > 0) {
        o.log.warn(
          'a disk buffer from an earlier run holds records, but buffer.type is memory: they are not sent; set buffer.type: disk to send them',
          { code: 'VES_CONFIG_INVALID', dir, bytes: left },
        );
      }
    }
    return r;
  }

  async healthcheck(): Promise<void> {
    if (this.sink.healthcheck) await this.sink.healthcheck();
  }

  /** Starts feeding the sink what a disk buffer kept from an earlier run (after the health
   *  check, so a sink that is not ready is not written to first). enqueue() starts it too. */
  start(): void {
    if (this.buffer === null || this.draining || this.stopped) return;
    this.draining = true;
    this.drainLoop = this.drainDisk();
  }

  /** Memory buffer at max_bytes (block): the pipeline pauses its sources. */
  get full(): boolean {
    return this.memBlock && this.held >= this.maxBytes;
  }

  /** Down to half of max_bytes: sources may resume (hysteresis, so they do not flap). */
  get relieved(): boolean {
    return !this.memBlock || this.held <= this.maxBytes / 2;
  }

  /** What waits for this sink: in memory (bytes held) and, with a disk buffer, on disk. */
  get buffered(): {
    type: 'memory' | 'disk';
    memoryBytes: number;
    diskBytes: number;
    diskRecords: number;
  } {
    const b = this.buffer;
    return {
      type: b === null ? 'memory' : 'disk',
      memoryBytes: this.held,
      diskBytes: b?.bytes ?? 0,
      diskRecords: b?.records ?? 0,
    };
  }

  /** Hand over a sealed batch; the runner acks it through onAck when its buffer says so. */
  enqueue(batch: Batch): void {
    if (this.stopped) return; // stays unacked: its lines are read again at the next start
    if (this.memDrop && this.held > 0 && this.held + batch.bytes > this.maxBytes) {
      this.countDrop(batch);
      this.onAck(batch.seq);
      return;
    }
    this.held += batch.bytes;
    if (this.buffer !== null) {
      if (!this.draining) this.start();
      this.toDisk(this.buffer, batch);
    } else {
      this.queue.push(batch);
      this.pump();
    }
  }

  /**
   * Resolves once nothing waits for the sink (memory: every batch written; disk: the buffer
   * empty too), or once the runner stopped. Graceful stop waits for it, up to its deadline.
   */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stop writing (grace period over): unacked batches stay unacked and are re-read later;
   *  a disk buffer keeps its records for the next start. */
  abandon(): void {
    this.stop();
  }

  /**
   * Stops, lets writes in flight finish (up to CLOSE_WAIT_MS), closes the sink (which cuts short
   * a write that retries inside itself, like the http sink's), then closes the disk buffer, so
   * the acks of the writes that did finish are in the cursor it persists.
   */
  async close(): Promise<void> {
    this.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.writes]),
      new Promise<void>((r) => (timer = setTimeout(r, CLOSE_WAIT_MS))),
    ]);
    clearTimeout(timer);
    await this.sink.close();
    while (this.writes.size > 0) await Promise.allSettled([...this.writes]);
    await this.buffer?.close();
    await this.drainLoop;
  }

  // ---- memory ----------------------------------------------------------------------------

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.shift() as Batch;
      this.track(
        this.deliver(batch).then((ok) => {
          if (!ok) return;
          this.held -= batch.bytes;
          this.onAck(batch.seq);
        }),
        () => this.pump(),
      );
    }
  }

  // ---- disk ------------------------------------------------------------------------------

  private toDisk(buffer: DiskBuffer, batch: Batch): void {
    if (recordBodyBytes(batch, this.sink.wants) === 0) {
      // Nothing for this sink (a batch of marks only): done as soon as it came.
      this.held -= batch.bytes;
      this.onAck(batch.seq);
      return;
    }
    buffer.append(encodeBatchRecord(batch, this.sink.wants)).then(
      (stored) => {
        this.held -= batch.bytes;
        if (!stored) this.countDrop(batch);
        this.onAck(batch.seq);
        this.checkIdle();
      },
      (err: Error) => {
        if (!this.stopped) this.fatal(err);
      },
    );
  }

  /** Reads records in order and keeps up to `concurrency` of them at the sink. */
  private async drainDisk(): Promise<void> {
    const buffer = this.buffer as DiskBuffer;
    const window: { rec: BufferRecord; done: boolean }[] = [];
    for (;;) {
      while (this.active >= this.concurrency && !this.stopped) {
        await new Promise<void>((r) => (this.slotWake = r));
      }
      if (this.stopped) return;
      let rec: BufferRecord | null;
      try {
        rec = await buffer.read();
      } catch (err) {
        if (!this.stopped) this.fatal(err as Error);
        return;
      }
      if (rec === null || this.stopped) return;
      const slot = { rec, done: false };
      window.push(slot);
      this.track(
        this.deliverRecord(rec).then((ok) => {
          if (!ok) return;
          slot.done = true;
          while (window.length > 0 && window[0].done)
            buffer.ack((window.shift() as typeof slot).rec);
        }),
        () => {
          const w = this.slotWake;
          this.slotWake = undefined;
          w?.();
        },
      );
    }
  }

  private async deliverRecord(rec: BufferRecord): Promise<boolean> {
    let batch: Batch;
    try {
      batch = decodeBatchRecord(rec.payload, ++this.replaySeq);
    } catch (err) {
      return this.deadLetter(rec.payload, 0, {
        code: 'VES_BUFFER_CORRUPT',
        message: `unreadable disk buffer record: ${(err as Error).message}`,
      });
    }
    const w = this.sink.wants;
    if ((w.ndjson && batch.ndjson === null) || (w.raw && batch.raw === null)) {
      // Buffered by a run whose sink had the other encoding: sending it would write nothing.
      return this.deadLetter((batch.ndjson ?? batch.raw) as Buffer, batch.events, {
        code: 'VES_CONFIG_INVALID',
        message: `buffered as ${batch.ndjson ? 'ndjson' : 'raw'} by an earlier run, but the sink's encoding changed since`,
      });
    }
    return this.deliver(batch);
  }

  // ---- delivery --------------------------------------------------------------------------

  /**
   * Writes one batch until it is delivered (true) or dead-lettered (true), or the runner
   * stopped (false: not acked, sent again at the next start).
   */
  private async deliver(batch: Batch): Promise<boolean> {
    let delay = this.retryFirstMs;
    for (;;) {
      if (this.stopped) return false;
      try {
        await this.sink.write(batch);
        this.counters.eventsOut += batch.events;
        this.counters.bytesOut += batch.bytes;
        return true;
      } catch (err) {
        if (this.stopped) return false;
        this.counters.sinkErrors++;
        const e = (err ?? {}) as WriteFailure;
        if (e.code === 'VES_SINK_CLOSED') {
          this.fatal(err as Error);
          return false;
        }
        if (isPermanent(e)) {
          const body = Buffer.isBuffer(e.rejected) ? e.rejected : this.bodyOf(batch);
          const events = typeof e.events === 'number' ? e.events : batch.events;
          // Per-item refusals: the other events of the batch were delivered.
          this.counters.eventsOut += batch.events - events;
          return this.deadLetter(body, events, e);
        }
        // Full jitter (a uniform wait in [0, delay)) keeps many agents from retrying in step
        // against one receiver; Retry-After, when given, is what the receiver asked for.
        const ra = e.retryAfterMs;
        const wait =
          typeof ra === 'number' && ra > 0
            ? Math.min(ra, RETRY_AFTER_MAX_MS)
            : Math.random() * delay;
        this.log.warn('write failed; retrying', {
          code: e.code ?? 'VES_SINK_WRITE',
          error: e.message ?? String(err),
          retry_in_ms: Math.round(wait),
        });
        await this.sleep(wait);
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
  }

  /** Appends a refused batch to the dead-letter file (retrying that until it works). */
  private async deadLetter(body: Buffer, events: number, e: WriteFailure): Promise<boolean> {
    let delay = this.retryFirstMs;
    for (;;) {
      try {
        await this.deadLetters.write({
          code: e.code ?? 'VES_SINK_REJECTED',
          reason: e.message ?? 'refused',
          status: typeof e.status === 'number' ? e.status : undefined,
          events,
          body,
        });
        break;
      } catch (err) {
        if (this.stopped) return false;
        this.log.error('cannot write the dead-letter file; retrying', {
          code: 'VES_DEAD_LETTER',
          error: (err as Error).message,
        });
        await this.sleep(Math.random() * delay);
        if (this.stopped) return false;
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
    const c = this.counters;
    c.deadLetteredBatches++;
    c.deadLetteredEvents += events;
    c.dropped += events;
    const l = this.losses;
    l.dead++;
    const now = Date.now();
    if (now - l.deadAt >= LOSS_LOG_EVERY_MS) {
      this.log.warn('the destination refused a batch for good: it went to the dead-letter file', {
        code: e.code ?? 'VES_SINK_REJECTED',
        reason: e.message,
        file: this.deadLetters.path,
        batches: l.dead,
      });
      l.dead = 0;
      l.deadAt = now;
    }
    return true;
  }

  private countDrop(batch: Batch): void {
    const c = this.counters;
    c.droppedBatches++;
    c.droppedEvents += batch.events;
    c.dropped += batch.events;
    const l = this.losses;
    l.drops++;
    const now = Date.now();
    if (now - l.dropsAt >= LOSS_LOG_EVERY_MS) {
      this.log.warn('buffer full: dropping new batches (when_full: drop_newest)', {
        code: 'VES_BUFFER_FULL',
        batches: l.drops,
        max_bytes: this.maxBytes,
      });
      l.drops = 0;
      l.dropsAt = now;
    }
  }

  private bodyOf(batch: Batch): Buffer {
    const b = this.sink.wants.ndjson ? batch.ndjson : batch.raw;
    return b ?? Buffer.alloc(0);
  }

  // ---- bookkeeping -----------------------------------------------------------------------

  /** Counts a write in flight until `p` settles, then runs `after`. */
  private track(p: Promise<void>, after: () => void): void {
    this.active++;
    const t: Promise<void> = p.then(
      () => undefined,
      (err: unknown) => {
        // deliver() does not throw; a throw here is a bug, and must not pass silently.
        this.fatal(err instanceof Error ? err : new Error(String(err)));
      },
    );
    const done = t.then(() => {
      this.active--;
      this.writes.delete(done);
      after();
      this.checkIdle();
    });
    this.writes.add(done);
  }

  private fatal(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onFatal(err);
  }

  private stop(): void {
    this.stopped = true;
    this.queue.clear();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    const w = this.slotWake;
    this.slotWake = undefined;
    w?.();
    this.checkIdle();
  }

  /** A wait that stop() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.sleepers.add(wake);
    });
  }

  private isIdle(): boolean {
    if (this.stopped) return true;
    return (
      this.held === 0 &&
      this.active === 0 &&
      this.queue.length === 0 &&
      (this.buffer === null || this.buffer.records === 0)
    );
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }
}

/**
 * A FIFO with a moving head instead of shift(), which is O(n) once V8 leaves its fast path for
 * long arrays (a slow sink can queue thousands of small batches):
 *
 *   items: [ taken ... | head ... tail ]   push() appends at the tail; shift() moves head on;
 *                        ^head              the taken prefix is cut off once it is half the array
 */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined; // let the batch's buffers go
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
