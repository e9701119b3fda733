// Micro-benchmark of the NDJSON encoder (src/engine/encoder.ts) alone: 1,000,000 nginx lines in
// 256 KiB chunks, as a file source hands them over. Prints ns/line and MB/s in and out.
//
//   node bench/micro/encoder.mjs [--lines 1000000] [--chunk 262144] [--runs 7] [--raw]
//                                [--corpus FILE]   (a real log instead of src/gen/nginx.ts lines)
//
// The TypeScript is bundled on the fly with esbuild (a devDependency) into a temp dir, so the
// bench needs no build step and always measures the current source.

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { importModules } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const LINES = arg('lines', 1_000_000);
const CHUNK = arg('chunk', 256 * 1024); // a file source's read size
const RUNS = arg('runs', 7);
const RAW = process.argv.includes('--raw');
const CORPUS = process.argv.includes('--corpus')
  ? process.argv[process.argv.indexOf('--corpus') + 1]
  : null;

const { encodeLines, makeEncodeOptions, nginxLines } = await importModules([
  ['src/engine/encoder.ts', '*'],
  ['src/gen/nginx.ts', 'nginxLines'],
]);

// The corpus, cut into chunks of whole lines as the tailer does.
let corpus = CORPUS ? readFileSync(CORPUS) : Buffer.from(nginxLines(LINES, 42), 'latin1');
if (CORPUS) {
  // The first LINES lines of the file (all of it if shorter).
  let end = -1;
  let n = 0;
  while (n < LINES) {
    const nl = corpus.indexOf(10, end + 1);
    if (nl < 0) break;
    end = nl;
    n++;
  }
  corpus = corpus.subarray(0, end + 1);
}
const lineCount = CORPUS ? countLines(corpus) : LINES;
const chunks = [];
for (let s = 0; s < corpus.length;) {
  let e = Math.min(s + CHUNK, corpus.length);
  if (e < corpus.length) e = corpus.lastIndexOf(10, e - 1) + 1;
  const buf = corpus.subarray(s, e);
  const lines = countLines(buf);
  chunks.push({
    sourceId: 'web',
    path: '/var/log/nginx/access.log',
    buf,
    lines,
    truncated: false,
    mark: null,
    readAt: 0,
  });
  s = e;
}
const opts = makeEncodeOptions({ host: 'web-01', fields: { service: 'web', env: 'prod' } });
const want = RAW ? { ndjson: false, raw: true } : { ndjson: true, raw: false };

let outBytes = 0;
const pass = () => {
  outBytes = 0;
  for (const c of chunks) {
    const b = encodeLines(c, want, opts);
    outBytes += (b.ndjson ?? b.raw).length;
  }
};
pass(); // warm-up: let TurboFan compile the loop
pass();
const times = [];
for (let r = 0; r < RUNS; r++) {
  const t0 = process.hrtime.bigint();
  pass();
  times.push(Number(process.hrtime.bigint() - t0));
}
times.sort((a, b) => a - b);
const best = times[0];
const median = times[times.length >> 1];
const cpu = cpus()[0]?.model ?? 'unknown cpu';
console.log(
  JSON.stringify({
    bench: 'encoder',
    encoding: RAW ? 'raw' : 'ndjson',
    lines: lineCount,
    avg_line_bytes: +(corpus.length / lineCount).toFixed(1),
    chunk_bytes: CHUNK,
    ns_per_line_best: +(best / lineCount).toFixed(1),
    ns_per_line_median: +(median / lineCount).toFixed(1),
    mb_in_per_s: +(corpus.length / 1e6 / (median / 1e9)).toFixed(0),
    mb_out_per_s: +(outBytes / 1e6 / (median / 1e9)).toFixed(0),
    node: process.version,
    machine: `${cpus().length} x ${cpu}`,
  }),
);

function countLines(buf) {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
