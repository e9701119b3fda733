// Wires one config into a running agent: sources -> process -> batcher -> sinks, with acks
// flowing back through the acker into checkpoints. Knows components only through registries.

import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AgentConfig, BufferConfig, SinkConfig, SourceConfig } from '../config/types.js';
import { Acker, type InFlight } from '../engine/acker.js';
import { Batcher } from '../engine/batcher.js';
import { openCheckpoints } from '../engine/checkpoints.js';
import { lockDataDir } from '../engine/lock.js';
import { VesError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { Counters } from '../observe/counters.js';
import { observeSink, sinksHealth, type SinkHealth } from '../observe/health.js';
import { sinks as sinkRegistry } from '../sinks/index.js';
import { defaultBufferConfig } from '../sinks/buffer-config.js';
import { sources as sourceRegistry } from '../sources/index.js';
import { Dispatcher } from './dispatch.js';
import { Processor } from './process.js';
import { SinkRunner } from './sink-runner.js';
import type { Batch, LineChunk, Sink, Source, SourceContext, Wants } from './types.js';

/**
 * In-flight bound for backpressure: bytes sealed or waiting in the batcher but not yet acked by
 * every sink. Above it the sources pause (file data waits safely on disk); below half of it
 * they resume. 16 MiB: 16 default batches keep a sink busy; 64 MiB kept the same catch-up
 * speed with 205 MB peak RSS instead of 148 MB (bench/e2e/catchup.mjs, 1M lines).
 */
const MIN_IN_FLIGHT_BYTES = 16 * 1024 * 1024;

export interface PipelineOptions {
  log: Logger;
  /** Called once when every finite source (stdin) is done and all its data was delivered. */
  onFinished?: () => void;
  /** Called when a sink failed for good: the caller stops the pipeline and exits 1. */
  onFatal?: (err: Error) => void;
  /** Totals to add to (run.ts keeps one across SIGHUP reloads); a fresh set otherwise. */
  counters?: Counters;
  /** Script parse workers start from; default the running bundle (tests: see workers.ts). */
  workerEntry?: string;
}

export class Pipeline {
  readonly counters: Counters;
  private sources = new Map<string, Source>();
  private runners: SinkRunner[] = [];
  private batcher!: Batcher;
  private acker!: Acker;
  private processor!: Processor;
  /** Where chunks are parsed: inline or in worker threads (`workers:`), in read order. */
  private dispatcher!: Dispatcher;
  private closeCheckpoints!: () => Promise<void>;
  private flushCheckpoints!: () => Promise<void>;
  private unlock!: () => Promise<void>;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private stopping = false;
  private finiteLeft = 0;
  private highWater = MIN_IN_FLIGHT_BYTES;

  private constructor(
    private readonly config: AgentConfig,
    private readonly opts: PipelineOptions,
  ) {
    this.counters = opts.counters ?? new Counters();
  }

  /** Builds every component (sinks first, so their health is known before reading). */
  static async start(config: AgentConfig, opts: PipelineOptions): Promise<Pipeline> {
    const p = new Pipeline(config, opts);
    await p.init();
    return p;
  }

  private async init(): Promise<void> {
    const { config, opts } = this;
    const log = opts.log;
    const dataDir = resolve(config.data_dir);
    await mkdir(dataDir, { recursive: true, mode: 0o700 }).catch((err: Error) => {
      throw new VesError('VES_DATA_DIR', `cannot create data_dir ${dataDir}: ${err.message}`, 2);
    });
    await warnIfShared(dataDir, log);
    this.unlock = await lockDataDir(dataDir);
    try {
      const store = await openCheckpoints(dataDir, log.child('checkpoints'));
      this.closeCheckpoints = () => store.close();
      this.flushCheckpoints = () => store.flush();
      this.acker = new Acker(store);
      this.highWater = inFlightBound(config);

      // Sinks first: what they want decides what the process stage encodes.
      const wants: Wants = { ndjson: false, raw: false };
      for (const [id, sc] of Object.entries(config.sinks)) {
        const built = await buildSink(id, sc, dataDir, log);
        const sink = observeSink(id, built, this.counters);
        wants.ndjson ||= sink.wants.ndjson;
        wants.raw ||= sink.wants.raw;
        // Each sink has its own runner and buffer: a slow one stalls the others only once its
        // buffer is full (DESIGN.md "Delivery semantics").
        const runner = await SinkRunner.open({
          id,
          sink,
          log: log.child(`sink.${id}`),
          counters: this.counters,
          dataDir,
          buffer: bufferOf(sc),
          concurrency: built.concurrency,
          cursorIntervalMs: config.checkpoint_interval,
          onAck: (seq) => this.onAck(seq),
          onFatal: (err) => this.opts.onFatal?.(err),
        }).catch(async (err: unknown) => {
          await sink.close().catch(() => undefined);
          throw err;
        });
        this.runners.push(runner);
      }
      await Promise.all(this.runners.map((r) => r.healthcheck()));
      for (const r of this.runners) r.start(); // disk buffers left by an earlier run drain now

      this.processor = new Processor(config, wants, this.counters);
      this.batcher = new Batcher(config.batch, (batch) => this.onBatch(batch));
      this.dispatcher = new Dispatcher({
        config,
        wants,
        counters: this.counters,
        log: log.child('parse'),
        processor: this.processor,
        onBlock: (block) => {
          this.batcher.push(block);
          // Paused because the parse workers were behind: resume once they caught up.
          if (this.paused) this.maybeResume();
        },
        onFatal: (err) => this.opts.onFatal?.(err),
        workerEntry: opts.workerEntry,
      });

      for (const [id, sc] of Object.entries(config.sources)) {
        if (sc.type === 'stdin') this.finiteLeft++;
        this.counters.source(id);
        const source = await buildSource(id, sc, dataDir, log, store, {
          emit: (chunk) => this.onChunk(chunk),
          done: () => this.onSourceDone(id),
          onCommit: (listener) => this.acker.listen(id, listener),
          counters: this.counters,
        });
        this.sources.set(id, source);
      }
      for (const source of this.sources.values()) await source.start();
      this.checkpointTimer = setInterval(() => {
        this.flushCheckpoints().catch((err: Error) =>
          log.error('checkpoint write failed', { code: 'VES_DATA_DIR', error: err.message }),
        );
      }, config.checkpoint_interval);
      this.checkpointTimer.unref();
    } catch (err) {
      await this.teardown();
      throw err;
    }
  }

  // Called for every chunk a source reads: process it and hand it to the batcher at once.
  private onChunk(chunk: LineChunk): void {
    this.counters.sourceChunk(chunk.sourceId, chunk.lines, chunk.buf.length);
    this.dispatcher.submit(chunk);
    if (
      !this.paused &&
      (this.acker.inFlight.bytes + this.batcher.pendingBytes + this.dispatcher.pendingBytes >
        this.highWater ||
        this.dispatcher.full ||
        this.sinkFull())
    ) {
      this.paused = true;
      this.counters.backpressurePauses++;
      for (const s of this.sources.values()) s.pause();
    }
  }

  private onBatch(batch: Batch): void {
    this.acker.track(batch, this.runners.length);
    this.counters.batches++;
    this.counters.latency.sealed(batch);
    for (const r of this.runners) r.enqueue(batch);
  }

  private onAck(seq: number): void {
    this.acker.ack(seq);
    if (this.paused) this.maybeResume();
  }

  private maybeResume(): void {
    if (
      this.paused &&
      !this.stopping &&
      this.acker.inFlight.bytes < this.highWater / 2 &&
      !this.dispatcher.relieving &&
      this.runners.every((r) => r.relieved)
    ) {
      this.paused = false;
      for (const s of this.sources.values()) s.resume();
    }
  }

  /** A sink's memory buffer reached its max_bytes (when_full: block). */
  private sinkFull(): boolean {
    const runners = this.runners;
    for (let i = 0; i < runners.length; i++) if (runners[i].full) return true;
    return false;
  }

  /** What waits for sink acks (the queue depth of stats and /metrics); read, do not keep. */
  get inFlight(): Readonly<InFlight> {
    return this.acker.inFlight;
  }

  /** Per sink, what waits in its buffer (memory bytes; disk bytes and records): for /stats. */
  buffers(): Array<{ sink: string } & SinkRunner['buffered']> {
    return this.runners.map((r) => ({ sink: r.id, ...r.buffered }));
  }

  /** For /health: stopping or running, and each sink's health (observe/health.ts). */
  health(): { running: boolean; sinks: SinkHealth[] } {
    return {
      running: !this.stopping,
      sinks: sinksHealth(this.counters, Object.keys(this.config.sinks)),
    };
  }

  private onSourceDone(id: string): void {
    this.opts.log.debug('source finished', { source: id });
    // A run made only of finite sources (stdin) is over once they all ended and were delivered;
    // a run with a file source goes on until it is stopped.
    if (--this.finiteLeft > 0 || this.finiteLeft < 0) return;
    if (Object.values(this.config.sources).some((s) => s.type !== 'stdin')) return;
    // Chunks still in parse workers first (false: a worker failed, and onFatal stops the run).
    void this.dispatcher.drained().then((parsed) => {
      if (!parsed) return;
      this.batcher.flush();
      return this.acker.drained().then(() => this.opts.onFinished?.());
    });
  }

  /**
   * Graceful stop: stop reading, seal the open batch, wait for every sink to acknowledge (up to
   * shutdown_timeout), write checkpoints, close sinks. Returns false when the grace period ran
   * out: the unacknowledged lines are then re-read at the next start (nothing is lost).
   */
  async stop(waitForAcks = true): Promise<boolean> {
    if (this.stopping) return false;
    this.stopping = true;
    const log = this.opts.log;
    clearInterval(this.checkpointTimer);
    await Promise.all([...this.sources.values()].map((s) => s.stop()));
    const deadline = Date.now() + this.config.shutdown_timeout;
    // Chunks still in parse workers reach the batcher first (bounded by the grace period).
    if (waitForAcks) await this.dispatcher.drained(this.config.shutdown_timeout);
    this.batcher.flush();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      ...(waitForAcks ? [] : [Promise.resolve(false)]),
      this.acker.drained().then(() => true),
      new Promise<boolean>(
        (r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()))),
      ),
    ]);
    clearTimeout(timer);
    if (drained && waitForAcks) await this.drainDiskBuffers(deadline);
    if (!drained) {
      const f = this.acker.inFlight;
      log.warn(
        'grace period ended before every sink acknowledged; those lines will be re-sent at the next start',
        {
          code: 'VES_SHUTDOWN_TIMEOUT',
          batches: f.batches,
          events: f.events,
        },
      );
    }
    for (const r of this.runners) r.abandon();
    await this.teardown();
    return drained;
  }

  /**
   * Every batch is acked, but disk-buffered sinks may still be catching up: give them what is
   * left of the grace period. What they do not send stays in their buffer for the next start.
   */
  private async drainDiskBuffers(deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const idle = await Promise.race([
      Promise.all(this.runners.map((r) => r.idle())).then(() => true),
      new Promise<boolean>(
        (r) => (timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()))),
      ),
    ]);
    clearTimeout(timer);
    if (idle) return;
    for (const r of this.runners) {
      const b = r.buffered;
      if (b.diskRecords === 0) continue;
      this.opts.log.info('disk buffer not empty at stop; its records are sent at the next start', {
        sink: r.id,
        records: b.diskRecords,
        bytes: b.diskBytes,
      });
    }
  }

  private async teardown(): Promise<void> {
    await this.dispatcher?.close();
    this.batcher?.close();
    await Promise.all(this.runners.map((r) => r.close()));
    // The last checkpoint write can fail (a full disk): say so and still release the lock. It
    // must not escape: an error here used to crash the stop with an unhandled rejection.
    await this.closeCheckpoints?.().catch((err: Error) =>
      this.opts.log.error(
        `${err.message}; the next start resumes from the last checkpoint written (lines after it are sent again)`,
        { code: 'VES_DATA_DIR' },
      ),
    );
    if (this.unlock) await this.unlock();
  }
}

/** The sink's `buffer` (every sink schema has one; a config built in code may not). */
function bufferOf(sc: SinkConfig): BufferConfig {
  return (sc as { buffer?: BufferConfig }).buffer ?? defaultBufferConfig();
}

/**
 * The in-flight bound (bytes sealed but not acked by every sink) above which sources pause.
 * At least MIN_IN_FLIGHT_BYTES and a few batches; and above every memory buffer's max_bytes, so
 * that bound is the one that acts: a `block` sink pauses the sources itself when full (runner
 * `full`), a `drop_newest` sink must reach its bound (and drop) before the global one pauses
 * everything, hence its two batches of headroom.
 */
function inFlightBound(config: AgentConfig): number {
  let bound = Math.max(MIN_IN_FLIGHT_BYTES, 4 * config.batch.max_bytes);
  for (const sc of Object.values(config.sinks)) {
    const b = bufferOf(sc);
    if (b.type !== 'memory') continue;
    const want =
      b.when_full === 'drop_newest' ? b.max_bytes + 2 * config.batch.max_bytes : b.max_bytes;
    if (want > bound) bound = want;
  }
  return bound;
}

async function buildSink(id: string, sc: SinkConfig, dataDir: string, log: Logger): Promise<Sink> {
  const def = sinkRegistry[sc.type];
  const mod = await def.load();
  return (mod.build as (c: SinkConfig, ctx: object) => Promise<Sink>)(sc, {
    id,
    dataDir,
    log: log.child(`sink.${id}`),
  });
}

async function buildSource(
  id: string,
  sc: SourceConfig,
  dataDir: string,
  log: Logger,
  checkpoints: import('../engine/checkpoints.js').CheckpointStore,
  hooks: Pick<SourceContext, 'emit' | 'done' | 'onCommit'> & { counters: Counters },
): Promise<Source> {
  const def = sourceRegistry[sc.type];
  const mod = await def.load();
  return (mod.build as (c: SourceConfig, ctx: object) => Promise<Source>)(sc, {
    id,
    dataDir,
    log: log.child(`source.${id}`),
    checkpoints,
    ...hooks,
  });
}

/**
 * data_dir holds checkpoints, buffered events (log contents) and dead letters. The agent
 * creates it 0700 and every file in it 0600, whatever the umask. mkdir's mode does not change
 * a directory that already exists, and the agent does not chmod one it did not create (an
 * operator's `data_dir: /var/lib` run as root must not lock everyone else out): it warns.
 * File contents stay private either way (0600); only their names can be listed.
 */
async function warnIfShared(dataDir: string, log: Logger): Promise<void> {
  const st = await stat(dataDir).catch(() => null);
  if (st === null || (st.mode & 0o077) === 0) return;
  log.warn('data_dir can be listed by group or others: make it owner-only (chmod 700)', {
    code: 'VES_DATA_DIR',
    data_dir: dataDir,
    mode: (st.mode & 0o777).toString(8).padStart(4, '0'),
  });
}
