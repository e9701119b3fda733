// The live stats line (--stats, --demo, bench): one line a second on stderr. On a terminal it is
// redrawn in place and fitted to the width; elsewhere (a pipe, a file, CI) it is one plain line
// per interval, so logs stay readable. Colour only on a terminal, and never with NO_COLOR set.

import type { Percentiles } from './latency.js';
import type { Sampler, Snapshot } from './sampler.js';
import { setLiveLine } from './tty.js';

export interface StatsLineOptions {
  stream?: NodeJS.WriteStream;
  /** Extra text at the end of the line (e.g. the demo's log path). */
  suffix?: () => string;
  /** Overrides the environment (tests): NO_COLOR set and not empty turns colour off. */
  env?: NodeJS.ProcessEnv;
}

export interface FormatOptions {
  color: boolean;
  /**
   * Terminal columns: the segments are packed into up to `rows` lines of this width, whole
   * (never cut); what does not fit is left out, the least important first.
   */
  width?: number;
  /** Lines a terminal may use; default 1. */
  rows?: number;
  suffix?: string;
}

/** https://no-color.org: colour only on a terminal, and not when NO_COLOR is set (non-empty). */
export function useColor(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return stream.isTTY === true && !env.NO_COLOR;
}

export const fmtRate = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);

export const fmtBytes = (n: number): string =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(1)} GB`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} MB`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(0)} kB`
        : `${n.toFixed(0)} B`;

/** Milliseconds with 2 significant digits below 10 (0.21, 4.5), whole above; `-` for none. */
export const fmtMs = (ms: number): string =>
  !Number.isFinite(ms) ? '-' : ms < 10 ? ms.toPrecision(2) : ms.toFixed(0);

const fmtLatency = (p: Percentiles): string =>
  p.count === 0 ? '-' : `${fmtMs(p.p50)}/${fmtMs(p.p99)}/${fmtMs(p.p999)} ms`;

/** The first line comes this soon (rates over that much time); the others every interval. */
const FIRST_LINE_MS = 300;

const SGR = {
  dim: '\x1b[2m',
  bold: '\x1b[1m',
  red: '\x1b[31m',
  yellow: '\x1b[33m',
  reset: '\x1b[0m',
};

/** The line for one snapshot (no cursor codes; with `width` and `rows` > 1, maybe several lines). */
export function formatStatsLine(s: Snapshot, o: FormatOptions): string {
  const c = o.color;
  const dim = (t: string) => (c ? `${SGR.dim}${t}${SGR.reset}` : t);
  const bold = (t: string) => (c ? `${SGR.bold}${t}${SGR.reset}` : t);
  const warn = (t: string, bad: boolean, color = SGR.red) =>
    c && bad ? `${color}${t}${SGR.reset}` : t;
  const lat = s.latency_ms;
  // Most important first: on a narrow terminal the tail is what goes.
  const segments: [plain: string, shown: string][] = [];
  const add = (label: string, value: string, style: (t: string) => string = bold) =>
    segments.push([`${label} ${value}`, `${dim(label)} ${style(value)}`]);
  add('in', `${fmtRate(s.in.lines_per_s)} lines/s ${(s.in.bytes_per_s / 1e6).toFixed(1)} MB/s`);
  add('out', `${fmtRate(s.out.events_per_s)} ev/s ${(s.out.bytes_per_s / 1e6).toFixed(1)} MB/s`);
  add('CPU', `${s.cpu_percent.toFixed(0)}%`);
  add('RSS', `${(s.rss_bytes / 1048576).toFixed(0)} MB`);
  add('handoff p50/p99/p999', fmtLatency(lat.handoff));
  add('ack', fmtLatency(lat.ack));
  add('queue', `${s.queue.batches} batches ${fmtBytes(s.queue.bytes)}`);
  add('retries', String(s.retries), (t) => warn(t, s.retries > 0, SGR.yellow));
  add('drops', String(s.dropped), (t) => warn(t, s.dropped > 0));
  add('parse errors', String(s.parse_errors), (t) => warn(t, s.parse_errors > 0, SGR.yellow));
  if (s.status === 'unhealthy') {
    const down = s.sinks.filter((k) => !k.healthy).map((k) => k.id);
    add('sink down', down.join(','), (t) => warn(t, true));
  }
  add('total', `${s.in.lines_total} in, ${s.out.events_total} out`, (t) => t);
  if (o.suffix) segments.push([o.suffix, dim(o.suffix)]);

  const sep = ' | ';
  const join = (row: string[]) => row.join(c ? dim(sep) : sep);
  if (o.width === undefined) return join(segments.map(([, styled]) => styled));
  // Greedy packing, in order: a segment that does not fit goes to the next row.
  const rows: string[][] = [[]];
  let len = 0;
  for (const [plain, styled] of segments) {
    const row = rows[rows.length - 1];
    const need = (row.length > 0 ? sep.length : 0) + plain.length;
    if (len + need <= o.width - 1) {
      row.push(styled);
      len += need;
      continue;
    }
    if (rows.length >= (o.rows ?? 1) || plain.length > o.width - 1) break;
    rows.push([styled]);
    len = plain.length;
  }
  return rows.map(join).join('\n');
}

/** Prints the sampler's snapshots; returns a function that stops and ends a TTY line cleanly. */
export function startStatsLine(sampler: Sampler, opts: StatsLineOptions = {}): () => void {
  const stream = opts.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const color = useColor(stream, opts.env);
  const unsubscribe = sampler.subscribe((s) => {
    const line = formatStatsLine(s, {
      color,
      width: tty ? (stream.columns ?? 120) : undefined,
      // Up to three rows on a terminal: every figure fits in 3 x 80 columns.
      rows: 3,
      suffix: opts.suffix?.(),
    });
    // Redrawn in place (\r, erase line); fitted to the width, so it never wraps.
    if (tty) setLiveLine(stream, line);
    else stream.write(`${line}\n`);
  });
  sampler.start();
  // A first line at once (well, after FIRST_LINE_MS): the demo shows life within 2 s.
  const first = setTimeout(() => void sampler.tick(), FIRST_LINE_MS);
  first.unref();
  return () => {
    clearTimeout(first);
    unsubscribe();
    if (tty) setLiveLine(stream, null);
  };
}
