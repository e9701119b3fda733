#!/usr/bin/env node
// file -> HTTP benchmark of the BUILT binary: a generated, page-cached nginx access log read
// from the beginning and shipped by the http sink (ndjson + zstd by default) to a receiver that
// only decompresses and counts lines, in a child process of its own so its CPU is reported
// apart. Prints lines/s, MB/s, CPU us/line of the agent (user+sys from /proc) and of the
// receiver (process.cpuUsage in the child), bytes on the wire, peak RSS, and the machine.
//
//   npm run build && node bench/e2e/http.mjs [--lines 1000000] [--runs 3]
//       [--compression zstd|gzip|none] [--concurrency 4] [--parser raw]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { generatedCorpus, machineLine, opt, runAgentUntil } from './lib.mjs';

if (process.argv.includes('--receiver')) await receiver();
else await main();

/**
 * The receiver (this file run with --receiver, forked): POST bodies decoded and their newlines
 * counted, 200 with no body. Answers {lines, bytes, cpuUs} over IPC when asked.
 */
async function receiver() {
  const { decompress } = await import('@mongodb-js/zstd');
  const gunzipAsync = promisify(gunzip);
  let lines = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    const parts = [];
    req.on('data', (c) => parts.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(parts);
      bytes += raw.length;
      const enc = req.headers['content-encoding'];
      const body =
        enc === 'zstd' ? await decompress(raw) : enc === 'gzip' ? await gunzipAsync(raw) : raw;
      for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) lines++;
      res.writeHead(200).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (m === 'stats') {
      const u = process.cpuUsage();
      process.send({ lines, bytes, cpuUs: u.user + u.system });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

async function main() {
  const lines = Number(opt('lines', '1000000'));
  const runs = Number(opt('runs', '3'));
  const compression = opt('compression', 'zstd');
  const concurrency = Number(opt('concurrency', '4'));
  const parser = opt('parser', 'raw');
  const bin = resolve('dist/ves-log-collector.cjs');

  async function startReceiver() {
    const child = fork(new URL(import.meta.url).pathname, ['--receiver'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const { port } = await new Promise((r) => child.once('message', r));
    const stats = () =>
      new Promise((r) => {
        child.once('message', r);
        child.send('stats');
      });
    return { child, port, stats };
  }

  async function runOnce(dir, corpus, i) {
    const rx = await startReceiver();
    const dataDir = join(dir, `data-${i}`);
    const cfg = join(dir, `agent-${i}.yaml`);
    writeFileSync(
      cfg,
      `data_dir: ${dataDir}
sources:
  bench: {type: file, include: [${corpus}], parser: ${parser}}
sinks:
  up:
    type: http
    uri: http://127.0.0.1:${rx.port}/v1/logs
    format: ndjson
    compression: ${compression}
    concurrency: ${concurrency}
`,
    );
    const before = await rx.stats();
    let got;
    let run;
    try {
      run = await runAgentUntil(
        bin,
        cfg,
        async () => (got = await rx.stats()).lines,
        lines,
        300_000,
      );
    } finally {
      rx.child.disconnect();
    }
    return {
      ...run,
      rxCpuS: (got.cpuUs - before.cpuUs) / 1e6,
      wireBytes: got.bytes - before.bytes,
      received: got.lines,
    };
  }

  const dir = mkdtempSync(join(tmpdir(), 'ves-http-bench-'));
  try {
    const corpus = join(dir, 'access.log');
    const mb = generatedCorpus(bin, corpus, lines);
    console.log(machineLine());
    console.log(
      `work: ${lines} nginx lines (${mb.toFixed(0)} MB, page-cached), parser ${parser} -> http sink, ` +
        `ndjson + ${compression}, concurrency ${concurrency}, receiver in its own process (decode + count)`,
    );
    const results = [];
    for (let i = 0; i < runs; i++) {
      const r = await runOnce(dir, corpus, i);
      results.push(r);
      console.log(
        `run ${i + 1}: ${Math.round(lines / r.seconds).toLocaleString('en-US')} lines/s, ${(mb / r.seconds).toFixed(0)} MB/s, ` +
          `agent CPU ${((r.cpuS * 1e6) / lines).toFixed(2)} us/line, receiver CPU ${((r.rxCpuS * 1e6) / lines).toFixed(2)} us/line, ` +
          `wire ${(r.wireBytes / 1e6).toFixed(1)} MB, peak RSS ${r.peakRssMb.toFixed(0)} MB, ${r.seconds.toFixed(2)} s` +
          (r.received > lines ? ` (${r.received - lines} lines received twice)` : ''),
      );
    }
    const best = results.reduce((a, b) => (a.seconds < b.seconds ? a : b));
    console.log(
      `best: ${Math.round(lines / best.seconds).toLocaleString('en-US')} lines/s, agent ${((best.cpuS * 1e6) / lines).toFixed(2)} us/line, ` +
        `receiver ${((best.rxCpuS * 1e6) / lines).toFixed(2)} us/line, peak RSS ${best.peakRssMb.toFixed(0)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
