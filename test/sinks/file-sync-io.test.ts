// The file sink's synchronous small writes (src/sinks/file/sink.ts, "Synchronous small writes"):
// small uncompressed batches without fsync go through writeSync, big ones, gzip and fsync through
// the thread pool; a write still resolves only once its bytes are in the file, and a failed
// synchronous write leaves no torn batch behind.

import * as fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import type { FileSinkConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/observe/logger.js';
import { build } from '../../src/sinks/file/sink.js';
import { testBatch } from '../helpers/sink-compliance.js';
import { useTempDir } from '../helpers/tmp.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return { ...real, writeSync: vi.fn(real.writeSync) };
});
const writeSync = vi.mocked(fs.writeSync);
// The real one, for a mocked call that writes part of a batch before it fails.
const realWriteSync = (await vi.importActual<typeof import('node:fs')>('node:fs')).writeSync;

const ctx = { id: 'out', dataDir: '/nonexistent', log: silentLogger };
const cfg = (path: string, extra: Partial<FileSinkConfig> = {}): FileSinkConfig => ({
  type: 'file',
  path,
  encoding: 'raw',
  compression: 'none',
  fsync: false,
  rotate: null,
  ...extra,
});
const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${i}`);
const text = (ls: string[]) => ls.map((l) => l + '\n').join('');

describe('file sink: synchronous small writes', () => {
  const tmp = useTempDir();
  beforeEach(() => {
    writeSync.mockClear();
  });

  test('small batches are written with writeSync and are in the file when write resolves', async () => {
    const path = join(tmp(), 'out.log');
    const sink = await build(cfg(path), ctx);
    const a = lines('a', 1000); // ~6 KB
    const b = lines('b', 10);
    await sink.write(testBatch(a));
    expect(await readFile(path, 'utf8')).toBe(text(a));
    await sink.write(testBatch(b));
    expect(await readFile(path, 'utf8')).toBe(text([...a, ...b]));
    expect(writeSync).toHaveBeenCalledTimes(2);
    await sink.close();
  });

  test('a batch above 256 KiB goes through the thread pool', async () => {
    const path = join(tmp(), 'out.log');
    const sink = await build(cfg(path), ctx);
    const big = lines('x'.repeat(300), 1000); // ~300 KB
    await sink.write(testBatch(big));
    expect(writeSync).not.toHaveBeenCalled();
    expect(await readFile(path, 'utf8')).toBe(text(big));
    await sink.close();
  });

  test.each<[string, Partial<FileSinkConfig>]>([
    ['fsync', { fsync: true }],
    ['gzip', { compression: 'gzip' }],
  ])('never synchronously with %s', async (_name, extra) => {
    const path = join(tmp(), 'out.log');
    const sink = await build(cfg(path, extra), ctx);
    const a = lines('a', 100);
    await sink.write(testBatch(a));
    await sink.close();
    expect(writeSync).not.toHaveBeenCalled();
    const got = await readFile(path);
    expect((extra.compression === 'gzip' ? gunzipSync(got) : got).toString()).toBe(text(a));
  });

  test('a synchronous write that fails halfway leaves no torn batch; the retry appends it whole', async () => {
    const path = join(tmp(), 'out.log');
    const sink = await build(cfg(path), ctx);
    const a = lines('a', 100);
    await sink.write(testBatch(a));
    // The sink calls writeSync(fd, buffer, offset, length): write half, then fail.
    writeSync.mockImplementationOnce((...args: unknown[]) => {
      const [fd, buf, off, len] = args as [number, Buffer, number, number];
      realWriteSync(fd, buf, off, Math.floor(len / 2));
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    const b = testBatch(lines('b', 100));
    await expect(sink.write(b)).rejects.toMatchObject({ code: 'VES_SINK_WRITE' });
    expect(await readFile(path, 'utf8')).toBe(text(a));
    await sink.write(b);
    expect(await readFile(path, 'utf8')).toBe(text([...a, ...lines('b', 100)]));
    await sink.close();
  });
});
