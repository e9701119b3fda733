// Micro-benchmark of what observing costs on the data path, per batch (src/observe): recording a
// latency (LatencyHistogram.recordMs: two HDR histograms + a Prometheus bucket), and one write
// through observeSink (the per-sink counting wrapper) around a sink that resolves at once.
// Prints ns per batch, and what that is per line at 1,000 lines per batch.
//
//   node bench/micro/observe.mjs [--batches 1000000] [--runs 5]
//
// Bundled on the fly with esbuild (a devDependency), like bench/micro/encoder.mjs.

import { cpus } from 'node:os';
import { importModules } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const BATCHES = arg('batches', 1_000_000);
const RUNS = arg('runs', 5);

const { LatencyHistogram, Counters, observeSink } = await importModules([
  ['src/observe/latency.ts', 'LatencyHistogram'],
  ['src/observe/counters.ts', 'Counters'],
  ['src/observe/health.ts', 'observeSink'],
]);

// Latencies spread like a busy pipeline's: 0.1 .. 50 ms.
const values = Float64Array.from({ length: 4096 }, (_, i) => 0.1 + ((i * 7919) % 5000) / 100);

function recordRun() {
  const h = new LatencyHistogram();
  const t = process.hrtime.bigint();
  for (let i = 0; i < BATCHES; i++) h.recordMs(values[i & 4095]);
  return Number(process.hrtime.bigint() - t) / BATCHES;
}

async function sinkRun() {
  const counters = new Counters();
  const inner = {
    wants: { ndjson: true, raw: false },
    write: () => Promise.resolve(),
    close: async () => {},
  };
  const sink = observeSink('out', inner, counters);
  const batch = {
    seq: 1,
    events: 1000,
    ndjson: Buffer.alloc(150_000),
    raw: null,
    bytes: 150_000,
    marks: [],
    firstReadAt: 0,
    sealedAt: 0,
  };
  const n = BATCHES / 10;
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    batch.firstReadAt = performance.now() - 1;
    await sink.write(batch);
  }
  return Number(process.hrtime.bigint() - t) / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rec = [];
const wrap = [];
for (let r = 0; r < RUNS; r++) {
  rec.push(recordRun());
  wrap.push(await sinkRun());
}
console.log(`machine      ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}`);
console.log(
  `recordMs     ${median(rec).toFixed(0)} ns/batch  (${(median(rec) / 1000).toFixed(3)} ns/line at 1,000 lines/batch)`,
);
console.log(
  `observeSink  ${median(wrap).toFixed(0)} ns/batch, incl. its ack latency (${(median(wrap) / 1000).toFixed(3)} ns/line)`,
);
