// A parse worker: takes CHUNK records from its ring, runs the same Processor the main thread
// would (built here from the same config), and writes each Block back as a BLOCK record.
// Started by ./workers.ts from the bundle itself; src/cli.ts sends it here (see runParseWorker).
//
// The loop is synchronous and sleeps in Atomics.wait while the ring is empty: the worker's own
// event loop never runs, so a chunk costs no task, promise or message. Messages still go out
// (postMessage does not need this thread's loop). Any error becomes an ERROR message and the
// worker ends: the main thread fails the pipeline, and the chunks it held are never acked.

import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { RingReader, RingWriter } from '../engine/ring.js';
import { HEADER_BYTES } from '../engine/ring-indexes.js';
import { Counters } from '../observe/counters.js';
import { Processor } from './process.js';
import type { Block, LineChunk } from './types.js';
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
  blockHeaderBytes,
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
  PARSE_WORKER_ROLE,
  type ParseWorkerData,
  transformNames,
  type WorkerMessage,
} from './worker-protocol.js';

/**
 * 10 s: the longest one Atomics.wait sleeps. Records and close() wake the worker at once (the
 * ring's doorbell loses no wakeup), so this is only a safety net; an idle worker wakes once per
 * 10 s (each wakeup costs ~0.1 ms of CPU on a small VM).
 */
const IDLE_WAIT_MS = 10_000;
/**
 * 250 ms: the longest sleep waiting for room in the block ring. The main thread frees room as it
 * reads; if it stopped for good it terminates this worker (WorkerPool.close).
 */
const ROOM_WAIT_MS = 250;

/** The worker's entry: never returns until the chunk ring is closed and drained. */
export function runParseWorker(): void {
  const data = workerData as ParseWorkerData | null;
  if (isMainThread || parentPort === null || data?.role !== PARSE_WORKER_ROLE) {
    // Someone typed the internal flag: only pipeline/workers.ts starts parse workers.
    process.stderr.write('ves-log-collector: --ves-parse-worker is internal; see --help\n');
    process.exitCode = 2;
    return;
  }
  const port = parentPort!;
  const send = (m: WorkerMessage): void => port.postMessage(m);
  const fail = (err: unknown): void => {
    const e = err instanceof Error ? err : new Error(String(err));
    send({
      type: 'ERROR',
      message: e.message,
      stack: e.stack,
      code: (e as { code?: string }).code,
    });
  };
  // Uncaught errors become messages too (thread-stream lib/worker.js); then the thread ends.
  process.on('uncaughtException', (err) => {
    fail(err);
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    fail(err);
    process.exit(1);
  });

  const counters = new Counters();
  let processor: Processor;
  try {
    processor = new Processor(data.config, data.wants, counters);
  } catch (err) {
    fail(err);
    return;
  }
  const sourceIds = Object.keys(data.config.sources);
  const chunks = new RingReader(data.chunks);
  const blocks = new RingWriter(data.blocks);
  send({ type: 'READY' });

  const cWords = chunks.words;
  const cView = new DataView(data.chunks, HEADER_BYTES);
  const bWords = blocks.words;
  // What process() had added to the counters before this chunk: its BLOCK carries the change.
  const nKeys = COUNTER_KEYS.length;
  const before = new Float64Array(nKeys);
  const counterBag = counters as unknown as Record<string, number>;
  // Each transform's `dropped` (created by the Processor above; absent: it never counts here).
  const tNames = transformNames(data.config);
  const tCounters = tNames.map((n) => counters.transforms.get(n) ?? { dropped: 0 });
  const tBefore = new Float64Array(tNames.length);
  const headerBytes = blockHeaderBytes(tNames.length);
  for (;;) {
    const n = chunks.next();
    if (n < 0) {
      if (chunks.ended) break;
      chunks.wait(IDLE_WAIT_MS);
      continue;
    }
    // Decode the CHUNK record into a LineChunk whose bytes stay in the ring (no copy).
    const at = chunks.offset;
    const w = at >> 2;
    const seq = cWords[w + C_SEQ];
    const sourceId = sourceIds[cWords[w + C_SOURCE]];
    const lines = cWords[w + C_LINES];
    const flags = cWords[w + C_FLAGS];
    const pathBytes = cWords[w + C_PATH_BYTES];
    const bufBytes = cWords[w + C_BUF_BYTES];
    let p = at + CHUNK_HEADER_BYTES;
    let ends: Int32Array | undefined;
    if ((flags & FLAG_ENDS) !== 0) {
      ends = cWords.subarray(p >> 2, (p >> 2) + lines);
      p += lines * 4;
    }
    const path = chunks.bytes.toString('utf8', p, p + pathBytes);
    p = at + cWords[w + C_BUF_AT];
    const chunk: LineChunk = {
      sourceId,
      path,
      buf: chunks.bytes.subarray(p, p + bufBytes),
      lines,
      truncated: (flags & FLAG_TRUNCATED) !== 0,
      mark: null, // the mark stays on the main thread, under seq
      readAt: cView.getFloat64(at + C_READ_AT_BYTE, true),
    };
    if (ends !== undefined) chunk.ends = ends;
    const src = counters.sources.get(sourceId);
    const srcLines = src === undefined ? 0 : src.lines;
    const srcBytes = src === undefined ? 0 : src.bytes;
    for (let k = 0; k < nKeys; k++) before[k] = counterBag[COUNTER_KEYS[k]];
    for (let k = 0; k < tCounters.length; k++) tBefore[k] = tCounters[k].dropped;

    const t0 = performance.now();
    let block: Block;
    try {
      block = processor.process(chunk);
    } catch (err) {
      fail(err);
      return;
    }
    const busyUs = Math.round((performance.now() - t0) * 1000);

    // The block goes out before the chunk is released: `raw` may be the chunk's own bytes.
    const nd = block.ndjson;
    const raw = block.raw;
    const ndLen = nd === null ? 0 : nd.length;
    const rawLen = raw === null ? 0 : raw.length;
    const srcAfter = counters.sources.get(sourceId);
    const dLines = srcAfter === undefined ? 0 : srcAfter.lines - srcLines;
    const dBytes = srcAfter === undefined ? 0 : srcAfter.bytes - srcBytes;
    const size = headerBytes + ndLen + rawLen + 2 * ALIGN_SLACK;
    if (size > blocks.maxRecord) {
      // Too big for the ring whatever its state (lines of megabytes): a message, same seq.
      const counterDeltas: number[] = [];
      for (let k = 0; k < nKeys; k++) counterDeltas.push(counterBag[COUNTER_KEYS[k]] - before[k]);
      send({
        type: 'BLOCK',
        seq,
        events: block.events,
        ndjson: nd === null ? null : new Uint8Array(nd),
        raw: raw === null ? null : new Uint8Array(raw),
        busyUs,
        sourceLines: dLines,
        sourceBytes: dBytes,
        counters: counterDeltas,
        transforms: tCounters.map((t, k) => t.dropped - tBefore[k]),
      });
    } else {
      let o = blocks.reserve(size);
      while (o < 0) {
        // The main thread is behind: sleep until it frees room. If it went away for good it
        // terminates us (workers.ts close()), so this cannot hang the process.
        blocks.waitForRoom(ROOM_WAIT_MS);
        o = blocks.reserve(size);
      }
      const b = o >> 2;
      bWords[b + B_SEQ] = seq;
      bWords[b + B_EVENTS] = block.events;
      bWords[b + B_NDJSON_BYTES] = nd === null ? -1 : ndLen;
      bWords[b + B_RAW_BYTES] = raw === null ? -1 : rawLen;
      bWords[b + B_BUSY_US] = busyUs;
      bWords[b + B_SOURCE_LINES] = dLines;
      bWords[b + B_SOURCE_BYTES] = dBytes;
      for (let k = 0; k < nKeys; k++) {
        bWords[b + B_COUNTERS + k] = counterBag[COUNTER_KEYS[k]] - before[k];
      }
      for (let k = 0; k < tCounters.length; k++) {
        bWords[b + B_TRANSFORMS + k] = tCounters[k].dropped - tBefore[k];
      }
      // Each run at its source's alignment: copies into shared memory go 8 bytes at a time.
      let q = o + headerBytes;
      if (nd !== null) {
        q = alignLike(q, nd.byteOffset);
        bWords[b + B_NDJSON_AT] = q - o;
        blocks.bytes.set(nd, q);
        q += ndLen;
      }
      if (raw !== null) {
        q = alignLike(q, raw.byteOffset);
        bWords[b + B_RAW_AT] = q - o;
        blocks.bytes.set(raw, q);
      }
      blocks.commit();
    }
    chunks.release();
  }
  blocks.close();
  send({ type: 'FINISH' });
}
