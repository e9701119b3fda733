// /metrics: the counters in the Prometheus text exposition format (version 0.0.4), with the
// conventional names and units: *_total counters, *_bytes, *_seconds, histograms as _bucket
// (cumulative, le in seconds) + _sum + _count. Labels carry component names from the config,
// never config values (a token or a URL with credentials can never end up in a label).
// https://prometheus.io/docs/instrumenting/exposition_formats/

import type { Counters, SinkCounters, SourceCounters } from './counters.js';
import { BUCKET_BOUNDS_US, type LatencyHistogram } from './latency.js';
import type { PipelineView } from './sampler.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsInput {
  counters: Counters;
  /** The running pipeline; undefined while a reload swaps it (gauges then read 0). */
  view: PipelineView | undefined;
  version: string;
  node: string;
  rssBytes: number;
  cpuSeconds: number;
  startTimeSeconds: number;
}

/** Label values escape backslash, double quote and newline (the format's only escapes). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function num(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** Bucket bounds in seconds, as `le` shows them ("0.00025", "2.5", "+Inf"). */
const LE = [...BUCKET_BOUNDS_US.map((us) => num(us / 1e6)), '+Inf'];

/** A metric family read from each component's counters: name, type, help, value. */
type Family<T> = [string, 'counter' | 'gauge', string, (t: T) => number];

class Writer {
  private out: string[] = [];

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string): void {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  }

  sample(name: string, labels: Record<string, string>, value: number): void {
    const keys = Object.keys(labels);
    const l =
      keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${label(labels[k])}"`).join(',')}}`;
    this.out.push(`${name}${l} ${num(value)}`);
  }

  /** Families with one sample per component, labelled `key`: `entries` are [name, counters]. */
  perComponent<T>(key: string, entries: Iterable<[string, T]>, families: Family<T>[]): void {
    const list = [...entries];
    for (const [name, type, help, value] of families) {
      this.family(name, type, help);
      for (const [id, t] of list) this.sample(name, { [key]: id }, value(t));
    }
  }

  /** One metric family with one sample (no labels). */
  one(name: string, type: 'counter' | 'gauge', help: string, value: number): void {
    this.family(name, type, help);
    this.sample(name, {}, value);
  }

  histogram(name: string, labels: Record<string, string>, h: LatencyHistogram): void {
    let cumulative = 0;
    for (let i = 0; i < LE.length; i++) {
      cumulative += h.buckets[i];
      this.sample(`${name}_bucket`, { ...labels, le: LE[i] }, cumulative);
    }
    this.sample(`${name}_sum`, labels, h.sumUs / 1e6);
    this.sample(`${name}_count`, labels, h.count);
  }

  text(): string {
    return this.out.join('\n') + '\n';
  }
}

const SOURCE_FAMILIES: Family<SourceCounters>[] = [
  ['ves_source_lines_total', 'counter', 'Lines read, per source.', (s) => s.lines],
  ['ves_source_bytes_total', 'counter', 'Bytes read (whole lines), per source.', (s) => s.bytes],
  [
    'ves_source_dropped_total',
    'counter',
    'Messages a source dropped because it cannot wait (UDP syslog while the pipeline is over its bound).',
    (s) => s.dropped,
  ],
  [
    'ves_source_connections',
    'gauge',
    'Connections open now, per network source.',
    (s) => s.connections,
  ],
];

const SINK_FAMILIES: Family<SinkCounters>[] = [
  [
    'ves_sink_events_total',
    'counter',
    'Events the sink delivered (its write resolved).',
    (s) => s.events,
  ],
  [
    'ves_sink_bytes_total',
    'counter',
    'Encoded bytes the sink delivered (NDJSON or raw, before compression).',
    (s) => s.bytes,
  ],
  ['ves_sink_errors_total', 'counter', 'Failed sink writes (each is retried).', (s) => s.errors],
];

export function renderMetrics(m: MetricsInput): string {
  const c = m.counters;
  const w = new Writer();
  w.family('ves_build_info', 'gauge', 'The running agent: version and Node.js version (always 1).');
  w.sample('ves_build_info', { version: m.version, node: m.node }, 1);

  w.perComponent('source', c.sources, SOURCE_FAMILIES);
  httpSourceMetrics(w, c);

  w.perComponent('sink', c.sinks, SINK_FAMILIES);
  w.family(
    'ves_sink_healthy',
    'gauge',
    '1 when the sink is healthy (as /health judges it), else 0.',
  );
  const health = m.view?.health().sinks ?? [];
  for (const h of health) w.sample('ves_sink_healthy', { sink: h.id }, h.healthy ? 1 : 0);

  w.one('ves_parse_errors_total', 'counter', 'Lines a parser could not parse.', c.parseErrors);
  w.family(
    'ves_transform_dropped_total',
    'counter',
    'Events a transform dropped (filter, sample, throttle), per transform name.',
  );
  for (const [name, t] of c.transforms) {
    w.sample('ves_transform_dropped_total', { transform: name }, t.dropped);
  }
  w.one(
    'ves_truncated_lines_total',
    'counter',
    'Lines cut at max_line_bytes (flagged truncated).',
    c.truncatedLines,
  );
  w.family(
    'ves_events_dropped_total',
    'counter',
    'Events given up on: dropped by a full buffer (when_full: drop_newest), refused for good by the destination (kept in the dead-letter file), or dropped by a source that cannot wait (UDP).',
  );
  w.sample('ves_events_dropped_total', { reason: 'buffer_full' }, c.droppedEvents);
  w.sample('ves_events_dropped_total', { reason: 'rejected' }, c.deadLetteredEvents);
  let sourceDropped = 0;
  for (const s of c.sources.values()) sourceDropped += s.dropped;
  w.sample('ves_events_dropped_total', { reason: 'source' }, sourceDropped);
  w.one(
    'ves_backpressure_pauses_total',
    'counter',
    'Times the sources paused because the in-flight bound was reached.',
    c.backpressurePauses,
  );
  w.one('ves_batches_total', 'counter', 'Batches sealed and handed to the sinks.', c.batches);
  const q = m.view?.inFlight;
  w.one(
    'ves_queue_batches',
    'gauge',
    'Sealed batches not yet acknowledged by every sink.',
    q?.batches ?? 0,
  );
  w.one(
    'ves_queue_bytes',
    'gauge',
    'Bytes of batches that some sink has not acknowledged yet.',
    q?.bytes ?? 0,
  );
  w.family('ves_config_reloads_total', 'counter', 'SIGHUP config reloads, by result.');
  w.sample('ves_config_reloads_total', { result: 'success' }, c.reloads);
  w.sample('ves_config_reloads_total', { result: 'failure' }, c.reloadFailures);

  w.family(
    'ves_batch_handoff_latency_seconds',
    'histogram',
    "From reading a batch's first line to sealing the batch and handing it to the sinks.",
  );
  w.histogram('ves_batch_handoff_latency_seconds', {}, c.latency.handoff);
  w.family(
    'ves_sink_ack_latency_seconds',
    'histogram',
    "From reading a batch's first line to the sink acknowledging the batch.",
  );
  for (const [id, s] of c.sinks) w.histogram('ves_sink_ack_latency_seconds', { sink: id }, s.ack);

  w.one('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', m.rssBytes);
  w.one(
    'process_cpu_seconds_total',
    'counter',
    'Total user and system CPU time spent in seconds (every thread).',
    m.cpuSeconds,
  );
  w.one(
    'process_start_time_seconds',
    'gauge',
    'Start time of the process since the Unix epoch in seconds.',
    m.startTimeSeconds,
  );
  return w.text();
}

/** The live inputs of the running process. */
export function processMetrics(): Pick<
  MetricsInput,
  'rssBytes' | 'cpuSeconds' | 'startTimeSeconds' | 'node'
> {
  const cpu = process.cpuUsage();
  return {
    rssBytes: process.memoryUsage.rss(),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startTimeSeconds: Math.round((Date.now() - process.uptime() * 1000) / 1000),
    node: process.version,
  };
}

/** The http sources' requests by status and bytes received; absent without an http source. */
function httpSourceMetrics(w: Writer, c: Counters): void {
  const http = [...c.sources].filter(([, s]) => s.http !== undefined);
  if (http.length === 0) return;
  w.family(
    'ves_http_source_requests_total',
    'counter',
    'Requests an http source answered, per source and HTTP status.',
  );
  for (const [id, s] of http) {
    const byStatus = [...s.http!.requests].sort((a, b) => a[0] - b[0]);
    for (const [status, n] of byStatus) {
      w.sample('ves_http_source_requests_total', { source: id, status: String(status) }, n);
    }
  }
  w.family(
    'ves_http_source_received_bytes_total',
    'counter',
    'Request body bytes an http source received, as sent (before decompression).',
  );
  for (const [id, s] of http) {
    w.sample('ves_http_source_received_bytes_total', { source: id }, s.http!.bytes);
  }
}
