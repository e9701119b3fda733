// Micro-benchmark of multiline aggregation (src/sources/multiline.ts) alone: a log of events
// with a stack trace every 20th event, in 256 KiB chunks of whole lines, per mode. Prints ns per
// input line and the events out.
//
//   node bench/micro/multiline.mjs [--lines 1000000] [--runs 7]
//
// The TypeScript is bundled on the fly with esbuild (a devDependency) into a temp dir, so the
// bench needs no build step and always measures the current source.

import { cpus } from 'node:os';
import { importTs, timeRuns } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LINES = arg('lines', 1_000_000);
const RUNS = arg('runs', 7);
const CHUNK = 256 * 1024;

const { MultilineAggregator } = await importTs('src/sources/multiline.ts');

// 2026-11-23 12:00:00.123 INFO request 17 served in 12 ms, and every 20th event an exception
// with a 6-frame trace: about a third of the lines are continuation lines.
const parts = [];
let lines = 0;
for (let i = 0; lines < LINES; i++) {
  parts.push(
    `2026-11-23 12:00:${String(i % 60).padStart(2, '0')}.123 INFO request ${i} served in ${i % 97} ms\n`,
  );
  lines++;
  if (i % 20 === 0) {
    parts.push(
      `2026-11-23 12:00:00.124 ERROR request ${i} failed\njava.lang.IllegalStateException: boom\n`,
    );
    for (let f = 0; f < 6; f++)
      parts.push(`\tat com.example.Service.handle${f}(Service.java:${100 + f})\n`);
    lines += 8;
  }
}
const corpus = Buffer.from(parts.join(''));
const chunks = [];
for (let s = 0; s < corpus.length;) {
  let e = Math.min(s + CHUNK, corpus.length);
  if (e < corpus.length) e = corpus.lastIndexOf(10, e - 1) + 1;
  const buf = corpus.subarray(s, e);
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  chunks.push({ buf, lines: n, end: e });
  s = e;
}

const MODES = {
  indented: { mode: 'indented' },
  start_prefix: { mode: 'start_prefix', prefix: '2026-' },
  start_pattern: { mode: 'start_pattern', pattern: '^\\d{4}-\\d\\d-\\d\\d ' },
};
const rows = [];
for (const [name, m] of Object.entries(MODES)) {
  let events = 0;
  const pass = () => {
    events = 0;
    const agg = new MultilineAggregator({ ...m, timeout: 1000, max_bytes: 1 << 20 }, (c) => {
      events += c.lines;
    });
    for (const c of chunks) {
      const mark = { sourceId: 's', key: 'fp:1', offset: c.end, path: '/p', dev: 1, ino: 1 };
      // A copy per pass would be measured too: the aggregator never writes to uncut chunks.
      agg.push({
        sourceId: 's',
        path: '/p',
        buf: c.buf,
        lines: c.lines,
        truncated: false,
        mark,
        readAt: 0,
      });
    }
    agg.flushAll();
  };
  const t = timeRuns(pass, RUNS);
  rows.push({
    mode: name,
    ns_per_line_best: +(t.best / lines).toFixed(1),
    ns_per_line_median: +(t.median / lines).toFixed(1),
    lines,
    events,
  });
}
const cpu = cpus()[0]?.model ?? 'unknown cpu';
console.log(
  `multiline, ${lines} lines (${(corpus.length / 1e6).toFixed(0)} MB), best and median of ${RUNS} runs; ${cpus().length} x ${cpu}, node ${process.version}`,
);
console.table(rows);
