// A full disk buffer: with `block` an append waits (and later ones queue behind it, in order)
// until an ack frees room; with `drop_newest` it resolves false at once and is counted.

import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { RECORD_HEADER_BYTES } from '../../../src/engine/disk-buffer/format.js';
import { captureLogger } from '../../helpers/logger.js';
import { useTempDir } from '../../helpers/tmp.js';
import { openBuffer, payload, readTexts, settledWithin } from './helpers.js';

/** Room for exactly three 92-byte payloads (100 bytes framed). */
const FRAME = 100;
const P = FRAME - RECORD_HEADER_BYTES;
const rec = (i: number) => payload(i, P);

describe('disk buffer: full', () => {
  const tmp = useTempDir();

  test('block: the append waits for room, later appends wait behind it, acks release them', async () => {
    const { log, records } = captureLogger();
    const b = await openBuffer(join(tmp(), 'buf'), { maxBytes: 3 * FRAME, log });
    for (let i = 0; i < 3; i++) expect(await b.append(rec(i))).toBe(true);
    expect(b.bytes).toBe(3 * FRAME);
    const fourth = b.append(rec(3));
    const fifth = b.append(rec(4));
    expect(await settledWithin(fourth, 50)).toBe('pending');
    expect(await settledWithin(fifth, 1)).toBe('pending');
    expect(records.filter((r) => r.code === 'VES_BUFFER_FULL')).toHaveLength(1);

    const r0 = await b.read();
    b.ack(r0!); // room for one: the 4th goes in, the 5th still waits
    expect(await fourth).toBe(true);
    expect(await settledWithin(fifth, 30)).toBe('pending');
    const r1 = await b.read();
    b.ack(r1!);
    expect(await fifth).toBe(true);
    expect(await readTexts(b, 3)).toEqual([2, 3, 4].map((i) => rec(i).toString()));
    expect(b.droppedRecords).toBe(0);
    await b.close();
  });

  test('block: close while an append waits rejects it (the caller never acked it)', async () => {
    const b = await openBuffer(join(tmp(), 'buf'), { maxBytes: FRAME });
    await b.append(rec(0));
    const waiting = b.append(rec(1));
    expect(await settledWithin(waiting, 20)).toBe('pending');
    await b.close();
    await expect(waiting).rejects.toThrow(/closed/);
  });

  test('drop_newest: a full buffer drops the new record at once and counts it', async () => {
    const { log, records } = captureLogger();
    const b = await openBuffer(join(tmp(), 'buf'), {
      maxBytes: 3 * FRAME,
      whenFull: 'drop_newest',
      log,
    });
    const results = await Promise.all([0, 1, 2, 3, 4].map((i) => b.append(rec(i))));
    expect(results).toEqual([true, true, true, false, false]);
    expect(b.droppedRecords).toBe(2);
    expect(b.droppedBytes).toBe(2 * FRAME);
    const r = await b.read();
    b.ack(r!);
    expect(await b.append(rec(5))).toBe(true); // room again
    expect(await readTexts(b, 3)).toEqual([1, 2, 5].map((i) => rec(i).toString()));
    await b.close();
    // The buffer does not log drops: the caller counts events and logs them (sink runner).
    expect(records.filter((x) => x.code === 'VES_BUFFER_FULL')).toEqual([]);
  });

  test('an empty buffer takes one record bigger than max_bytes (else it could never pass)', async () => {
    const b = await openBuffer(join(tmp(), 'buf'), { maxBytes: FRAME, whenFull: 'drop_newest' });
    expect(await b.append(payload(0, 5 * FRAME))).toBe(true);
    expect(await b.append(rec(1))).toBe(false);
    await readTexts(b, 1);
    expect(await b.append(rec(2))).toBe(true);
    await b.close();
  });

  test('the bound holds across a reopen (unacknowledged records from before count)', async () => {
    const dir = join(tmp(), 'buf');
    const a = await openBuffer(dir, { maxBytes: 3 * FRAME, whenFull: 'drop_newest' });
    for (let i = 0; i < 3; i++) await a.append(rec(i));
    await a.close();
    const b = await openBuffer(dir, { maxBytes: 3 * FRAME, whenFull: 'drop_newest' });
    expect(b.bytes).toBe(3 * FRAME);
    expect(await b.append(rec(3))).toBe(false);
    await b.close();
  });
});
