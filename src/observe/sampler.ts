// Once a second, turns the counters into a Snapshot: rates over the last interval, CPU % of the
// whole process (pidusage), RSS, latency percentiles of the interval, queue depth, per-source
// and per-sink tables, recent problems. The --stats line, /stats, /events and the dashboard all
// read the same snapshots, so they agree and the process is sampled once however many watch.

import pidusage from 'pidusage';
import { VERSION } from '../version.js';
import type { InFlight } from '../engine/acker.js';
import type { Counters } from './counters.js';
import type { SinkHealth } from './health.js';
import type { Percentiles } from './latency.js';
import type { LogRecord } from './logger.js';

/** What the sampler reads from the running pipeline (none while a reload swaps it). */
export interface PipelineView {
  readonly inFlight: Readonly<InFlight>;
  health(): { running: boolean; sinks: SinkHealth[] };
}

export interface SourceRow {
  id: string;
  lines_total: number;
  bytes_total: number;
  lines_per_s: number;
  bytes_per_s: number;
}

export interface SinkRow {
  id: string;
  events_total: number;
  bytes_total: number;
  events_per_s: number;
  errors_total: number;
  healthy: boolean;
  reason: string | null;
  last_error: string | null;
  failing_since: string | null;
  /** Ingest -> this sink's ack over the whole run, milliseconds (null before the first batch). */
  ack_p99_ms: number;
}

/** One point of the charts: kept for the last minutes, sent to a dashboard as it connects. */
export interface Point {
  /** Date.now() */
  t: number;
  in_lps: number;
  out_eps: number;
  in_bps: number;
  out_bps: number;
  cpu: number;
  rss: number;
  /** Latency of the interval, milliseconds (null when no batch). */
  h50: number;
  h99: number;
  h999: number;
  a50: number;
  a99: number;
  a999: number;
}

export interface Snapshot {
  version: string;
  time: string;
  uptime_s: number;
  /** Seconds the rates cover. */
  interval_s: number;
  /** ok | unhealthy (a sink is failing) | stopping | starting (no pipeline yet, or reloading). */
  status: 'ok' | 'unhealthy' | 'stopping' | 'starting';
  in: { lines_per_s: number; bytes_per_s: number; lines_total: number; bytes_total: number };
  /** Summed over sinks (an event delivered to two sinks counts twice). */
  out: { events_per_s: number; bytes_per_s: number; events_total: number; bytes_total: number };
  /** % of one core, whole process (every thread). */
  cpu_percent: number;
  rss_bytes: number;
  /** Milliseconds. `handoff`/`ack`: this interval; `*_total`: since the start. NaN -> null. */
  latency_ms: {
    handoff: Percentiles;
    ack: Percentiles;
    handoff_total: Percentiles;
    ack_total: Percentiles;
  };
  /** Sealed batches not yet acknowledged by every sink. */
  queue: { batches: number; events: number; bytes: number };
  retries: number;
  dropped: number;
  parse_errors: number;
  truncated_lines: number;
  backpressure_pauses: number;
  batches_total: number;
  reloads: number;
  reload_failures: number;
  sources: SourceRow[];
  sinks: SinkRow[];
  /** Latest warnings and errors, newest last. */
  errors: LogRecord[];
  point: Point;
}

/** Keeps the last warnings and errors the agent logged (the logger's onProblem). */
export class RecentProblems {
  private readonly items: LogRecord[] = [];
  /** 20: a screenful on the dashboard; older ones are in the agent's log. */
  constructor(private readonly max = 20) {}
  add = (r: LogRecord): void => {
    this.items.push(r);
    if (this.items.length > this.max) this.items.shift();
  };
  list(): LogRecord[] {
    return this.items.slice();
  }
}

export interface SamplerOptions {
  view: () => PipelineView | undefined;
  problems?: RecentProblems;
  intervalMs?: number;
  /** Chart history: 600 one-second points = the last 10 minutes, ~100 KB. */
  historyPoints?: number;
  /** CPU % and RSS of the process; pidusage unless given (tests give a fixed one). */
  usage?: () => Promise<{ cpu: number; rss: number }>;
}

interface Mark {
  t: number;
  linesIn: number;
  bytesIn: number;
  eventsOut: number;
  bytesOut: number;
  sources: Map<string, { lines: number; bytes: number }>;
  sinks: Map<string, number>;
}

/** How long a tick waits for pidusage (a read of /proc/<pid>/stat takes well under 1 ms). */
const PIDUSAGE_WAIT_MS = 100;

const EMPTY_INFLIGHT: InFlight = { batches: 0, bytes: 0, events: 0 };

export class Sampler {
  latest: Snapshot | undefined;
  private readonly points: Point[] = [];
  private readonly listeners = new Set<(s: Snapshot) => void>();
  private timer: NodeJS.Timeout | undefined;
  private last: Mark;
  private readonly started = performance.now();
  private lastCpu = process.cpuUsage();
  private sampling = false;

  constructor(
    private readonly counters: Counters,
    private readonly opts: SamplerOptions,
  ) {
    this.last = this.mark(performance.now());
    // pidusage answers the CPU % since its previous call for this pid: a first call now makes
    // the first tick's figure cover the first interval (alone, it would cover ~0 s and read 0%).
    if (!opts.usage) pidusage(process.pid).catch(() => undefined);
  }

  start(): this {
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.tick(), this.opts.intervalMs ?? 1000);
      this.timer.unref();
    }
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called with every new snapshot; returns the unsubscribe function. */
  subscribe(fn: (s: Snapshot) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  history(): Point[] {
    return this.points.slice();
  }

  /** Take a snapshot now (the timer calls it; tests and the bench's last line too). */
  async tick(): Promise<Snapshot | undefined> {
    if (this.sampling) return undefined; // a slow /proc read must not pile up ticks
    this.sampling = true;
    try {
      const usage = await (this.opts.usage ?? this.processUsage)();
      const snap = this.snapshot(usage.cpu, usage.rss);
      this.latest = snap;
      this.points.push(snap.point);
      const max = this.opts.historyPoints ?? 600;
      if (this.points.length > max) this.points.splice(0, this.points.length - max);
      for (const fn of this.listeners) fn(snap);
      return snap;
    } finally {
      this.sampling = false;
    }
  }

  /** CPU % since the last call and RSS, from /proc through pidusage; process.cpuUsage() if that fails. */
  private readonly processUsage = async (): Promise<{ cpu: number; rss: number }> => {
    const now = process.cpuUsage();
    const dtUs = (performance.now() - this.last.t) * 1000;
    const fallbackCpu =
      dtUs > 0
        ? ((now.user - this.lastCpu.user + now.system - this.lastCpu.system) / dtUs) * 100
        : 0;
    this.lastCpu = now;
    // pidusage's first call runs `getconf` twice (clock tick, page size): on a busy host that
    // can take long, and a tick must not wait for it. The figures are then Node's own.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>(
      (r) => (timer = setTimeout(() => r(undefined), PIDUSAGE_WAIT_MS)),
    );
    try {
      const u = await Promise.race([pidusage(process.pid), late]);
      if (u !== undefined) return { cpu: u.cpu, rss: u.memory };
    } catch {
      // below
    } finally {
      clearTimeout(timer);
    }
    return { cpu: fallbackCpu, rss: process.memoryUsage.rss() };
  };

  private mark(t: number): Mark {
    const c = this.counters;
    const sources = new Map<string, { lines: number; bytes: number }>();
    for (const [id, s] of c.sources) sources.set(id, { lines: s.lines, bytes: s.bytes });
    const sinks = new Map<string, number>();
    for (const [id, s] of c.sinks) sinks.set(id, s.events);
    return {
      t,
      linesIn: c.linesIn,
      bytesIn: c.bytesIn,
      eventsOut: c.eventsOut,
      bytesOut: c.bytesOut,
      sources,
      sinks,
    };
  }

  private snapshot(cpu: number, rss: number): Snapshot {
    const c = this.counters;
    const now = performance.now();
    const prev = this.last;
    const m = this.mark(now);
    this.last = m;
    const dt = Math.max(1e-3, (now - prev.t) / 1000);
    // Rounded to 0.1: the JSON stays short, and no one reads rates finer than that.
    const rate = (a: number, b: number) => Math.max(0, Math.round(((a - b) / dt) * 10) / 10);
    const view = this.opts.view();
    const health = view?.health();
    const sinkHealth = new Map((health?.sinks ?? []).map((h) => [h.id, h]));
    const status: Snapshot['status'] =
      health === undefined
        ? 'starting'
        : !health.running
          ? 'stopping'
          : health.sinks.every((h) => h.healthy)
            ? 'ok'
            : 'unhealthy';
    const handoff = c.latency.handoff.takeWindow();
    const ack = c.latency.ack.takeWindow();
    const q = view?.inFlight ?? EMPTY_INFLIGHT;
    const sources: SourceRow[] = [];
    for (const [id, s] of c.sources) {
      const p = prev.sources.get(id) ?? { lines: 0, bytes: 0 };
      sources.push({
        id,
        lines_total: s.lines,
        bytes_total: s.bytes,
        lines_per_s: rate(s.lines, p.lines),
        bytes_per_s: rate(s.bytes, p.bytes),
      });
    }
    const sinks: SinkRow[] = [];
    for (const [id, s] of c.sinks) {
      const h = sinkHealth.get(id);
      sinks.push({
        id,
        events_total: s.events,
        bytes_total: s.bytes,
        events_per_s: rate(s.events, prev.sinks.get(id) ?? 0),
        errors_total: s.errors,
        // A sink the running config no longer has is shown with its totals, as healthy.
        healthy: h?.healthy ?? true,
        reason: h?.reason ?? null,
        last_error: s.lastError,
        failing_since: h?.failingSince ?? null,
        ack_p99_ms: s.ack.percentiles().p99,
      });
    }
    const inLps = rate(m.linesIn, prev.linesIn);
    const outEps = rate(m.eventsOut, prev.eventsOut);
    const inBps = rate(m.bytesIn, prev.bytesIn);
    const outBps = rate(m.bytesOut, prev.bytesOut);
    return {
      version: VERSION,
      time: new Date().toISOString(),
      uptime_s: Math.round((now - this.started) / 100) / 10,
      interval_s: Math.round(dt * 1000) / 1000,
      status,
      in: {
        lines_per_s: inLps,
        bytes_per_s: inBps,
        lines_total: m.linesIn,
        bytes_total: m.bytesIn,
      },
      out: {
        events_per_s: outEps,
        bytes_per_s: outBps,
        events_total: m.eventsOut,
        bytes_total: m.bytesOut,
      },
      cpu_percent: Math.round(cpu * 10) / 10,
      rss_bytes: rss,
      latency_ms: {
        handoff,
        ack,
        handoff_total: c.latency.handoff.percentiles(),
        ack_total: c.latency.ack.percentiles(),
      },
      queue: { batches: q.batches, events: q.events, bytes: q.bytes },
      retries: c.sinkErrors,
      dropped: c.dropped,
      parse_errors: c.parseErrors,
      truncated_lines: c.truncatedLines,
      backpressure_pauses: c.backpressurePauses,
      batches_total: c.batches,
      reloads: c.reloads,
      reload_failures: c.reloadFailures,
      sources,
      sinks,
      errors: this.opts.problems?.list() ?? [],
      point: {
        t: Date.now(),
        in_lps: inLps,
        out_eps: outEps,
        in_bps: inBps,
        out_bps: outBps,
        cpu: Math.round(cpu * 10) / 10,
        rss,
        h50: handoff.p50,
        h99: handoff.p99,
        h999: handoff.p999,
        a50: ack.p50,
        a99: ack.p99,
        a999: ack.p999,
      },
    };
  }
}
