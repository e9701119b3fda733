// Wires one config into a running agent: sources -> process -> batcher -> sinks, with acks
// flowing back through the acker into checkpoints. Knows components only through registries.

import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AgentConfig, SinkConfig, SourceConfig } from '../config/types.js';
import { Acker } from '../engine/acker.js';
import { Batcher } from '../engine/batcher.js';
import { openCheckpoints } from '../engine/checkpoints.js';
import { lockDataDir } from '../engine/lock.js';
import { VesError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { Counters } from '../observe/counters.js';
import { sinks as sinkRegistry } from '../sinks/index.js';
import { sources as sourceRegistry } from '../sources/index.js';
import { Processor } from './process.js';
import { SinkRunner } from './sink-runner.js';
import type { Batch, LineChunk, Sink, Source, Wants } from './types.js';

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
}

export class Pipeline {
  readonly counters = new Counters();
  private sources = new Map<string, Source>();
  private runners: SinkRunner[] = [];
  private batcher!: Batcher;
  private acker!: Acker;
  private processor!: Processor;
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
  ) {}

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
    this.unlock = await lockDataDir(dataDir);
    try {
      const store = await openCheckpoints(dataDir, log.child('checkpoints'));
      this.closeCheckpoints = () => store.close();
      this.flushCheckpoints = () => store.flush();
      this.acker = new Acker(store);
      this.highWater = Math.max(MIN_IN_FLIGHT_BYTES, 4 * config.batch.max_bytes);

      // Sinks first: what they want decides what the process stage encodes.
      const wants: Wants = { ndjson: false, raw: false };
      for (const [id, sc] of Object.entries(config.sinks)) {
        const sink = await buildSink(id, sc, dataDir, log);
        wants.ndjson ||= sink.wants.ndjson;
        wants.raw ||= sink.wants.raw;
        this.runners.push(
          new SinkRunner(
            id,
            sink,
            log.child(`sink.${id}`),
            this.counters,
            (seq) => this.onAck(seq),
            (err) => this.opts.onFatal?.(err),
          ),
        );
      }
      await Promise.all(this.runners.map((r) => r.healthcheck()));

      this.processor = new Processor(config, wants, this.counters);
      this.batcher = new Batcher(config.batch, (batch) => this.onBatch(batch));

      for (const [id, sc] of Object.entries(config.sources)) {
        if (sc.type === 'stdin') this.finiteLeft++;
        const source = await buildSource(id, sc, dataDir, log, store, {
          emit: (chunk) => this.onChunk(chunk),
          done: () => this.onSourceDone(id),
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
    const block = this.processor.process(chunk);
    this.batcher.push(block);
    if (!this.paused && this.acker.inFlight.bytes + this.batcher.pendingBytes > this.highWater) {
      this.paused = true;
      this.counters.backpressurePauses++;
      for (const s of this.sources.values()) s.pause();
    }
  }

  private onBatch(batch: Batch): void {
    this.acker.track(batch, this.runners.length);
    this.counters.batches++;
    for (const r of this.runners) r.enqueue(batch);
  }

  private onAck(seq: number): void {
    this.acker.ack(seq);
    if (this.paused && !this.stopping && this.acker.inFlight.bytes < this.highWater / 2) {
      this.paused = false;
      for (const s of this.sources.values()) s.resume();
    }
  }

  private onSourceDone(id: string): void {
    this.opts.log.debug('source finished', { source: id });
    // A run made only of finite sources (stdin) is over once they all ended and were delivered;
    // a run with a file source goes on until it is stopped.
    if (--this.finiteLeft > 0 || this.finiteLeft < 0) return;
    if (Object.values(this.config.sources).some((s) => s.type !== 'stdin')) return;
    this.batcher.flush();
    void this.acker.drained().then(() => this.opts.onFinished?.());
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
    this.batcher.flush();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      ...(waitForAcks ? [] : [Promise.resolve(false)]),
      this.acker.drained().then(() => true),
      new Promise<boolean>(
        (r) => (timer = setTimeout(() => r(false), this.config.shutdown_timeout)),
      ),
    ]);
    clearTimeout(timer);
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

  private async teardown(): Promise<void> {
    this.batcher?.close();
    await Promise.all(this.runners.map((r) => r.close()));
    if (this.closeCheckpoints) await this.closeCheckpoints();
    if (this.unlock) await this.unlock();
  }
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
  hooks: { emit: (c: LineChunk) => void; done: () => void },
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
