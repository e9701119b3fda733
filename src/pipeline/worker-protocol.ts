// The protocol between the main thread and the parse workers, in one file: the record layouts of
// the two rings, the messages, and what a worker starts with. ./workers.ts (main side) and
// ./parse-worker.ts (worker side) both read their offsets from here, never from literals.
//
//   main --[chunk ring: CHUNK records]--> worker: Processor.process() --[block ring: BLOCK]--> main
//   worker --postMessage: READY | ERROR | FINISH | BLOCK (a block too big for its ring)--> main
//   main --close() of the chunk ring (STATE = CLOSED)--> worker drains it, sends FINISH, exits
//
// The checkpoint mark never crosses: it stays on the main thread under the chunk's sequence
// number, so a chunk lost with a crashed worker is never acknowledged (its lines are re-read).

import type { AgentConfig } from '../config/types.js';
import { Counters } from '../observe/counters.js';
import type { Wants } from './types.js';

/** The `role` in workerData of a parse worker. */
export const PARSE_WORKER_ROLE = 'parse-worker';
/** The first argument (process.argv[2]) that makes the bundle's entry, src/cli.ts, run a parse
 *  worker instead of the CLI (cli.ts compares with the literal, to import nothing). */
export const PARSE_WORKER_ARG = '--ves-parse-worker';

/** What a parse worker is started with (structured-cloned into the worker). */
export interface ParseWorkerData {
  role: typeof PARSE_WORKER_ROLE;
  /** For messages: `parse worker <index>`. */
  index: number;
  /** The whole agent config: the worker builds the same Processor the main thread would. */
  config: AgentConfig;
  wants: Wants;
  /** Ring of CHUNK records, main -> worker, and of BLOCK records, worker -> main. */
  chunks: SharedArrayBuffer;
  blocks: SharedArrayBuffer;
}

// ---- CHUNK record (main -> worker): Int32 words, line ends, the path's UTF-8, the lines --------
//
//   word: 0 seq | 1 source | 2 lines | 3 flags | 4 path bytes | 5 buf bytes | 6-7 readAt (f64) |
//         8 where the line bytes start (from the record's start)
//   then: [ ends: `lines` Int32 words, only with FLAG_ENDS ][ path bytes ][ pad ][ line bytes ]
//
// Alignment. V8 copies to and from a SharedArrayBuffer with relaxed atomic loads and stores: 8
// bytes at a time when source and destination share their alignment mod 8, one byte at a time
// otherwise (v8 base::Relaxed_Memcpy; measured 0.6-0.8 GB/s against 6 GB/s). So each byte run
// (the lines here; NDJSON and raw in a BLOCK) is placed at the alignment its source has, and
// the reader copies it out to a destination with the same alignment again.

/** Low 32 bits of the chunk's sequence number (the main thread keeps the rest). */
export const C_SEQ = 0;
/** Index of the chunk's source in Object.keys(config.sources) (same order in both threads). */
export const C_SOURCE = 1;
export const C_LINES = 2;
export const C_FLAGS = 3;
export const C_PATH_BYTES = 4;
export const C_BUF_BYTES = 5;
/** Byte offset (within the header) of readAt, a float64 written through a DataView. */
export const C_READ_AT_BYTE = 24;
/** Byte offset of the line bytes from the record's start (see Alignment). */
export const C_BUF_AT = 8;
export const CHUNK_HEADER_BYTES = 36;
/** C_FLAGS bit: the chunk is one line cut at max_line_bytes. */
export const FLAG_TRUNCATED = 1;
/** C_FLAGS bit: the chunk has `ends` (multiline events; LineChunk.ends), right after the header. */
export const FLAG_ENDS = 2;

// ---- BLOCK record (worker -> main): Int32 words, then the NDJSON bytes, then the raw bytes ----
//
//   word: 0 seq | 1 events | 2 ndjson bytes | 3 raw bytes | 4 ndjson at | 5 raw at | 6 busy us |
//         7 source lines | 8 source bytes | 9.. one delta per COUNTER_KEYS entry | then one
//         per transformNames()
//   then: [ pad ][ ndjson bytes ][ pad ][ raw bytes ]    (-1 bytes: that encoding is null)

export const B_SEQ = 0;
export const B_EVENTS = 1;
export const B_NDJSON_BYTES = 2;
export const B_RAW_BYTES = 3;
/** Byte offsets of the NDJSON and raw bytes from the record's start (see Alignment). */
export const B_NDJSON_AT = 4;
export const B_RAW_AT = 5;
/** Microseconds the worker spent in Processor.process() on this chunk (workers: auto uses it). */
export const B_BUSY_US = 6;
/** What process() added to counters.sources.get(chunk's source): lines, bytes. */
export const B_SOURCE_LINES = 7;
export const B_SOURCE_BYTES = 8;
/** First of the counter deltas, in COUNTER_KEYS order. */
export const B_COUNTERS = 9;

/** Room for the padding that aligns one byte run (at most 7 bytes). */
export const ALIGN_SLACK = 7;

/** The first offset >= `at` with the same alignment mod 8 as `byteOffset` (see Alignment). */
export function alignLike(at: number, byteOffset: number): number {
  return at + ((byteOffset - at) & 7);
}

/**
 * The plain number fields of Counters (linesIn, parseErrors, ...). process() bumps them in the
 * worker's own Counters; each BLOCK carries what it added, and the main thread adds that to the
 * real ones. Computed from the class, so a counter a parser adds later travels without a change
 * here (both threads run the same bundle, so the order is the same).
 */
export const COUNTER_KEYS: readonly string[] = (() => {
  const c = new Counters() as unknown as Record<string, unknown>;
  return Object.keys(c).filter((k) => typeof c[k] === 'number');
})();

/**
 * The transforms whose `dropped` counter (counters.transforms) a BLOCK carries, in this order:
 * every one but enrich (it drops nothing), by name, from the config both threads have.
 */
export function transformNames(config: AgentConfig): string[] {
  return config.transforms.filter((t) => t.type !== 'enrich').map((t) => t.name);
}

/** Header bytes of a BLOCK record (a multiple of 8) for `transforms` transform counters. */
export function blockHeaderBytes(transforms: number): number {
  return ((B_COUNTERS + COUNTER_KEYS.length + transforms) * 4 + 7) & -8;
}

/** Word of the first transform delta. */
export const B_TRANSFORMS = B_COUNTERS + COUNTER_KEYS.length;

// ---- Messages (postMessage), worker -> main ---------------------------------------------------

export type WorkerMessage =
  /** The Processor is built: chunks may come. */
  | { type: 'READY' }
  /** process() threw, or an uncaught error: the pipeline fails loudly (VES_WORKER_FAILED). */
  | { type: 'ERROR'; message: string; stack?: string; code?: string }
  /** The chunk ring was closed and drained: the worker ends. */
  | { type: 'FINISH' }
  /** A block whose record would not fit its ring (huge lines): sent here instead, in order
   *  thanks to its seq like any other. Fields as in the BLOCK record. */
  | {
      type: 'BLOCK';
      seq: number;
      events: number;
      ndjson: Uint8Array | null;
      raw: Uint8Array | null;
      busyUs: number;
      sourceLines: number;
      sourceBytes: number;
      counters: number[];
      transforms: number[];
    };
