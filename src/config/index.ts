// The config API: load and validate a YAML file, or build the config `--watch` runs with.
// Everything here returns the resolved AgentConfig of ./types.ts (defaults applied, units as numbers).

import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { parserNames, plannedParsers } from '../parsers/index.js';
import { decodeValue } from './schema.js';
import { durationMs, sizeBytes } from './units.js';
import { agentSchema } from './top.js';
import type { AgentConfig } from './types.js';

export { loadConfigFile, parseConfig } from './load.js';
export { agentSchema } from './top.js';
export { durationMs, sizeBytes } from './units.js';
export type * from './types.js';

export interface WatchOptions {
  /** Globs from --watch; relative ones are made absolute against `cwd`. */
  watch: string[];
  /** --parser; default raw. */
  parser?: string;
  /** Overrides the per-user state directory. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/**
 * `--watch GLOB...` with no config: one file source `watch` (from the beginning) to one stdout
 * sink (NDJSON), checkpoints in a per-user state dir. The data_dir subfolder is named after the
 * globs, so two different --watch runs neither share checkpoints nor fight over one lock.
 */
export function watchConfig(opts: WatchOptions): AgentConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  if (opts.watch.length === 0) {
    throw new ConfigError('VES_USAGE', '--watch', 'give at least one file or glob to watch');
  }
  const parser = opts.parser ?? 'raw';
  if (!(parserNames as readonly string[]).includes(parser)) {
    const known = `unknown parser ${JSON.stringify(parser)}; known: ${parserNames.join(', ')}`;
    throw new ConfigError('VES_CONFIG_ENUM', '--parser', plannedParsers[parser] ?? known);
  }
  if (parser === 'template') {
    throw new ConfigError(
      'VES_USAGE',
      '--parser',
      'the template parser needs `templates:` (its line formats): write them in a config file and use --config',
    );
  }
  const include = opts.watch.map((g) => resolve(cwd, g));
  const id = createHash('sha256')
    .update([...include].sort().join('\n'))
    .digest('hex');
  const value = {
    data_dir: opts.dataDir ?? join(stateDir(env, cwd), `watch-${id.slice(0, 8)}`),
    sources: { watch: { type: 'file', include, read_from: 'beginning', parser } },
    sinks: { stdout: { type: 'stdout', encoding: 'ndjson' } },
  };
  // Through the schema, so --watch gets the same defaults as a config file.
  return decodeValue(agentSchema, value, '--watch');
}

/** $VES_STATE_DIR, else $XDG_STATE_HOME/ves-log-collector, else ~/.local/state/ves-log-collector. */
export function stateDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.VES_STATE_DIR) return resolve(cwd, env.VES_STATE_DIR);
  // The XDG spec says to ignore a relative XDG_STATE_HOME.
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'ves-log-collector');
}

/** A duration flag (`--duration 10s`) in milliseconds; a usage error names the flag. */
export function parseDuration(text: string, flag = 'duration'): number {
  const ms = durationMs(text);
  if (ms === undefined) {
    throw new ConfigError(
      'VES_USAGE',
      flag,
      `expected a duration like 5ms, 10s, 2m or 1h, got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/** A size flag (`--max-bytes 1MiB`) in bytes; a usage error names the flag. */
export function parseBytes(text: string, flag = 'size'): number {
  const n = sizeBytes(text);
  if (n === undefined) {
    throw new ConfigError(
      'VES_USAGE',
      flag,
      `expected a size like 512KiB, 1MiB or 10MB, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}
