#!/usr/bin/env node
// file -> Redis Streams benchmark of the BUILT binary: a generated, page-cached nginx access log
// read from the beginning, parsed, and XADDed by the redis sink into Debian's redis-server
// (started here on a free loopback port, no persistence). Prints events/s, CPU us/event of the
// agent and of redis-server (user+sys from /proc), peak RSS of both, and the machine and load.
// Each run also ships the same corpus to a file sink (the baseline): the difference in agent CPU
// is what the redis sink costs, measured under the same load.
//
//   npm run build && node bench/e2e/redis.mjs [--lines 200000] [--runs 3]
//       [--encoding fields|json] [--parser nginx|raw] [--batch 1000]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import {
  generatedCorpus,
  lineCounter,
  machineLine,
  opt,
  procUsage,
  runAgentUntil,
} from './lib.mjs';

const lines = Number(opt('lines', '200000'));
const runs = Number(opt('runs', '3'));
const encoding = opt('encoding', 'fields');
const parser = opt('parser', 'nginx');
const batch = Number(opt('batch', '1000'));
const bin = resolve('dist/ves-log-collector.cjs');

const freePort = () =>
  new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

async function startRedis(dir) {
  const port = await freePort();
  const proc = spawn(
    '/usr/bin/redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const deadline = Date.now() + 20_000;
  while (!out.includes('Ready to accept connections')) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`redis-server: ${out}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const client = new Redis({ host: '127.0.0.1', port });
  return { proc, port, client };
}

/** Runs the agent on the corpus until `delivered()` reaches `lines`; its CPU and peak RSS. */
const runAgent = (cfg, delivered) => runAgentUntil(bin, cfg, delivered, lines, 600_000);

const source = (corpus) => `sources:
  bench: {type: file, include: [${corpus}], parser: ${parser}}
batch: {max_events: ${batch}}
`;

async function runRedis(dir, corpus, redis, i) {
  const stream = `bench-${i}`;
  const cfg = join(dir, `agent-${i}.yaml`);
  writeFileSync(
    cfg,
    `data_dir: ${join(dir, `data-${i}`)}
${source(corpus)}sinks:
  streams:
    type: redis
    url: redis://127.0.0.1:${redis.port}/0
    stream: ${stream}
    maxlen: 0
    encoding: ${encoding}
`,
  );
  const redisBefore = procUsage(redis.proc.pid).cpuS;
  const run = await runAgent(cfg, () => redis.client.xlen(stream));
  const r = procUsage(redis.proc.pid);
  const stored = await redis.client.xlen(stream);
  await redis.client.del(stream); // keep redis-server's memory to one run's stream
  return { ...run, redisCpuS: r.cpuS - redisBefore, redisRssMb: r.peakRssMb, stored };
}

async function runFile(dir, corpus, i) {
  const out = join(dir, `out-${i}.ndjson`);
  const cfg = join(dir, `file-${i}.yaml`);
  writeFileSync(
    cfg,
    `data_dir: ${join(dir, `file-data-${i}`)}
${source(corpus)}sinks:
  out: {type: file, path: ${out}}
`,
  );
  const counter = lineCounter(out);
  try {
    return await runAgent(cfg, () => counter.count());
  } finally {
    counter.close();
    rmSync(out, { force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'ves-redis-bench-'));
let redis;
try {
  const corpus = join(dir, 'access.log');
  const mb = generatedCorpus(bin, corpus, lines);
  redis = await startRedis(dir);
  const version = spawnSync('/usr/bin/redis-server', ['--version'], { encoding: 'utf8' }).stdout;
  console.log(machineLine());
  console.log(
    `work: ${lines} nginx lines (${mb.toFixed(0)} MB, page-cached), parser ${parser} -> redis sink, ` +
      `encoding ${encoding}, batches of ${batch}, maxlen 0; ${version.trim().split(' ').slice(0, 3).join(' ')}`,
  );
  const us = (cpuS) => ((cpuS * 1e6) / lines).toFixed(2);
  const results = [];
  for (let i = 0; i < runs; i++) {
    const r = await runRedis(dir, corpus, redis, i);
    const f = await runFile(dir, corpus, i);
    results.push({ ...r, fileCpuS: f.cpuS });
    console.log(
      `run ${i + 1}: ${Math.round(lines / r.seconds).toLocaleString('en-US')} events/s, ` +
        `agent CPU ${us(r.cpuS)} us/event (file sink baseline ${us(f.cpuS)}: the redis sink costs ${us(r.cpuS - f.cpuS)}), ` +
        `redis-server CPU ${us(r.redisCpuS)} us/event, agent peak RSS ${r.peakRssMb.toFixed(0)} MB, ` +
        `redis-server peak RSS ${r.redisRssMb.toFixed(0)} MB, ${r.seconds.toFixed(2)} s` +
        (r.stored > lines ? ` (${r.stored - lines} events stored twice)` : ''),
    );
  }
  const best = results.reduce((a, b) => (a.seconds < b.seconds ? a : b));
  console.log(
    `best: ${Math.round(lines / best.seconds).toLocaleString('en-US')} events/s, agent ${us(best.cpuS)} us/event ` +
      `(file sink ${us(best.fileCpuS)}), redis-server ${us(best.redisCpuS)} us/event; ` +
      `load average now ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
} finally {
  redis?.client.disconnect();
  redis?.proc.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
