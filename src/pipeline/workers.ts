// The parse worker pool, main-thread side: sends chunks to N workers over SPSC rings, takes their
// Blocks back, and hands them to the batcher in the order the chunks were read.
// The protocol (record layouts, messages) is ./worker-protocol.ts; the worker is ./parse-worker.ts.
//
// Order. Every chunk gets a sequence number and any worker may parse it: one big file (a
// catch-up, the one busy nginx log of a host) keeps every core busy, where routing each file to
// one worker would leave the others idle. Blocks come back in any order and wait in a reorder
// window until all earlier chunks are back, so the batcher sees exactly the inline order: the
// same batches, the same checkpoint marks. The cost is head-of-line waiting behind the slowest
// chunk in flight (chunks are alike, so a few hundred microseconds), and one slot per chunk:
//
//                head: next to hand to the batcher        tail: next seq to give out
//                  v                                        v
//   slots:  ... | 17 sent | 18 back | 19 sent | 20 back | (free) ...     slot = seq & mask
//                  ^ worker 0 still has 17; 18 waits behind it
//
// The window is bounded in bytes (WINDOW_RINGS: above it the pipeline pauses its sources) and
// by the pipeline's in-flight bound (pendingBytes counts toward both); its slot arrays double
// when the chunks in it outnumber them.
//
// When no worker has room (or a chunk is too big for a ring), the main thread parses the chunk
// itself into its slot: with one worker on two cores the main thread's spare time is not lost,
// and a full ring never needs a queue of its own.
//
// State. Parsing is pure over a chunk, but two transforms keep state across chunks: throttle's
// token buckets and sample's counter (without `key`). Chunks of the sources they apply to are
// always parsed on the main thread (still in order through the window), so that state is one
// and exact rather than one copy per thread.
//
// Failure. An ERROR message, an 'error' event or an unexpected exit of a worker fails the
// pipeline (onFatal, VES_WORKER_FAILED). From then on nothing more is handed to the batcher:
// the chunks in flight and all after them are never acked, so their lines are read again at the
// next start (a later chunk's mark must not pass the lost one's lines).

import { Worker } from 'node:worker_threads';
import type { AgentConfig } from '../config/types.js';
import { createRing, RingReader, RingWriter } from '../engine/ring.js';
import { VesError } from '../errors.js';
import type { Counters } from '../observe/counters.js';
import type { Logger } from '../observe/logger.js';
import type { Processor } from './process.js';
import type { AckMark, Block, LineChunk, Wants } from './types.js';
import {
  B_BUSY_US,
  B_COUNTERS,
  B_EVENTS,
  B_NDJSON_BYTES,
  B_RAW_BYTES,
  B_SEQ,
  B_SOURCE_BYTES,
  B_SOURCE_LINES,
  B_TRANSFORMS,
  ALIGN_SLACK,
  alignLike,
  B_NDJSON_AT,
  B_RAW_AT,
  C_BUF_AT,
  C_BUF_BYTES,
  C_FLAGS,
  C_LINES,
  C_PATH_BYTES,
  C_READ_AT_BYTE,
  C_SEQ,
  C_SOURCE,
  CHUNK_HEADER_BYTES,
  COUNTER_KEYS,
  FLAG_ENDS,
  FLAG_TRUNCATED,
  PARSE_WORKER_ARG,
  PARSE_WORKER_ROLE,
  type ParseWorkerData,
  transformNames,
  type WorkerMessage,
} from './worker-protocol.js';

/**
 * 1 MiB per worker for chunks: 3-4 default reads (256 KiB) queued keep a worker busy while the
 * main thread reads (and parses when the ring is full); a deeper queue only adds latency (each
 * queued read is ~4 ms of nginx parsing) and memory. A record holds up to half of it: a read
 * with a carried partial line of up to ~250 KiB; bigger chunks are parsed on the main thread.
 */
const CHUNK_RING_BYTES = 1024 * 1024;
/**
 * 4 MiB per worker for blocks: NDJSON is ~1.5-2x its lines, and the main thread may be busy for
 * a moment (a read, a seal); a full ring only makes the worker wait.
 */
const BLOCK_RING_BYTES = 4 * 1024 * 1024;
/**
 * Input bytes the window may hold per worker before the sources pause: two chunk rings' worth
 * keeps a worker (and the main thread helping) busy; more only adds queueing latency and memory
 * (with the 16 MiB pipeline bound alone a catch-up's handoff p99 reached 300-500 ms).
 */
const WINDOW_RINGS = 2;
/** 64 slots to start the reorder window with; it doubles when full. */
const FIRST_WINDOW = 64;

export interface PoolOptions {
  config: AgentConfig;
  wants: Wants;
  counters: Counters;
  log: Logger;
  /** Number of workers (>= 1). */
  size: number;
  /** The main thread's Processor, for chunks it parses itself (see the header). */
  processor: Processor;
  /** Receives every Block, in read order. */
  onBlock(block: Block): void;
  /** A worker failed: the pipeline must stop (exit 1). Called once. */
  onFatal(err: Error): void;
  /**
   * The script each worker starts from. Default: the running bundle itself (`__filename` of
   * dist/ves-log-collector.cjs), whose entry (src/cli.ts) turns into a parse worker when its
   * first argument is PARSE_WORKER_ARG: one output file, nothing to locate at run time. Tests
   * run the TypeScript sources, so they bundle src/cli.ts with esbuild first (test/helpers/
   * bundle.ts) and pass that file here.
   */
  entry?: string;
  chunkRingBytes?: number;
  blockRingBytes?: number;
}

interface Handle {
  index: number;
  worker: Worker;
  chunks: RingWriter;
  blocks: RingReader;
  /** READY received: chunks may go to it (before, the main thread parses them). */
  ready: boolean;
  /** A waitAsync on its block ring is pending. */
  armed: boolean;
  /** Chunks sent and not back; the worker keeps the process alive (ref) only while > 0. */
  inFlight: number;
  exited: boolean;
  exit: Promise<void>;
  /** The waitAsync callback: created once per worker, not per wait. */
  onWake: () => void;
}

export class WorkerPool {
  /** Microseconds the workers spent in process() since the last takeBusyUs(). */
  private busyUs = 0;
  /** Input bytes of the chunks in the window (sent, parsed or waiting to be handed over). */
  pendingBytes = 0;
  /** The window's bound in input bytes (see WINDOW_RINGS). */
  readonly windowBytes: number;

  private readonly opts: PoolOptions;
  private readonly handles: Handle[] = [];
  private readonly sourceIndex = new Map<string, number>();
  private readonly sourceIds: string[];
  /** Sources parsed on the main thread only (see "State" above). */
  private readonly mainOnly: Set<string>;
  private readonly counterBag: Record<string, number>;
  /** counters.transforms entries a BLOCK carries deltas for, in protocol order. */
  private readonly transformCounters: Array<{ dropped: number }>;
  private next = 0;
  private failed: Error | null = null;
  private closing = false;
  private waiters: Array<(ok: boolean) => void> = [];

  // The reorder window (see the header). Parallel arrays indexed by seq & mask.
  private head = 0;
  private tail = 0;
  private mask = FIRST_WINDOW - 1;
  private seqOf = new Float64Array(FIRST_WINDOW);
  private marks: (AckMark | null)[] = new Array<AckMark | null>(FIRST_WINDOW).fill(null);
  private readAts = new Float64Array(FIRST_WINDOW);
  private sizes = new Float64Array(FIRST_WINDOW);
  private sources = new Int32Array(FIRST_WINDOW);
  private done: (Block | null)[] = new Array<Block | null>(FIRST_WINDOW).fill(null);
  private delivering = false;

  // The last path written, and its UTF-8 length (chunks of one file repeat it).
  private lastPath = '';
  private lastPathBytes = 0;

  constructor(opts: PoolOptions) {
    this.opts = opts;
    this.sourceIds = Object.keys(opts.config.sources);
    this.sourceIds.forEach((id, i) => this.sourceIndex.set(id, i));
    this.mainOnly = statefulSources(opts.config);
    this.counterBag = opts.counters as unknown as Record<string, number>;
    const tNames = transformNames(opts.config);
    this.transformCounters = tNames.map((n) => opts.counters.transform(n));
    const size = Math.max(1, opts.size);
    this.windowBytes = size * WINDOW_RINGS * (opts.chunkRingBytes ?? CHUNK_RING_BYTES);
    const entry = opts.entry ?? (typeof __filename === 'string' ? __filename : undefined);
    if (entry === undefined) throw new Error('bug: no script to start parse workers from');
    for (let i = 0; i < size; i++) this.spawn(i, entry);
  }

  /** The window holds more than its bound: the pipeline pauses its sources. */
  get full(): boolean {
    return this.pendingBytes > this.windowBytes;
  }

  /** Chunks in the window. */
  get inFlight(): number {
    return this.tail - this.head;
  }

  /** Workers that said READY. */
  get readyCount(): number {
    let n = 0;
    for (const h of this.handles) if (h.ready) n++;
    return n;
  }

  /** Workers' process() time since the last call, in microseconds (workers: auto reads it). */
  takeBusyUs(): number {
    const us = this.busyUs;
    this.busyUs = 0;
    return us;
  }

  /**
   * Parse a chunk: in a worker with room, else here. Its Block reaches onBlock after every
   * chunk submitted before it. `here`: parse on this thread (still in order behind the window).
   */
  submit(chunk: LineChunk, here = false): void {
    if (this.failed !== null || this.closing) return; // never acked: read again at next start
    this.collect(); // results that are already back: cheaper than waiting for the wakeup
    const seq = this.tail++;
    if (this.tail - this.head > this.mask + 1) this.grow();
    const slot = seq & this.mask;
    this.seqOf[slot] = seq;
    this.marks[slot] = chunk.mark;
    this.readAts[slot] = chunk.readAt;
    this.sizes[slot] = chunk.buf.length;
    this.sources[slot] = this.sourceIndex.get(chunk.sourceId) ?? 0;
    this.pendingBytes += chunk.buf.length;
    if (!here && (this.mainOnly.size === 0 || !this.mainOnly.has(chunk.sourceId))) {
      const hs = this.handles;
      const n = hs.length;
      for (let i = 0; i < n; i++) {
        const h = hs[(this.next + i) % n];
        if (h.ready && this.send(h, chunk, seq)) {
          this.next = (h.index + 1) % n;
          return;
        }
      }
    }
    // No worker has room (or none is ready yet): the main thread parses this one.
    let block: Block;
    try {
      block = this.opts.processor.process(chunk);
    } catch (err) {
      this.fail(err as Error, 'the main thread');
      return;
    }
    this.complete(seq | 0, block);
  }

  /**
   * Resolves true once every submitted chunk reached onBlock; false after `timeoutMs` (none: no
   * limit) or a failure.
   */
  drained(timeoutMs?: number): Promise<boolean> {
    this.collect();
    if (this.failed !== null) return Promise.resolve(false);
    if (this.head === this.tail) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              this.waiters = this.waiters.filter((w) => w !== done);
              resolve(false);
            }, timeoutMs);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.waiters.push(done);
    });
  }

  /**
   * Stop the workers: close their chunk rings (each drains what it has, says FINISH and ends),
   * wait up to `timeoutMs` for them to exit, then terminate any still running. Nothing more is
   * handed over from here on (call drained() first): the chunks still in the window are never
   * acked, so a stop that ran out of time re-reads them at the next start.
   */
  async close(timeoutMs = 2000): Promise<void> {
    this.closing = true;
    this.settle(false);
    for (const h of this.handles) h.chunks.close();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([Promise.all(this.handles.map((h) => h.exit)), timedOut]);
    clearTimeout(timer);
    for (const h of this.handles) {
      if (!h.exited) await h.worker.terminate();
    }
  }

  private spawn(index: number, entry: string): void {
    const chunks = createRing(this.opts.chunkRingBytes ?? CHUNK_RING_BYTES);
    const blocks = createRing(this.opts.blockRingBytes ?? BLOCK_RING_BYTES);
    const data: ParseWorkerData = {
      role: PARSE_WORKER_ROLE,
      index,
      config: this.opts.config,
      wants: this.opts.wants,
      chunks,
      blocks,
    };
    const worker = new Worker(entry, { workerData: data, argv: [PARSE_WORKER_ARG] });
    worker.unref(); // ref'd only while it holds chunks (see Handle.inFlight)
    let exited!: () => void;
    const h: Handle = {
      index,
      worker,
      chunks: new RingWriter(chunks),
      blocks: new RingReader(blocks),
      ready: false,
      armed: false,
      inFlight: 0,
      exited: false,
      exit: new Promise<void>((r) => (exited = r)),
      onWake: () => {
        h.armed = false;
        this.collect();
      },
    };
    this.handles.push(h);
    worker.on('message', (m: WorkerMessage) => this.onMessage(h, m));
    worker.on('error', (err) => this.fail(err, `parse worker ${index}`));
    worker.on('exit', (code) => {
      h.exited = true;
      exited();
      if (!this.closing) {
        this.fail(new Error(`it exited unexpectedly (code ${code})`), `parse worker ${index}`);
      }
    });
  }

  private onMessage(h: Handle, m: WorkerMessage): void {
    switch (m.type) {
      case 'READY':
        h.ready = true;
        this.opts.log.debug('parse worker ready', { worker: h.index });
        return;
      case 'ERROR': {
        const err = new Error(m.message);
        if (m.stack) err.stack = m.stack;
        this.fail(err, `parse worker ${h.index}`);
        return;
      }
      case 'FINISH':
        return;
      case 'BLOCK': {
        const c = this.counterBag;
        for (let k = 0; k < COUNTER_KEYS.length; k++) {
          if (m.counters[k] !== 0) c[COUNTER_KEYS[k]] += m.counters[k];
        }
        this.busyUs += m.busyUs;
        const tc = this.transformCounters;
        for (let k = 0; k < tc.length; k++) tc[k].dropped += m.transforms[k];
        const block: Block = {
          events: m.events,
          ndjson: m.ndjson === null ? null : bufferOf(m.ndjson),
          raw: m.raw === null ? null : bufferOf(m.raw),
          mark: null,
          readAt: 0,
        };
        this.addSourceDelta(m.seq, m.sourceLines, m.sourceBytes);
        this.backFrom(h);
        this.complete(m.seq, block);
        return;
      }
    }
  }

  /** Write a CHUNK record into h's ring; false when it has no room (or the chunk never fits). */
  private send(h: Handle, chunk: LineChunk, seq: number): boolean {
    const ring = h.chunks;
    const path = chunk.path;
    if (path !== this.lastPath) {
      this.lastPath = path;
      this.lastPathBytes = Buffer.byteLength(path, 'utf8');
    }
    const pathBytes = this.lastPathBytes;
    const buf = chunk.buf;
    const ends = chunk.ends;
    const endsBytes = ends === undefined ? 0 : chunk.lines * 4;
    const size = CHUNK_HEADER_BYTES + endsBytes + pathBytes + ALIGN_SLACK + buf.length;
    if (size > ring.maxRecord) return false;
    const at = ring.reserve(size);
    if (at < 0) return false;
    const words = ring.words;
    const w = at >> 2;
    words[w + C_SEQ] = seq | 0;
    words[w + C_SOURCE] = this.sourceIndex.get(chunk.sourceId) ?? 0;
    words[w + C_LINES] = chunk.lines;
    words[w + C_FLAGS] = (chunk.truncated ? FLAG_TRUNCATED : 0) | (ends ? FLAG_ENDS : 0);
    words[w + C_PATH_BYTES] = pathBytes;
    words[w + C_BUF_BYTES] = buf.length;
    const bytes = ring.bytes;
    bytes.writeDoubleLE(chunk.readAt, at + C_READ_AT_BYTE);
    let p = at + CHUNK_HEADER_BYTES;
    if (ends !== undefined) {
      words.set(ends.subarray(0, chunk.lines), p >> 2);
      p += endsBytes;
    }
    p = alignLike(p + bytes.write(path, p, 'utf8'), buf.byteOffset);
    words[w + C_BUF_AT] = p - at;
    bytes.set(buf, p);
    ring.commit();
    if (h.inFlight++ === 0) h.worker.ref();
    if (!h.armed) this.arm(h);
    return true;
  }

  /** Sleep (without blocking the loop) until h writes a block: Atomics.waitAsync. */
  private arm(h: Handle): void {
    h.armed = true;
    void h.blocks.waitAsync().then(h.onWake);
  }

  /** Read every BLOCK record that is back, from every worker; re-arm those still busy. */
  private collect(): void {
    const hs = this.handles;
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i];
      if (h.inFlight === 0) continue;
      const ring = h.blocks;
      const words = ring.words;
      const bytes = ring.bytes;
      const c = this.counterBag;
      for (let n = ring.next(); n >= 0; n = ring.next()) {
        const at = ring.offset;
        const w = at >> 2;
        const seq32 = words[w + B_SEQ];
        const ndLen = words[w + B_NDJSON_BYTES];
        const rawLen = words[w + B_RAW_BYTES];
        // One buffer for both encodings, each run at the alignment it has in the ring (a fresh
        // Buffer starts 8-aligned), so both copies go 8 bytes at a time (worker-protocol.ts).
        const ndAt = at + words[w + B_NDJSON_AT];
        const rawAt = at + words[w + B_RAW_AT];
        const ndDst = ndLen < 0 ? 0 : ndAt & 7;
        const rawDst = rawLen < 0 ? 0 : alignLike(ndLen < 0 ? 0 : ndDst + ndLen, rawAt);
        const out = Buffer.allocUnsafe(rawLen < 0 ? ndDst + ndLen : rawDst + rawLen);
        if (ndLen >= 0) bytes.copy(out, ndDst, ndAt, ndAt + ndLen);
        if (rawLen >= 0) bytes.copy(out, rawDst, rawAt, rawAt + rawLen);
        const block: Block = {
          events: words[w + B_EVENTS],
          ndjson: ndLen < 0 ? null : out.subarray(ndDst, ndDst + ndLen),
          raw: rawLen < 0 ? null : out.subarray(rawDst, rawDst + rawLen),
          mark: null,
          readAt: 0,
        };
        this.busyUs += words[w + B_BUSY_US];
        for (let k = 0; k < COUNTER_KEYS.length; k++) {
          const d = words[w + B_COUNTERS + k];
          if (d !== 0) c[COUNTER_KEYS[k]] += d;
        }
        const tc = this.transformCounters;
        for (let k = 0; k < tc.length; k++) tc[k].dropped += words[w + B_TRANSFORMS + k];
        const dLines = words[w + B_SOURCE_LINES];
        const dBytes = words[w + B_SOURCE_BYTES];
        ring.release();
        if (dLines !== 0 || dBytes !== 0) this.addSourceDelta(seq32, dLines, dBytes);
        this.backFrom(h);
        this.complete(seq32, block);
        if (h.inFlight === 0) break;
      }
      if (h.inFlight > 0 && !h.armed) this.arm(h);
    }
  }

  private backFrom(h: Handle): void {
    if (--h.inFlight === 0) h.worker.unref();
  }

  private addSourceDelta(seq32: number, lines: number, bytes: number): void {
    const id = this.sourceIds[this.sources[seq32 & this.mask]];
    if (id !== undefined) this.opts.counters.sourceChunk(id, lines, bytes);
  }

  /** A block is back (or parsed here): park it in its slot, hand over what is now in order. */
  private complete(seq32: number, block: Block): void {
    const slot = seq32 & this.mask;
    if ((this.seqOf[slot] | 0) !== seq32 || this.done[slot] !== null) {
      this.fail(new Error(`block for unknown chunk ${seq32}`), 'the worker pool');
      return;
    }
    block.mark = this.marks[slot];
    block.readAt = this.readAts[slot];
    this.done[slot] = block;
    if (!this.delivering) this.deliver();
  }

  private deliver(): void {
    this.delivering = true;
    try {
      while (this.head < this.tail && this.failed === null && !this.closing) {
        const slot = this.head & this.mask;
        const block = this.done[slot];
        if (block === null) break;
        this.done[slot] = null;
        this.marks[slot] = null;
        this.pendingBytes -= this.sizes[slot];
        this.head++;
        this.opts.onBlock(block);
      }
    } finally {
      this.delivering = false;
    }
    if (this.head === this.tail) this.settle(true);
  }

  private settle(ok: boolean): void {
    if (this.waiters.length === 0) return;
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w(ok);
  }

  /** Double the window, keeping every slot at seq & newMask. */
  private grow(): void {
    const oldMask = this.mask;
    const size = (oldMask + 1) * 2;
    const mask = size - 1;
    const seqOf = new Float64Array(size);
    const marks = new Array<AckMark | null>(size).fill(null);
    const readAts = new Float64Array(size);
    const sizes = new Float64Array(size);
    const sources = new Int32Array(size);
    const done = new Array<Block | null>(size).fill(null);
    for (let s = this.head; s < this.tail - 1; s++) {
      const a = s & oldMask;
      const b = s & mask;
      seqOf[b] = this.seqOf[a];
      marks[b] = this.marks[a];
      readAts[b] = this.readAts[a];
      sizes[b] = this.sizes[a];
      sources[b] = this.sources[a];
      done[b] = this.done[a];
    }
    this.mask = mask;
    this.seqOf = seqOf;
    this.marks = marks;
    this.readAts = readAts;
    this.sizes = sizes;
    this.sources = sources;
    this.done = done;
  }

  private fail(err: Error, who: string): void {
    if (this.failed !== null) return;
    const e = new VesError(
      'VES_WORKER_FAILED',
      `${who} failed while parsing: ${err.message}. The lines it held are not acknowledged: ` +
        'they are read again at the next start',
      undefined,
      { cause: err },
    );
    this.failed = e;
    this.opts.log.error(e.message, { code: e.code, stack: err.stack });
    this.settle(false);
    this.opts.onFatal(e);
  }
}

/** Sources that a transform with state across chunks applies to (throttle; sample without key). */
export function statefulSources(config: AgentConfig): Set<string> {
  const out = new Set<string>();
  const all = Object.keys(config.sources);
  for (const t of config.transforms) {
    if (t.type === 'throttle' || (t.type === 'sample' && t.key === undefined)) {
      for (const id of t.sources.length === 0 ? all : t.sources) out.add(id);
    }
  }
  return out;
}

/** A Buffer over a Uint8Array's bytes (no copy). */
function bufferOf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
