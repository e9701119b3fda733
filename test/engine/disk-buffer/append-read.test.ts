// The disk buffer's normal life: append, read, ack in order; what reopening keeps; segment roll
// and deletion once acknowledged; fsync batching by size and interval; file modes.

import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
} from '../../../src/engine/disk-buffer/format.js';
import { useTempDir } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import {
  crashCopy,
  openBuffer,
  payload,
  readTexts,
  segmentFiles,
  settledWithin,
  texts,
} from './helpers.js';

describe('disk buffer: append, read, ack', () => {
  const tmp = useTempDir();

  test('records come back in append order, byte for byte', async () => {
    const dir = join(tmp(), 'buf');
    const b = await openBuffer(dir);
    // Appends overlap (nobody awaits the previous one): the order is still the call order.
    const stored = await Promise.all(Array.from({ length: 50 }, (_, i) => b.append(payload(i))));
    expect(stored.every(Boolean)).toBe(true);
    expect(b.records).toBe(50);
    expect(await readTexts(b, 50)).toEqual(texts(0, 50));
    expect(b.records).toBe(0);
    expect(b.bytes).toBe(0);
    await b.close();
  });

  test('a payload given in parts is stored as their concatenation', async () => {
    const b = await openBuffer(join(tmp(), 'buf'));
    await b.append([Buffer.from('head|'), Buffer.from('middle|'), Buffer.from('tail')]);
    const rec = await b.read();
    expect(rec?.payload.toString()).toBe('head|middle|tail');
    await b.close();
  });

  test('bytes counts unacknowledged frames; an empty or oversized payload is refused', async () => {
    const b = await openBuffer(join(tmp(), 'buf'));
    await b.append(Buffer.alloc(100, 1));
    await b.append(Buffer.alloc(50, 2));
    expect(b.bytes).toBe(150 + 2 * RECORD_HEADER_BYTES);
    await expect(b.append(Buffer.alloc(0))).rejects.toThrow(RangeError);
    const r = await b.read();
    b.ack(r!);
    expect(b.bytes).toBe(50 + RECORD_HEADER_BYTES);
    await b.close();
  });

  test('acks out of read order are refused (the cursor is one position)', async () => {
    const b = await openBuffer(join(tmp(), 'buf'));
    await b.append(payload(0));
    await b.append(payload(1));
    const r0 = await b.read();
    const r1 = await b.read();
    expect(() => b.ack(r1!)).toThrow(RangeError);
    b.ack(r0!);
    b.ack(r1!);
    await b.close();
  });

  test('read waits for the next append; close makes it resolve null', async () => {
    const b = await openBuffer(join(tmp(), 'buf'));
    const next = b.read();
    expect(await settledWithin(next, 30)).toBe('pending');
    await b.append(payload(7));
    expect((await next)?.payload.toString()).toBe(payload(7).toString());
    const after = b.read();
    await b.close();
    expect(await after).toBeNull();
  });

  test('reopen: acknowledged records are not read again, the others are', async () => {
    const dir = join(tmp(), 'buf');
    const a = await openBuffer(dir);
    for (let i = 0; i < 10; i++) await a.append(payload(i));
    expect(await readTexts(a, 4)).toEqual(texts(0, 4));
    await a.read(); // read but not acknowledged: must come back
    await a.close();
    const b = await openBuffer(dir);
    expect(b.records).toBe(6);
    expect(await readTexts(b, 6)).toEqual(texts(4, 10));
    await b.append(payload(10));
    expect(await readTexts(b, 1)).toEqual(texts(10, 11));
    await b.close();
  });

  test('the cursor is persisted on its interval: a crash re-sends only what came after it', async () => {
    const dir = join(tmp(), 'buf');
    const a = await openBuffer(dir, { cursorIntervalMs: 10 });
    for (let i = 0; i < 8; i++) await a.append(payload(i));
    await readTexts(a, 5);
    const cursorFile = join(dir, 'cursor.json');
    const want = { segment: 1, offset: -1 };
    // The 5th record's end: header + 5 frames.
    want.offset =
      SEGMENT_HEADER_BYTES +
      texts(0, 5).reduce((n, t) => n + RECORD_HEADER_BYTES + Buffer.byteLength(t), 0);
    for (let i = 0; i < 200; i++) {
      const c = await readFile(cursorFile, 'utf8').catch(() => '{}');
      if (JSON.parse(c).offset === want.offset) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(JSON.parse(await readFile(cursorFile, 'utf8'))).toMatchObject({ version: 1, ...want });
    // The files as a kill -9 would leave them (no close): records 5.. come back.
    const copy = await crashCopy(dir, join(tmp(), 'crashed'));
    const b = await openBuffer(copy);
    expect(await readTexts(b, 3)).toEqual(texts(5, 8));
    await b.close();
    await a.close();
  });

  test('segments roll at segmentBytes and are deleted once fully acknowledged', async () => {
    const dir = join(tmp(), 'buf');
    // 3 records of 100 bytes (108 framed) per 400-byte segment.
    const b = await openBuffer(dir, { segmentBytes: 400 });
    for (let i = 0; i < 10; i++) await b.append(payload(i, 100));
    expect(await segmentFiles(dir)).toEqual([
      '000000000001.seg',
      '000000000002.seg',
      '000000000003.seg',
      '000000000004.seg',
    ]);
    await readTexts(b, 2);
    expect((await segmentFiles(dir)).length).toBe(4); // segment 1 still holds record 2
    await readTexts(b, 1);
    await b.close(); // deletions are done by close
    expect(await segmentFiles(dir)).toEqual([
      '000000000002.seg',
      '000000000003.seg',
      '000000000004.seg',
    ]);
    const c = await openBuffer(dir, { segmentBytes: 400 });
    expect(await readTexts(c, 7)).toEqual(
      texts(3, 10).map((_, k) => payload(3 + k, 100).toString()),
    );
    // Only the last segment is left (deletion runs in the background): the writer's, which the
    // next appends go on filling...
    await waitFor(async () => (await segmentFiles(dir)).length === 1, { what: 'deletions' });
    expect(await segmentFiles(dir)).toEqual(['000000000004.seg']);
    await c.close();
    // ...and a buffer closed with everything acknowledged leaves no file behind.
    expect(await readdir(dir)).toEqual([]);
  });

  test('a record bigger than a segment gets a segment of its own', async () => {
    const dir = join(tmp(), 'buf');
    const b = await openBuffer(dir, { segmentBytes: 100 });
    await b.append(payload(1, 30));
    await b.append(payload(2, 500));
    await b.append(payload(3, 30));
    expect((await segmentFiles(dir)).length).toBe(3);
    expect(await readTexts(b, 3)).toEqual([
      payload(1, 30).toString(),
      payload(2, 500).toString(),
      payload(3, 30).toString(),
    ]);
    await b.close();
  });

  test('fsync batching: an append resolves at fsyncBytes, or after fsyncIntervalMs', async () => {
    const dir = join(tmp(), 'buf');
    const b = await openBuffer(dir, { fsyncIntervalMs: 60_000, fsyncBytes: 1000 });
    const small = b.append(payload(0, 100));
    const read = b.read();
    // Neither the append nor the reader moves before the record is fsynced.
    expect(await settledWithin(small, 50)).toBe('pending');
    expect(await settledWithin(read, 1)).toBe('pending');
    // 1000 unsynced bytes: one fsync covers both appends.
    const big = b.append(payload(1, 1000));
    expect(await small).toBe(true);
    expect(await big).toBe(true);
    expect((await read)?.payload.toString()).toBe(payload(0, 100).toString());
    await b.close();

    const c = await openBuffer(join(tmp(), 'buf2'), { fsyncIntervalMs: 20, fsyncBytes: 1e9 });
    const t0 = performance.now();
    expect(await c.append(payload(0))).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    await c.close();
  });

  test('close fsyncs what was written: appends in flight resolve true and survive', async () => {
    const dir = join(tmp(), 'buf');
    const b = await openBuffer(dir, { fsyncIntervalMs: 60_000, fsyncBytes: 1e9 });
    const p = b.append(payload(0));
    await new Promise((r) => setTimeout(r, 10)); // written, not yet fsynced
    await b.close();
    expect(await p).toBe(true);
    await expect(b.append(payload(1))).rejects.toThrow(/closed/);
    const c = await openBuffer(dir);
    expect(await readTexts(c, 1)).toEqual(texts(0, 1));
    await c.close();
  });

  test('modes: directory 0700, segments and cursor 0600', async () => {
    const dir = join(tmp(), 'data', 'buffers', 'out');
    const b = await openBuffer(dir);
    await b.append(payload(0));
    await b.append(payload(1));
    await readTexts(b, 1); // one left: the files stay
    await b.close();
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(tmp(), 'data', 'buffers'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, '000000000001.seg'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'cursor.json'))).mode & 0o777).toBe(0o600);
  });
});
