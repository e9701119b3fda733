// Micro-benchmark of the parsers (src/parsers/): split -> parse -> encode NDJSON, one parser at a
// time, on a generated corpus cut into 256 KiB chunks as a file source hands them over. Prints
// one JSON line per parser: lines/s and ns/line (best and median of the runs, wall clock and
// CPU time), MB/s in and out. The `raw` row is the raw encoder on the same nginx corpus, for
// scale: x_raw_encoder is each row's CPU time as a multiple of it (stable on a shared machine).
//
//   node bench/micro/parsers.mjs [--lines 500000] [--chunk 262144] [--runs 7]
//                                [--only nginx,json]   (a comma list of the rows below)
//                                [--keep-message]      (sources with keep_message: true)
//
// Rows: raw, nginx, apache, template (the nginx combined format as a user template), json,
// logfmt, syslog5424, syslog3164. The TypeScript is bundled on the fly with esbuild (a
// devDependency) into a temp dir, so the bench needs no build step and measures the current source.

import { cpus, loadavg } from 'node:os';
import { importModules } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const LINES = Number(arg('lines', 500_000));
const CHUNK = Number(arg('chunk', 256 * 1024)); // a file source's read size
const RUNS = Number(arg('runs', 7));
const ONLY = arg('only', '')
  .split(',')
  .filter((s) => s !== '');

const { ParseStage, compileParser, encodeLines, makeEncodeOptions, nginxLines, prng } =
  await importModules([
    ['src/parsers/stage.ts', 'ParseStage'],
    ['src/parsers/index.ts', 'compileParser'],
    ['src/engine/encoder.ts', 'encodeLines, makeEncodeOptions'],
    ['src/gen/nginx.ts', 'nginxLines, prng, timeLocal'],
  ]);

const NGINX_TEMPLATE =
  '{remote_addr} - {remote_user} [{time_local:timestamp}] "{method} {path} {protocol}" {status:int} {body_bytes_sent:int} "{http_referer}" "{http_user_agent}"';

// ---- corpora (seeded: every run measures the same bytes) -----------------------------------

const T0 = Date.UTC(2026, 10, 23, 12);
const LEVELS = ['debug', 'info', 'info', 'info', 'warn', 'error'];
const PATHS = [
  '/',
  '/api/v1/users',
  '/api/v1/orders/42',
  '/static/app.js',
  '/login',
  '/search?q=red+hat',
];
const UAS = [
  'curl/8.5.0',
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0',
];

function lines(n, seed, make) {
  const rnd = prng(seed);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = make(i, rnd, pick);
  return out.join('\n') + '\n';
}

const corpora = {
  nginx: () => nginxLines(LINES, 42),
  json: () =>
    lines(LINES, 42, (i, rnd, pick) =>
      JSON.stringify({
        timestamp: new Date(T0 + i).toISOString(),
        level: pick(LEVELS),
        message: 'request served',
        remote_addr: `10.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}.7`,
        method: 'GET',
        path: pick(PATHS),
        status: 200,
        bytes: Math.floor(rnd() * 50000),
        duration_ms: Math.round(rnd() * 100000) / 1000,
        user_agent: pick(UAS),
        tags: ['web', 'edge'],
      }),
    ),
  logfmt: () =>
    lines(
      LINES,
      42,
      (i, rnd, pick) =>
        `timestamp=${new Date(T0 + i).toISOString()} level=${pick(LEVELS)} msg="request served" remote_addr=10.${Math.floor(rnd() * 256)}.0.7 method=GET path=${pick(PATHS)} status=200 bytes=${Math.floor(rnd() * 50000)} duration=${(rnd() * 100).toFixed(3)}ms ua="${pick(UAS)}"`,
    ),
  syslog5424: () =>
    lines(
      LINES,
      42,
      (i, rnd, pick) =>
        `<${8 + Math.floor(rnd() * 8)}>1 ${new Date(T0 + i).toISOString()} web-${Math.floor(rnd() * 9)}.example.com app ${1000 + Math.floor(rnd() * 9000)} ID${Math.floor(rnd() * 99)} [exampleSDID@32473 iut="3" eventSource="Application" eventID="${Math.floor(rnd() * 9999)}"] user ${pick(['alice', 'bob'])} requested ${pick(PATHS)} in ${(rnd() * 100).toFixed(2)} ms`,
    ),
  syslog3164: () =>
    lines(LINES, 42, (i, rnd, pick) => {
      const d = new Date(T0 + i * 1000);
      const mon = d.toUTCString().slice(8, 11);
      const day = String(d.getUTCDate()).padStart(2, ' ');
      const hms = d.toISOString().slice(11, 19);
      return `<${8 + Math.floor(rnd() * 8)}>${mon} ${day} ${hms} web-${Math.floor(rnd() * 9)} sshd[${1000 + Math.floor(rnd() * 9000)}]: Accepted publickey for ${pick(['alice', 'bob'])} from 10.0.0.${Math.floor(rnd() * 255)} port ${1024 + Math.floor(rnd() * 60000)} ssh2`;
    }),
};

const rows = [
  { name: 'raw', corpus: 'nginx', parser: 'raw' },
  { name: 'nginx', corpus: 'nginx', parser: 'nginx' },
  { name: 'apache', corpus: 'nginx', parser: 'apache' },
  { name: 'template', corpus: 'nginx', parser: 'template', templates: [NGINX_TEMPLATE] },
  { name: 'json', corpus: 'json', parser: 'json' },
  { name: 'logfmt', corpus: 'logfmt', parser: 'logfmt' },
  { name: 'syslog5424', corpus: 'syslog5424', parser: 'syslog' },
  { name: 'syslog3164', corpus: 'syslog3164', parser: 'syslog' },
].filter((r) => ONLY.length === 0 || ONLY.includes(r.name));

function chunksOf(corpus) {
  const out = [];
  for (let s = 0; s < corpus.length;) {
    let e = Math.min(s + CHUNK, corpus.length);
    if (e < corpus.length) e = corpus.lastIndexOf(10, e - 1) + 1;
    const buf = corpus.subarray(s, e);
    let lines = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
    out.push({
      sourceId: 'web',
      path: '/var/log/app.log',
      buf,
      lines,
      truncated: false,
      mark: null,
      readAt: 0,
    });
    s = e;
  }
  return out;
}

const cache = new Map();
const want = { ndjson: true, raw: false };
const settings = {
  host: 'web-01',
  fields: { service: 'web', env: 'prod' },
  keepMessage: process.argv.includes('--keep-message'),
};
const cpu = cpus()[0]?.model ?? 'unknown cpu';
/** CPU ns of the raw row, when it ran: each parser's cost is also shown as a multiple of it. */
let rawCpu = null;

for (const row of rows) {
  if (!cache.has(row.corpus)) cache.set(row.corpus, Buffer.from(corpora[row.corpus](), 'utf8'));
  const corpus = cache.get(row.corpus);
  const chunks = chunksOf(corpus);
  let run;
  let stage;
  if (row.parser === 'raw') {
    const opts = makeEncodeOptions(settings);
    run = (c) => encodeLines(c, want, opts);
  } else {
    const parser = compileParser(row.parser, {
      templates: row.templates ?? [],
      reserved: ['source', 'host', 'parse_error', 'truncated', 'service', 'env'],
    });
    stage = new ParseStage(parser, settings);
    run = (c) => stage.process(c, want);
  }
  let outBytes = 0;
  let errors = 0;
  const pass = () => {
    outBytes = 0;
    errors = 0;
    for (const c of chunks) {
      outBytes += run(c).ndjson.length;
      if (stage) errors += stage.lastParseErrors;
    }
  };
  pass(); // warm-up: let TurboFan compile the loops
  pass();
  const times = [];
  const cpuTimes = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    pass();
    times.push(Number(process.hrtime.bigint() - t0));
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) * 1000);
  }
  const best = Math.min(...times);
  const median = times.sort((a, b) => a - b)[times.length >> 1];
  const cpuBest = Math.min(...cpuTimes);
  const cpuMedian = cpuTimes.sort((a, b) => a - b)[cpuTimes.length >> 1];
  if (row.parser === 'raw') rawCpu = cpuBest;
  console.log(
    JSON.stringify({
      bench: 'parsers',
      parser: row.name,
      lines: LINES,
      avg_line_bytes: +(corpus.length / LINES).toFixed(1),
      parse_errors: errors,
      lines_per_s: Math.round(LINES / (best / 1e9)),
      ns_per_line_best: +(best / LINES).toFixed(1),
      ns_per_line_median: +(median / LINES).toFixed(1),
      // CPU time (user + sys of the process): what a busy machine's other work does not inflate
      cpu_ns_per_line_best: +(cpuBest / LINES).toFixed(1),
      cpu_ns_per_line_median: +(cpuMedian / LINES).toFixed(1),
      x_raw_encoder: rawCpu === null ? null : +(cpuBest / rawCpu).toFixed(2),
      mb_in_per_s: +(corpus.length / 1e6 / (best / 1e9)).toFixed(0),
      mb_out_per_s: +(outBytes / 1e6 / (best / 1e9)).toFixed(0),
      node: process.version,
      machine: `${cpus().length} x ${cpu}`,
      load: loadavg()[0].toFixed(2),
    }),
  );
}
