import { appendFileSync } from 'node:fs';
import { appendFile, open, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { numbered, range, tail } from '../../helpers/tailer.js';
import { useTempDir } from '../../helpers/tmp.js';
import { delay, waitFor } from '../../helpers/wait.js';

describe('tailer: scheduling, backpressure, descriptors, errors', () => {
  const dir = useTempDir();

  test('many files: every line of each, in order', async () => {
    const n = 100;
    for (let i = 0; i < n; i++)
      await writeFile(path.join(dir(), `f${i}.log`), numbered(`f${i}`, 0, 100));
    const t = tail({ include: [path.join(dir(), '*.log')], readChunkBytes: 256 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === n * 100, { what: 'all lines', timeout: 20_000 });
    for (let i = 0; i < n; i++) {
      expect(t.linesOf(path.join(dir(), `f${i}.log`))).toEqual(range(`f${i}`, 0, 100));
    }
  }, 30_000);

  test('fairness: a big file gets one chunk per turn, small files are not starved', async () => {
    const big = path.join(dir(), 'big.log');
    await writeFile(big, numbered('big', 0, 100_000)); // ~1 MB: ~250 reads of 4 KiB
    for (let i = 0; i < 10; i++) await writeFile(path.join(dir(), `s${i}.log`), `small-${i}\n`);
    let bigChunks = 0;
    let smallDone = 0;
    let bigChunksWhenSmallDone = -1;
    const t = tail({
      include: [path.join(dir(), '*.log')],
      readChunkBytes: 4096,
      onChunk: (c) => {
        if (c.path === big) bigChunks++;
        else if (++smallDone === 10) bigChunksWhenSmallDone = bigChunks;
      },
    });
    await t.tailer.start();
    await waitFor(() => t.lines.length >= 100_010, { what: 'all lines', timeout: 20_000 }).catch(
      (e: Error) => {
        throw new Error(
          `${e.message}: got ${t.lines.length} lines, ${t.chunks.length} chunks, stats ${JSON.stringify(t.tailer.stats())}`,
        );
      },
    );
    expect(t.lines.length).toBe(100_010);
    // Round robin: every small file had its turn within the first round.
    expect(bigChunksWhenSmallDone).toBeGreaterThanOrEqual(0);
    expect(bigChunksWhenSmallDone).toBeLessThanOrEqual(1);
    expect(t.linesOf(big)).toEqual(range('big', 0, 100_000));
  }, 30_000);

  test('fairness: a line appended to a quiet file arrives while a big file is being read', async () => {
    const big = path.join(dir(), 'big.log');
    const quiet = path.join(dir(), 'quiet.log');
    await writeFile(big, numbered('big', 0, 20_000)); // ~100 reads of 2 KiB
    await writeFile(quiet, '');
    let bigChunks = 0;
    let bigChunksAtQuiet = -1;
    const t = tail({
      include: [path.join(dir(), '*.log')],
      readChunkBytes: 2048,
      onChunk: (c) => {
        if (c.path === big) {
          bigChunks++;
          if (bigChunks === 3) appendFileSync(quiet, 'hello\n');
          // A slow consumer: the big file takes ~100 x 3 ms, ten polls (30 ms) at least.
          const until = performance.now() + 3;
          while (performance.now() < until);
        } else if (bigChunksAtQuiet === -1) bigChunksAtQuiet = bigChunks;
      },
    });
    await t.tailer.start();
    await waitFor(() => t.lines.length >= 20_001, { what: 'all lines', timeout: 20_000 }).catch(
      (e: Error) => {
        throw new Error(
          `${e.message}: got ${t.lines.length} lines, ${t.chunks.length} chunks, stats ${JSON.stringify(t.tailer.stats())}`,
        );
      },
    );
    expect(t.lines.length).toBe(20_001);
    const totalBig = t.chunks.filter((c) => c.path === big).length;
    expect(bigChunksAtQuiet).toBeGreaterThan(0);
    expect(bigChunksAtQuiet).toBeLessThan(totalBig);
  }, 30_000);

  test('pause stops reads, nothing is lost; resume continues', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 10_000));
    let paused = false;
    const t = tail({
      include: [p],
      readChunkBytes: 4096,
      onChunk: (_c, tt) => {
        if (!paused) {
          paused = true;
          tt.tailer.pause();
        }
      },
    });
    await t.tailer.start();
    await waitFor(() => paused);
    // A grace of several poll intervals (30 ms) for a read that should not happen.
    await appendFile(p, numbered('l', 10_000, 10_010));
    await delay(150);
    expect(t.chunks.length).toBe(1);
    t.tailer.resume();
    await waitFor(() => t.lines.length === 10_010, { what: 'the rest after resume' });
    expect(t.lines).toEqual(range('l', 0, 10_010));
  });

  test('idle_timeout closes the descriptor, keeps the position, reopens on change', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, 'one\npart');
    const t = tail({ include: [p], idleTimeoutMs: 60 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 1);
    await waitFor(() => t.tailer.stats().open === 0, { what: 'the idle descriptor to close' });
    expect(t.tailer.stats().files).toBe(1);
    await appendFile(p, 'ial\ntwo\n');
    await waitFor(() => t.lines.length === 3, { what: 'lines after reopening' });
    expect(t.lines).toEqual(['one', 'partial', 'two']);
  });

  test('idle files keep descriptors bounded with many files', async () => {
    for (let i = 0; i < 50; i++) await writeFile(path.join(dir(), `f${i}.log`), `x${i}\n`);
    const t = tail({ include: [path.join(dir(), '*.log')], idleTimeoutMs: 50 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 50);
    await waitFor(() => t.tailer.stats().open === 0, { what: 'all descriptors closed' });
    await appendFile(path.join(dir(), 'f7.log'), 'again\n');
    await waitFor(() => t.lines.length === 51);
    expect(t.lines.at(-1)).toBe('again');
    expect(t.tailer.stats().open).toBeLessThanOrEqual(1);
  });

  test('open errors are logged with VES_SOURCE_READ and retried, never fatal', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 5));
    let failures = 2;
    const t = tail({
      include: [p],
      openFile: async (fp) => {
        if (failures > 0) {
          failures--;
          throw Object.assign(new Error(`EACCES: permission denied, open '${fp}'`), {
            code: 'EACCES',
          });
        }
        return open(fp, 'r');
      },
    });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 5, { what: 'lines after the retries' });
    expect(t.lines).toEqual(range('l', 0, 5));
    const warned = t.logs.filter((l) => l.code === 'VES_SOURCE_READ');
    expect(warned.length).toBe(1); // once per path and error, not once per attempt
    expect(warned[0].path).toBe(p);
  });

  test('a read error mid-file: logged, the file reopened, no line lost or repeated', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 2000));
    let failed = false;
    const t = tail({
      include: [p],
      readChunkBytes: 4096,
      openFile: async (fp) => {
        const fh = await open(fp, 'r');
        if (failed) return fh;
        // The first handle fails one read past the first chunk, like an I/O error would.
        return new Proxy(fh, {
          get(target, prop, recv) {
            if (prop === 'read') {
              return (buf: Buffer, off: number, len: number, pos: number) => {
                if (pos >= 8192 && !failed) {
                  failed = true;
                  return Promise.reject(
                    Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' }),
                  );
                }
                return target.read(buf, off, len, pos);
              };
            }
            const v = Reflect.get(target, prop, recv) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }) as FileHandle;
      },
    });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 2000, { what: 'all lines after the error' });
    expect(t.lines).toEqual(range('l', 0, 2000));
    expect(t.logs.some((l) => l.code === 'VES_SOURCE_READ' && /EIO/.test(String(l.error)))).toBe(
      true,
    );
  });

  test('stop: resolves with no read in flight, closes descriptors, emits nothing after', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 50_000));
    const t = tail({ include: [p], readChunkBytes: 4096 });
    await t.tailer.start();
    await waitFor(() => t.lines.length > 0);
    await t.tailer.stop();
    const after = t.lines.length;
    expect(t.tailer.stats().open).toBe(0);
    await appendFile(p, 'more\n');
    await delay(100);
    expect(t.lines.length).toBe(after);
    // Whatever was emitted is a whole prefix, in order.
    expect(t.lines).toEqual(range('l', 0, after));
  });
});
