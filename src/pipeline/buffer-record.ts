// How a batch is stored as one disk buffer record: its bytes in the encoding(s) the sink writes,
// and its event count. Checkpoint marks are not stored: a batch in the disk buffer is already
// acknowledged (its marks committed), so a batch read back carries none.
//
//   payload: +-------+------------+-----------------------+------------+---------+
//            | flags | events u32 | ndjson length u32     | ndjson     | raw     |
//            |  u8   |    LE      | (only when flags = 3) | (flags &1) | (&2)    |
//            +-------+------------+-----------------------+------------+---------+
//   flags: 1 = NDJSON, 2 = raw lines, 3 = both; other bits are refused (a newer format).

import type { Batch, Wants } from './types.js';

const NDJSON = 1;
const RAW = 2;

/** The record's parts (no copy of the batch bytes: the disk buffer writes them with writev). */
export function encodeBatchRecord(batch: Batch, wants: Wants): Buffer[] {
  const ndjson = wants.ndjson ? batch.ndjson : null;
  const raw = wants.raw ? batch.raw : null;
  const flags = (ndjson !== null ? NDJSON : 0) | (raw !== null ? RAW : 0);
  const head = Buffer.allocUnsafe(flags === (NDJSON | RAW) ? 9 : 5);
  head.writeUInt8(flags, 0);
  head.writeUInt32LE(batch.events, 1);
  if (flags === (NDJSON | RAW)) head.writeUInt32LE((ndjson as Buffer).length, 5);
  const parts: Buffer[] = [head];
  if (ndjson !== null) parts.push(ndjson);
  if (raw !== null) parts.push(raw);
  return parts;
}

/** The bytes a record holds besides its head (0 for an empty batch: nothing worth storing). */
export function recordBodyBytes(batch: Batch, wants: Wants): number {
  return (
    (wants.ndjson && batch.ndjson !== null ? batch.ndjson.length : 0) +
    (wants.raw && batch.raw !== null ? batch.raw.length : 0)
  );
}

/** A batch read back from a record; `seq` is the reader's own count. Throws on a bad record. */
export function decodeBatchRecord(payload: Buffer, seq: number): Batch {
  if (payload.length < 5) throw new Error(`record of ${payload.length} bytes is too short`);
  const flags = payload.readUInt8(0);
  if (flags < 1 || flags > 3) throw new Error(`record flags ${flags} are not 1, 2 or 3`);
  const events = payload.readUInt32LE(1);
  let ndjson: Buffer | null = null;
  let raw: Buffer | null = null;
  if (flags === (NDJSON | RAW)) {
    if (payload.length < 9) throw new Error('record too short for two encodings');
    const n = payload.readUInt32LE(5);
    if (9 + n > payload.length) throw new Error(`NDJSON length ${n} runs past the record`);
    ndjson = payload.subarray(9, 9 + n);
    raw = payload.subarray(9 + n);
  } else if (flags === NDJSON) {
    ndjson = payload.subarray(5);
  } else {
    raw = payload.subarray(5);
  }
  const now = performance.now();
  return {
    seq,
    events,
    ndjson,
    raw,
    bytes: Math.max(ndjson?.length ?? 0, raw?.length ?? 0),
    marks: [],
    firstReadAt: now,
    sealedAt: now,
  };
}
