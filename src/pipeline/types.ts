// The contract between the pipeline stages: what a source hands over, what a sink receives,
// and how acknowledgements travel back so checkpoints only advance over delivered lines.
//
//   source --LineChunk--> process (parse, transform, encode) --Block--> batcher --Batch--> sinks
//      ^                                                                                  |
//      +-------------------- Acker: checkpoint marks once every sink acked <--------------+
//
// Batches are bytes: a chunk of lines is encoded once into NDJSON (and/or kept raw) and never
// becomes per-line objects on the way to the sinks. See ../../../shared/DESIGN.md "Data path".

import type { Logger } from '../observe/logger.js';
import type { CheckpointStore } from '../engine/checkpoints.js';
import type { SourceCounters } from '../observe/counters.js';

/** The position a source may checkpoint once the lines before it are delivered. */
export interface AckMark {
  /** Source name from the config (`sources.<name>`). */
  sourceId: string;
  /** File identity (fingerprint or dev+inode), the checkpoint key. */
  key: string;
  /** Byte offset just after the last line covered by this mark. */
  offset: number;
  /** File path at the time of reading, kept in the checkpoint for operators. */
  path: string;
  /** Device and inode of the file, so its checkpoint can be found by inode too. */
  dev?: number;
  ino?: number;
}

/**
 * Whole lines from one file (or stream), as they were read. `buf` holds one or more lines, each
 * ending in `\n` (a CRLF line keeps its `\r`; the encoder strips it). No per-line objects.
 */
export interface LineChunk {
  sourceId: string;
  /** Path of the file the lines came from (`source` field of the event); '-' for stdin. */
  path: string;
  buf: Buffer;
  /** Number of lines in `buf`. */
  lines: number;
  /**
   * Line ends, when a line may hold `\n` itself (a multiline event: src/sources/multiline.ts):
   * `ends[i]` is the offset just past line i's final `\n`, so line i is
   * `buf[i ? ends[i - 1] : 0, ends[i])`. Absent (the common case): lines are found by `\n`.
   * Splitters of chunks (the raw encoder, Captures.split) must honour it when present.
   */
  ends?: Int32Array;
  /**
   * True when this chunk holds a single line that was cut at `max_line_bytes`: the event gets
   * `"truncated":true`. Truncated lines always travel alone so the flag needs no per-line array.
   */
  truncated: boolean;
  /** Checkpoint position after these lines; null for sources without checkpoints (stdin). */
  mark: AckMark | null;
  /** performance.now() when the bytes were read: latency is measured from here. */
  readAt: number;
}

/** The encodings a sink can ask for; the process stage only builds what some sink wants. */
export interface Wants {
  ndjson: boolean;
  raw: boolean;
}

/** A processed chunk: events encoded once, ready to be concatenated into a batch. */
export interface Block {
  events: number;
  /** One JSON object per line, each ending in `\n`; null when no sink wants NDJSON. */
  ndjson: Buffer | null;
  /** The original lines (without `\r`), each ending in `\n`; null when no sink wants raw. */
  raw: Buffer | null;
  mark: AckMark | null;
  readAt: number;
}

/** What every sink receives. A batch is sealed at max_events, max_bytes or timeout. */
export interface Batch {
  /** Monotonic per pipeline; the acker commits marks in this order. */
  seq: number;
  events: number;
  ndjson: Buffer | null;
  raw: Buffer | null;
  /** Bytes of the largest encoding, the one `max_bytes` bounds. */
  bytes: number;
  /** Checkpoint marks this batch completes (at most one per file: the furthest). */
  marks: AckMark[];
  /** Earliest readAt of the lines inside (performance.now() clock). */
  firstReadAt: number;
  /** performance.now() when the batch was sealed. */
  sealedAt: number;
}

/** What a running source or sink may use from its surroundings. */
export interface ComponentContext {
  /** Component name from the config (`sources.<name>` / `sinks.<name>`). */
  id: string;
  dataDir: string;
  log: Logger;
}

export interface SourceContext extends ComponentContext {
  checkpoints: CheckpointStore;
  /** Hand over whole lines. Cheap and synchronous; the pipeline queues them. */
  emit(chunk: LineChunk): void;
  /** Called once when a finite source (stdin) reaches its end. */
  done(): void;
  /**
   * For sources whose marks are not file positions (the http source): from now on this
   * source's marks are handed to `listener` once committed (every sink acknowledged all lines up
   * to them, in order) instead of being written as checkpoints. Absent in contexts made by tests
   * of other sources.
   */
  onCommit?(listener: (mark: AckMark) => void): void;
  /** This source's totals (lines and bytes are counted by the pipeline; a source may add its
   *  own, as the http source's requests by status). Absent in tests of other sources. */
  counters?: SourceCounters;
}

export interface Source {
  start(): Promise<void>;
  /** Backpressure: stop reading until resume(); data stays safely in the file. */
  pause(): void;
  resume(): void;
  /**
   * Stop reading. Resolves once no more chunks will be emitted. A file source keeps a partial
   * last line unread (it is re-read from the checkpoint once its newline arrives); a stream
   * source (stdin) emits it, since a stream cannot be read again.
   */
  stop(): Promise<void>;
}

export interface Sink {
  /** Which encodings this sink writes. */
  readonly wants: Wants;
  /** Resolves once the batch is durable at the destination (or its buffer): the ack. */
  write(batch: Batch): Promise<void>;
  /**
   * How many write() calls the sink takes at once (e.g. the http sink's pooled requests); they
   * may then resolve out of order. Absent or 1: the runner waits for each write before the next,
   * so the destination sees batches strictly in order.
   */
  readonly concurrency?: number;
  /** Start-up check; throws a VesError naming what is wrong. */
  healthcheck?(): Promise<void>;
  /** Flush and release resources. Called once the runner stopped writing; a write may still be
   *  in flight (one that retries inside write() must then settle, e.g. reject). */
  close(): Promise<void>;
}
