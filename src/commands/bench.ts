// `ves-log-collector bench`: drives the real pipeline in-process (file source -> parse -> batch
// -> sink) on generated nginx traffic and reports lines/s, MB/s, CPU, memory and latency.
//   no --rate  catch-up: a corpus of --lines lines is written first, then read as fast as it goes
//   --rate N   steady load: N lines/s appended in 10 ms ticks for --duration, as a web server would
//   --report   also a sweep of rates, written as an HTML page with charts (bench-report.ts)
// Sinks: null (blackhole: the pipeline alone), file (a temp file), http (a local receiver in a
// child process, so its CPU is not counted as ours).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { agentSchema, parseDuration } from '../config/index.js';
import { decodeValue } from '../config/schema.js';
import type { AgentConfig } from '../config/types.js';
import { EXIT_OK, EXIT_USAGE, VesError } from '../errors.js';
import { nginxGenerator } from '../gen/nginx.js';
import { Counters } from '../observe/counters.js';
import type { LatencyHistogram } from '../observe/latency.js';
import { createLogger } from '../observe/logger.js';
import { Sampler } from '../observe/sampler.js';
import { startStatsLine } from '../observe/stats.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { sinks as sinkRegistry } from '../sinks/index.js';

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** One measured run: the main one, or one step of the --report sweep. */
export interface BenchRun {
  /** Lines/s the writer was asked for; null for a catch-up run (as fast as it goes). */
  rate: number | null;
  lines: number;
  seconds: number;
  lines_per_s: number;
  mb_per_s: number;
  /** % of one core over the run, the whole process (every thread). */
  cpu_percent: number;
  cpu_us_per_line: number;
  rss_mb: number;
  /** Milliseconds: ingest -> batch handoff, and ingest -> sink acknowledgement. */
  latency_ms: { handoff: LatencySummary; ack: LatencySummary };
  /** [percentile, ack ms] for the report's percentile plot. */
  ack_curve: [number, number][];
  complete: boolean;
}

export interface BenchReport extends BenchRun {
  machine: string;
  node: string;
  parser: string;
  sink: string;
  encoding: string;
  batch_size: number;
  cpu_s_per_million_lines: number;
  peak_rss_mb: number;
  sweep?: BenchRun[];
}

export function machineLine(): string {
  const c = cpus();
  return `${c.length} x ${c[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${process.platform} ${process.arch}, node ${process.version}, host ${hostname()}`;
}

function positiveInt(name: string, v: unknown): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new VesError(
      'VES_USAGE',
      `${name} must be a positive whole number, got "${v}"`,
      EXIT_USAGE,
    );
  return n;
}

/** Distinct lines in the pool the corpus and the paced writer repeat: 64K lines (~10 MB) are
 *  generated in ~0.1 s, where generating a 1M-line corpus line by line took 1.7 s. */
const POOL_LINES = 65_536;
/** The paced writer's tick: 10 ms keeps 100 writes a second, each a slice of the pool. */
const TICK_MS = 10;
/** After a paced run, how long the lines still in flight may take to arrive. */
const DRAIN_MS = 5_000;
/** Percentiles of the report's latency plot (the classic HDR x axis goes to 99.99). */
const CURVE = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 100];
/** Sweep steps as fractions of the main run's rate (or of its measured throughput). */
const SWEEP = [0.1, 0.25, 0.5, 0.75, 1];

interface Pool {
  buf: Buffer;
  /** Byte offset of each line's start, plus the end: line i is buf[ends[i]..ends[i+1]). */
  starts: Uint32Array;
}

function makePool(): Pool {
  const gen = nginxGenerator(7);
  const t0 = Date.UTC(2026, 10, 23, 12);
  const parts: string[] = new Array(POOL_LINES);
  for (let i = 0; i < POOL_LINES; i++) parts[i] = gen.line(t0 + i * 13) + '\n';
  const buf = Buffer.from(parts.join(''));
  const starts = new Uint32Array(POOL_LINES + 1);
  let pos = 0;
  for (let i = 0; i < POOL_LINES; i++) {
    starts[i] = pos;
    pos = buf.indexOf(10, pos) + 1;
  }
  starts[POOL_LINES] = buf.length;
  return { buf, starts };
}

/** Appends `n` lines of the pool, going round it, starting at line `from`; returns the next. */
async function appendPool(path: string, pool: Pool, from: number, n: number): Promise<number> {
  let i = from;
  while (n > 0) {
    const k = Math.min(n, POOL_LINES - i);
    await appendFile(path, pool.buf.subarray(pool.starts[i], pool.starts[i + k]));
    n -= k;
    i = (i + k) % POOL_LINES;
  }
  return i;
}

/** A local HTTP receiver in a child process: reads each body, answers 200, counts nothing. */
const RECEIVER = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, {'content-type': 'application/json'}); res.end('{}'); });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stdout.write(s.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;

async function startReceiver(): Promise<{ uri: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', RECEIVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { uri: `http://127.0.0.1:${Number(chunk.toString().trim())}/`, child };
}

interface Setup {
  parser: string;
  sink: 'null' | 'file' | 'http';
  encoding: 'ndjson' | 'raw';
  batchSize: number;
  httpUri?: string;
  json: boolean;
}

function benchConfig(dir: string, corpus: string, s: Setup): AgentConfig {
  const sink =
    s.sink === 'null'
      ? { type: 'blackhole', encoding: s.encoding }
      : s.sink === 'file'
        ? { type: 'file', path: join(dir, 'out.ndjson'), encoding: s.encoding }
        : { type: 'http', uri: s.httpUri, format: 'ndjson' };
  // Through the schema, so the bench gets every default a config file would.
  return decodeValue(
    agentSchema,
    {
      data_dir: join(dir, 'data'),
      sources: {
        bench: {
          type: 'file',
          include: [corpus],
          parser: s.parser,
          read_chunk_bytes: '256KiB',
          poll_interval: '250ms',
        },
      },
      batch: { max_events: s.batchSize, max_bytes: '1MiB', timeout: '5ms' },
      sinks: { out: sink },
    },
    'bench',
  );
}

const summary = (h: LatencyHistogram): LatencySummary => {
  const p = h.percentiles();
  return { p50: p.p50, p95: p.p95, p99: p.p99, p999: p.p999, max: p.max };
};

/**
 * One run in a fresh temp dir with fresh counters. `rate` null: catch-up over a corpus of
 * `lines`; else `rate` lines/s appended for `durationMs`. The clock stops when every written
 * line was delivered (catch-up) or when the writing ends (paced; then up to DRAIN_MS more for
 * the lines in flight, not counted in the time).
 */
async function runOnce(
  s: Setup,
  pool: Pool,
  rate: number | null,
  lines: number,
  durationMs: number,
): Promise<BenchRun> {
  const dir = await mkdtemp(join(tmpdir(), 'ves-bench-'));
  try {
    const corpus = join(dir, 'access.log');
    await writeFile(corpus, '');
    if (rate === null) await appendPool(corpus, pool, 0, lines);
    const config = benchConfig(dir, corpus, s);
    const log = createLogger({ level: 'warn', format: 'text' });
    const counters = new Counters();
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const pipeline = await Pipeline.start(config, { log, counters });
    const sampler = new Sampler(counters, { view: () => pipeline });
    const stopStats = s.json ? undefined : startStatsLine(sampler);
    const deadline = start + durationMs;
    let written = rate === null ? lines : 0;
    const delivered = () => minSinkEvents(counters);
    if (rate === null) {
      while (delivered() < lines && performance.now() < deadline) await sleep(5);
    } else {
      // Paced: each tick writes what the clock says is owed, so a slow tick is caught up.
      let next = 0;
      for (let t = performance.now(); t < deadline; t = performance.now()) {
        const owed = Math.floor(((t - start) / 1000) * rate) - written;
        if (owed > 0) {
          next = await appendPool(corpus, pool, next, owed);
          written += owed;
        }
        await sleep(TICK_MS);
      }
    }
    const end = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const done = delivered();
    if (rate !== null) {
      const drainEnd = performance.now() + DRAIN_MS;
      while (delivered() < written && performance.now() < drainEnd) await sleep(5);
    }
    await sampler.tick();
    stopStats?.();
    sampler.stop();
    const rss = process.memoryUsage.rss();
    await pipeline.stop();
    const seconds = (end - start) / 1000;
    const cpuUs = cpu.user + cpu.system;
    const meanLineBytes = pool.buf.length / POOL_LINES;
    const ack = counters.latency.ack;
    return {
      rate,
      lines: done,
      seconds: round(seconds, 3),
      lines_per_s: Math.round(done / seconds),
      mb_per_s: round((done * meanLineBytes) / seconds / 1e6, 1),
      cpu_percent: round((cpuUs / 1e6 / seconds) * 100, 1),
      cpu_us_per_line: round(cpuUs / Math.max(1, done), 3),
      rss_mb: round(rss / 1048576, 1),
      latency_ms: { handoff: summary(counters.latency.handoff), ack: summary(ack) },
      ack_curve: CURVE.map((p) => [p, ack.valueAt(p)]),
      complete: delivered() >= written,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Events the slowest sink delivered (the bench has one sink; this keeps it honest with more). */
function minSinkEvents(c: Counters): number {
  let min = Infinity;
  for (const s of c.sinks.values()) if (s.events < min) min = s.events;
  return min === Infinity ? 0 : min;
}

export async function bench(opts: Record<string, string | boolean | undefined>): Promise<number> {
  const lines = positiveInt('--lines', opts.lines);
  const batchSize = positiveInt('--batch-size', opts.batchSize);
  const durationMs = parseDuration(String(opts.duration), '--duration');
  const rate = opts.rate === undefined ? null : positiveInt('--rate', opts.rate);
  const encoding = String(opts.encoding);
  if (encoding !== 'ndjson' && encoding !== 'raw')
    throw new VesError(
      'VES_USAGE',
      `--encoding must be ndjson or raw, got "${encoding}"`,
      EXIT_USAGE,
    );
  const sink = String(opts.sink);
  if (sink !== 'null' && sink !== 'file' && sink !== 'http')
    throw new VesError('VES_USAGE', `--sink must be null, file or http, got "${sink}"`, EXIT_USAGE);
  if (sink === 'http' && !Object.hasOwn(sinkRegistry, 'http'))
    throw new VesError(
      'VES_USAGE',
      '--sink http needs the http sink, which this build does not have yet: use --sink null or file',
      EXIT_USAGE,
    );
  const json = opts.json === true;
  const reportFile = typeof opts.report === 'string' ? resolve(opts.report) : undefined;
  const parser = String(opts.parser);
  const setup: Setup = { parser, sink, encoding, batchSize, json };

  let receiver: { uri: string; child: ChildProcess } | undefined;
  try {
    if (sink === 'http') {
      receiver = await startReceiver();
      setup.httpUri = receiver.uri;
    }
    const pool = makePool();
    const main = await runOnce(setup, pool, rate, lines, durationMs);
    let sweep: BenchRun[] | undefined;
    if (reportFile) {
      // Around the asked rate, or up to the throughput the catch-up run just measured.
      const top = rate ?? main.lines_per_s;
      const stepMs = Math.max(1000, durationMs / SWEEP.length);
      sweep = [];
      for (const f of SWEEP) {
        const r = Math.max(100, Math.round(top * f));
        if (!json)
          process.stderr.write(
            `sweep: ${r.toLocaleString('en-US')} lines/s for ${stepMs / 1000} s\n`,
          );
        sweep.push(await runOnce(setup, pool, r, lines, stepMs));
      }
    }
    const report: BenchReport = {
      machine: machineLine(),
      node: process.version,
      parser,
      sink,
      encoding,
      batch_size: batchSize,
      ...main,
      cpu_s_per_million_lines: round(main.cpu_us_per_line, 3),
      peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
      ...(sweep ? { sweep } : {}),
    };
    if (reportFile) {
      const { renderBenchReport } = await import('./bench-report.js');
      await writeFile(reportFile, renderBenchReport(report));
    }
    if (json) {
      process.stdout.write(JSON.stringify(report) + '\n');
    } else {
      const l = report.latency_ms;
      const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '-');
      const work =
        rate === null
          ? `${report.lines.toLocaleString('en-US')} nginx lines (catch-up)`
          : `${rate.toLocaleString('en-US')} lines/s for ${durationMs / 1000} s (${report.lines.toLocaleString('en-US')} lines)`;
      process.stdout.write(
        [
          `machine     ${report.machine}`,
          `work        ${work}, parser ${parser}, sink ${sink}, encoding ${encoding}, batch ${batchSize}${report.complete ? '' : ' (duration ran out first)'}`,
          `throughput  ${report.lines_per_s.toLocaleString('en-US')} lines/s, ${report.mb_per_s} MB/s in ${report.seconds} s`,
          `latency     handoff p50 ${ms(l.handoff.p50)} ms, p95 ${ms(l.handoff.p95)} ms, p99 ${ms(l.handoff.p99)} ms` +
            ` | ack p50 ${ms(l.ack.p50)} ms, p95 ${ms(l.ack.p95)} ms, p99 ${ms(l.ack.p99)} ms`,
          `cpu         ${report.cpu_percent}% of one core, ${report.cpu_us_per_line} us/line (${report.cpu_s_per_million_lines} CPU-s per million lines)`,
          `memory      RSS ${report.rss_mb} MB at the end, peak ${report.peak_rss_mb} MB`,
          ...(reportFile ? [`report      ${reportFile}`] : []),
          '',
        ].join('\n'),
      );
    }
    return EXIT_OK;
  } finally {
    receiver?.child.stdin?.end();
    receiver?.child.kill();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;
