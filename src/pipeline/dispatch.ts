// Decides where chunks are parsed: on the main thread (inline) or in parse worker threads, as the
// top-level `workers:` says (0, N, or auto), and keeps their Blocks in read order either way.
//
// `workers: auto` (the default) parses inline while the main thread has time, so a quiet host
// runs one thread and stays small (DESIGN.md: under 50 MB). Once a second it reads the main
// thread's event-loop utilisation (perf_hooks) and the share of it spent parsing: above
// START_ELU busy, of which at least MIN_PARSE_SHARE parsing, it starts cores-1 workers (at
// least 1). (A main thread busy with reads and writes, as in a raw passthrough, gains nothing
// from workers but the copies to and from them.) With workers running it adds up what inline
// parsing would cost (the main thread's utilisation + the workers' parse time, as a fraction of
// one core); after QUIET_TICKS seconds in a row below STOP_LOAD it goes back inline and stops
// them. Going back, rather than keeping
// them, gives back their memory (a V8 isolate, the bundle and 5 MiB of rings each: +16 MB RSS
// idle, more busy) on hosts whose load comes in bursts (a nightly catch-up, a traffic peak); the
// minute of quiet and the gap between the two thresholds keep it from flapping, and starting
// again costs ~50 ms.

import { availableParallelism } from 'node:os';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { AgentConfig } from '../config/types.js';
import type { Counters } from '../observe/counters.js';
import type { Logger } from '../observe/logger.js';
import type { Processor } from './process.js';
import type { Block, LineChunk, Wants } from './types.js';
import type { WorkerPool } from './workers.js';

/** Above this busy fraction of the main thread (over one tick), auto starts workers... */
const START_ELU = 0.8;
/** ...if parsing took at least this share of the tick: what workers can take off it. */
const MIN_PARSE_SHARE = 0.25;
/** Below this load (main + parse time, fraction of one core), a tick counts as quiet. */
const STOP_LOAD = 0.5;
/** 1 s: how often auto looks at the load. */
const TICK_MS = 1000;
/** 60 quiet ticks (a minute) in a row: auto goes back inline. */
const QUIET_TICKS = 60;

export interface DispatcherOptions {
  config: AgentConfig;
  wants: Wants;
  counters: Counters;
  log: Logger;
  /** The main thread's Processor (inline parsing). */
  processor: Processor;
  /** Receives every Block, in the order the chunks were submitted. */
  onBlock(block: Block): void;
  /** A parse worker failed: the pipeline must stop. */
  onFatal(err: Error): void;
  /** Script parse workers start from (see workers.ts PoolOptions.entry). */
  workerEntry?: string;
  /** `workers: auto` timing, for tests: tick length (ms), quiet ticks before going inline. */
  autoTickMs?: number;
  autoQuietTicks?: number;
  /** `workers: auto`: how many workers to start (default cores-1, at least 1). */
  autoSize?: number;
}

export class Dispatcher {
  private readonly opts: DispatcherOptions;
  private readonly processor: Processor;
  private readonly onBlock: (block: Block) => void;
  /** Workers in use; null while parsing inline. */
  private pool: WorkerPool | null = null;
  /** The pool being loaded and started (the module is imported on first use). */
  private starting: Promise<void> | null = null;
  /** Auto went back inline: new chunks go through the pool's window (inline) until it empties. */
  private retiring = false;
  private timer: NodeJS.Timeout | undefined;
  private lastElu: EventLoopUtilization | undefined;
  private lastTick = 0;
  private quietTicks = 0;
  /** Inline parse time since the last tick (auto only), ms. */
  private parseMs = 0;
  private closed = false;
  private readonly quietLimit: number;

  constructor(opts: DispatcherOptions) {
    this.opts = opts;
    this.processor = opts.processor;
    this.onBlock = opts.onBlock;
    this.quietLimit = opts.autoQuietTicks ?? QUIET_TICKS;
    const w = opts.config.workers;
    if (w === 'auto') {
      this.lastElu = performance.eventLoopUtilization();
      this.lastTick = performance.now();
      this.timer = setInterval(() => this.tick(), opts.autoTickMs ?? TICK_MS);
      this.timer.unref();
    } else if (w > 0) {
      this.startPool(w, 'workers: ' + w);
    }
  }

  /** Parse a chunk (here or in a worker); its Block reaches onBlock in submission order. */
  submit(chunk: LineChunk): void {
    const pool = this.pool;
    if (pool === null) {
      if (this.timer === undefined) this.onBlock(this.processor.process(chunk));
      else {
        // auto: time the parse (two clock reads per chunk, not per line).
        const t0 = performance.now();
        const block = this.processor.process(chunk);
        this.parseMs += performance.now() - t0;
        this.onBlock(block);
      }
      return;
    }
    pool.submit(chunk, this.retiring);
    if (this.retiring && pool.inFlight === 0) void this.stopPool('quiet');
  }

  /** Input bytes submitted and not yet handed to onBlock (counted by the in-flight bound). */
  get pendingBytes(): number {
    return this.pool === null ? 0 : this.pool.pendingBytes;
  }

  /**
   * The parse workers are behind: their window holds more than they need to stay busy. Sources
   * pause (the data waits in the files) until it is half empty again (`relieving` false).
   */
  get full(): boolean {
    return this.pool !== null && this.pool.full;
  }

  /** Still more than half of the window's bound: not yet time to resume (see `full`). */
  get relieving(): boolean {
    return this.pool !== null && this.pool.pendingBytes > this.pool.windowBytes / 2;
  }

  /** Parse workers running now (0 = inline). */
  get workers(): number {
    return this.pool === null ? 0 : this.pool.readyCount;
  }

  /**
   * Resolves true once every submitted chunk reached onBlock; false after `timeoutMs` (none:
   * no limit) or when a worker failed.
   */
  drained(timeoutMs?: number): Promise<boolean> {
    return this.pool === null ? Promise.resolve(true) : this.pool.drained(timeoutMs);
  }

  /** Stop the timer and the workers (bounded: see WorkerPool.close). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.starting;
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }

  private tick(): void {
    const now = performance.now();
    const elu = performance.eventLoopUtilization(this.lastElu);
    this.lastElu = performance.eventLoopUtilization();
    const elapsedUs = (now - this.lastTick) * 1000;
    this.lastTick = now;
    const pool = this.pool;
    const parseShare = (this.parseMs * 1000) / elapsedUs;
    this.parseMs = 0;
    if (pool === null) {
      if (this.starting === null && elu.utilization > START_ELU && parseShare >= MIN_PARSE_SHARE) {
        const n = this.opts.autoSize ?? Math.max(1, availableParallelism() - 1);
        const pct = (x: number) => `${Math.round(x * 100)}%`;
        this.startPool(n, `main thread ${pct(elu.utilization)} busy, ${pct(parseShare)} parsing`);
      }
      return;
    }
    if (this.retiring) {
      if (pool.inFlight === 0) void this.stopPool('quiet');
      return;
    }
    const load = elu.utilization + pool.takeBusyUs() / elapsedUs;
    this.quietTicks = load < STOP_LOAD ? this.quietTicks + 1 : 0;
    if (this.quietTicks >= this.quietLimit) {
      // New chunks are parsed here from now on, behind those still in the workers.
      this.retiring = true;
      if (pool.inFlight === 0) void this.stopPool('quiet');
    }
  }

  private startPool(size: number, why: string): void {
    const o = this.opts;
    this.starting = import('./workers.js')
      .then(({ WorkerPool }) => {
        if (this.closed) return;
        this.pool = new WorkerPool({
          config: o.config,
          wants: o.wants,
          counters: o.counters,
          log: o.log,
          size,
          processor: this.processor,
          onBlock: this.onBlock,
          onFatal: o.onFatal,
          entry: o.workerEntry,
        });
        this.quietTicks = 0;
        o.log.info('parsing in worker threads', { workers: size, reason: why });
      })
      .catch((err: Error) => o.onFatal(err))
      .finally(() => (this.starting = null));
  }

  private async stopPool(why: string): Promise<void> {
    const pool = this.pool;
    if (pool === null) return;
    this.pool = null;
    this.retiring = false;
    this.quietTicks = 0;
    this.opts.log.info('parsing inline again', { reason: why });
    await pool.close();
  }
}
