// Runs the built binary (dist/ves-log-collector.cjs) as a real process against temp dirs:
// the end-to-end tests see exactly what a user sees. `npm test` builds before testing.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

export const BIN = resolve('dist/ves-log-collector.cjs');

export async function tempDir(
  prefix = 'ves-e2e-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * For a test file of agent runs: a fresh temp dir for each test (handed to `onDir`, removed
 * after it), and every agent given to the returned function SIGKILLed after the test if it is
 * still running.
 */
export function useTestDir(onDir: (dir: string) => void): (agent: Agent) => Agent {
  let agents: Agent[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const t = await tempDir();
    cleanup = t.cleanup;
    onDir(t.dir);
  });
  afterEach(async () => {
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill('SIGKILL');
    agents = [];
    await cleanup?.();
  });
  return (agent) => {
    agents.push(agent);
    return agent;
  };
}

export interface Agent {
  proc: ChildProcess;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or 128+signal number style name when killed). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startAgent(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: boolean } = {},
): Agent {
  const proc = spawn(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Runs the binary to completion. */
export async function runAgent(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; input?: string | Buffer } = {},
) {
  const a = startAgent(args, { ...opts, stdin: opts.input !== undefined });
  if (opts.input !== undefined) a.proc.stdin!.end(opts.input);
  const { code } = await a.exited;
  return { code, stdout: a.stdout(), stderr: a.stderr() };
}

/** Polls `cond` every 20 ms until true; fails with `what` and the last state after `timeoutMs`. */
export async function waitFor(
  cond: () => boolean,
  what: string,
  timeoutMs = 15_000,
  describe?: () => string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${describe ? `: ${describe()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lines `seq=<n> ...` for n in [from, to), each newline-terminated. Padding varies line length. */
export function seqLines(from: number, to: number, tag = 'line'): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${tag} seq=${i} ${'x'.repeat(i % 37)}\n`;
  return s;
}

/**
 * Parses an NDJSON file (missing file = no events). Throws on any line that is not JSON, except,
 * with `{ complete: true }`, a last line without its newline: a writer may be in the middle of it,
 * or killed there (the file sink trims such a torn tail when it starts again).
 */
export function readNdjson(
  path: string,
  opts: { complete?: boolean } = {},
): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  let text = readFileSync(path, 'utf8');
  if (opts.complete) text = text.slice(0, text.lastIndexOf('\n') + 1);
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

/** Sequence numbers of the `seq=<n>` events in order of arrival. */
export function seqs(events: Record<string, unknown>[]): number[] {
  const out: number[] = [];
  for (const e of events) {
    const m = /seq=(\d+)/.exec(String(e.message));
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/** Count of output lines (cheap progress check without parsing). */
export function lineCount(path: string): number {
  if (!existsSync(path)) return 0;
  const buf = readFileSync(path);
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** A config for one file source -> one file sink in `dir`. */
export async function fileToFileConfig(
  dir: string,
  include: string[],
  extra = '',
): Promise<string> {
  const path = join(dir, 'agent.yaml');
  await writeFile(
    path,
    `data_dir: ${join(dir, 'data')}
checkpoint_interval: 100ms
sources:
  app:
    type: file
    include: [${include.map((g) => JSON.stringify(g)).join(', ')}]
    partial_line_timeout: 300ms
    poll_interval: 50ms
sinks:
  out:
    type: file
    path: ${join(dir, 'out.ndjson')}
batch:
  max_events: 500
  timeout: 5ms
${extra}`,
  );
  return path;
}
