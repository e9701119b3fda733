// Sink health and per-sink totals, seen from outside the sink: observeSink wraps a built sink's
// write() (once per batch) to count what it delivered, time its acknowledgement and remember its
// failures; sinkHealth() turns that into the healthy / failing verdict /health serves.
//
// Wrapping the sink (not the runner that retries it) sees every real write, whatever calls it:
// the retry loop, or a disk buffer draining into the sink.

import type { Batch, Sink } from '../pipeline/types.js';
import type { Counters, SinkCounters } from './counters.js';
import { redact } from './logger.js';

/**
 * A sink is unhealthy once this many writes in a row failed (with the runner's backoff of
 * 100 ms doubling, ~0.3-0.7 s after the first failure), or once it has been failing for
 * FAILING_FOR_MS: one failed write that the next retry fixes is a blip, not an outage.
 */
export const FAILURES_IN_A_ROW = 3;
export const FAILING_FOR_MS = 10_000;

export interface SinkHealth {
  id: string;
  healthy: boolean;
  /** Why not, for people: "3 writes failed in a row over 0.6 s: <error>". null when healthy. */
  reason: string | null;
  lastError: string | null;
  /** ISO time of the first failure of the current run of failures; null when fine. */
  failingSince: string | null;
  failuresInARow: number;
}

/** The sink, with its writes counted, timed and their failures kept in `counters.sink(id)`. */
export function observeSink(id: string, sink: Sink, counters: Counters): Sink {
  const s = counters.sink(id, true);
  const latency = counters.latency;
  const ndjson = sink.wants.ndjson;
  const onOk = (batch: Batch): void => {
    const buf = ndjson ? batch.ndjson : batch.raw;
    s.events += batch.events;
    s.bytes += buf === null ? 0 : buf.length;
    s.failuresInARow = 0;
    s.failingSince = 0;
    if (batch.events > 0) latency.acked(s.ack, batch, performance.now());
  };
  const onFail = (err: unknown): never => {
    s.errors++;
    if (s.failuresInARow++ === 0) s.failingSince = Date.now();
    const e = err as { code?: string; message?: string };
    s.lastError = redact(`${e.code ?? 'VES_SINK_WRITE'}: ${e.message ?? String(err)}`);
    if (e.code === 'VES_SINK_CLOSED') s.dead = true;
    throw err;
  };
  // Every member of the Sink interface is passed on (a new optional one must be added here).
  const wrapped: Sink = {
    wants: sink.wants,
    concurrency: sink.concurrency,
    // One closure per batch (not per line): the bookkeeping needs the batch.
    write: (batch) =>
      sink.write(batch).then(
        () => onOk(batch),
        (err: unknown) => onFail(err),
      ),
    close: () => sink.close(),
  };
  if (sink.healthcheck) wrapped.healthcheck = () => sink.healthcheck!();
  return wrapped;
}

export function sinkHealth(id: string, s: SinkCounters, now = Date.now()): SinkHealth {
  const failingFor = s.failingSince === 0 ? 0 : now - s.failingSince;
  let reason: string | null = null;
  if (s.dead) {
    reason = `failed for good: ${s.lastError}`;
  } else if (s.failuresInARow >= FAILURES_IN_A_ROW || failingFor >= FAILING_FOR_MS) {
    const writes = s.failuresInARow === 1 ? '1 write' : `${s.failuresInARow} writes`;
    reason = `${writes} failed in a row over ${(failingFor / 1000).toFixed(1)} s: ${s.lastError}`;
  }
  return {
    id,
    healthy: reason === null,
    reason,
    lastError: s.lastError,
    failingSince: s.failingSince === 0 ? null : new Date(s.failingSince).toISOString(),
    failuresInARow: s.failuresInARow,
  };
}

/** Health of the named sinks (the running pipeline's), in that order. */
export function sinksHealth(counters: Counters, ids: readonly string[]): SinkHealth[] {
  const now = Date.now();
  return ids.map((id) => sinkHealth(id, counters.sink(id), now));
}
