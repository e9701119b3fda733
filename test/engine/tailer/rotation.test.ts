import {
  appendFile,
  copyFile,
  open,
  rename,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { checksumKey } from '../../../src/engine/tailer/fingerprint.js';
import { numbered, range, SOURCE, tail } from '../../helpers/tailer.js';
import { useTempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('tailer: rotation, truncation, deletion', () => {
  const dir = useTempDir();

  test('rename+create while writing: every line exactly once, late writes to the old file too', async () => {
    const p = path.join(dir(), 'app.log');
    const t = tail({ include: [p], readChunkBytes: 1024 });
    await writeFile(p, '');
    await t.tailer.start();
    // A writer like nginx: keeps its descriptor, so lines land in the old file until it reopens.
    let fh = await open(p, 'a');
    for (let i = 0; i < 1000; i++) {
      await fh.write(`w-${i}\n`);
      if (i % 50 === 0) await tick();
    }
    await rename(p, p + '.1');
    for (let i = 1000; i < 1100; i++) await fh.write(`w-${i}\n`); // after the rename, before reopen
    await fh.close();
    fh = await open(p, 'a');
    for (let i = 1100; i < 2000; i++) {
      await fh.write(`w-${i}\n`);
      if (i % 50 === 0) await tick();
    }
    await fh.close();
    await waitFor(() => t.lines.length >= 2000, { what: '2000 lines', timeout: 20_000 });
    expect([...t.lines].sort()).toEqual(range('w', 0, 2000).sort());
    // In order within each file.
    const old = t.lines.filter((l) => Number(l.slice(2)) < 1100);
    expect(old).toEqual(range('w', 0, 1100));
    expect(t.lines.filter((l) => Number(l.slice(2)) >= 1100)).toEqual(range('w', 1100, 2000));
    // The old file is finished and closed after rotateWait; the new one stays.
    await waitFor(() => t.tailer.stats().files === 1, { what: 'the rotated file to close' });
  }, 30_000);

  test('rename to a name the glob also matches: followed, never re-read', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('a', 0, 100));
    const t = tail({ include: [path.join(dir(), 'app.log*')] });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 100);
    await rename(p, p + '.1');
    await appendFile(p + '.1', numbered('a', 100, 110));
    await writeFile(p, numbered('b', 0, 10));
    await waitFor(() => t.lines.length === 120, { what: 'lines of both files' });
    await waitFor(() => t.tailer.stats().files === 2, { what: 'both files followed' });
    // One reader followed the inode: its lines once, in order (the path in a mark is the name
    // the file had when read, so lines read just before the rename was seen carry the old name).
    expect(t.lines.filter((l) => l.startsWith('a-'))).toEqual(range('a', 0, 110));
    expect(t.linesOf(p + '.1').every((l) => l.startsWith('a-'))).toBe(true);
    expect(t.lines.filter((l) => l.startsWith('b-'))).toEqual(range('b', 0, 10));
    expect(new Set(t.chunks.filter((c) => c.text.startsWith('b-')).map((c) => c.path))).toEqual(
      new Set([p]),
    );
  });

  test('restart after a rotation: the renamed file resumes at its checkpoint', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('a', 0, 20));
    const first = tail({ include: [path.join(dir(), 'app.log*')] });
    await first.tailer.start();
    await waitFor(() => first.lines.length === 20);
    await first.tailer.stop();
    // Rotated while we were down.
    await rename(p, p + '.1');
    await appendFile(p + '.1', numbered('a', 20, 25));
    await writeFile(p, numbered('b', 0, 5));
    const second = tail({ include: [path.join(dir(), 'app.log*')], store: first.store });
    await second.tailer.start();
    await waitFor(() => second.lines.length === 10);
    expect(second.lines.sort()).toEqual([...range('a', 20, 25), ...range('b', 0, 5)].sort());
  });

  test('copytruncate: truncation is noticed, the file is read again from 0', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('before', 0, 100));
    const t = tail({ include: [p] });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 100);
    await copyFile(p, p + '.1'); // not matched by the glob
    await truncate(p, 0);
    await appendFile(p, numbered('after', 0, 20));
    await waitFor(() => t.lines.length === 120, { what: 'lines after the truncation' });
    expect(t.lines).toEqual([...range('before', 0, 100), ...range('after', 0, 20)]);
    expect(t.logs.some((l) => /truncated/.test(l.msg))).toBe(true);
    // The new content has its own identity; the old one keeps its offset (for the copy).
    expect(t.chunks.at(-1)!.key).toBe(checksumKey(Buffer.from('after-0')));
    expect(t.store.get(SOURCE, checksumKey(Buffer.from('before-0')))!.offset).toBe(
      (await stat(p + '.1')).size,
    );
  });

  test('copytruncate with the copy matched too: every line exactly once', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('before', 0, 100));
    const t = tail({ include: [path.join(dir(), 'app.log*')] });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 100);
    await copyFile(p, p + '.1');
    await truncate(p, 0);
    await appendFile(p, numbered('after', 0, 20));
    await waitFor(() => t.lines.length >= 120, { what: 'lines after the truncation' });
    // Let the copy be examined (it shares the first line of the old content).
    await waitFor(() => t.tailer.stats().shadowed === 0 && t.tailer.stats().files === 2, {
      what: 'the copy to be followed',
    });
    await appendFile(p + '.1', 'appended-to-copy\n');
    await waitFor(() => t.lines.length === 121);
    expect(t.lines.sort()).toEqual(
      [...range('before', 0, 100), ...range('after', 0, 20), 'appended-to-copy'].sort(),
    );
  });

  test('copytruncate, lines written between the copy and the truncate read: the copy is not read again', async () => {
    // test/reliability/rotation.test.ts found it: the copy is shorter than what was read of its
    // original, and was read again from 0 (every line of the file twice).
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('before', 0, 100));
    const t = tail({ include: [path.join(dir(), 'app.log*')] });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 100);
    await copyFile(p, p + '.1');
    await appendFile(p, numbered('window', 0, 10)); // the writer goes on during the copy
    await waitFor(() => t.lines.length === 110, { what: 'the lines after the copy' });
    await truncate(p, 0);
    await appendFile(p, numbered('after', 0, 20));
    await waitFor(() => t.lines.length >= 130, { what: 'lines after the truncation' });
    await waitFor(() => t.tailer.stats().shadowed === 0 && t.tailer.stats().files === 2, {
      what: 'the copy to be followed',
    });
    await appendFile(p + '.1', 'appended-to-copy\n');
    await waitFor(() => t.lines.length >= 131, { what: 'the line appended to the copy' });
    expect(t.lines.sort()).toEqual(
      [
        ...range('before', 0, 100),
        ...range('window', 0, 10),
        ...range('after', 0, 20),
        'appended-to-copy',
      ].sort(),
    );
  });

  test('copytruncate seen late (the file regrew past the offset first): noticed by its first line, nothing skipped', async () => {
    // test/reliability/rotation.test.ts on a loaded host: no stat saw the file shorter, and the
    // new content was read from the old offset (its start skipped, the copy shadowed for good).
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('before', 0, 100));
    const t = tail({ include: [path.join(dir(), 'app.log*')] });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 100);
    t.tailer.pause();
    await copyFile(p, p + '.1');
    await appendFile(p + '.1', numbered('late', 0, 5)); // the copy has lines never read
    await truncate(p, 0);
    await appendFile(p, numbered('after', 0, 300)); // longer than the old content
    t.tailer.resume();
    await waitFor(() => t.lines.length >= 405, { what: 'both files', timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 200));
    expect([...t.lines].sort()).toEqual(
      [...range('before', 0, 100), ...range('late', 0, 5), ...range('after', 0, 300)].sort(),
    );
  });

  test('copytruncate with device_and_inode: same key, marks start again at 0', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('before', 0, 10));
    const t = tail({ include: [p], fingerprint: 'device_and_inode' });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 10);
    await truncate(p, 0);
    await appendFile(p, 'after\n');
    await waitFor(() => t.lines.length === 11);
    expect(t.chunks.at(-1)!.key).toBe(t.chunks[0].key);
    expect(t.chunks.at(-1)!.offset).toBe(6);
  });

  test('deletion: the descriptor is drained to its end, then closed and forgotten', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('d', 0, 20_000)); // ~150 KB, many reads of 4 KiB
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
    await unlink(p); // deleted with most of it unread
    t.tailer.resume();
    await waitFor(() => t.lines.length === 20_000, { what: 'the deleted file drained' });
    expect(t.lines).toEqual(range('d', 0, 20_000));
    await waitFor(() => t.tailer.stats().files === 0, { what: 'the deleted file closed' });
    expect(t.tailer.stats().open).toBe(0);
  });

  test('deletion with a partial last line: the partial line is delivered', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, 'a\nlast without newline');
    const t = tail({ include: [p] });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 1);
    await unlink(p);
    await waitFor(() => t.lines.length === 2);
    expect(t.lines).toEqual(['a', 'last without newline']);
  });

  test.each(['checksum', 'device_and_inode'] as const)(
    'inode reuse with new content is read from the start (%s)',
    async (mode) => {
      const p = path.join(dir(), 'app.log');
      await writeFile(p, numbered('old', 0, 50));
      const ino = (await stat(p)).ino;
      const t = tail({ include: [p], fingerprint: mode });
      await t.tailer.start();
      await waitFor(() => t.lines.length === 50);
      await unlink(p);
      await waitFor(() => t.tailer.stats().files === 0, { what: 'the deleted file closed' });
      // ext4 and tmpfs hand a just-freed inode to the next file: usually the same number.
      await writeFile(p, numbered('new', 0, 5));
      const reused = (await stat(p)).ino === ino;
      await waitFor(() => t.lines.length === 55, {
        what: `the new file (inode reused: ${reused})`,
      });
      expect(t.lines.slice(50)).toEqual(range('new', 0, 5));
    },
  );

  test.each(['checksum', 'device_and_inode'] as const)(
    'inode reuse across a restart: the old checkpoint is not applied (%s)',
    async (mode) => {
      const p = path.join(dir(), 'app.log');
      await writeFile(p, numbered('old', 0, 50));
      const first = tail({ include: [p], fingerprint: mode });
      await first.tailer.start();
      await waitFor(() => first.lines.length === 50);
      await first.tailer.stop();
      await unlink(p);
      await new Promise((r) => setTimeout(r, 5)); // a later birth time than the checkpoint's
      await writeFile(p, numbered('new', 0, 60));
      const second = tail({ include: [p], fingerprint: mode, store: first.store });
      await second.tailer.start();
      await waitFor(() => second.lines.length === 60);
      expect(second.lines).toEqual(range('new', 0, 60));
    },
  );

  test('a copy with the same first line resumes at the checkpoint, never re-reads', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 30));
    const first = tail({ include: [p] });
    await first.tailer.start();
    await waitFor(() => first.lines.length === 30);
    await first.tailer.stop();
    const copy = path.join(dir(), 'copy.log');
    await copyFile(p, copy);
    await appendFile(copy, numbered('l', 30, 35));
    await unlink(p);
    const second = tail({ include: [path.join(dir(), '*.log')], store: first.store });
    await second.tailer.start();
    await waitFor(() => second.lines.length === 5);
    expect(second.lines).toEqual(range('l', 30, 35));
  });

  test('two live files with the same first line: one is read, then the other resumes', async () => {
    const a = path.join(dir(), 'a.log');
    const b = path.join(dir(), 'b.log');
    await writeFile(a, 'header\none\n');
    const t = tail({ include: [path.join(dir(), '*.log')] });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 2);
    await writeFile(b, 'header\none\ntwo\n');
    await waitFor(() => t.tailer.stats().shadowed === 1, { what: 'b.log to be shadowed' });
    expect(t.logs.some((l) => l.level === 'warn' && /same fingerprint/.test(l.msg))).toBe(true);
    // When a.log ends, b.log continues from where a.log stopped.
    await unlink(a);
    await waitFor(() => t.lines.length === 3, { what: 'the rest of b.log' });
    expect(t.lines).toEqual(['header', 'one', 'two']);
    expect(t.chunks.at(-1)!.path).toBe(b);
    await waitFor(() => t.tailer.stats().files === 1 && t.tailer.stats().shadowed === 0);
  });
});
