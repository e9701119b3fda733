// The disk buffer's on-disk format: segment file names, the segment header, the record frame,
// and the scan that recovery runs over a segment to find where its valid records end.
//
//   <dir>/                                   (0700; one per sink: <data_dir>/buffers/<sink id>/)
//     000000000007.seg                        (0600) oldest segment still holding unacked records
//     000000000008.seg                        ... appended to until it reaches segment_bytes
//     cursor.json                             (0600) {"version":1,"segment":7,"offset":4120}: the
//                                             first record not yet acknowledged by the sink
//
//   segment file:
//   +------------+------------+-----------+--------------+------------+-----------+---------
//   | "VESBUF1\n"| length u32 | crc32 u32 | payload      | length u32 | crc32 u32 | payload  ...
//   |  8 bytes   |     LE     | of payload| length bytes |            |           |
//   +------------+------------+-----------+--------------+------------+-----------+---------
//   0            8            12          16             16+length
//
// A record is valid when its 8-byte frame header is whole, 0 < length <= what is left of the
// file, and the CRC-32 of the payload matches. Length 0 is never written: a crash can leave a
// tail of zero bytes (the size reached disk, the data did not), which would otherwise read as
// an endless run of valid empty records (CRC-32 of nothing is 0).

import type { FileHandle } from 'node:fs/promises';
import { crc32 } from '../crc32.js';

/** Magic and format version: a file of another version is refused, not misread. */
export const SEGMENT_MAGIC = Buffer.from('VESBUF1\n', 'latin1');
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length;
export const RECORD_HEADER_BYTES = 8;
/** 1 GiB: far above any batch (batch.max_bytes defaults to 1 MiB), and a payload of that size
 *  can still be allocated in one Buffer on every platform Node 20 runs on. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024 * 1024;

export const CURSOR_FILE = 'cursor.json';
export const CURSOR_TMP_FILE = 'cursor.json.tmp';
export const CURSOR_VERSION = 1;

const SEGMENT_NAME = /^(\d{1,15})\.seg$/;

/** 12 digits: names sort in id order in `ls` for 10^12 segments (16 EiB at 16 MiB each). */
export function segmentName(id: number): string {
  return `${String(id).padStart(12, '0')}.seg`;
}

/** The id of a segment file name, or -1 for any other file. */
export function segmentId(name: string): number {
  const m = SEGMENT_NAME.exec(name);
  return m === null ? -1 : Number(m[1]);
}

/** The 8-byte frame header of a payload made of `parts` (CRC computed over all of them). */
export function frameHeader(parts: readonly Uint8Array[]): { header: Buffer; length: number } {
  let length = 0;
  let crc = 0;
  for (const p of parts) {
    crc = crc32(p, 0, p.length, crc);
    length += p.length;
  }
  const header = Buffer.allocUnsafe(RECORD_HEADER_BYTES);
  header.writeUInt32LE(length, 0);
  header.writeUInt32LE(crc, 4);
  return { header, length };
}

export interface ScanResult {
  /** Offset just after the last valid record (the file is valid up to here). */
  end: number;
  /** Valid records at or after `countFrom`. */
  records: number;
  /** Whether a record started at `countFrom` (or the valid end is there): the cursor is sane. */
  sawCountFrom: boolean;
  /** Why the scan stopped before the end of the file, if it did. */
  problem?: { offset: number; reason: string; torn: boolean };
}

/** 4 MiB reads: few syscalls per segment, and small next to the 16 MiB segments. */
const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Walks the records of one segment from `SEGMENT_HEADER_BYTES` to `size`, verifying each frame.
 * Stops at the first record that is torn (runs past the end of the file: an append cut short by
 * a crash) or corrupt (length 0 or CRC mismatch): nothing after it can be framed with trust.
 */
export async function scanSegment(
  fh: FileHandle,
  size: number,
  countFrom: number,
): Promise<ScanResult> {
  let chunk = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, Math.max(size, RECORD_HEADER_BYTES)));
  let chunkStart = 0;
  let chunkLen = 0;
  /** n bytes at `off` (n <= what is left of the file), from the current chunk or a new read. */
  const view = async (off: number, n: number): Promise<Buffer> => {
    if (off >= chunkStart && off + n <= chunkStart + chunkLen) {
      return chunk.subarray(off - chunkStart, off - chunkStart + n);
    }
    if (n > chunk.length) chunk = Buffer.allocUnsafe(n); // a record bigger than a chunk
    const want = Math.min(chunk.length, size - off);
    await readFully(fh, chunk, want, off);
    chunkStart = off;
    chunkLen = want;
    return chunk.subarray(0, n);
  };

  let pos = SEGMENT_HEADER_BYTES;
  let records = 0;
  let sawCountFrom = false;
  while (pos < size) {
    if (pos === countFrom) sawCountFrom = true;
    if (size - pos < RECORD_HEADER_BYTES) {
      return stop(pos, `${size - pos} bytes of a record header`, true);
    }
    const h = await view(pos, RECORD_HEADER_BYTES);
    const length = h.readUInt32LE(0);
    const crc = h.readUInt32LE(4);
    if (length === 0 || length > MAX_PAYLOAD_BYTES) {
      return stop(pos, `impossible record length ${length}`, false);
    }
    if (length > size - pos - RECORD_HEADER_BYTES) {
      const have = size - pos - RECORD_HEADER_BYTES;
      return stop(pos, `record of ${length} bytes cut off after ${have}`, true);
    }
    const rec = await view(pos, RECORD_HEADER_BYTES + length);
    if (crc32(rec, RECORD_HEADER_BYTES, rec.length) !== crc) {
      return stop(pos, `CRC-32 mismatch in a record of ${length} bytes`, false);
    }
    if (pos >= countFrom) records++;
    pos += RECORD_HEADER_BYTES + length;
  }
  if (pos === countFrom) sawCountFrom = true;
  return { end: pos, records, sawCountFrom };

  function stop(offset: number, reason: string, torn: boolean): ScanResult {
    if (offset === countFrom) sawCountFrom = true;
    return { end: offset, records, sawCountFrom, problem: { offset, reason, torn } };
  }
}

/** Reads exactly `length` bytes at `position` (a short read means the file shrank: an error). */
export async function readFully(
  fh: FileHandle,
  buf: Buffer,
  length: number,
  position: number,
): Promise<void> {
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) {
      throw Object.assign(new Error(`unexpected end of file at ${position + off}`), {
        code: 'EOF',
      });
    }
    off += bytesRead;
  }
}

/** Writes all of `parts` at `position`, going on after a short write. */
export async function writeFully(
  fh: FileHandle,
  parts: readonly Buffer[],
  position: number,
): Promise<void> {
  let total = 0;
  for (const p of parts) total += p.length;
  let done = 0;
  let list = parts;
  while (done < total) {
    const { bytesWritten } = await fh.writev(list as Buffer[], position + done);
    done += bytesWritten;
    if (done < total) list = remainder(parts, done);
  }
}

/** The parts after the first `skip` bytes. */
function remainder(parts: readonly Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (skip >= p.length) {
      skip -= p.length;
      continue;
    }
    out.push(skip > 0 ? p.subarray(skip) : p);
    skip = 0;
  }
  return out;
}
