// The command line (commander). Each command's module is imported only when it runs, so
// `--version` and `--help` load almost nothing and start fast.

import { Command, CommanderError, Option } from 'commander';
import { EXIT_USAGE, VesError } from './errors.js';
import { VERSION } from './version.js';

const EXAMPLES = `
Examples:
  $ ves-log-collector --demo                          zero-setup demo: nginx traffic -> NDJSON + live stats
  $ ves-log-collector --watch '/var/log/nginx/*.log'  tail files to stdout as NDJSON
  $ ves-log-collector --config config/file-to-file.yaml --stats
  $ ves-log-collector validate config/*.yaml          exit 0 valid, 2 invalid (names key and line:col)
  $ ves-log-collector bench --duration 10s            measure this machine
  $ ves-log-collector generate --lines 100000 > nginx.log

Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.
Docs: README.md, docs/configuration.md, docs/errors.md`;

export interface RunFlags {
  config?: string;
  watch?: string[];
  parser?: string;
  dataDir?: string;
  stats?: boolean;
  demo?: boolean;
  quiet?: boolean;
  rate?: string;
  logLevel: string;
  logFormat: string;
}

function main(argv: string[]): void {
  const program = new Command('ves-log-collector')
    .description('Tail, parse, batch and ship logs: fast, lossless, pleasant to run.')
    .version(VERSION, '-V, --version')
    .option('-c, --config <file>', 'run the pipeline in this YAML config')
    .option('-w, --watch <glob...>', 'tail these files to stdout as NDJSON (no config needed)')
    .option('-p, --parser <name>', 'parser for --watch (default: raw) and --demo (default: nginx)')
    .option(
      '--data-dir <dir>',
      'where checkpoints live (overrides the config and the --watch default)',
    )
    .option('--stats', 'print a live stats line on stderr every second (SIGHUP reloads --config)')
    .option('--demo', 'zero-setup demo: generated nginx traffic -> NDJSON on stdout, with stats')
    .option('-q, --quiet', 'with --demo: discard the events, show only the stats')
    .option('--rate <lines/s>', 'with --demo: lines per second written to the demo log', '2000')
    .addOption(
      new Option('--log-level <level>', 'agent log level (stderr)')
        .choices(['debug', 'info', 'warn', 'error', 'silent'])
        .default('info'),
    )
    .addOption(
      new Option('--log-format <format>', 'agent log format')
        .choices(['text', 'json'])
        .default('text'),
    )
    .addHelpText('after', EXAMPLES)
    .showHelpAfterError('(run with --help for usage)')
    // `bench --rate` and `--parser` are bench's own: the run options (same names) only count
    // before a subcommand.
    .enablePositionalOptions()
    .exitOverride()
    .action(async (flags: RunFlags) => {
      const { run } = await import('./commands/run.js');
      process.exitCode = await run(flags);
    });

  program
    .command('validate')
    .description('check config files: exit 0 when all are valid, 2 otherwise')
    .argument('<file...>', 'config files')
    .action(async (files: string[]) => {
      const { validate } = await import('./commands/validate.js');
      process.exitCode = await validate(files);
    });

  program
    .command('bench')
    .description('measure the pipeline on this machine: lines/s, CPU us/line, RSS, latency')
    .option('--duration <time>', 'longest run (with --rate: how long to write)', '10s')
    .option('--lines <n>', 'lines in the catch-up corpus (without --rate)', '1000000')
    .option('--batch-size <n>', 'batch.max_events', '1000')
    .option('--parser <name>', 'parser', 'raw')
    .option(
      '--sink <kind>',
      'file (a temp file), null (discard) or http (a local receiver)',
      'file',
    )
    .option('--rate <lines/s>', 'steady load instead of catch-up: lines per second to append')
    .option('--encoding <enc>', 'sink encoding: ndjson or raw', 'ndjson')
    .option('--json', 'print the report as JSON (no live stats line)')
    .option('--report <file.html>', 'also sweep rates and write charts to this HTML file')
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const { bench } = await import('./commands/bench.js');
      process.exitCode = await bench(opts);
    });

  program
    .command('generate')
    .description('write realistic nginx access-log lines (seeded, reproducible)')
    .option('--lines <n>', 'how many lines', '100000')
    .option('--seed <n>', 'random seed', '1')
    .option('--out <file>', 'write here instead of stdout')
    .action(async (opts: { lines: string; seed: string; out?: string }) => {
      const { generate } = await import('./commands/generate.js');
      process.exitCode = await generate(opts);
    });

  program.parseAsync(argv).catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      process.exitCode = err.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    if (err instanceof VesError) {
      process.stderr.write(`ves-log-collector: ${err.message} [${err.code}]\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(
      `ves-log-collector: internal error [VES_INTERNAL]: ${(err as Error)?.stack ?? err}\n`,
    );
    process.exitCode = 1;
  });
}

// The bundle is one file, so parse workers start from it too (pipeline/workers.ts), with this
// first argument (PARSE_WORKER_ARG in pipeline/worker-protocol.ts): they run the worker loop,
// not the CLI. argv, not worker_threads.isMainThread: loading node:worker_threads here would
// cost every start ~7 ms.
if (process.argv[2] === '--ves-parse-worker') {
  void import('./pipeline/parse-worker.js').then((m) => m.runParseWorker());
} else {
  main(process.argv);
}
