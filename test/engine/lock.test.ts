// The data_dir lock: O_EXCL pid file, a live owner refuses the start, a dead one is taken over.

import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, describe, expect, test } from 'vitest';
import { LOCK_FILE, lockDataDir } from '../../src/engine/lock.js';
import { useTempDir } from '../helpers/tmp.js';

const LOCK_TS = fileURLToPath(new URL('../../src/engine/lock.ts', import.meta.url));

/** A pid that was just used and is now dead. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid as number;
}

describe('lockDataDir', () => {
  const tmp = useTempDir();
  const children: ReturnType<typeof spawn>[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });

  test('creates the dir (0700) and a lock holding our pid; release removes it', async () => {
    const dir = join(tmp(), 'data');
    const release = await lockDataDir(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    await release();
    expect(await readdir(dir)).toEqual([]);
    await release(); // idempotent
  });

  test('a live owner: VES_DATA_DIR_LOCKED, exit 2, names the pid and the dir', async () => {
    const dir = tmp();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    children.push(child);
    await writeFile(join(dir, LOCK_FILE), `${child.pid}\n`);
    const err = await lockDataDir(dir).then(
      () => null,
      (e: unknown) => e as { code: string; exitCode: number; message: string },
    );
    expect(err).toMatchObject({ code: 'VES_DATA_DIR_LOCKED', exitCode: 2 });
    expect(err!.message).toContain(String(child.pid));
    expect(err!.message).toContain(dir);
    // The live lock is untouched.
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(child.pid));
  });

  test.each<[string, () => string]>([
    ['a dead pid', () => `${deadPid()}\n`],
    ['our own pid (restarted with the same pid, as PID 1 in a container)', () => `${process.pid}`],
    ['no pid at all (crashed while creating it)', () => ''],
    ['garbage', () => 'not-a-pid'],
  ])('a stale lock with %s is taken over', async (_n, content) => {
    const dir = tmp();
    await writeFile(join(dir, LOCK_FILE), content());
    const release = await lockDataDir(dir);
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe(String(process.pid));
    expect(await readdir(dir)).toEqual([LOCK_FILE]); // the stale one is gone, not left aside
    await release();
  });

  test('a second lock of the same dir from this process is refused', async () => {
    const dir = tmp();
    const release = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toMatchObject({ code: 'VES_DATA_DIR_LOCKED' });
    await release();
    const again = await lockDataDir(dir);
    await again();
  });

  test('release leaves a lock that is not ours alone', async () => {
    const dir = tmp();
    const release = await lockDataDir(dir);
    await writeFile(join(dir, LOCK_FILE), '1\n'); // replaced by hand meanwhile
    await release();
    expect((await readFile(join(dir, LOCK_FILE), 'utf8')).trim()).toBe('1');
  });

  test('a dir that cannot be created: VES_DATA_DIR', async () => {
    const file = join(tmp(), 'f');
    await writeFile(file, '');
    await expect(lockDataDir(join(file, 'data'))).rejects.toMatchObject({ code: 'VES_DATA_DIR' });
  });

  test('a lock that cannot be read or written (here a directory): VES_DATA_DIR, not an internal error', async () => {
    // A full disk fails the same calls with ENOSPC (test/reliability/disk-trouble.test.ts): the
    // raw error used to escape and end the agent as VES_INTERNAL with a stack trace.
    const dir = tmp();
    await mkdir(join(dir, LOCK_FILE));
    await expect(lockDataDir(dir)).rejects.toMatchObject({
      code: 'VES_DATA_DIR',
      exitCode: 2,
      message: expect.stringContaining('free space'),
    });
  });

  test('two agents racing for a stale lock: exactly one wins', async () => {
    const dir = tmp();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, LOCK_FILE), `${deadPid()}\n`);
    // Separate processes, so the pids differ and none sees another as "itself". The child is
    // lock.ts bundled by esbuild: it locks, says so, and holds the lock until killed.
    const entry = join(tmp(), 'lock-once.mjs');
    await build({
      stdin: {
        contents:
          `import { lockDataDir } from ${JSON.stringify(LOCK_TS)};\n` +
          `lockDataDir(process.argv[2]).then(` +
          `() => { console.log('locked-ok'); setInterval(() => {}, 1000); },` +
          `(e) => { console.log(e.code); });\n`,
        resolveDir: dirname(LOCK_TS),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: entry,
      logLevel: 'error',
    });
    const run = () =>
      new Promise<string>((resolve) => {
        const c = spawn(process.execPath, [entry, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
        children.push(c);
        let out = '';
        // The winner keeps the lock (alive) until afterEach kills it: answer on the first line.
        c.stdout.on('data', (d) => {
          out += d;
          if (out.includes('\n')) resolve(out.trim());
        });
        c.stdout.on('end', () => resolve(out.trim()));
      });
    const results = await Promise.all([run(), run(), run()]);
    expect(results.filter((r) => r === 'locked-ok')).toHaveLength(1);
    expect(results.filter((r) => r === 'VES_DATA_DIR_LOCKED')).toHaveLength(2);
  });
});
