// The tailer's synchronous small reads (src/engine/tailer/tailer.ts, "Synchronous small reads"):
// appends to a local file it opened itself are read with readSync/fstatSync, catch-up chunks
// through the thread pool, and files opened by an injected openFile never synchronously.

import { appendFile, open, rename, writeFile } from 'node:fs/promises';
import * as fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { numbered, range, tail } from '../../helpers/tailer.js';
import { useTempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs')>();
  return {
    ...real,
    readSync: vi.fn(real.readSync),
    fstatSync: vi.fn(real.fstatSync),
    statSync: vi.fn(real.statSync),
  };
});

const readSync = vi.mocked(fs.readSync);
const fstatSync = vi.mocked(fs.fstatSync);
const statSync = vi.mocked(fs.statSync);

describe('tailer: synchronous small reads', () => {
  const dir = useTempDir();
  beforeEach(() => {
    readSync.mockClear();
    fstatSync.mockClear();
    statSync.mockClear();
  });

  test('catch-up reads big chunks asynchronously, then follows appends synchronously', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 100_000)); // ~890 KB: four 256 KiB chunks
    const t = tail({ include: [p], readChunkBytes: 256 * 1024 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 100_000, { what: 'catch-up lines' });
    // Reads that left bytes behind went through the thread pool: only the catch-up's last read
    // (up to the end) may have been synchronous. The 1 KiB head check before each read (a
    // copytruncate seen late) is synchronous too, and is counted apart.
    const isHead = (c: unknown[]) => c[4] === 0 && c[3] === 1024;
    const heads = () => readSync.mock.calls.filter((c) => isHead(c as unknown[])).length;
    const dataReads = () => readSync.mock.calls.filter((c) => !isHead(c as unknown[]));
    const lens = () => dataReads().map((c) => (c as unknown[])[3] as number);
    expect(dataReads().length).toBeLessThanOrEqual(1);
    expect(lens().reduce((a, b) => a + b, 0)).toBeLessThan(256 * 1024);
    expect(heads()).toBeGreaterThanOrEqual(3); // before each of the 4 chunks but the first
    const beforeAppends = dataReads().length;
    const headsBefore = heads();
    for (let i = 100_000; i < 100_500; i += 10) {
      await appendFile(p, numbered('l', i, i + 10));
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 15));
    }
    await waitFor(() => t.lines.length === 100_500, { what: 'appended lines' });
    expect(t.lines).toEqual(range('l', 0, 100_500));
    expect(dataReads().length).toBeGreaterThan(beforeAppends);
    expect(heads()).toBeGreaterThan(headsBefore);
    expect(fstatSync.mock.calls.length).toBeGreaterThan(0);
    expect(lens().every((n) => n <= 512 * 1024)).toBe(true); // SYNC_READ_MAX
  });

  test("the poll's stat of an open file's path is synchronous, and still sees a rename", async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('a', 0, 10));
    const t = tail({ include: [p] }); // poll every 30 ms
    await t.tailer.start();
    await waitFor(() => t.lines.length === 10);
    await waitFor(() => statSync.mock.calls.some((c) => c[0] === p), { what: 'a polled stat' });
    // Renamed away and replaced (rotation): the old file is finished, the new one read.
    await rename(p, `${p}.1`);
    await appendFile(`${p}.1`, numbered('a', 10, 12));
    await writeFile(p, numbered('b', 0, 3));
    await waitFor(() => t.lines.length === 15, { what: 'lines of both files' });
    // Two files: their lines may interleave, each file's stay in order.
    expect(t.lines.filter((l) => l.startsWith('a'))).toEqual(range('a', 0, 12));
    expect(t.lines.filter((l) => l.startsWith('b'))).toEqual(range('b', 0, 3));
  });

  test('a file truncated between appends is still noticed on the synchronous path', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('a', 0, 100));
    const t = tail({ include: [p], fingerprint: 'device_and_inode' });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 100);
    await appendFile(p, numbered('a', 100, 110));
    await waitFor(() => t.lines.length === 110);
    await writeFile(p, numbered('b', 0, 5)); // truncate in place (copytruncate), shorter
    await waitFor(() => t.lines.length === 115, { what: 'lines after the truncation' });
    expect(t.lines.slice(110)).toEqual(range('b', 0, 5));
    expect(readSync.mock.calls.length).toBeGreaterThan(0);
  });

  test('files opened by an injected openFile are never read synchronously', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 10));
    const t = tail({ include: [p], openFile: (fp) => open(fp, 'r') });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 10);
    for (let i = 10; i < 50; i += 10) await appendFile(p, numbered('l', i, i + 10));
    await waitFor(() => t.lines.length === 50);
    expect(t.lines).toEqual(range('l', 0, 50));
    expect(readSync).not.toHaveBeenCalled();
    expect(fstatSync).not.toHaveBeenCalled();
    expect(statSync).not.toHaveBeenCalled();
  });
});
