// `ves-log-collector bench`: drives the real pipeline in-process on a generated nginx corpus
// (file source -> process -> batcher -> file sink) and reports lines/s, CPU us/line, RSS.

import { mkdtemp, rm, stat, writeFile, appendFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem, hostname } from 'node:os';
import { join } from 'node:path';
import { parseDuration } from '../config/index.js';
import type { AgentConfig } from '../config/types.js';
import { EXIT_OK, EXIT_USAGE, VesError } from '../errors.js';
import { nginxGenerator } from '../gen/nginx.js';
import { createLogger } from '../observe/logger.js';
import { startStatsLine } from '../observe/stats.js';
import { Pipeline } from '../pipeline/pipeline.js';

export interface BenchReport {
  machine: string;
  node: string;
  parser: string;
  encoding: string;
  batch_size: number;
  lines: number;
  seconds: number;
  lines_per_s: number;
  mb_per_s: number;
  cpu_us_per_line: number;
  cpu_s_per_million_lines: number;
  peak_rss_mb: number;
  complete: boolean;
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

export async function bench(opts: Record<string, string | boolean>): Promise<number> {
  const lines = positiveInt('--lines', opts.lines);
  const batchSize = positiveInt('--batch-size', opts.batchSize);
  const durationMs = parseDuration(String(opts.duration), '--duration');
  const encoding = String(opts.encoding);
  if (encoding !== 'ndjson' && encoding !== 'raw')
    throw new VesError(
      'VES_USAGE',
      `--encoding must be ndjson or raw, got "${encoding}"`,
      EXIT_USAGE,
    );
  const json = opts.json === true;
  const dir = await mkdtemp(join(tmpdir(), 'ves-bench-'));
  try {
    const corpus = join(dir, 'access.log');
    await writeFile(corpus, '');
    const gen = nginxGenerator(7);
    const t0 = Date.UTC(2026, 10, 23, 12);
    for (let i = 0; i < lines;) {
      let s = '';
      for (let k = 0; k < 20_000 && i < lines; k++, i++) s += gen.line(t0 + i) + '\n';
      await appendFile(corpus, s);
    }
    const corpusBytes = (await stat(corpus)).size;
    const config: AgentConfig = {
      data_dir: join(dir, 'data'),
      sources: {
        bench: {
          type: 'file',
          include: [corpus],
          exclude: [],
          read_from: 'beginning',
          parser: String(opts.parser),
          fields: {},
          max_line_bytes: 256 * 1024,
          read_chunk_bytes: 256 * 1024,
          partial_line_timeout: 1000,
          poll_interval: 250,
          fingerprint: 'checksum',
          idle_timeout: 300_000,
        },
      },
      transforms: [],
      batch: { max_events: batchSize, max_bytes: 1024 * 1024, timeout: 5 },
      sinks: {
        out: {
          type: 'file',
          path: join(dir, 'out.ndjson'),
          encoding,
          compression: 'none',
          fsync: false,
          rotate: null,
        },
      },
      api: { enabled: false, address: '127.0.0.1:8686' },
      shutdown_timeout: 10_000,
      checkpoint_interval: 1000,
      host: hostname(),
    };
    const log = createLogger({ level: 'warn', format: 'text' });
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const pipeline = await Pipeline.start(config, { log });
    const stopStats = json ? undefined : startStatsLine(pipeline.counters);
    const deadline = start + durationMs;
    while (pipeline.counters.eventsOut < lines && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    const end = performance.now();
    const cpu = process.cpuUsage(cpu0);
    stopStats?.();
    const delivered = pipeline.counters.eventsOut;
    await pipeline.stop();
    const seconds = (end - start) / 1000;
    const cpuUs = cpu.user + cpu.system;
    const report: BenchReport = {
      machine: machineLine(),
      node: process.version,
      parser: String(opts.parser),
      encoding,
      batch_size: batchSize,
      lines: delivered,
      seconds: round(seconds, 3),
      lines_per_s: Math.round(delivered / seconds),
      mb_per_s: round((corpusBytes * (delivered / lines)) / seconds / 1e6, 1),
      cpu_us_per_line: round(cpuUs / Math.max(1, delivered), 3),
      cpu_s_per_million_lines: round(cpuUs / 1e6 / Math.max(1, delivered / 1e6), 3),
      peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
      complete: delivered >= lines,
    };
    if (json) {
      process.stdout.write(JSON.stringify(report) + '\n');
    } else {
      process.stdout.write(
        [
          `machine     ${report.machine}`,
          `work        ${report.lines} nginx lines, parser ${report.parser}, encoding ${report.encoding}, batch ${batchSize}${report.complete ? '' : ' (duration ran out first)'}`,
          `throughput  ${report.lines_per_s.toLocaleString('en-US')} lines/s, ${report.mb_per_s} MB/s in ${report.seconds} s`,
          `cpu         ${report.cpu_us_per_line} us/line (${report.cpu_s_per_million_lines} CPU-s per million lines)`,
          `memory      peak RSS ${report.peak_rss_mb} MB`,
          '',
        ].join('\n'),
      );
    }
    return EXIT_OK;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const round = (n: number, d: number) => Math.round(n * 10 ** d) / 10 ** d;
