// Micro-benchmark of the transform chain (src/transforms/stage.ts) alone: nginx lines parsed once
// into capture tables (256 KiB chunks, as a file source hands them over), then each case's chain
// run over them again and again. Prints ns/line of the chain only (the cost of putting the line
// table back between passes is measured apart and subtracted). Best and median of the runs:
// on a busy host the best is the truer figure.
//
//   node bench/micro/transforms.mjs [--lines 200000] [--runs 9] [--case NAME (exactly)]
//
// The TypeScript is bundled on the fly with esbuild (a devDependency) into a temp dir, so the
// bench needs no build step and always measures the current source.

import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { importModules } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const LINES = Number(arg('lines', 200_000));
const RUNS = Number(arg('runs', 9));
const ONLY = arg('case', null);
const CHUNK = 256 * 1024;

const { parseConfig, Captures, compileParser, TransformStage, nginxLines } = await importModules([
  ['src/config/index.ts', 'parseConfig'],
  ['src/parsers/captures.ts', 'Captures'],
  ['src/parsers/index.ts', 'compileParser'],
  ['src/transforms/stage.ts', 'TransformStage'],
  ['src/gen/nginx.ts', 'nginxLines'],
]);

const CASES = {
  'status < 400 (drop)': [
    'nginx',
    '{type: filter, action: drop, condition: {field: status, lt: 400}}',
  ],
  'status in [500, 502, 503]': [
    'nginx',
    '{type: filter, condition: {field: status, in: [500, 502, 503]}}',
  ],
  'path prefix /api/': ['nginx', '{type: filter, condition: {field: path, prefix: /api/}}'],
  'user agent contains bot': [
    'nginx',
    '{type: filter, condition: {field: http_user_agent, contains: bot}}',
  ],
  'all: [status >= 400, method in [GET, HEAD]]': [
    'nginx',
    '{type: filter, condition: {all: [{field: status, gte: 400}, {field: method, in: [GET, HEAD]}]}}',
  ],
  'raw: message contains kube-probe': [
    'raw',
    '{type: filter, action: drop, condition: {field: message, contains: kube-probe}}',
  ],
  'raw: message prefix 10.': ['raw', '{type: filter, condition: {field: message, prefix: "10."}}'],
  'sample rate 10': ['nginx', '{type: sample, rate: 10}'],
  'sample rate 10 by remote_addr': ['nginx', '{type: sample, rate: 10, key: remote_addr}'],
  'throttle 1e9/s by remote_addr': [
    'nginx',
    '{type: throttle, events_per_second: 1000000000, key: remote_addr, max_keys: 1000000}',
  ],
};

const cpu = cpus()[0]?.model ?? 'unknown cpu';
const title = `transform chain, ${LINES} nginx lines, best and median of ${RUNS} runs; ${cpus().length} x ${cpu}, node ${process.version}`;

// One case per process: in one process every case's classes would meet at the same call sites
// (megamorphic), which a real config with a few transforms never sees.
if (ONLY === null) {
  const { execFileSync } = await import('node:child_process');
  const rows = [];
  for (const name of Object.keys(CASES)) {
    const args = [
      fileURLToPath(import.meta.url),
      '--case',
      name,
      '--lines',
      String(LINES),
      '--runs',
      String(RUNS),
      '--json',
    ];
    rows.push(JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' })));
  }
  console.log(title);
  console.table(rows);
  process.exit(0);
}

const corpus = Buffer.from(nginxLines(LINES, 42), 'latin1');
const chunks = [];
for (let s = 0; s < corpus.length;) {
  let e = Math.min(s + CHUNK, corpus.length);
  if (e < corpus.length) e = corpus.lastIndexOf(10, e - 1) + 1;
  const buf = corpus.subarray(s, e);
  let lines = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
  chunks.push({ buf, lines });
  s = e;
}

const results = [];
for (const [name, [parserName, transform]] of Object.entries(CASES)) {
  if (name !== ONLY) continue;
  const config = parseConfig(
    `sources:\n  web: {type: stdin, parser: ${parserName}}\ntransforms:\n  - ${transform}\nsinks:\n  out: {type: stdout}\n`,
    'bench.yaml',
    {},
  );
  const parser = compileParser(parserName, { templates: [], reserved: [] });
  const stage = new TransformStage(config, { now: () => 0 });
  const chain = stage.chainFor('web', parser);
  // Parse every chunk once; keep its tables and a copy of its line table to put back.
  const parsed = chunks.map(({ buf, lines }) => {
    const cap = new Captures();
    cap.split(buf, lines);
    if (parser !== null) parser.parse(cap);
    const n = cap.n;
    return { cap, n, line: cap.line.slice(0, n * 8), time: cap.time.slice(0, n) };
  });
  const restore = (p) => {
    p.cap.line.set(p.line);
    p.cap.time.set(p.time);
    p.cap.n = p.n;
  };
  // In the pipeline the chain runs right after the parser touched the chunk, so its tables are
  // in cache: each chunk is run REPEAT times in a row, and the first (cold) one is not timed.
  const REPEAT = 8;
  let kept = 0;
  const pass = (withChain) => {
    let ns = 0;
    kept = 0;
    for (const p of parsed) {
      restore(p);
      if (withChain) chain.run(p.cap);
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < REPEAT; r++) {
        restore(p);
        if (withChain) chain.run(p.cap);
      }
      ns += Number(process.hrtime.bigint() - t0);
      kept += p.cap.n;
    }
    return ns / REPEAT;
  };
  /** Sorted pass times. The best is the one least disturbed by other processes on the host. */
  const time = (withChain) => {
    pass(withChain);
    const ts = [];
    for (let r = 0; r < RUNS; r++) ts.push(pass(withChain));
    return ts.sort((a, b) => a - b);
  };
  const base = time(false);
  const total = time(true);
  const perLine = (k) => +((total[k] - base[k]) / LINES).toFixed(1);
  results.push({
    case: name,
    parser: parserName,
    ns_per_line_best: perLine(0),
    ns_per_line_median: perLine(RUNS >> 1),
    kept_pct: +((100 * kept) / LINES).toFixed(1),
  });
}
if (process.argv.includes('--json')) console.log(JSON.stringify(results[0]));
else {
  console.log(title);
  console.table(results);
}
