// Every line reaches the sink, in order, across appends, graceful restarts and kill -9.
import { existsSync } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  fileToFileConfig,
  lineCount,
  readNdjson,
  seqLines,
  seqs,
  startAgent,
  waitFor,
  useTestDir,
} from './harness.js';

let dir: string;
useTestDir((d) => (dir = d));

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('file source -> file sink', () => {
  test('SIGTERM as soon as the first line is out (the agent may still be starting): a graceful stop', async () => {
    // Found by the reliability suite: lines can be out before the start finished, and a SIGTERM
    // then took the default action (killed, exit by signal, no final checkpoint); so could one
    // in the instant between the start's listeners and the run's.
    const log = join(dir, 'app.log');
    await writeFile(log, seqLines(0, 20_000));
    const cfg = await fileToFileConfig(dir, [log]);
    const out = join(dir, 'out.ndjson');
    for (let round = 0; round < 3; round++) {
      await rm(out, { force: true }); // each round waits for its own agent's output file
      const agent = startAgent(['--config', cfg]);
      await waitFor(() => existsSync(out), 'the output file', 15_000, agent.stderr);
      agent.proc.kill('SIGTERM');
      const exit = await agent.exited;
      expect(exit, agent.stderr()).toEqual({ code: 0, signal: null });
    }
  });

  test('existing lines and lines appended while running arrive in order, once', async () => {
    const log = join(dir, 'app.log');
    await writeFile(log, seqLines(0, 5000));
    const cfg = await fileToFileConfig(dir, [log]);
    const out = join(dir, 'out.ndjson');
    const agent = startAgent(['--config', cfg]);
    await waitFor(() => lineCount(out) >= 5000, 'the existing 5000 lines', 15_000, agent.stderr);
    for (let i = 5000; i < 8000; i += 500) await appendFile(log, seqLines(i, i + 500));
    await waitFor(() => lineCount(out) >= 8000, 'the appended lines', 15_000, agent.stderr);
    agent.proc.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
    const events = readNdjson(out);
    expect(seqs(events)).toEqual(range(0, 8000));
    const e = events[0] as Record<string, unknown>;
    expect(e.source).toBe(log);
    expect(typeof e.host).toBe('string');
    expect(new Date(String(e.timestamp)).toISOString()).toBe(e.timestamp);
  });

  test('graceful stop, more lines appended, restart: exactly all lines, no duplicate', async () => {
    const log = join(dir, 'app.log');
    await writeFile(log, seqLines(0, 3000));
    const cfg = await fileToFileConfig(dir, [log]);
    const out = join(dir, 'out.ndjson');
    const first = startAgent(['--config', cfg]);
    await waitFor(() => lineCount(out) >= 3000, 'first 3000 lines', 15_000, first.stderr);
    first.proc.kill('SIGINT');
    expect((await first.exited).code).toBe(0);
    await appendFile(log, seqLines(3000, 6000));
    const second = startAgent(['--config', cfg]);
    await waitFor(
      () => lineCount(out) >= 6000,
      'all 6000 lines after restart',
      15_000,
      second.stderr,
    );
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect(seqs(readNdjson(out))).toEqual(range(0, 6000));
  });

  test('kill -9 mid-stream, restart: no line lost; only lines after the checkpoint repeat', async () => {
    const log = join(dir, 'app.log');
    const half = 150_000;
    const total = 2 * half;
    await writeFile(log, seqLines(0, half));
    // Small batches and fsync per batch keep the agent busy while it is killed.
    const cfg = await fileToFileConfig(dir, [log], '');
    const out = join(dir, 'out.ndjson');
    const yaml = (await readFile(cfg, 'utf8'))
      .replace(`path: ${out}`, `path: ${out}\n    fsync: true`)
      .replace('max_events: 500', 'max_events: 200');
    await writeFile(cfg, yaml);
    const cpFile = join(dir, 'data', 'checkpoints.json');
    const first = startAgent(['--config', cfg]);
    await waitFor(
      () => existsSync(cpFile) && lineCount(out) >= 20_000,
      'a checkpoint and 20000 lines',
      20_000,
      first.stderr,
    );
    first.proc.kill('SIGKILL');
    await first.exited;
    // The checkpoint on disk at the moment of the kill: lines before it must never repeat.
    const offsets = [...(await readFile(cpFile, 'utf8')).matchAll(/"offset":\s*(\d+)/g)].map((m) =>
      Number(m[1]),
    );
    expect(offsets.length).toBe(1);
    const checkpointed =
      (await readFile(log)).subarray(0, offsets[0]).toString('latin1').split('\n').length - 1;
    // More lines arrive while the agent is down: the restart must pick up both halves.
    await appendFile(log, seqLines(half, total));

    const second = startAgent(['--config', cfg]);
    await waitFor(
      () => lineCount(out) >= total && new Set(seqs(readNdjson(out))).size >= total,
      'every line after restart',
      30_000,
      second.stderr,
    );
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const got = seqs(readNdjson(out));
    expect(new Set(got).size).toBe(total);
    const counts = new Map<number, number>();
    for (const s of got) counts.set(s, (counts.get(s) ?? 0) + 1);
    const dups = [...counts].filter(([, n]) => n > 1).map(([s]) => s);
    // At-least-once: duplicates exist only past the checkpoint, i.e. from unacknowledged batches.
    for (const d of dups) expect(d).toBeGreaterThanOrEqual(checkpointed);
  }, 60_000);
});
