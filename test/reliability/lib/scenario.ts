// What every reliability scenario shares besides the writer, receiver, accountant and RSS
// sampler: the agent config (file sources -> one http sink at the test receiver), the one-line
// figures each scenario prints (docs/reliability.md quotes them), a seeded random source, a
// graceful stop, and a small tmpfs for disk trouble.

import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Agent } from '../../e2e/harness.js';

export interface HttpAgentOptions {
  /** Source id -> include globs. */
  sources: Record<string, string[]>;
  /** The receiver's URI. */
  uri: string;
  /** The sink's `buffer:` flow mapping, e.g. `{type: disk, max_bytes: 64MiB}`. Default memory. */
  buffer?: string;
  dataDir?: string;
  checkpointInterval?: string;
  /** More top-level YAML (e.g. `api: {...}`). */
  extra?: string;
  /** File name in `dir`. Default agent.yaml. */
  file?: string;
}

/** Writes `<dir>/agent.yaml` (or `file`): file sources -> one http sink (ndjson, uncompressed) -> `uri`. */
export async function httpAgentConfig(dir: string, o: HttpAgentOptions): Promise<string> {
  const sources = Object.entries(o.sources)
    .map(
      ([id, include]) => `  ${id}:
    type: file
    include: [${include.map((g) => JSON.stringify(g)).join(', ')}]
    partial_line_timeout: 300ms
    poll_interval: 50ms`,
    )
    .join('\n');
  const path = join(dir, o.file ?? 'agent.yaml');
  await writeFile(
    path,
    `data_dir: ${o.dataDir ?? join(dir, 'data')}
checkpoint_interval: ${o.checkpointInterval ?? '200ms'}
shutdown_timeout: 20s
sources:
${sources}
sinks:
  up:
    type: http
    uri: ${o.uri}
    format: ndjson
    compression: none
    healthcheck: false
    retry: {initial_backoff: 50ms, max_backoff: 500ms}
${o.buffer ? `    buffer: ${o.buffer}\n` : ''}batch:
  max_events: 1000
  timeout: 5ms
${o.extra ?? ''}`,
  );
  return path;
}

/**
 * Prints a scenario's measured figures as one line, `[reliability] <scenario>: k=v k=v ...`
 * (docs/reliability.md quotes these lines), and appends it to $VES_RELIABILITY_FIGURES if set.
 */
export function figures(scenario: string, values: Record<string, number | string | boolean>): void {
  const line = `[reliability] ${scenario}: ${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')}`;
  console.log(line);
  const file = process.env.VES_RELIABILITY_FIGURES;
  if (file) appendFileSync(file, line + '\n');
}

/** A seeded PRNG (the generator's mulberry32), so a failing run can be replayed with its seed. */
export { prng as seededRandom } from '../../../src/gen/nginx.js';

/** The seed of this run: $VES_RELIABILITY_SEED, else the clock. */
export function runSeed(): number {
  const env = Number(process.env.VES_RELIABILITY_SEED);
  return Number.isInteger(env) && env > 0 ? env : Date.now() % 1_000_000_007;
}

/** SIGTERM, then the exit code (the agent must stop gracefully with 0). */
export async function stopAgent(agent: Agent): Promise<number | null> {
  if (agent.proc.exitCode !== null || agent.proc.signalCode !== null) return agent.proc.exitCode;
  agent.proc.kill('SIGTERM');
  return (await agent.exited).code;
}

/** kill -9 (no-op if already gone); resolves once the process is reaped. */
export async function killAgent(agent: Agent): Promise<void> {
  if (agent.proc.exitCode === null && agent.proc.signalCode === null) agent.proc.kill('SIGKILL');
  await agent.exited;
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Mounts a tmpfs of `size` (e.g. '2m') on `dir` when running as root and the kernel allows it;
 * returns its unmount, or null (not root, or mount refused, e.g. in an unprivileged container).
 */
export function mountTmpfs(dir: string, size: string): (() => void) | null {
  if (!isRoot()) return null;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
  } catch {
    return null;
  }
  return () => {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // busy: detach now, free when idle
    }
  };
}

/** Grows (or shrinks) a tmpfs mounted by mountTmpfs: the test's "free some space". */
export function resizeTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir], { stdio: 'pipe' });
}
