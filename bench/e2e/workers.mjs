#!/usr/bin/env node
// Parse workers versus inline, on the BUILT binary (issue #3). Two parts:
//
// 1. Catch-up: a generated, page-cached nginx log read from the beginning into a file sink, for
//    each kind of work (parser > sink encoding) and each `workers:` setting. Prints lines/s,
//    CPU us/line (user+sys of the whole process, every thread, from /proc), peak RSS (VmHWM)
//    and the p99 ingest -> batch handoff latency (the agent's own histogram, GET /stats).
// 2. Steady load: lines appended at --rate lines/s for --seconds, the agent following from the
//    start; prints % of one core, RSS and handoff p50/p99 per `workers:` setting.
//
//   npm run build && node bench/e2e/workers.mjs [--lines 1000000] [--runs 3]
//       [--work raw>raw,raw>ndjson,nginx>ndjson] [--workers 0,1,2,auto]
//       [--rate 100000] [--seconds 10] [--tick-ms 10] [--steady-workers 0,auto]
//       [--no-catchup] [--no-steady] [--bin dist/ves-log-collector.cjs] [--max-events N]
//       [--node-args "..."]
//
// --tick-ms: the steady writer appends what is owed every this many ms (10: 100 appends of
// 1,000 lines a second; 1: ~1,000 small appends, closer to a server writing line by line).
// --max-events: sets `batch.max_events` in the agent's config (default: the agent's default).
// --node-args: space-separated options for the agent's node (e.g. "--cpu-prof --cpu-prof-dir=d").
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { lineCounter, machineLine, nginxCorpus, procUsage, untilLinesOut } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1];
};
const lines = Number(opt('lines', '1000000'));
const runs = Number(opt('runs', '3'));
const works = opt('work', 'raw>raw,raw>ndjson,nginx>ndjson').split(',');
const workerSettings = opt('workers', '0,1,2,auto').split(',');
const rate = Number(opt('rate', '100000'));
const seconds = Number(opt('seconds', '10'));
const steadyWorkers = opt('steady-workers', '0,auto').split(',');
const tickMs = Number(opt('tick-ms', '10'));
const bin = resolve(opt('bin', 'dist/ves-log-collector.cjs'));
const maxEvents = opt('max-events', null);
const nodeArgs = opt('node-args', '').split(' ').filter(Boolean);

/** Starts the agent with a config; resolves the admin API's URL once it logged it. */
async function startAgent(dir, name, { input, parser, encoding, workers }) {
  const out = join(dir, `${name}.out`);
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(
    cfg,
    `data_dir: ${join(dir, `${name}.data`)}
workers: ${workers}
api: {enabled: true, address: 127.0.0.1:0}
${maxEvents === null ? '' : `batch: {max_events: ${Number(maxEvents)}}\n`}sources:
  bench: {type: file, include: [${input}], parser: ${parser}}
sinks:
  out: {type: file, path: ${out}, encoding: ${encoding}}
`,
  );
  const child = spawn(
    process.execPath,
    [...nodeArgs, bin, '--config', cfg, '--log-level', 'info'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  const url = await new Promise((res, rej) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s) => {
      log += s;
      const m = /admin API listening url=(\S+)/.exec(log);
      if (m) res(m[1]);
    });
    child.once('exit', (code) => rej(new Error(`agent exited (${code}):\n${log}`)));
    setTimeout(() => res(null), 3000); // no API line (an older build): latency shows n/a
  });
  return { child, out, url, log: () => log };
}

async function handoff(url) {
  if (!url) return null;
  try {
    const s = await (await fetch(`${url}/stats`)).json();
    return s.latency_ms?.handoff_total ?? null;
  } catch {
    return null;
  }
}

async function stopAgent(a) {
  a.child.kill('SIGTERM');
  await new Promise((r) => (a.child.exitCode !== null ? r() : a.child.once('exit', r)));
  const threads = /parsing in worker threads workers=(\d+)/.exec(a.log());
  return threads ? Number(threads[1]) : 0;
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const ms = (x) =>
  x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : `${x.toFixed(2)} ms`;

async function catchUp(dir, corpus, work, workers, i) {
  const [parser, encoding] = work.split('>');
  const a = await startAgent(dir, `c-${parser}-${encoding}-${workers}-${i}`, {
    input: corpus,
    parser,
    encoding,
    workers,
  });
  const r = await untilLinesOut(a.child.pid, a.out, lines, performance.now());
  const lat = await handoff(a.url);
  const started = await stopAgent(a);
  rmSync(a.out, { force: true });
  return { ...r, p99: lat?.p99, started };
}

async function steady(dir, pool, workers) {
  // The log in a directory of its own, as in /var/log/nginx: the agent's output, checkpoints and
  // config sit elsewhere, so their writes are not events in the directory the agent watches.
  const logs = join(dir, `steady-${workers}`);
  mkdirSync(logs);
  const input = join(logs, 'access.log');
  writeFileSync(input, '');
  const a = await startAgent(dir, `s-${workers}`, {
    input,
    parser: 'raw',
    encoding: 'raw',
    workers,
  });
  await new Promise((r) => setTimeout(r, 500)); // the agent is up and following the file
  // The writer: `rate` lines/s in ticks of tickMs, each tick what is owed since the start.
  const t0 = performance.now();
  let written = 0;
  let at = 0;
  let u0 = null;
  let tU0 = 0;
  const warmupS = Math.min(2, seconds / 5);
  while ((performance.now() - t0) / 1000 < seconds) {
    const owed = Math.floor(((performance.now() - t0) / 1000) * rate) - written;
    if (owed > 0) {
      const take = [];
      for (let k = 0; k < owed; k++) {
        take.push(pool[at]);
        at = (at + 1) % pool.length;
      }
      appendFileSync(input, take.join('\n') + '\n');
      written += owed;
    }
    if (u0 === null && (performance.now() - t0) / 1000 >= warmupS) {
      u0 = procUsage(a.child.pid);
      tU0 = performance.now();
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  const u1 = procUsage(a.child.pid);
  const measuredS = (performance.now() - tU0) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // the last lines out
  const counter = lineCounter(a.out);
  const got = counter.count();
  counter.close();
  const lat = await handoff(a.url);
  const started = await stopAgent(a);
  return {
    written,
    got,
    cpuPct: ((u1.cpuS - u0.cpuS) / measuredS) * 100,
    rssMb: u1.rssMb,
    peakRssMb: u1.peakRssMb,
    lat,
    started,
    threads: u1.threads,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'ves-workers-'));
try {
  const corpus = join(dir, 'access.log');
  const { text, mb } = nginxCorpus(corpus, lines);
  console.log(machineLine());

  if (!args.includes('--no-catchup')) {
    console.log(
      `\ncatch-up: ${fmt(lines)} nginx lines (${mb.toFixed(0)} MB, page-cached), file sink, best of ${runs}`,
    );
    for (const work of works) {
      for (const workers of workerSettings) {
        const rs = [];
        for (let i = 0; i < runs; i++) rs.push(await catchUp(dir, corpus, work, workers, i));
        const best = rs.reduce((x, y) => (x.seconds < y.seconds ? x : y));
        const us = rs.map((r) => (r.cpuS * 1e6) / lines).sort((x, y) => x - y);
        console.log(
          `${work.padEnd(13)} workers: ${String(workers).padEnd(4)} ` +
            `${fmt(lines / best.seconds).padStart(10)} lines/s  CPU ${((best.cpuS * 1e6) / lines).toFixed(2)} us/line ` +
            `(runs ${us.map((u) => u.toFixed(2)).join('/')})  peak RSS ${best.peakRssMb.toFixed(0)} MB  ` +
            `handoff p99 ${ms(best.p99)}  threads started ${best.started}`,
        );
      }
    }
  }

  if (!args.includes('--no-steady')) {
    const pool = text
      .toString('latin1', 0, Math.min(text.length, 40_000_000))
      .split('\n')
      .slice(0, 200_000);
    console.log(
      `\nsteady: ${fmt(rate)} lines/s appended every ${tickMs} ms for ${seconds} s ` +
        `(CPU over the last ${seconds - Math.min(2, seconds / 5)} s), raw > raw`,
    );
    for (const workers of steadyWorkers) {
      const r = await steady(dir, pool, workers);
      console.log(
        `workers: ${String(workers).padEnd(4)} CPU ${r.cpuPct.toFixed(1)}% of one core  RSS ${r.rssMb.toFixed(0)} MB ` +
          `(peak ${r.peakRssMb.toFixed(0)})  handoff p50 ${ms(r.lat?.p50)} p99 ${ms(r.lat?.p99)} max ${ms(r.lat?.max)}  ` +
          `lines ${fmt(r.got)}/${fmt(r.written)}  threads started ${r.started}`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
