// The live stats line (--stats, --demo): one line a second on stderr, redrawn in place on a TTY,
// plain lines elsewhere (so logs and CI output stay readable). Reads the pipeline counters only.

import type { Counters } from './counters.js';

export interface StatsLineOptions {
  intervalMs?: number;
  stream?: NodeJS.WriteStream;
  /** Extra text at the end of the line (e.g. the demo's log path). */
  suffix?: () => string;
}

const fmtRate = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);

/** Starts the line; returns a function that stops it and ends the TTY line cleanly. */
export function startStatsLine(counters: Counters, opts: StatsLineOptions = {}): () => void {
  const stream = opts.stream ?? process.stderr;
  const intervalMs = opts.intervalMs ?? 1000;
  const tty = stream.isTTY === true;
  let last = { t: performance.now(), cpu: process.cpuUsage(), linesIn: 0, bytesIn: 0, out: 0 };
  let drawn = false;
  const timer = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const dt = (now - last.t) / 1000;
    // cpuUsage is process-wide (all threads), in microseconds: % of one core.
    const cpuPct = ((cpu.user - last.cpu.user + cpu.system - last.cpu.system) / 1e4 / dt).toFixed(
      0,
    );
    const linesPerS = (counters.linesIn - last.linesIn) / dt;
    const mbPerS = (counters.bytesIn - last.bytesIn) / dt / 1e6;
    const outPerS = (counters.eventsOut - last.out) / dt;
    const rssMb = (process.memoryUsage.rss() / 1048576).toFixed(0);
    let line =
      `in ${fmtRate(linesPerS)} lines/s ${mbPerS.toFixed(1)} MB/s | out ${fmtRate(outPerS)} ev/s` +
      ` | CPU ${cpuPct}% | RSS ${rssMb} MB | total ${counters.linesIn} in, ${counters.eventsOut} out` +
      (counters.sinkErrors ? ` | sink errors ${counters.sinkErrors}` : '') +
      (counters.truncatedLines ? ` | truncated ${counters.truncatedLines}` : '');
    if (opts.suffix) line += ` | ${opts.suffix()}`;
    stream.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    drawn = true;
    last = {
      t: now,
      cpu,
      linesIn: counters.linesIn,
      bytesIn: counters.bytesIn,
      out: counters.eventsOut,
    };
  }, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (tty && drawn) stream.write('\n');
  };
}
