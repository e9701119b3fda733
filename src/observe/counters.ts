// The agent's running totals, plain numbers bumped on the hot path (no objects per event);
// the stats line, /metrics, /stats and the dashboard read them. One Counters outlives a config
// reload (run.ts hands it to each new Pipeline), so totals never jump back to zero on SIGHUP.

import { Latency, LatencyHistogram } from './latency.js';

/** Totals of one source (`sources.<name>`), bumped once per chunk, not per line. */
export interface SourceCounters {
  lines: number;
  bytes: number;
  /** http sources only (set by the source at build): requests answered, by HTTP status, and
   *  body bytes as received (before decompression). Bumped once per request / read. */
  http?: { requests: Map<number, number>; bytes: number };
}

/** Totals of one transform (`transforms[]` entry, by its name), bumped once per chunk. */
export interface TransformCounters {
  /** Events it dropped (filter, sample, throttle): ves_transform_dropped_total{transform}. */
  dropped: number;
}

/** Totals and health of one sink (`sinks.<name>`), bumped once per batch by observeSink. */
export interface SinkCounters {
  /** Events and encoded bytes (before compression) the sink's destination accepted. */
  events: number;
  bytes: number;
  /** Writes that failed (each one is retried, or the sink is gone for good). */
  errors: number;
  /** Writes that failed since the last one that succeeded; 0 when the sink is fine. */
  failuresInARow: number;
  /** Date.now() of the first failure of the current run of failures; 0 when fine. */
  failingSince: number;
  /** The last error's code and message (messages name paths and hosts, never credentials). */
  lastError: string | null;
  /** Failed for good (VES_SINK_CLOSED): the agent is stopping. */
  dead: boolean;
  /** Ingest (read) -> the sink's write resolved, per batch. */
  ack: LatencyHistogram;
}

export class Counters {
  linesIn = 0;
  bytesIn = 0;
  truncatedLines = 0;
  /** Summed over sinks: with two sinks every event counts twice. Per sink: `sinks`. */
  eventsOut = 0;
  bytesOut = 0;
  batches = 0;
  /** Failed sink writes (each failure but a fatal one is retried: this is also the retries). */
  sinkErrors = 0;
  backpressurePauses = 0;
  /** Batches (and their events) dropped by a full buffer with `when_full: drop_newest`. */
  droppedBatches = 0;
  droppedEvents = 0;
  /** Batches (and events) refused for good and written to <data_dir>/dead-letter/<sink>.ndjson. */
  deadLetteredBatches = 0;
  deadLetteredEvents = 0;
  /** Lines a parser could not parse (they travel on as `message` only). Parsers bump it. */
  parseErrors = 0;
  /** Events given up on: refused for good by a destination, or dropped by a full buffer. */
  dropped = 0;
  /** Events dropped by transforms, all of them (per transform: `transforms`). A plain number,
   *  so parse workers carry it back with the other COUNTER_KEYS. */
  transformDropped = 0;
  /** SIGHUP reloads, by outcome. */
  reloads = 0;
  reloadFailures = 0;
  /** Batch handoff (ingest -> sealed) and sink acknowledgement (ingest -> acked) latency. */
  readonly latency = new Latency();
  /** In config order; entries stay after a reload drops their component (totals are totals). */
  readonly sources = new Map<string, SourceCounters>();
  readonly sinks = new Map<string, SinkCounters>();
  readonly transforms = new Map<string, TransformCounters>();

  /** The per-source totals of `id`, created on first use (at build time, off the hot path). */
  source(id: string): SourceCounters {
    let s = this.sources.get(id);
    if (s === undefined) {
      s = { lines: 0, bytes: 0 };
      this.sources.set(id, s);
    }
    return s;
  }

  /** Once per chunk: a Map lookup, not a per-line cost. */
  sourceChunk(id: string, lines: number, bytes: number): void {
    const s = this.sources.get(id) ?? this.source(id);
    s.lines += lines;
    s.bytes += bytes;
  }

  /** The per-transform totals of `name`, created on first use (at build time). */
  transform(name: string): TransformCounters {
    let t = this.transforms.get(name);
    if (t === undefined) {
      t = { dropped: 0 };
      this.transforms.set(name, t);
    }
    return t;
  }

  /** The per-sink totals of `id`; a (re)built sink starts healthy. */
  sink(id: string, fresh = false): SinkCounters {
    let s = this.sinks.get(id);
    if (s === undefined) {
      s = {
        events: 0,
        bytes: 0,
        errors: 0,
        failuresInARow: 0,
        failingSince: 0,
        lastError: null,
        dead: false,
        ack: new LatencyHistogram(),
      };
      this.sinks.set(id, s);
    } else if (fresh) {
      s.failuresInARow = 0;
      s.failingSince = 0;
      s.lastError = null;
      s.dead = false;
    }
    return s;
  }
}
