import { appendFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { checksumKey } from '../../../src/engine/tailer/fingerprint.js';
import { MemoryCheckpoints } from '../../helpers/memory-checkpoints.js';
import { numbered, range, SOURCE, tail } from '../../helpers/tailer.js';
import { useTempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

describe('tailer: reading', () => {
  const dir = useTempDir();

  test('existing content, then appended lines, in order, each once', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 1000));
    const t = tail({ include: [path.join(dir(), '*.log')], readChunkBytes: 4096 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 1000, { what: 'existing lines' });
    for (let i = 1000; i < 1500; i += 50) await appendFile(p, numbered('l', i, i + 50));
    await waitFor(() => t.lines.length === 1500, { what: 'appended lines' });
    expect(t.lines).toEqual(range('l', 0, 1500));
    const size = (await stat(p)).size;
    expect(t.chunks.at(-1)!.offset).toBe(size);
    expect(t.chunks.every((c) => c.path === p)).toBe(true);
    expect(t.chunks[0].key).toBe(checksumKey(Buffer.from('l-0')));
  });

  test('chunk offsets are exact: each ends after its last newline', async () => {
    const p = path.join(dir(), 'a.log');
    const text = 'one\n\ntwo\r\nthree\n';
    await writeFile(p, text);
    const t = tail({ include: [p], readChunkBytes: 5 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 4);
    let end = 0;
    for (const ch of t.chunks) {
      end += Buffer.byteLength(ch.text);
      expect(ch.offset).toBe(end);
    }
    expect(t.lines).toEqual(['one', '', 'two\r', 'three']);
  });

  test('new files are picked up while running, read from the beginning', async () => {
    const t = tail({ include: [path.join(dir(), '*.log')], readFrom: 'end' });
    await t.tailer.start();
    const p = path.join(dir(), 'late.log');
    await writeFile(p, numbered('n', 0, 10));
    await waitFor(() => t.lines.length === 10, { what: 'lines of the new file' });
    expect(t.lines).toEqual(range('n', 0, 10));
  });

  test('exclude globs and depth: only matching files at the glob depth', async () => {
    await mkdir(path.join(dir(), 'sub', 'deeper'), { recursive: true });
    await writeFile(path.join(dir(), 'top.log'), 'top\n');
    await writeFile(path.join(dir(), 'skip.log'), 'skip\n');
    await writeFile(path.join(dir(), 'top.txt'), 'txt\n');
    await writeFile(path.join(dir(), 'sub', 'a.log'), 'sub\n');
    await writeFile(path.join(dir(), 'sub', 'deeper', 'b.log'), 'deep\n');
    const t = tail({
      include: [path.join(dir(), '*.log'), path.join(dir(), '*', '*.log')],
      exclude: ['skip.log'],
    });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 2);
    expect(t.lines.sort()).toEqual(['sub', 'top']);
    // `**` goes any depth.
    const t2 = tail({
      include: [path.join(dir(), '**', '*.log')],
      exclude: [path.join(dir(), 'skip.log')],
    });
    await t2.tailer.start();
    await waitFor(() => t2.lines.length === 3);
    expect(t2.lines.sort()).toEqual(['deep', 'sub', 'top']);
  });

  test('a base directory created after start is picked up by the rescan', async () => {
    const sub = path.join(dir(), 'later');
    const t = tail({ include: [path.join(sub, '*.log')], rescanIntervalMs: 50 });
    await t.tailer.start();
    await mkdir(sub);
    await writeFile(path.join(sub, 'x.log'), 'x\n');
    await waitFor(() => t.lines.length === 1, { what: 'the file in the new directory' });
    await appendFile(path.join(sub, 'x.log'), 'y\n');
    await waitFor(() => t.lines.length === 2);
    expect(t.lines).toEqual(['x', 'y']);
  });

  test('a watched directory removed and made again is watched again', async () => {
    const sub = path.join(dir(), 'logs');
    await mkdir(sub);
    await writeFile(path.join(sub, 'a.log'), 'a\n');
    // No poll: only the directory's events (and the rescan's walk) find new lines.
    const t = tail({
      include: [path.join(sub, '*.log')],
      rescanIntervalMs: 50,
      pollIntervalMs: 60_000,
    });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 1, { what: 'the first file' });
    await rm(sub, { recursive: true });
    await waitFor(() => t.logs.some((r) => /directory removed or replaced/.test(r.msg)), {
      what: 'the watch noticed it is dead',
    });
    await mkdir(sub);
    await writeFile(path.join(sub, 'b.log'), 'b\n');
    await waitFor(() => t.lines.length === 2, { what: 'the file in the new directory' });
    await new Promise((r) => setTimeout(r, 100)); // the rescan has watched the new directory
    await appendFile(path.join(sub, 'b.log'), 'c\n');
    await waitFor(() => t.lines.length === 3, { what: 'a line appended: an event' });
    expect(t.lines).toEqual(['a', 'b', 'c']);
  });

  test('read_from end: existing files start at their end, appended lines arrive', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('old', 0, 100) + 'being-writ');
    const t = tail({ include: [p], readFrom: 'end' });
    await t.tailer.start();
    await appendFile(p, 'ten\n' + numbered('new', 0, 5));
    await waitFor(() => t.lines.length === 6);
    // The line being written at start is read whole: we start after the last newline.
    expect(t.lines).toEqual(['being-written', ...range('new', 0, 5)]);
  });

  test('read_from end does not apply to files with a checkpoint', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 10));
    const first = tail({ include: [p] });
    await first.tailer.start();
    await waitFor(() => first.lines.length === 10);
    await first.tailer.stop();
    await appendFile(p, numbered('l', 10, 15));
    const second = tail({ include: [p], readFrom: 'end', store: first.store });
    await second.tailer.start();
    await waitFor(() => second.lines.length === 5);
    expect(second.lines).toEqual(range('l', 10, 15));
  });

  test('restart from checkpoint resumes exactly, a held partial line is read whole', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, numbered('l', 0, 50) + 'half-');
    const first = tail({ include: [p] });
    await first.tailer.start();
    await waitFor(() => first.lines.length === 50);
    await first.tailer.stop(); // the partial line is not flushed at stop
    expect(first.lines).toEqual(range('l', 0, 50));
    await appendFile(p, 'line\n' + numbered('l', 50, 60));
    const second = tail({ include: [p], store: first.store });
    await second.tailer.start();
    await waitFor(() => second.lines.length === 11);
    expect(second.lines).toEqual(['half-line', ...range('l', 50, 60)]);
    const key = first.chunks[0].key;
    expect(second.store.get(SOURCE, key)!.offset).toBe((await stat(p)).size);
  });

  test('a checkpoint past the end of the file means it was truncated: start at 0', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, 'first\nsecond\n');
    const store = new MemoryCheckpoints();
    const key = checksumKey(Buffer.from('first'));
    store.set(SOURCE, key, { offset: 10_000, path: p, dev: 0, ino: 0, updated: Date.now() });
    const t = tail({ include: [p], store });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 2);
    expect(t.lines).toEqual(['first', 'second']);
    expect(t.logs.some((l) => /past the end/.test(l.msg))).toBe(true);
  });

  test('partial_line_timeout: a last line without newline is delivered', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, 'a\nno newline at end');
    const t = tail({ include: [p], partialLineTimeoutMs: 50 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 2, { what: 'the flushed partial line' });
    expect(t.lines).toEqual(['a', 'no newline at end']);
    expect(t.chunks.at(-1)!.offset).toBe((await stat(p)).size);
    // What follows is a line of its own.
    await appendFile(p, '\nnext\n');
    await waitFor(() => t.lines.length === 4);
    expect(t.lines.slice(2)).toEqual(['', 'next']);
  });

  test('before the timeout, a partial line is completed by later writes', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, 'par');
    const t = tail({ include: [p] }); // 60 s timeout
    await t.tailer.start();
    await appendFile(p, 'tial\n');
    await waitFor(() => t.lines.length === 1);
    expect(t.lines).toEqual(['partial']);
  });

  test('max_line_bytes: a long line is cut and flagged, the next lines follow', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, 'short\n' + 'x'.repeat(10_000) + '\nafter\n');
    const t = tail({ include: [p], maxLineBytes: 100, readChunkBytes: 4096 });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 3);
    expect(t.lines).toEqual(['short', 'x'.repeat(100), 'after']);
    const cut = t.chunks.find((c) => c.truncated)!;
    expect(cut.lines).toBe(1);
    expect(cut.offset).toBe(6 + 10_001);
    expect(t.tailer.stats().truncatedLines).toBe(1);
  });

  test('a file whose first line completes later is re-keyed to its fingerprint', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, '');
    const t = tail({ include: [p] });
    await t.tailer.start();
    await appendFile(p, 'first');
    await appendFile(p, ' line\nsecond\n');
    await waitFor(() => t.lines.length === 2);
    expect(new Set(t.chunks.map((c) => c.key))).toEqual(
      new Set([checksumKey(Buffer.from('first line'))]),
    );
  });

  test('a provisional checkpoint (crash before the first line completed) is moved to the fingerprint', async () => {
    const p = path.join(dir(), 'app.log');
    await writeFile(p, 'abc');
    const st = await stat(p, { bigint: true });
    const store = new MemoryCheckpoints();
    // A partial line was flushed and acked under the inode key.
    store.set(SOURCE, `ino:${st.dev}:${st.ino}`, {
      offset: 3,
      path: p,
      dev: 0,
      ino: 0,
      updated: Date.now() + 1000,
    });
    await appendFile(p, 'def\nnext\n');
    const t = tail({ include: [p], store });
    await t.tailer.start();
    await waitFor(() => t.lines.length === 2);
    expect(t.lines).toEqual(['def', 'next']);
    expect(store.get(SOURCE, `ino:${st.dev}:${st.ino}`)).toBeUndefined();
    expect(store.get(SOURCE, checksumKey(Buffer.from('abcdef')))!.offset).toBe(12);
  });
});
