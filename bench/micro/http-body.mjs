// Micro-benchmark of the http source's body path (src/sources/http/body.ts): decode (none, gzip,
// zstd: the header bound, then the native decoder) and check + cut every line, on bodies like
// an agent's http sink sends (NDJSON events of nginx lines, one batch of --body bytes).
// Prints one JSON line per encoding: lines/s and ns/line (best and median CPU time per body),
// MB/s of NDJSON, and the scan alone, so the share of decompression is visible.
//
//   node bench/micro/http-body.mjs [--body 1048576] [--runs 15]
//
// The TypeScript is bundled on the fly with esbuild (a devDependency) into a temp dir, as
// bench/micro/parsers.mjs does, so the bench measures the current source with no build step.

import { cpus, loadavg } from 'node:os';
import { gzipSync } from 'node:zlib';
import { importModules } from './lib.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const BODY = Number(arg('body', 1024 * 1024)); // the http sink's default batch.max_bytes
const RUNS = Number(arg('runs', 15));

const { decodeBody, splitBody, nginxLines } = await importModules([
  ['src/sources/http/body.ts', 'decodeBody, splitBody, zstdBound'],
  ['src/gen/nginx.ts', 'nginxLines'],
]);
const { compress } = await import('@mongodb-js/zstd/bindings.js');

// One body of agent events: {"message":"<nginx line>","timestamp":..,"source":..,"host":..}.
const host = 'web-1';
let body = '';
for (const line of nginxLines(20_000, 42).split('\n')) {
  if (line === '') continue;
  const ev =
    JSON.stringify({
      message: line,
      timestamp: '2026-11-23T12:00:00.123Z',
      source: '/var/log/nginx/access.log',
      host,
    }) + '\n';
  if (body.length + ev.length > BODY) break;
  body += ev;
}
const ndjson = Buffer.from(body);
const lines = ndjson.toString().split('\n').length - 1;
const MAX = 10 * 1024 * 1024;

const bodies = {
  none: ndjson,
  gzip: gzipSync(ndjson, { level: 3 }), // the http sink's levels (src/sinks/http/compress.ts)
  zstd: await compress(ndjson, 1),
};

/** CPU microseconds of one call of fn (user + system). */
async function cpuUs(fn) {
  const t = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(t);
  return d.user + d.system;
}

function stats(us) {
  const s = [...us].sort((a, b) => a - b);
  return { best: s[0], median: s[s.length >> 1] };
}

const out = [];
for (const [encoding, wire] of Object.entries(bodies)) {
  const all = [];
  const scanOnly = [];
  for (let r = 0; r < RUNS; r++) {
    let data;
    all.push(
      await cpuUs(async () => {
        data = await decodeBody(wire, encoding === 'none' ? 'identity' : encoding, MAX);
        const split = splitBody(data, 256 * 1024);
        if ('line' in split || split.events !== lines) throw new Error('bench body did not check');
      }),
    );
    scanOnly.push(await cpuUs(() => splitBody(data, 256 * 1024)));
  }
  const a = stats(all);
  const s = stats(scanOnly);
  out.push({
    encoding,
    body_bytes: ndjson.length,
    wire_bytes: wire.length,
    lines,
    lines_per_s_best: Math.round((lines / a.best) * 1e6),
    ns_per_line_best: Math.round((a.best * 1000) / lines),
    ns_per_line_median: Math.round((a.median * 1000) / lines),
    mb_per_s_best: Math.round(ndjson.length / a.best),
    scan_ns_per_line_best: Math.round((s.best * 1000) / lines),
  });
}
const machine = {
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  loadavg: loadavg().map((x) => +x.toFixed(2)),
  node: process.version,
};
console.log(JSON.stringify({ bench: 'http-body', machine }));
for (const row of out) console.log(JSON.stringify(row));
