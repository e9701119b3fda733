// The main job: run a pipeline from --config, --watch or --demo until SIGINT/SIGTERM (or until
// stdin ends), then stop gracefully: stop reading, flush, checkpoint, exit.

import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunFlags } from '../cli.js';
import { loadConfigFile, watchConfig } from '../config/index.js';
import type { AgentConfig } from '../config/types.js';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, VesError } from '../errors.js';
import { nginxGenerator } from '../gen/nginx.js';
import { createLogger, type LogLevel, type Logger } from '../observe/logger.js';
import { startStatsLine } from '../observe/stats.js';
import { Pipeline } from '../pipeline/pipeline.js';

export async function run(flags: RunFlags): Promise<number> {
  const log = createLogger({
    level: flags.logLevel as LogLevel,
    format: flags.logFormat as 'text' | 'json',
  });
  const chosen = [flags.config && '--config', flags.demo && '--demo'].filter(Boolean);
  if (chosen.length > 1) {
    throw new VesError('VES_USAGE', `${chosen.join(' and ')} cannot be used together`, EXIT_USAGE);
  }
  if (flags.config && flags.watch) {
    throw new VesError(
      'VES_USAGE',
      '--watch and --config cannot be used together: put the globs in the config',
      EXIT_USAGE,
    );
  }

  let demo: Demo | undefined;
  let config: AgentConfig;
  if (flags.demo) {
    demo = await Demo.start(flags, log);
    config = demo.config;
  } else if (flags.config) {
    config = await loadConfigFile(flags.config);
  } else if (flags.watch && flags.watch.length > 0) {
    config = watchConfig({ watch: flags.watch, parser: flags.parser });
  } else {
    throw new VesError(
      'VES_USAGE',
      'nothing to run: give --config FILE, --watch GLOB... or --demo (see --help)',
      EXIT_USAGE,
    );
  }
  if (flags.dataDir) config.data_dir = flags.dataDir;

  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  let pipeline: Pipeline;
  try {
    pipeline = await Pipeline.start(config, {
      log,
      onFinished: () => void stop('input ended'),
      onFatal: (err) => {
        log.error(err.message, { code: (err as VesError).code });
        void stop('a sink failed for good', true);
      },
    });
  } catch (err) {
    await demo?.cleanup();
    throw err;
  }
  log.info('started', {
    sources: Object.keys(config.sources).join(','),
    sinks: Object.keys(config.sinks).join(','),
    data_dir: config.data_dir,
  });
  const stopStats =
    flags.stats || flags.demo
      ? startStatsLine(pipeline.counters, {
          suffix: demo ? () => `demo log ${demo!.logPath}` : undefined,
        })
      : undefined;

  let stopping = false;
  /** `failed`: a sink is gone for good, so waiting for its acks would only burn the grace period. */
  async function stop(reason: string, failed = false): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { reason });
    await demo?.stopWriting();
    const complete = (await pipeline.stop(!failed)) && !failed;
    stopStats?.();
    const c = pipeline.counters;
    log.info('stopped', {
      lines_in: c.linesIn,
      events_out: c.eventsOut,
      truncated: c.truncatedLines,
    });
    await demo?.cleanup();
    finish(complete ? EXIT_OK : EXIT_RUNTIME);
  }
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      // Second signal: the operator wants out now. Checkpoints only hold delivered lines, so
      // nothing is lost: the rest is re-read at the next start.
      log.warn('second signal: exiting now', { signal: sig });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    void stop(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await finished;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Anything still holding the loop open (a stuck watcher) must not keep a stopped agent alive.
  setTimeout(() => process.exit(code), 2000).unref();
  return code;
}

/** --demo: seeded nginx traffic appended to a temp log (or the user's --watch files). */
class Demo {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly logPath: string,
    readonly config: AgentConfig,
  ) {}

  static async start(flags: RunFlags, log: Logger): Promise<Demo> {
    const dir = await mkdtemp(join(tmpdir(), 'ves-demo-'));
    const logPath = join(dir, 'access.log');
    const own = !flags.watch || flags.watch.length === 0;
    const config = watchConfig({ watch: own ? [logPath] : flags.watch!, parser: flags.parser });
    config.data_dir = join(dir, 'data');
    if (flags.quiet)
      config.sinks = {
        discard: {
          type: 'file',
          path: '/dev/null',
          encoding: 'ndjson',
          compression: 'none',
          fsync: false,
          rotate: null,
        },
      };
    const demo = new Demo(dir, own ? logPath : flags.watch!.join(' '), config);
    if (own) {
      const rate = Number(flags.rate);
      if (!Number.isFinite(rate) || rate <= 0) {
        throw new VesError(
          'VES_USAGE',
          `--rate must be a positive number, got "${flags.rate}"`,
          EXIT_USAGE,
        );
      }
      await appendFile(logPath, '');
      demo.writeTraffic(logPath, rate);
      log.info('demo: writing nginx traffic', { log: logPath, rate_lines_per_s: rate });
    }
    return demo;
  }

  /** Appends `rate` lines a second in 100 ms ticks, like a busy web server would. */
  private writeTraffic(path: string, rate: number): void {
    const gen = nginxGenerator(42);
    const perTick = rate / 10;
    let owed = 0;
    this.timer = setInterval(() => {
      owed += perTick;
      const n = Math.floor(owed);
      owed -= n;
      if (n === 0) return;
      let s = '';
      const now = Date.now();
      for (let i = 0; i < n; i++) s += gen.line(now) + '\n';
      this.writing = this.writing.then(() => appendFile(path, s));
    }, 100);
  }

  async stopWriting(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
  }

  async cleanup(): Promise<void> {
    await this.stopWriting();
    await rm(this.dir, { recursive: true, force: true });
  }
}
