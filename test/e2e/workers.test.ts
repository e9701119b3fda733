// The built binary with parse worker threads (`workers: 2`): every line of two files out exactly
// once and in order per file, checkpoints that hold across a restart, and stdin (a finite
// source) fully delivered before the agent exits.

import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import {
  fileToFileConfig,
  lineCount,
  readNdjson,
  runAgent,
  seqLines,
  startAgent,
  tempDir,
  waitFor,
  type Agent,
} from './harness.js';

let dir: string;
let cleanup: () => Promise<void>;
let agent: Agent | undefined;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('ves-e2e-workers-'));
});
afterEach(async () => {
  if (agent && agent.proc.exitCode === null) {
    agent.proc.kill('SIGKILL');
    await agent.exited;
  }
  agent = undefined;
  await cleanup();
});

/** seq numbers per tag (`a`, `b`) in output order. */
function byTag(events: Record<string, unknown>[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const e of events) {
    const m = /^(\w+) seq=(\d+)/.exec(String(e.message));
    if (m) (out[m[1]] ??= []).push(Number(m[2]));
  }
  return out;
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('workers: 2', () => {
  test('every line of two files out once, in order per file; a restart resumes', async () => {
    const a = join(dir, 'a.log');
    const b = join(dir, 'b.log');
    await writeFile(a, seqLines(0, 60_000, 'a'));
    await writeFile(b, seqLines(0, 30_000, 'b'));
    const out = join(dir, 'out.ndjson');
    const cfg = await fileToFileConfig(dir, [join(dir, '*.log')], 'workers: 2\n');

    agent = startAgent(['--config', cfg, '--log-level', 'info']);
    await waitFor(
      () => lineCount(out) >= 90_000,
      'all 90,000 lines',
      60_000,
      () => String(lineCount(out)),
    );
    // More lines while it runs: they go through the workers too.
    await appendFile(a, seqLines(60_000, 70_000, 'a'));
    await waitFor(() => lineCount(out) >= 100_000, 'the appended lines', 30_000);
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    expect(agent.stderr()).toMatch(/parsing in worker threads workers=2/);
    expect(agent.stderr()).not.toMatch(/VES_WORKER_FAILED/);
    let seen = byTag(readNdjson(out));
    expect(seen.a).toEqual(range(0, 70_000));
    expect(seen.b).toEqual(range(0, 30_000));

    // Restart: the checkpoints (advanced through the workers' blocks) hold; only new lines come.
    await appendFile(b, seqLines(30_000, 31_000, 'b'));
    agent = startAgent(['--config', cfg, '--log-level', 'warn']);
    await waitFor(() => lineCount(out) >= 101_000, 'the lines added while stopped', 30_000);
    await new Promise((r) => setTimeout(r, 300)); // nothing else may follow
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    seen = byTag(readNdjson(out));
    expect(seen.a).toEqual(range(0, 70_000));
    expect(seen.b).toEqual(range(0, 31_000));
  });

  test('the internal worker flag is refused on the command line', async () => {
    const r = await runAgent(['--ves-parse-worker']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/internal/);
  });

  test('stdin: every line is delivered before the agent exits', async () => {
    const cfg = join(dir, 'stdin.yaml');
    await writeFile(
      cfg,
      `data_dir: ${join(dir, 'data')}\nworkers: 2\nsources:\n  in: {type: stdin}\n` +
        'sinks:\n  out: {type: stdout}\n',
    );
    const r = await runAgent(['--config', cfg, '--log-level', 'warn'], {
      input: seqLines(0, 50_000, 's'),
    });
    expect(r.code).toBe(0);
    const events = r.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(byTag(events).s).toEqual(range(0, 50_000));
  });
});
