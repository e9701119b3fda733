// Micro-benchmark of the file sink (src/sinks/file/sink.ts): NDJSON batches of parsed nginx
// events appended to one fixed path, then to a `{field}` path template (each event's line is
// parsed to render its file). Prints ns/event for both and the template's overhead.
//
//   node bench/micro/file-sink.mjs [--events 200000] [--batch 1000] [--runs 5]
//
// The TypeScript is bundled on the fly with esbuild (a devDependency), as in ./encoder.mjs.

import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const EVENTS = arg('events', 200_000);
const BATCH = arg('batch', 1000);
const RUNS = arg('runs', 5);

const dir = mkdtempSync(join(tmpdir(), 'ves-bench-'));
try {
  await build({
    stdin: {
      contents:
        `export { build } from ${JSON.stringify(join(root, 'src/sinks/file/sink.ts'))};\n` +
        `export { silentLogger } from ${JSON.stringify(join(root, 'src/observe/logger.ts'))};\n` +
        `export { compilePathTemplate } from ${JSON.stringify(join(root, 'src/sinks/file/path-template.ts'))};\n`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs', // a dependency does require('process'), which an ESM bundle cannot
    target: 'node20',
    outfile: join(dir, 'bundle.cjs'),
    logLevel: 'error',
    external: ['@mongodb-js/zstd'],
  });
  const {
    build: buildSink,
    silentLogger,
    compilePathTemplate,
  } = await import(pathToFileURL(join(dir, 'bundle.cjs')).href);

  // Events as the encoder writes them for a parsed nginx line (~330 bytes).
  const services = ['web', 'api', 'auth', 'billing', 'search'];
  const statuses = [200, 200, 200, 304, 404, 500];
  const batches = [];
  for (let b = 0; b < EVENTS / BATCH; b++) {
    let s = '';
    for (let i = 0; i < BATCH; i++) {
      const n = b * BATCH + i;
      s +=
        JSON.stringify({
          timestamp: '2026-11-23T12:00:00.000Z',
          source: '/var/log/nginx/access.log',
          host: 'web-01',
          service: services[n % services.length],
          remote_addr: `10.0.${n % 256}.${(n >> 8) % 256}`,
          remote_user: null,
          time_local: '23/Nov/2026:12:00:00 +0000',
          request: `GET /item/${n} HTTP/1.1`,
          method: 'GET',
          path: `/item/${n}`,
          protocol: 'HTTP/1.1',
          status: statuses[n % statuses.length],
          body_bytes_sent: 512 + (n % 1000),
          http_referer: '-',
          http_user_agent: 'Mozilla/5.0 (X11; Linux x86_64) curl/8.5.0',
        }) + '\n';
    }
    const ndjson = Buffer.from(s);
    batches.push({ seq: b, events: BATCH, ndjson, raw: null, bytes: ndjson.length, marks: [] });
  }
  const bytes = batches.reduce((a, b) => a + b.bytes, 0);

  const run = async (path) => {
    const times = [];
    for (let r = 0; r < RUNS; r++) {
      const out = join(dir, `run${r}`);
      const sink = await buildSink(
        {
          type: 'file',
          path: join(out, path),
          encoding: 'ndjson',
          compression: 'none',
          fsync: false,
          rotate: null,
        },
        { id: 'out', dataDir: dir, log: silentLogger },
      );
      const t0 = process.hrtime.bigint();
      for (const b of batches) await sink.write(b);
      await sink.close();
      times.push(Number(process.hrtime.bigint() - t0));
      rmSync(out, { recursive: true, force: true });
    }
    times.sort((a, b) => a - b);
    return times[times.length >> 1] / EVENTS;
  };

  // The CPU part of a template alone: finding each event's path (scan + cached render).
  const pathOnly = () => {
    const t = compilePathTemplate(join(dir, '{service}/{status}.ndjson'));
    const t0 = process.hrtime.bigint();
    for (const b of batches) {
      const src = b.ndjson;
      for (let s = 0, e = src.indexOf(10); e !== -1; s = e + 1, e = src.indexOf(10, s)) {
        t.pathOf(src.subarray(s, e + 1));
      }
    }
    return Number(process.hrtime.bigint() - t0) / EVENTS;
  };
  pathOnly();
  const pathNs = Math.min(pathOnly(), pathOnly(), pathOnly());

  const fixed = await run('out.ndjson');
  const template = await run('{service}/{status}.ndjson');
  console.log(
    JSON.stringify({
      bench: 'file-sink',
      events: EVENTS,
      batch: BATCH,
      avg_event_bytes: +(bytes / EVENTS).toFixed(0),
      fixed_ns_per_event: +fixed.toFixed(0),
      template_ns_per_event: +template.toFixed(0),
      template_files: services.length * new Set(statuses).size,
      template_overhead_ns_per_event: +(template - fixed).toFixed(0),
      path_of_ns_per_event: +pathNs.toFixed(0),
      node: process.version,
      machine: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown cpu'}`,
      load_average: loadavg()[0].toFixed(2),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
