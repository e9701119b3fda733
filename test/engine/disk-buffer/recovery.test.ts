// Recovery at open: a torn last record (cut at every byte offset), a zero-filled tail, a CRC
// mismatch in the middle of a segment, a bad cursor, a segment without its header. Each keeps
// every record before the damage, drops the rest of that segment, and says so (VES_BUFFER_CORRUPT).

import { appendFile, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
} from '../../../src/engine/disk-buffer/format.js';
import { VesError } from '../../../src/errors.js';
import { captureLogger, type LogRecord } from '../../helpers/logger.js';
import { useTempDir } from '../../helpers/tmp.js';
import { openBuffer, payload, readTexts, segPath, settledWithin, texts } from './helpers.js';

/** A buffer with `n` records in one segment, closed; returns the offsets where each starts. */
async function written(dir: string, n: number, size?: (i: number) => number): Promise<number[]> {
  const b = await openBuffer(dir);
  const starts: number[] = [];
  let off = SEGMENT_HEADER_BYTES;
  for (let i = 0; i < n; i++) {
    const p = payload(i, size?.(i));
    starts.push(off);
    off += RECORD_HEADER_BYTES + p.length;
    await b.append(p);
  }
  await b.close();
  starts.push(off);
  return starts;
}

const corruptLogs = (records: LogRecord[]) =>
  records.filter((r) => r.code === 'VES_BUFFER_CORRUPT');

describe('disk buffer: recovery', () => {
  const tmp = useTempDir();

  test('torn last record, cut at every byte offset: the earlier records stay, the torn one goes', async () => {
    const src = join(tmp(), 'src');
    const starts = await written(src, 4, (i) => (i === 3 ? 40 : 25));
    const whole = await readFile(segPath(src, 1));
    const lastStart = starts[3];
    const end = starts[4];
    expect(whole.length).toBe(end);
    for (let cut = lastStart; cut < end; cut++) {
      const dir = join(tmp(), `cut-${cut}`);
      const { log, records } = captureLogger();
      await openBuffer(dir).then((b) => b.close()); // creates the directory
      await writeFile(segPath(dir, 1), whole.subarray(0, cut));
      const b = await openBuffer(dir, { log });
      expect((await stat(segPath(dir, 1))).size).toBe(lastStart);
      expect(b.records, `cut at ${cut}`).toBe(3);
      expect(await readTexts(b, 3)).toEqual([0, 1, 2].map((i) => payload(i, 25).toString()));
      expect(await settledWithin(b.read(), 5)).toBe('pending'); // nothing after them
      await b.close();
      const logged = corruptLogs(records);
      if (cut === lastStart) {
        expect(logged).toEqual([]); // a clean end: nothing was torn
      } else {
        expect(logged, `cut at ${cut}`).toHaveLength(1);
        expect(logged[0]).toMatchObject({ dropped_bytes: cut - lastStart, offset: lastStart });
        expect(String(logged[0].msg)).toMatch(/torn/);
      }
    }
  });

  test('after truncating a torn tail, new appends follow the kept records', async () => {
    const dir = join(tmp(), 'buf');
    const starts = await written(dir, 3);
    await truncate(segPath(dir, 1), starts[3] - 5);
    const b = await openBuffer(dir);
    await b.append(payload(99));
    expect(await readTexts(b, 3)).toEqual([...texts(0, 2), payload(99).toString()]);
    await b.close();
    const c = await openBuffer(dir);
    expect(c.records).toBe(0);
    await c.close();
  });

  test('a zero-filled tail (size reached the disk, data did not) is cut off', async () => {
    const dir = join(tmp(), 'buf');
    await written(dir, 3);
    await appendFile(segPath(dir, 1), Buffer.alloc(4096));
    const { log, records } = captureLogger();
    const b = await openBuffer(dir, { log });
    expect(await readTexts(b, 3)).toEqual(texts(0, 3));
    expect(b.records).toBe(0);
    await b.close();
    expect(corruptLogs(records)).toHaveLength(1);
    expect(corruptLogs(records)[0]).toMatchObject({ dropped_bytes: 4096 });
    expect(String(corruptLogs(records)[0].reason)).toMatch(/length 0/);
  });

  test('a CRC mismatch in the middle: records before it stay, it and the rest of its segment go', async () => {
    const dir = join(tmp(), 'buf');
    const starts = await written(dir, 6);
    const file = segPath(dir, 1);
    const bytes = await readFile(file);
    bytes[starts[2] + RECORD_HEADER_BYTES + 3] ^= 0x20; // one bit inside record 2's payload
    await writeFile(file, bytes);
    const { log, records } = captureLogger();
    const b = await openBuffer(dir, { log });
    expect(b.records).toBe(2);
    expect(await readTexts(b, 2)).toEqual(texts(0, 2));
    await b.close();
    const logged = corruptLogs(records);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({
      segment: '000000000001.seg',
      offset: starts[2],
      dropped_bytes: starts[6] - starts[2],
    });
    expect(String(logged[0].reason)).toMatch(/CRC-32 mismatch/);
    expect(String(logged[0].msg)).toMatch(/corrupt/);
  });

  test('corruption in one segment leaves the next segments whole', async () => {
    const dir = join(tmp(), 'buf');
    const b = await openBuffer(dir, { segmentBytes: 300 });
    for (let i = 0; i < 9; i++) await b.append(payload(i, 80)); // 3 per segment
    await b.close();
    const file = segPath(dir, 2);
    const bytes = await readFile(file);
    bytes[SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 88 + 10] ^= 1; // 2nd record of segment 2
    await writeFile(file, bytes);
    const { log, records } = captureLogger();
    const c = await openBuffer(dir, { segmentBytes: 300, log });
    const got = await readTexts(c, 7);
    const want = [0, 1, 2, 3, 6, 7, 8].map((i) => payload(i, 80).toString());
    expect(got).toEqual(want);
    await c.close();
    expect(corruptLogs(records)).toHaveLength(1);
  });

  test('a read that no longer verifies fails the buffer (and the restart cuts it there)', async () => {
    const dir = join(tmp(), 'buf');
    const starts = await written(dir, 3);
    const b = await openBuffer(dir);
    // Damage after recovery verified it: the disk now returns other bytes.
    const bytes = await readFile(segPath(dir, 1));
    bytes[starts[1] + RECORD_HEADER_BYTES] ^= 1;
    await writeFile(segPath(dir, 1), bytes);
    expect(await readTexts(b, 1)).toEqual(texts(0, 1));
    const err = await b.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VesError);
    expect((err as VesError).code).toBe('VES_BUFFER_CORRUPT');
    await expect(b.append(payload(9))).rejects.toMatchObject({ code: 'VES_BUFFER_CORRUPT' });
    await b.close();
    const c = await openBuffer(dir);
    expect(c.records).toBe(0); // record 0 was acked; records 1.. were cut at the bad one
    await c.close();
  });

  test('an unreadable cursor: every record is sent again, and it says so', async () => {
    const dir = join(tmp(), 'buf');
    await written(dir, 4);
    const a = await openBuffer(dir);
    await readTexts(a, 2);
    await a.close();
    await writeFile(join(dir, 'cursor.json'), '{"version":1,"segm');
    const { log, records } = captureLogger();
    const b = await openBuffer(dir, { log });
    expect(await readTexts(b, 4)).toEqual(texts(0, 4));
    await b.close();
    expect(corruptLogs(records).map((r) => r.msg)).toEqual([
      expect.stringMatching(/cursor is unreadable/),
    ]);
  });

  test('a cursor that does not fall on a record: its segment is sent again whole', async () => {
    const dir = join(tmp(), 'buf');
    const starts = await written(dir, 4);
    await writeFile(
      join(dir, 'cursor.json'),
      JSON.stringify({ version: 1, segment: 1, offset: starts[2] + 3 }),
    );
    const { log, records } = captureLogger();
    const b = await openBuffer(dir, { log });
    expect(await readTexts(b, 4)).toEqual(texts(0, 4));
    await b.close();
    expect(corruptLogs(records)).toHaveLength(1);
  });

  test('segments before the cursor are deleted (a crash before their deletion)', async () => {
    const dir = join(tmp(), 'buf');
    const b = await openBuffer(dir, { segmentBytes: 200 });
    for (let i = 0; i < 6; i++) await b.append(payload(i, 80)); // 2 per segment
    await b.close();
    await writeFile(
      join(dir, 'cursor.json'),
      JSON.stringify({ version: 1, segment: 2, offset: SEGMENT_HEADER_BYTES + 88 }),
    );
    const c = await openBuffer(dir, { segmentBytes: 200 });
    expect((await readdir(dir)).filter((n) => n.endsWith('.seg')).sort()).toEqual([
      '000000000002.seg',
      '000000000003.seg',
    ]);
    expect(await readTexts(c, 3)).toEqual([3, 4, 5].map((i) => payload(i, 80).toString()));
    await c.close();
  });

  test('a segment cut inside its header (or zeroed) is removed; one with a foreign header is moved aside', async () => {
    const dir = join(tmp(), 'buf');
    await written(dir, 2);
    await writeFile(segPath(dir, 2), 'VESB'); // created, header torn
    await writeFile(segPath(dir, 3), Buffer.alloc(4096)); // created, zeros after a power loss
    await writeFile(segPath(dir, 4), 'not a buffer segment at all');
    const { log, records } = captureLogger();
    const b = await openBuffer(dir, { log });
    expect(await readTexts(b, 2)).toEqual(texts(0, 2));
    await b.append(payload(5));
    expect(await readTexts(b, 1)).toEqual(texts(5, 6));
    await b.close();
    const names = await readdir(dir);
    expect(names.some((n) => n.startsWith('000000000004.seg.corrupt-'))).toBe(true);
    expect(names).not.toContain('000000000002.seg');
    expect(names).not.toContain('000000000003.seg');
    expect(corruptLogs(records)).toHaveLength(1);
    expect(b.recoveredDroppedBytes).toBe('not a buffer segment at all'.length);
  });

  test('a segment of another format version is refused, not misread', async () => {
    const dir = join(tmp(), 'buf');
    await written(dir, 1);
    const bytes = await readFile(segPath(dir, 1));
    bytes.write('VESBUF9\n', 0, 'latin1');
    await writeFile(segPath(dir, 1), bytes);
    await expect(openBuffer(dir)).rejects.toMatchObject({ code: 'VES_DATA_DIR', exitCode: 2 });
  });
});
