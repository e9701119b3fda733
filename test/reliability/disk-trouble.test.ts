// Disk trouble (issue #7): data_dir on a small filesystem that fills up (a 2 MiB tmpfs the test
// mounts when it runs as root; a disk buffer's max_bytes as the quota otherwise), and a
// checkpoint file truncated or turned to garbage between runs. The agent must say clearly what
// is wrong or recover, never lose a line, and never quietly read every file again from the start.

import { existsSync, mkdirSync, openSync, closeSync, writeSync } from 'node:fs';
import { readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startAgent, tempDir, waitFor, type Agent } from '../e2e/harness.js';
import { checkpointOf, linesBefore } from './lib/checkpoints.js';
import { SeqReceiver } from './lib/receiver.js';
import {
  figures,
  httpAgentConfig,
  isRoot,
  killAgent,
  mountTmpfs,
  resizeTmpfs,
  stopAgent,
} from './lib/scenario.js';
import { SeqWriter } from './lib/writer.js';

const RATE = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let cleanup: () => Promise<void>;
let rx: SeqReceiver;
const agents: Agent[] = [];
const unmounts: Array<() => void> = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('ves-rel-disk-'));
  rx = await new SeqReceiver().start();
});
afterEach(async () => {
  for (const a of agents.splice(0)) await killAgent(a);
  for (const u of unmounts.splice(0)) u();
  await rx.stop();
  await cleanup();
});

function run(cfg: string): Agent {
  const a = startAgent(['--config', cfg]);
  agents.push(a);
  return a;
}

/** Fills the filesystem of `path`'s directory: writes `path` until ENOSPC. Returns bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let n = 0;
  try {
    for (;;) n += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return n;
}

/** A tmpfs of `size` at <dir>/<name>, unmounted after the test; null when not root. */
function smallFs(name: string, size: string): string | null {
  const mnt = join(dir, name);
  mkdirSync(mnt);
  const unmount = mountTmpfs(mnt, size);
  if (unmount === null) return null;
  unmounts.push(unmount);
  return mnt;
}

const root = isRoot();

describe.skipIf(!root)('a full filesystem under data_dir (tmpfs, as root)', () => {
  test('checkpoint writes fail with ENOSPC: a clear error, delivery goes on; a restart resumes at the last good checkpoint', async () => {
    const dataDir = smallFs('data', '2m');
    expect(dataDir, 'mount -t tmpfs failed although running as root').not.toBeNull();
    const log = join(dir, 'app.log');
    const writer = new SeqWriter({ path: log, rate: RATE, tag: 'cp' }).start();
    const cfg = await httpAgentConfig(dir, {
      sources: { app: [log] },
      uri: rx.uri,
      dataDir: dataDir!,
    });
    try {
      let agent = run(cfg);
      await waitFor(
        () => existsSync(join(dataDir!, 'checkpoints.json')) && rx.seqs.distinct('cp') > 5000,
        'a checkpoint and 5000 lines',
        20_000,
        agent.stderr,
      );
      const filler = join(dataDir!, 'filler');
      fill(filler);
      await waitFor(
        () => /checkpoint write failed.*(ENOSPC|no space)/i.test(agent.stderr()),
        'the checkpoint write error',
        10_000,
        agent.stderr,
      );
      const frozen = await checkpointOf(dataDir!, log);
      const deliveredBefore = rx.seqs.distinct('cp');
      await sleep(2000);
      // Still running and delivering; the checkpoint on disk stands still (nothing torn).
      expect(agent.proc.exitCode, agent.stderr()).toBeNull();
      expect(rx.seqs.distinct('cp')).toBeGreaterThan(deliveredBefore + RATE);
      expect(await checkpointOf(dataDir!, log)).toBe(frozen);
      const frozenLines = await linesBefore(log, frozen);
      const errLine = agent
        .stderr()
        .split('\n')
        .find((l) => /checkpoint write failed/.test(l))!;

      // A crash while the disk is full, and a restart while it still is.
      await killAgent(agent);
      agent = run(cfg);
      await sleep(3000);
      const restartedFull = agent.proc.exitCode === null;
      const fullStart = agent.stderr();
      // Space comes back: everything arrives, and only lines past the frozen checkpoint repeat.
      await rm(filler);
      if (!restartedFull) agent = run(cfg);
      const total = (writer.stop(), writer.seq);
      await waitFor(
        () => rx.seqs.complete({ cp: total }),
        'every line once space came back',
        60_000,
        () => `${rx.seqs.distinct('cp')}/${total}; ${agent.stderr().slice(-1500)}`,
      );
      expect(await stopAgent(agent)).toBe(0);
      const r = rx.seqs.report('cp', total);
      const early = rx.seqs.duplicated('cp').filter((s) => s < frozenLines);
      figures('disk-trouble checkpoint-enospc', {
        written: total,
        lost: r.lost,
        duplicates: r.duplicates,
        lines_past_frozen_checkpoint: total - frozenLines,
        restart_while_full: restartedFull ? 'ran' : 'refused',
      });
      // The failed write is an ERROR with its code and cause, once per attempt.
      expect(errLine).toMatch(/^ERROR .*code=VES_DATA_DIR .*ENOSPC/);
      // A start on a full disk either runs, or refuses clearly (it cannot write its lock).
      expect(fullStart).not.toMatch(/VES_INTERNAL|at async/);
      if (!restartedFull) expect(fullStart).toMatch(/free space \[VES_DATA_DIR\]/);
      expect(r.lost).toBe(0);
      expect(early).toEqual([]);
    } finally {
      writer.stop();
    }
  });

  test('a disk buffer that fills the filesystem: VES_BUFFER_IO and a clean stop; with space back, every line arrives once', async () => {
    const dataDir = smallFs('data', '2m');
    expect(dataDir, 'mount -t tmpfs failed although running as root').not.toBeNull();
    const log = join(dir, 'app.log');
    const writer = new SeqWriter({ path: log, rate: RATE, tag: 'buf' }).start();
    // max_bytes (1 GiB by default) is far above the 2 MiB the filesystem has.
    const cfg = await httpAgentConfig(dir, {
      sources: { app: [log] },
      uri: rx.uri,
      dataDir: dataDir!,
      buffer: '{type: disk}',
    });
    try {
      await rx.down('refuse');
      let agent = run(cfg);
      const t0 = performance.now();
      const { code } = await agent.exited;
      const stoppedMs = performance.now() - t0;
      const err = agent.stderr();
      // A clear error naming the buffer file and what to do, then an orderly stop (exit 1).
      expect(code, err).toBe(1);
      expect(err).toMatch(/ENOSPC.*the agent stops, nothing unacknowledged is lost: free space/);
      expect(err).toMatch(/code=VES_BUFFER_IO/);
      expect(err).not.toMatch(/VES_INTERNAL|Unhandled|at async/);
      const checkpointed = await linesBefore(log, await checkpointOf(dataDir!, log));

      // The operator frees space (here: grows the tmpfs) and the receiver is back.
      resizeTmpfs(dataDir!, '64m');
      await rx.restore();
      agent = run(cfg);
      const total = (writer.stop(), writer.seq);
      await waitFor(
        () => rx.seqs.complete({ buf: total }),
        'every line once space came back',
        60_000,
        () => `${rx.seqs.distinct('buf')}/${total}; ${agent.stderr().slice(-1500)}`,
      );
      expect(await stopAgent(agent)).toBe(0);
      const r = rx.seqs.report('buf', total);
      figures('disk-trouble buffer-enospc', {
        fs: '2MiB tmpfs',
        written: total,
        checkpointed_at_stop: checkpointed,
        lost: r.lost,
        duplicates: r.duplicates,
        stopped_after_ms: Math.round(stoppedMs),
      });
      expect(r.lostSample).toEqual([]);
      // The receiver got nothing before the restart. Lines the buffer holds past the checkpoint
      // on disk (its last write failed too: no space) are re-read and sent twice; no others.
      expect(rx.seqs.duplicated('buf').filter((s) => s < checkpointed)).toEqual([]);
      expect(r.duplicates).toBeLessThanOrEqual(total - checkpointed);
    } finally {
      writer.stop();
    }
  });
});

describe('disk buffer quota (max_bytes), as root or not', () => {
  test('the buffer reaches max_bytes: VES_BUFFER_FULL, checkpoints stop, nothing lost or repeated', async () => {
    const log = join(dir, 'app.log');
    const dataDir = join(dir, 'data');
    const writer = new SeqWriter({ path: log, rate: RATE, tag: 'quota' }).start();
    const cfg = await httpAgentConfig(dir, {
      sources: { app: [log] },
      uri: rx.uri,
      dataDir,
      buffer: '{type: disk, max_bytes: 4MiB}',
    });
    try {
      await rx.down('refuse');
      const agent = run(cfg);
      await waitFor(
        () => /code=VES_BUFFER_FULL/.test(agent.stderr()),
        'the buffer to report full',
        20_000,
        agent.stderr,
      );
      // Batches fsynced just before the buffer filled are checkpointed within an interval.
      await sleep(1000);
      const atFull = await checkpointOf(dataDir, log);
      await sleep(3000);
      // Blocked, not dead: the checkpoint stands still while the file grows (the sources pause
      // once the in-flight bound fills; the lines wait in the file).
      expect(agent.proc.exitCode, agent.stderr()).toBeNull();
      expect(await checkpointOf(dataDir, log)).toBe(atFull);
      expect(atFull).toBeGreaterThan(0);
      const bufBytes = (await readdir(join(dataDir, 'buffers', 'up'))).filter((n) =>
        n.endsWith('.seg'),
      ).length;
      await rx.restore();
      const total = (writer.stop(), writer.seq);
      const upAt = performance.now();
      await waitFor(
        () => rx.seqs.complete({ quota: total }),
        'every line after the receiver came back',
        60_000,
        () => `${rx.seqs.distinct('quota')}/${total}; ${agent.stderr().slice(-1500)}`,
      );
      const recoverMs = performance.now() - upAt;
      expect(await stopAgent(agent)).toBe(0);
      const r = rx.seqs.report('quota', total);
      figures('disk-trouble buffer-quota', {
        max_bytes: '4MiB',
        written: total,
        checkpointed_when_full: await linesBefore(log, atFull),
        lost: r.lost,
        duplicates: r.duplicates,
        recover_ms: Math.round(recoverMs),
      });
      expect(r.lostSample).toEqual([]);
      expect(r.duplicates).toBe(0);
    } finally {
      writer.stop();
    }
  });
});

describe('a damaged checkpoint file between runs', () => {
  /** Two runs over a growing file, each stopped gracefully: checkpoints.json and .prev.json. */
  async function twoRuns(
    log: string,
    cfg: string,
    dataDir: string,
  ): Promise<{ cur: number; prev: number }> {
    const writer = new SeqWriter({ path: log, rate: RATE, tag: 'cp' });
    for (let k = 1; k <= 2; k++) {
      writer.write(20_000);
      const agent = run(cfg);
      await waitFor(() => rx.seqs.complete({ cp: writer.seq }), `run ${k}`, 30_000, agent.stderr);
      expect(await stopAgent(agent)).toBe(0);
    }
    writer.stop();
    const gen = async (name: string) => {
      const d = JSON.parse(await readFile(join(dataDir, name), 'utf8')) as {
        sources: Record<string, Record<string, { offset: number }>>;
      };
      return linesBefore(log, Object.values(d.sources.app)[0].offset);
    };
    return { cur: await gen('checkpoints.json'), prev: await gen('checkpoints.prev.json') };
  }

  test('checkpoints.json truncated: the previous generation is used, only lines after it repeat', async () => {
    const log = join(dir, 'app.log');
    const dataDir = join(dir, 'data');
    const cfg = await httpAgentConfig(dir, { sources: { app: [log] }, uri: rx.uri, dataDir });
    const { cur, prev } = await twoRuns(log, cfg, dataDir);
    expect(cur).toBe(40_000);
    expect(prev).toBeGreaterThan(0);
    const file = join(dataDir, 'checkpoints.json');
    await truncate(file, Math.floor((await readFile(file)).length / 2)); // a torn write
    const agent = run(cfg);
    await waitFor(
      () => rx.seqs.complete({ cp: 40_000 }) && /code=VES_CHECKPOINT_CORRUPT/.test(agent.stderr()),
      'restart',
      30_000,
      agent.stderr,
    );
    await sleep(1000); // anything re-sent would arrive by now
    expect(await stopAgent(agent)).toBe(0);
    const dups = rx.seqs.duplicated('cp');
    const r = rx.seqs.report('cp', 40_000);
    figures('disk-trouble checkpoint-truncated', {
      lines: 40_000,
      current_generation_at: cur,
      previous_generation_at: prev,
      duplicates: r.duplicates,
      lost: r.lost,
    });
    expect(agent.stderr()).toMatch(/checkpoints restored from the previous generation/);
    expect(dups.filter((s) => s < prev)).toEqual([]);
    expect(r.duplicates).toBeLessThanOrEqual(cur - prev);
    expect(r.lost).toBe(0);
    expect((await readdir(dataDir)).some((n) => n.startsWith('checkpoints.json.corrupt-'))).toBe(
      true,
    );
  });

  test('both generations garbage: a warning says every file is read again from its start; nothing lost', async () => {
    const log = join(dir, 'app.log');
    const dataDir = join(dir, 'data');
    const cfg = await httpAgentConfig(dir, { sources: { app: [log] }, uri: rx.uri, dataDir });
    await twoRuns(log, cfg, dataDir);
    await writeFile(join(dataDir, 'checkpoints.json'), Buffer.alloc(300, 0));
    await writeFile(join(dataDir, 'checkpoints.prev.json'), '{"version":1,"generation":');
    const agent = run(cfg);
    await waitFor(
      () => /no readable checkpoint generation/.test(agent.stderr()),
      'the warning',
      30_000,
      agent.stderr,
    );
    await waitFor(
      () => rx.seqs.report('cp', 40_000).duplicates === 40_000,
      'the re-read',
      30_000,
      agent.stderr,
    );
    expect(await stopAgent(agent)).toBe(0);
    const r = rx.seqs.report('cp', 40_000);
    figures('disk-trouble checkpoint-garbage', {
      lines: 40_000,
      duplicates: r.duplicates,
      lost: r.lost,
    });
    // Not silent: the log names the code and says what happens; the damaged files are kept.
    expect(agent.stderr()).toMatch(
      /WARN .*no readable checkpoint generation: files are read from their configured start.*code=VES_CHECKPOINT_CORRUPT/,
    );
    expect((await readdir(dataDir)).filter((n) => n.includes('.corrupt-'))).toHaveLength(2);
    expect(r.lost).toBe(0);
  });
});

describe('checkpoint writes failing at a graceful stop, as root or not', () => {
  test('the last checkpoint write fails: an error says where the next start resumes, the stop is orderly', async () => {
    const log = join(dir, 'app.log');
    const dataDir = join(dir, 'data');
    const writer = new SeqWriter({ path: log, rate: RATE, tag: 'stop' });
    writer.write(10_000);
    const cfg = await httpAgentConfig(dir, { sources: { app: [log] }, uri: rx.uri, dataDir });
    const agent = run(cfg);
    await waitFor(
      () => rx.seqs.complete({ stop: 10_000 }),
      'the first lines',
      30_000,
      agent.stderr,
    );
    await waitFor(() => existsSync(join(dataDir, 'checkpoints.json')), 'a checkpoint', 10_000);
    // Every later write fails (EISDIR where the temp file goes; as root, permissions cannot
    // stand in for a broken disk).
    await rm(join(dataDir, 'checkpoints.json.tmp'), { force: true });
    mkdirSync(join(dataDir, 'checkpoints.json.tmp'));
    writer.write(10_000);
    await waitFor(() => rx.seqs.complete({ stop: 20_000 }), 'more lines', 30_000, agent.stderr);
    await waitFor(
      () => /checkpoint write failed/.test(agent.stderr()),
      'the error',
      10_000,
      agent.stderr,
    );
    agent.proc.kill('SIGTERM');
    const { code, signal } = await agent.exited;
    const err = agent.stderr();
    writer.stop();
    expect(signal).toBeNull();
    expect(err).toMatch(
      /ERROR .*the next start resumes from the last checkpoint written.*code=VES_DATA_DIR/,
    );
    expect(err).not.toMatch(/VES_INTERNAL|Unhandled|at async/);
    expect(err).toMatch(/stopped/);
    expect(code).toBe(0);
  });
});
