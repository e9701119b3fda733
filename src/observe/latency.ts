// Latency histograms: ingest -> batch handoff (recorded as a batch is sealed) and ingest -> sink
// acknowledgement (recorded as a sink's write resolves), once per batch, never per line.
//
// Each histogram keeps three views of the same values:
//   total   HDR histogram since the start: percentiles for /stats and the bench report
//   window  HDR histogram since the last takeWindow(): the live line's p50/p99/p999 per second
//   buckets fixed Prometheus buckets (cumulated when rendered) with an exact sum, for /metrics
// Values are whole microseconds: the clock (performance.now()) is finer, the batches coarser.

// The class itself, not the package index: the index also pulls in a WebAssembly build (39 KB of
// base64) and pako for the log codec, which the bundle does not need.
import hdr from 'hdr-histogram-js/dist/Int32Histogram.js';
import type { Batch } from '../pipeline/types.js';

type Int32HistogramClass = typeof hdr.default;
type Histogram = InstanceType<Int32HistogramClass>;
// A CommonJS module: Node and the esbuild bundle give its exports object as the default import
// (the class is its `default`), vitest gives the class itself.
const Int32Histogram: Int32HistogramClass =
  (hdr as { default?: Int32HistogramClass }).default ?? (hdr as unknown as Int32HistogramClass);

/** 1 µs .. 1 h: a batch older than an hour is recorded as an hour (a sink down that long is
 *  reported by /health, not by a percentile). */
const LOWEST_US = 1;
const HIGHEST_US = 3_600_000_000;
/**
 * 2 significant digits: percentiles within 1% (0.60 ms reads as 0.60, not 0.6004), finer than
 * the jitter of a timer-driven event loop; each histogram then holds ~3,600 counts (14 KB)
 * instead of ~23,000 (92 KB) with 3 digits, and there are two per sink plus two per pipeline.
 */
const SIGNIFICANT_DIGITS = 2;

/**
 * Upper bounds of the Prometheus buckets, in microseconds (rendered in seconds): 100 µs
 * resolves the p99 < 1 ms handoff target (DESIGN.md), 5 ms is the default batch timeout, and
 * 30 s covers a sink that is retrying with its longest backoff.
 */
export const BUCKET_BOUNDS_US: readonly number[] = [
  100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
  2_500_000, 5_000_000, 10_000_000, 30_000_000,
];

export interface Percentiles {
  /** Milliseconds; NaN when nothing was recorded. */
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

function newHistogram(): Histogram {
  const h = new Int32Histogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS);
  h.autoResize = false;
  return h;
}

function percentilesOf(h: Histogram): Percentiles {
  const n = h.totalCount;
  if (n === 0) return { p50: NaN, p95: NaN, p99: NaN, p999: NaN, max: NaN, count: 0 };
  // HDR answers the top of a value's 1% bucket; never more than the largest value seen.
  const ms = (p: number) => Math.min(h.getValueAtPercentile(p), h.maxValue) / 1000;
  return {
    p50: ms(50),
    p95: ms(95),
    p99: ms(99),
    p999: ms(99.9),
    max: h.maxValue / 1000,
    count: n,
  };
}

export class LatencyHistogram {
  private readonly total = newHistogram();
  private window = newHistogram();
  /** Count per bucket (not cumulated); the last slot is +Inf. */
  readonly buckets = new Float64Array(BUCKET_BOUNDS_US.length + 1);
  /** Exact sum of what was recorded, in microseconds, and how many values. */
  sumUs = 0;
  count = 0;

  /** Once per batch: two array increments and a short bucket scan. */
  recordMs(ms: number): void {
    // A clock from another process (a batch read back from a disk buffer) or a negative
    // difference cannot be a latency of ours.
    if (!(ms >= 0)) return;
    let us = Math.round(ms * 1000);
    if (us < LOWEST_US) us = LOWEST_US;
    else if (us > HIGHEST_US) us = HIGHEST_US;
    this.total.recordValue(us);
    this.window.recordValue(us);
    const bounds = BUCKET_BOUNDS_US;
    let i = 0;
    while (i < bounds.length && us > bounds[i]) i++;
    this.buckets[i]++;
    this.sumUs += us;
    this.count++;
  }

  /** Percentiles since the start. */
  percentiles(): Percentiles {
    return percentilesOf(this.total);
  }

  /** Any percentile since the start, in milliseconds (NaN when empty): the bench report plot. */
  valueAt(percentile: number): number {
    const t = this.total;
    return t.totalCount === 0
      ? NaN
      : Math.min(t.getValueAtPercentile(percentile), t.maxValue) / 1000;
  }

  /** Percentiles since the previous call, then a fresh window. One reader (the Sampler) calls it. */
  takeWindow(): Percentiles {
    const p = percentilesOf(this.window);
    if (p.count > 0) this.window.reset();
    return p;
  }
}

/** The pipeline-wide histograms. Per-sink ones live in Counters.sinks (forSink). */
export class Latency {
  /** Earliest read of a line in the batch -> the batch sealed and handed to the sinks. */
  readonly handoff = new LatencyHistogram();
  /** Earliest read of a line in the batch -> a sink acknowledged it (every sink, every batch). */
  readonly ack = new LatencyHistogram();

  /** Pipeline.onBatch: once per sealed batch. */
  sealed(batch: Batch): void {
    this.handoff.recordMs(batch.sealedAt - batch.firstReadAt);
  }

  /** observeSink: a sink's write of `batch` resolved `now` (performance.now()). */
  acked(sink: LatencyHistogram, batch: Batch, now: number): void {
    const ms = now - batch.firstReadAt;
    sink.recordMs(ms);
    this.ack.recordMs(ms);
  }
}
