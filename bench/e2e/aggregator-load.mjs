#!/usr/bin/env node
// Load test of the aggregator (issue #6): the BUILT binary with an http source (tight admission
// bounds) -> blackhole sink, and an open-loop load generator in this process posting NDJSON +
// zstd batches over loopback at increasing rates, then back down. Per step: offered and accepted
// events/s, 503s, p50/p99 request latency, the aggregator's peak RSS and CPU. It shows that
// beyond its bound the aggregator answers 503 instead of growing, and serves again (200s) when
// the load drops; at the end the aggregator's own /metrics must count every accepted event.
// Columns: "not sent" = due requests the generator skipped (MAX_OPEN open already); p99 503 =
// how fast refusals come; CPU % = the aggregator's user+sys over all threads, of one core;
// run queue % = the time its threads were runnable but waiting for a CPU (schedstat): on a
// shared machine, how much of the step it was starved rather than busy.
//
//   npm run build && node bench/e2e/aggregator-load.mjs [--step 10] [--batch 1000]
//       [--rates 20000,50000,100000,200000,400000,50000,20000] [--sink blackhole|file]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compress } from '@mongodb-js/zstd';
import { Pool } from 'undici';
import { machineLine, procUsage, runQueueDelta, runQueueWait } from './lib.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? def : args[i + 1];
};
const STEP_S = Number(opt('step', '10'));
const WARMUP_S = 2;
const BATCH = Number(opt('batch', '1000')); // events per request: what an agent's batch holds
const RATES = opt('rates', '20000,50000,100000,200000,400000,50000,20000').split(',').map(Number);
const SINK = opt('sink', 'blackhole');
/**
 * Requests the generator keeps open at most: one socket each. Above it a due request is counted
 * as "not sent" (the generator, not the aggregator, is then the limit) so the offered rate stays
 * honest instead of silently turning into a closed loop.
 */
const MAX_OPEN = 256;
const TOKEN = 'bench-token';
/** The aggregator's admission bounds (tight: the point is to cross them). */
const MAX_REQUESTS = Number(opt('max-requests', '16'));
const MAX_BYTES = opt('max-bytes', '8MiB');
const BIN = resolve('dist/ves-log-collector.cjs');

const freePort = () =>
  new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (n) => Math.round(n).toLocaleString('en-US');

/**
 * Request bodies as agents send them: `BATCH` events of generated nginx traffic, one JSON object
 * per line, zstd-compressed once here so the generator spends its CPU on sending, not encoding.
 * Several distinct bodies so no layer can cache one.
 */
async function makeBodies(count) {
  const gen = spawnSync(process.execPath, [BIN, 'generate', '--lines', String(count * BATCH)], {
    maxBuffer: 1 << 30,
  });
  if (gen.status !== 0) throw new Error(`generate failed: ${gen.stderr}`);
  const lines = gen.stdout.toString().split('\n');
  const t0 = Date.UTC(2026, 10, 23, 12);
  const bodies = [];
  let raw = 0;
  for (let b = 0; b < count; b++) {
    let s = '';
    for (let i = 0; i < BATCH; i++) {
      const n = b * BATCH + i;
      s += `${JSON.stringify({
        message: lines[n],
        timestamp: new Date(t0 + n).toISOString(),
        source: '/var/log/nginx/access.log',
        host: `edge-${b % 8}`,
      })}\n`;
    }
    const buf = Buffer.from(s);
    raw += buf.length;
    bodies.push(await compress(buf, 3));
  }
  return { bodies, rawBytesPerBatch: raw / count };
}

function aggregatorConfig(dir, port, apiPort) {
  const sink =
    SINK === 'file' ? `{type: file, path: ${join(dir, 'out.ndjson')}}` : `{type: blackhole}`;
  return `data_dir: ${join(dir, 'data')}
sources:
  fleet:
    type: http
    address: 127.0.0.1:${port}
    auth: {strategy: bearer, token: ${TOKEN}}
    max_body_bytes: 10MiB
    # Tight on purpose: ${MAX_REQUESTS} requests or ${MAX_BYTES} (inflated) in flight, then 503.
    max_in_flight_requests: ${MAX_REQUESTS}
    max_in_flight_bytes: ${MAX_BYTES}
sinks:
  out: ${sink}
api: {enabled: true, address: 127.0.0.1:${apiPort}}
`;
}

/** One step: `rate` events/s offered for `stepS` seconds, open loop, paced every 5 ms. */
async function runStep(pool, bodies, rate, stepS, pid) {
  const perSecond = rate / BATCH;
  const lat = [];
  const st = { sent: 0, notSent: 0, ok: 0, busy: 0, other: 0, errors: 0, open: 0 };
  let peakRss = 0;
  const cpu0 = procUsage(pid).cpuS;
  const wait0 = runQueueWait(pid);
  const lat503 = [];
  const t0 = performance.now();
  const end = t0 + stepS * 1000;
  let due = 0;
  let lastSample = 0;
  const send = (body) => {
    st.sent++;
    st.open++;
    const start = performance.now();
    pool
      .request({
        path: '/v1/logs',
        method: 'POST',
        headers: {
          'content-type': 'application/x-ndjson',
          'content-encoding': 'zstd',
          authorization: `Bearer ${TOKEN}`,
        },
        body,
      })
      .then(async (res) => {
        await res.body.dump();
        const ms = performance.now() - start;
        lat.push(ms);
        if (res.statusCode === 200) st.ok++;
        else if (res.statusCode === 503) {
          st.busy++;
          lat503.push(ms);
        } else st.other++;
      })
      .catch(() => st.errors++)
      .finally(() => st.open--);
  };
  for (let now = t0; now < end; now = performance.now()) {
    // Requests due by now at this rate, minus those already sent or given up on.
    const target = Math.floor(((now - t0) / 1000) * perSecond);
    for (; due < target; due++) {
      if (st.open >= MAX_OPEN) st.notSent++;
      else send(bodies[due % bodies.length]);
    }
    if (now - lastSample >= 100) {
      lastSample = now;
      peakRss = Math.max(peakRss, procUsage(pid).rssMb);
    }
    await sleep(5);
  }
  // Latency of the step's requests: wait (bounded) for those still open.
  const drainEnd = performance.now() + 30_000;
  while (st.open > 0 && performance.now() < drainEnd) {
    peakRss = Math.max(peakRss, procUsage(pid).rssMb);
    await sleep(20);
  }
  const seconds = (performance.now() - t0) / 1000;
  const u = procUsage(pid);
  const q = (xs, p) => {
    xs.sort((a, b) => a - b);
    return xs.length ? xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] : NaN;
  };
  return {
    rate,
    offered: (due * BATCH) / stepS,
    accepted: (st.ok * BATCH) / stepS,
    ...st,
    p50: q(lat, 0.5),
    p99: q(lat, 0.99),
    p99busy: q(lat503, 0.99),
    peakRss: Math.max(peakRss, u.rssMb),
    cpu: (u.cpuS - cpu0) / seconds,
    runq: runQueueDelta(wait0, runQueueWait(pid)) / seconds,
  };
}

async function metric(apiPort, name) {
  const text = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm')))
    sum += Number(m[1]);
  return sum;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ves-agg-load-'));
  const [port, apiPort] = [await freePort(), await freePort()];
  const cfg = join(dir, 'aggregator.yaml');
  writeFileSync(cfg, aggregatorConfig(dir, port, apiPort));
  const { bodies, rawBytesPerBatch } = await makeBodies(16);
  const zBytes = bodies.reduce((n, b) => n + b.length, 0) / bodies.length;

  const child = spawn(process.execPath, [BIN, '--config', cfg, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = null;
  child.once('exit', (code, sig) => (exited = code ?? sig));
  const pool = new Pool(`http://127.0.0.1:${port}`, {
    connections: MAX_OPEN,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  try {
    for (let i = 0; ; i++) {
      if (exited !== null) throw new Error(`the aggregator exited at start (${exited})`);
      const up = await fetch(`http://127.0.0.1:${apiPort}/health`).catch(() => null);
      if (up?.ok) break;
      if (i > 500) throw new Error('the aggregator did not come up within 10 s');
      await sleep(20);
    }
    const idle = procUsage(child.pid);
    console.log(machineLine());
    console.log(
      `aggregator: http source (max_in_flight_requests ${MAX_REQUESTS}, max_in_flight_bytes ${MAX_BYTES}) ` +
        `-> ${SINK} sink; ${fmt(BATCH)} events per request (${fmt(rawBytesPerBatch)} B NDJSON, ` +
        `${fmt(zBytes)} B zstd); idle RSS ${idle.rssMb.toFixed(0)} MB`,
    );
    // Warm-up, not in the table: the JIT and the first connections (measured: a few 503s and
    // second-long answers in the first second of a cold start).
    const warm = await runStep(pool, bodies, RATES[0], WARMUP_S, child.pid);
    console.log(
      `warm-up: ${WARMUP_S} s at ${fmt(RATES[0])} ev/s: ${warm.ok} x 200, ${warm.busy} x 503; then ${STEP_S} s per step:`,
    );
    console.log(
      'offered ev/s | accepted ev/s |  200 |  503 | other | not sent | p50 ms | p99 ms | p99 503 ms | peak RSS MB | CPU % | run queue %',
    );
    const rows = [];
    const gen0 = process.cpuUsage();
    const genT0 = performance.now();
    for (const rate of RATES) {
      const r = await runStep(pool, bodies, rate, STEP_S, child.pid);
      if (exited !== null)
        throw new Error(`the aggregator exited during the ${rate} step (${exited})`);
      rows.push(r);
      console.log(
        `${fmt(r.offered).padStart(12)} | ${fmt(r.accepted).padStart(13)} | ${String(r.ok).padStart(4)} | ` +
          `${String(r.busy).padStart(4)} | ${String(r.other + r.errors).padStart(5)} | ` +
          `${String(r.notSent).padStart(8)} | ${r.p50.toFixed(1).padStart(6)} | ${r.p99.toFixed(1).padStart(6)} | ` +
          `${(r.busy ? r.p99busy.toFixed(1) : '-').padStart(10)} | ${r.peakRss.toFixed(0).padStart(11)} | ` +
          `${(r.cpu * 100).toFixed(0).padStart(5)} | ${(r.runq * 100).toFixed(0).padStart(11)}`,
      );
    }
    const g = process.cpuUsage(gen0);
    const genCpu = (g.user + g.system) / 1e3 / (performance.now() - genT0);
    // Every 200 is an acknowledged batch: the sink must have counted exactly those events.
    const accepted = [warm, ...rows].reduce((n, r) => n + r.ok * BATCH, 0);
    const delivered = await metric(apiPort, 'ves_sink_events_total');
    console.log(
      `accepted ${fmt(accepted)} events (warm-up included), the sink counted ${fmt(delivered)}` +
        `${accepted === delivered ? '' : ' (MISMATCH)'}; the generator (this process) used ` +
        `${(genCpu * 100).toFixed(0)}% of a core`,
    );
    // Bounded: the RSS of steps that hit the bound (503s) against the steps within it.
    const peakOf = (xs) => Math.max(0, ...xs.map((r) => r.peakRss)).toFixed(0);
    const over = rows.filter((r) => r.busy > 0);
    const top = rows.indexOf(rows.reduce((a, b) => (b.rate > a.rate ? b : a)));
    const recovered = rows.slice(top + 1).find((r) => r.busy === 0 && r.ok > 0);
    console.log(
      `peak RSS: ${peakOf(over)} MB in the ${over.length} steps with 503s, ` +
        `${peakOf(rows.filter((r) => r.busy === 0))} MB in the others; ` +
        (recovered
          ? `after the ${fmt(rows[top].rate)} ev/s step, ${fmt(recovered.rate)} ev/s was served with no 503`
          : 'no step after the peak was served without 503s'),
    );
    if (accepted !== delivered || !recovered) process.exitCode = 1;
  } finally {
    await pool.close();
    if (exited === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
