// The main job: run a pipeline from --config, --watch or --demo until SIGINT/SIGTERM (or until
// stdin ends), then stop gracefully: stop reading, flush, checkpoint, exit. SIGHUP reloads a
// --config run's config; the stats line and the admin API live outside the pipeline, so they
// (and the counters they show) carry on across reloads.

import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunFlags } from '../cli.js';
import { loadConfigFile, watchConfig } from '../config/index.js';
import type { AgentConfig } from '../config/types.js';
import { EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, VesError } from '../errors.js';
import { nginxGenerator } from '../gen/nginx.js';
import type { ApiServer } from '../observe/api.js';
import { Counters } from '../observe/counters.js';
import { createLogger, type LogLevel, type Logger } from '../observe/logger.js';
import { RecentProblems, Sampler } from '../observe/sampler.js';
import { startStatsLine } from '../observe/stats.js';
import { parserNames } from '../parsers/index.js';
import { Pipeline } from '../pipeline/pipeline.js';
import { defaultBufferConfig } from '../sinks/buffer-config.js';

export async function run(flags: RunFlags): Promise<number> {
  const problems = new RecentProblems();
  const log = createLogger({
    level: flags.logLevel as LogLevel,
    format: flags.logFormat as 'text' | 'json',
    onProblem: problems.add,
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
    config = watchConfig({ watch: flags.watch, parser: flags.parser ?? 'raw' });
  } else {
    throw new VesError(
      'VES_USAGE',
      'nothing to run: give --config FILE, --watch GLOB... or --demo (see --help)',
      EXIT_USAGE,
    );
  }
  if (flags.dataDir) config.data_dir = flags.dataDir;

  // One set of totals and one sampler for the whole run: a reload swaps only the pipeline.
  const counters = new Counters();
  let pipeline: Pipeline | undefined;
  const sampler = new Sampler(counters, { view: () => pipeline, problems });
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  // Reloads and the stop run one at a time, in the order they were asked for (declared before
  // the first pipeline starts: a sink may fail for good while it starts).
  let lifecycle: Promise<void> = Promise.resolve();
  const serial = (job: () => Promise<void>): Promise<void> => (lifecycle = lifecycle.then(job));
  let stopping = false;

  const startPipeline = async (cfg: AgentConfig): Promise<Pipeline> => {
    let p: Pipeline | undefined;
    // From a pipeline that a reload already replaced, these mean nothing any more (p is still
    // undefined only while this one starts, when it is the one that counts).
    const current = () => p === undefined || p === pipeline;
    p = await Pipeline.start(cfg, {
      log,
      counters,
      onFinished: () => {
        if (current()) void stop('input ended');
      },
      onFatal: (err) => {
        log.error(err.message, { code: (err as VesError).code });
        const what = (err as VesError).code === 'VES_WORKER_FAILED' ? 'a parse worker' : 'a sink';
        if (current()) void stop(`${what} failed for good`, true);
      },
    });
    return p;
  };

  // The stats line first, so it shows up at once (the demo promises it within 2 s).
  const stopStats =
    flags.stats || flags.demo
      ? startStatsLine(sampler, {
          suffix: demo ? () => `demo log ${demo!.logPath}` : undefined,
        })
      : undefined;

  // The admin API next: a port in use fails the start before any file is read.
  let api: ApiServer | undefined;
  const startAdminApi = async (cfg: AgentConfig): Promise<ApiServer | undefined> => {
    if (!cfg.api.enabled) return undefined;
    const { startApi } = await import('../observe/api.js');
    return startApi({
      address: cfg.api.address,
      counters,
      sampler: sampler.start(),
      view: () => pipeline,
      log: log.child('api'),
    });
  };
  // A SIGTERM/SIGINT while the pipeline starts (its first lines may already be out) must still
  // mean a graceful stop, not the default action (killed, no final checkpoint): note it, and
  // stop once the pipeline is up.
  // The listeners stay from here to the end (removing and adding them again would leave an
  // instant with the default action); what they do changes once the pipeline is up.
  let signalledEarly: NodeJS.Signals | undefined;
  let handleSignal = (sig: NodeJS.Signals): void => void (signalledEarly ??= sig);
  const onStopSignal = (sig: NodeJS.Signals): void => handleSignal(sig);
  process.on('SIGINT', onStopSignal);
  process.on('SIGTERM', onStopSignal);
  try {
    api = await startAdminApi(config);
    pipeline = await startPipeline(config);
  } catch (err) {
    process.off('SIGINT', onStopSignal);
    process.off('SIGTERM', onStopSignal);
    stopStats?.();
    sampler.stop();
    await api?.close();
    await demo?.cleanup();
    throw err;
  }
  log.info('started', {
    sources: Object.keys(config.sources).join(','),
    sinks: Object.keys(config.sinks).join(','),
    data_dir: config.data_dir,
  });

  /** `failed`: a sink is gone for good, so waiting for its acks would only burn the grace period. */
  function stop(reason: string, failed = false): Promise<void> {
    if (stopping) return lifecycle;
    stopping = true;
    log.info('stopping', { reason });
    return serial(async () => {
      await demo?.stopWriting();
      const p = pipeline;
      const complete = p === undefined ? false : (await p.stop(!failed)) && !failed;
      stopStats?.();
      sampler.stop();
      await api?.close();
      log.info('stopped', {
        lines_in: counters.linesIn,
        events_out: counters.eventsOut,
        truncated: counters.truncatedLines,
      });
      await demo?.cleanup();
      finish(complete ? EXIT_OK : EXIT_RUNTIME);
    });
  }

  /**
   * SIGHUP: load and validate the config file again. Invalid: log why (key and line:col) and keep
   * running as before. Valid: stop the running pipeline gracefully (it drains and checkpoints)
   * and start one from the new config. Checkpoints live in data_dir, so the new pipeline goes on
   * from exactly where the old one's acknowledged lines end: nothing is lost or read twice.
   */
  const reload = (): Promise<void> =>
    serial(async () => {
      if (stopping || !flags.config) return;
      let next: AgentConfig;
      try {
        next = await loadConfigFile(flags.config);
        if (flags.dataDir) next.data_dir = flags.dataDir;
      } catch (err) {
        counters.reloadFailures++;
        log.error('reload: the config is invalid; still running the previous one', {
          code: 'VES_RELOAD',
          error: (err as Error).message,
        });
        return;
      }
      if (JSON.stringify(next) === JSON.stringify(config)) {
        counters.reloads++;
        log.info('reload: the config did not change; nothing to restart');
        return;
      }
      log.info('reload: config is valid; restarting the pipeline', { config: flags.config });
      const old = pipeline!;
      pipeline = undefined;
      await old.stop();
      try {
        pipeline = await startPipeline(next);
      } catch (err) {
        counters.reloadFailures++;
        log.error('reload: the new config failed to start; starting the previous one again', {
          code: 'VES_RELOAD',
          error: (err as Error).message,
        });
        try {
          pipeline = await startPipeline(config);
        } catch (again) {
          log.error('the previous config failed to start again', {
            code: (again as VesError).code ?? 'VES_RELOAD',
            error: (again as Error).message,
          });
          stopping = true;
          await api?.close();
          stopStats?.();
          sampler.stop();
          finish(EXIT_RUNTIME);
        }
        return;
      }
      const apiChanged = JSON.stringify(next.api) !== JSON.stringify(config.api);
      config = next;
      counters.reloads++;
      if (apiChanged) {
        await api?.close();
        api = undefined;
        try {
          api = await startAdminApi(next);
        } catch (err) {
          log.error('reload: the admin API cannot start with the new address', {
            code: 'VES_API_LISTEN',
            error: (err as Error).message,
          });
        }
      }
      log.info('reloaded', {
        sources: Object.keys(next.sources).join(','),
        sinks: Object.keys(next.sinks).join(','),
      });
    });

  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      // Second signal: the operator wants out now. Checkpoints only hold delivered lines, so
      // nothing is lost: the rest is re-read at the next start.
      log.warn('second signal: exiting now', { signal: sig });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    void stop(sig);
  };
  const onHup = () => {
    if (!flags.config) {
      log.warn('SIGHUP: only a --config run can reload; ignored');
      return;
    }
    log.info('SIGHUP: reloading the config', { config: flags.config });
    void reload();
  };
  handleSignal = onSignal;
  process.on('SIGHUP', onHup);
  if (signalledEarly !== undefined) onSignal(signalledEarly);
  const code = await finished;
  process.off('SIGINT', onStopSignal);
  process.off('SIGTERM', onStopSignal);
  process.off('SIGHUP', onHup);
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
    // The traffic is nginx's: parsed into fields when the nginx parser is there.
    const parser =
      flags.parser ?? ((parserNames as readonly string[]).includes('nginx') ? 'nginx' : 'raw');
    const config = watchConfig({ watch: own ? [logPath] : flags.watch!, parser });
    config.data_dir = join(dir, 'data');
    if (flags.quiet)
      config.sinks = {
        discard: { type: 'blackhole', encoding: 'ndjson', buffer: defaultBufferConfig() },
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
      log.info('demo: writing nginx traffic', { log: logPath, rate_lines_per_s: rate, parser });
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
