// The checkpoint file: atomic writes, reopen, the previous generation as fallback for a corrupt
// or torn file, modes 0600/0700, coalesced flushes.

import { mkdir, readdir, readFile, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  CHECKPOINT_FILE,
  CHECKPOINT_PREV_FILE,
  CHECKPOINT_TMP_FILE,
  openCheckpoints,
  type CheckpointEntry,
} from '../../src/engine/checkpoints.js';
import { silentLogger } from '../../src/observe/logger.js';
import { captureLogger } from '../helpers/logger.js';
import { useTempDir } from '../helpers/tmp.js';

const entry = (offset: number, extra: Partial<CheckpointEntry> = {}): CheckpointEntry => ({
  offset,
  path: '/var/log/a.log',
  dev: 1,
  ino: 2,
  updated: 1000,
  ...extra,
});

const readJson = async (file: string) => JSON.parse(await readFile(file, 'utf8'));

describe('checkpoints', () => {
  const tmp = useTempDir();

  test('set, flush, reopen', async () => {
    const dir = join(tmp(), 'data');
    const a = await openCheckpoints(dir, silentLogger);
    a.set('web', 'fp:1', entry(100));
    a.set('web', 'ino:1:2', entry(5));
    a.set('api', 'fp:2', entry(7, { path: '/x "y"' }));
    await a.close();
    const b = await openCheckpoints(dir, silentLogger);
    expect(b.get('web', 'fp:1')).toEqual(entry(100));
    expect(b.get('web', 'ino:1:2')).toEqual(entry(5));
    expect(b.get('api', 'fp:2')?.path).toBe('/x "y"');
    expect(b.get('nope', 'fp:1')).toBeUndefined();
    const file = await readJson(join(dir, CHECKPOINT_FILE));
    expect(file).toMatchObject({
      version: 1,
      generation: 1,
      sources: { web: { 'fp:1': entry(100) } },
    });
  });

  test('modes: data_dir 0700, file 0600', async () => {
    const dir = join(tmp(), 'nested', 'data');
    const s = await openCheckpoints(dir, silentLogger);
    s.set('s', 'k', entry(1));
    await s.flush();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, CHECKPOINT_FILE))).mode & 0o777).toBe(0o600);
  });

  test('each write keeps the last good generation as prev, no temp left', async () => {
    const dir = tmp();
    const s = await openCheckpoints(dir, silentLogger);
    s.set('s', 'k', entry(1));
    await s.flush();
    s.set('s', 'k', entry(2));
    await s.flush();
    expect((await readJson(join(dir, CHECKPOINT_FILE))).generation).toBe(2);
    expect((await readJson(join(dir, CHECKPOINT_PREV_FILE))).generation).toBe(1);
    expect((await readJson(join(dir, CHECKPOINT_PREV_FILE))).sources.s.k.offset).toBe(1);
    expect(await readdir(dir)).not.toContain(CHECKPOINT_TMP_FILE);
    expect(s.generation).toBe(2);
  });

  test('flush with nothing changed writes nothing', async () => {
    const dir = tmp();
    const s = await openCheckpoints(dir, silentLogger);
    await s.flush();
    expect(await readdir(dir)).toEqual([]);
    s.set('s', 'k', entry(1));
    await s.flush();
    await s.flush();
    expect(s.generation).toBe(1);
  });

  test('never backwards unless reset; rekey; delete; findByInode', async () => {
    const s = await openCheckpoints(tmp(), silentLogger);
    s.set('s', 'k', entry(100));
    s.set('s', 'k', entry(50));
    expect(s.get('s', 'k')?.offset).toBe(100);
    s.set('s', 'k', entry(50), true);
    expect(s.get('s', 'k')?.offset).toBe(50);
    s.rekey('s', 'k', 'k2');
    expect(s.get('s', 'k')).toBeUndefined();
    expect(s.findByInode('s', 1, 2)).toEqual({ key: 'k2', entry: entry(50) });
    expect(s.findByInode('s', 9, 9)).toBeUndefined();
    s.delete('s', 'k2');
    expect(s.get('s', 'k2')).toBeUndefined();
  });

  test('set stores a copy', async () => {
    const s = await openCheckpoints(tmp(), silentLogger);
    const e = entry(1);
    s.set('s', 'k', e);
    e.offset = 999;
    expect(s.get('s', 'k')?.offset).toBe(1);
  });

  test.each<[string, string]>([
    ['truncated JSON', '{"version":1,"generation":3,"sources":{"s":{"k":{"offs'],
    ['empty file', ''],
    ['garbage bytes', '\u0000\u0000\u0000\u0000'],
    ['wrong shape', '{"version":1,"generation":3,"sources":{"s":{"k":{"offset":-5}}}}'],
    ['not an object', '[1,2,3]'],
    ['unknown old version', '{"version":0,"generation":1,"sources":{}}'],
  ])(
    'corrupt current file (%s): logged, moved aside, previous generation used',
    async (_n, text) => {
      const dir = tmp();
      const s = await openCheckpoints(dir, silentLogger);
      s.set('s', 'k', entry(10));
      await s.flush(); // gen 1 -> becomes prev
      s.set('s', 'k', entry(20));
      await s.flush(); // gen 2
      await writeFile(join(dir, CHECKPOINT_FILE), text);

      const { log, records } = captureLogger();
      const r = await openCheckpoints(dir, log);
      expect(r.get('s', 'k')?.offset).toBe(10);
      expect(records.some((x) => x.code === 'VES_CHECKPOINT_CORRUPT' && x.level === 'warn')).toBe(
        true,
      );
      const files = await readdir(dir);
      expect(files.some((f) => f.startsWith(`${CHECKPOINT_FILE}.corrupt-`))).toBe(true);
      expect(files).not.toContain(CHECKPOINT_FILE);

      // The next write puts a good current file back and keeps the good prev.
      r.set('s', 'k', entry(30));
      await r.flush();
      expect((await readJson(join(dir, CHECKPOINT_FILE))).sources.s.k.offset).toBe(30);
      expect((await readJson(join(dir, CHECKPOINT_PREV_FILE))).sources.s.k.offset).toBe(10);
      expect((await readJson(join(dir, CHECKPOINT_FILE))).generation).toBe(2);
    },
  );

  test('both generations corrupt: empty store, logged, both moved aside', async () => {
    const dir = tmp();
    await writeFile(join(dir, CHECKPOINT_FILE), '{');
    await writeFile(join(dir, CHECKPOINT_PREV_FILE), '{');
    const { log, records } = captureLogger();
    const s = await openCheckpoints(dir, log);
    expect(s.get('s', 'k')).toBeUndefined();
    expect(
      records.filter((x) => x.code === 'VES_CHECKPOINT_CORRUPT').length,
    ).toBeGreaterThanOrEqual(3);
    expect((await readdir(dir)).filter((f) => f.includes('.corrupt-'))).toHaveLength(2);
  });

  test('crash between the renames: the fsynced temp file (newest generation) wins', async () => {
    const dir = tmp();
    const s = await openCheckpoints(dir, silentLogger);
    s.set('s', 'k', entry(10));
    await s.flush();
    s.set('s', 'k', entry(20));
    await s.flush();
    // Simulate: tmp (gen 3) written and fsynced, json renamed to prev, then the crash.
    const cur = await readJson(join(dir, CHECKPOINT_FILE));
    await writeFile(join(dir, CHECKPOINT_PREV_FILE), JSON.stringify(cur));
    cur.generation = 3;
    cur.sources.s.k.offset = 30;
    await writeFile(join(dir, CHECKPOINT_TMP_FILE), JSON.stringify(cur));
    await rm(join(dir, CHECKPOINT_FILE));
    const r = await openCheckpoints(dir, silentLogger);
    expect(r.get('s', 'k')?.offset).toBe(30);
    expect(r.generation).toBe(3);
  });

  test('a torn temp file is ignored and removed', async () => {
    const dir = tmp();
    const s = await openCheckpoints(dir, silentLogger);
    s.set('s', 'k', entry(10));
    await s.flush();
    await writeFile(join(dir, CHECKPOINT_TMP_FILE), '{"version":1,"gen');
    const r = await openCheckpoints(dir, silentLogger);
    expect(r.get('s', 'k')?.offset).toBe(10);
    expect(await readdir(dir)).not.toContain(CHECKPOINT_TMP_FILE);
  });

  test('a file from a newer agent stops the start instead of being discarded', async () => {
    const dir = tmp();
    await writeFile(join(dir, CHECKPOINT_FILE), '{"version":99,"generation":1,"sources":{}}');
    await expect(openCheckpoints(dir, silentLogger)).rejects.toMatchObject({
      code: 'VES_DATA_DIR',
      exitCode: 2,
    });
  });

  test('flushes are coalesced: one write in flight, one more scheduled', async () => {
    const dir = tmp();
    const s = await openCheckpoints(dir, silentLogger);
    s.set('s', 'k', entry(1));
    const p1 = s.flush(); // starts gen 1
    s.set('s', 'k', entry(2));
    const p2 = s.flush(); // scheduled after it
    s.set('s', 'k', entry(3));
    const p3 = s.flush(); // shares the scheduled one
    expect(p3).toBe(p2);
    await Promise.all([p1, p2, p3]);
    expect(s.generation).toBe(2);
    expect((await readJson(join(dir, CHECKPOINT_FILE))).sources.s.k.offset).toBe(3);
  });

  test('many concurrent flushes never interleave writes', async () => {
    const dir = tmp();
    const s = await openCheckpoints(dir, silentLogger);
    const ps: Promise<void>[] = [];
    for (let i = 1; i <= 50; i++) {
      s.set('s', 'k', entry(i));
      ps.push(s.flush());
    }
    await Promise.all(ps);
    expect((await readJson(join(dir, CHECKPOINT_FILE))).sources.s.k.offset).toBe(50);
    expect(s.generation).toBeLessThanOrEqual(3);
  });

  test('a write error is a VES_DATA_DIR and is retried by the next flush', async () => {
    const dir = tmp();
    const s = await openCheckpoints(dir, silentLogger);
    s.set('s', 'k', entry(1));
    // A directory where the temp file goes: open() fails (EISDIR), even for root.
    await mkdir(join(dir, CHECKPOINT_TMP_FILE));
    await expect(s.flush()).rejects.toMatchObject({ code: 'VES_DATA_DIR' });
    await rmdir(join(dir, CHECKPOINT_TMP_FILE));
    await s.flush();
    expect((await readJson(join(dir, CHECKPOINT_FILE))).sources.s.k.offset).toBe(1);
  });

  test('data_dir that cannot be created: VES_DATA_DIR', async () => {
    const file = join(tmp(), 'file');
    await writeFile(file, 'x');
    await expect(openCheckpoints(join(file, 'sub'), silentLogger)).rejects.toMatchObject({
      code: 'VES_DATA_DIR',
    });
  });
});
