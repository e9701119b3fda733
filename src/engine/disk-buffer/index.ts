// A durable FIFO of records on disk for one consumer (a sink): append-only segment files, each
// record framed with length + CRC-32, fsync batched by size or interval, a persisted read cursor.
// No knowledge of batches or sinks: a record is an opaque payload. Format: ./format.ts.
//
// An append resolves true once its record is fsynced: only then may the caller treat it as safe
// (DESIGN.md "Delivery semantics": a checkpoint advances once a sink acked a batch or has it in
// its disk buffer). The reader sees only fsynced records, so the ack cursor never points past
// what survives a crash. Positions, compared as (segment id, byte offset):
//
//   segments: [ 7 (sealed)        | 8 (sealed)           | 9 (the writer's)                   ]
//                ^ack                 ^read                  ^durable       ^size
//   acked <= read <= durable <= size
//   ack      first record not acknowledged; persisted as cursor.json every cursorIntervalMs
//   read     where the next read() starts (records between ack and read are out at the sink)
//   durable  fsynced end of the writer's segment: read() waits here (sealed ones are all durable)
//   size     written end: appends go here; the segment rolls when it would pass segmentBytes
//
// A segment is deleted once it is sealed and the ack cursor passed its end (a buffer closed with
// everything acknowledged removes all its files). max_bytes bounds the unacknowledged record
// bytes (ack..size); files on disk may hold up to one segment more (the acknowledged head of the
// oldest segment). An empty buffer takes any one record, however big.
//
// I/O errors (a failed write, fsync or read, a record that no longer verifies) fail the buffer:
// every pending and later call rejects with a VesError, and the caller stops the agent. That is
// safe by construction: nothing unfsynced was acknowledged, and the next start's recovery scan
// cuts the files back to their last valid record (after a failed fsync the page cache cannot be
// trusted, so carrying on would be a guess).

import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from '../crc32.js';
import { VesError } from '../../errors.js';
import type { Logger } from '../../observe/logger.js';
import { syncDir } from '../durable.js';
import { readCursor, writeCursor, type Cursor } from './cursor.js';
import {
  CURSOR_FILE,
  CURSOR_TMP_FILE,
  MAX_PAYLOAD_BYTES,
  RECORD_HEADER_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  frameHeader,
  readFully,
  scanSegment,
  segmentId,
  segmentName,
  writeFully,
} from './format.js';

export { MAX_PAYLOAD_BYTES } from './format.js';

export interface DiskBufferOptions {
  /** The buffer's own directory (created 0700): <data_dir>/buffers/<sink id>. */
  dir: string;
  /** Bound on unacknowledged record bytes (frames included). */
  maxBytes: number;
  /** At the bound: append waits for acks (block), or resolves false at once (drop_newest). */
  whenFull: 'block' | 'drop_newest';
  log: Logger;
  /** A segment rolls before it would pass this. Bytes; default min(16 MiB, maxBytes / 8). */
  segmentBytes?: number;
  /** Appended records are fsynced at most this long after the first unsynced one. ms. */
  fsyncIntervalMs?: number;
  /** ... or as soon as this many bytes are unsynced. */
  fsyncBytes?: number;
  /** How often the ack cursor is persisted (and at close). ms. */
  cursorIntervalMs?: number;
}

export const DISK_BUFFER_DEFAULTS = {
  /** 16 MiB: 64 segments in the default 1 GiB, so space comes back in small steps, while a
   *  segment still holds many 1 MiB batches and rolls (two fsyncs, a new file) rarely. */
  segmentBytes: 16 * 1024 * 1024,
  /** 100 ms: a quiet source's batch is acked within ~0.1 s; at most 10 fsyncs/s when idle-ish. */
  fsyncIntervalMs: 100,
  /** 4 MiB: a busy pipeline fsyncs every few batches rather than every 100 ms of data, which
   *  bounds the bytes waiting for an ack (and the in-flight memory that holds them). */
  fsyncBytes: 4 * 1024 * 1024,
  /** 1 s, like checkpoint_interval: a crash re-sends at most ~1 s of acknowledged records. */
  cursorIntervalMs: 1000,
};

/** One record handed out by read(); ack it, in the same order, once the consumer is done. */
export interface BufferRecord {
  readonly payload: Buffer;
  readonly segment: number;
  /** Offset of the record's frame in its segment file. */
  readonly offset: number;
  /** Offset just after it. */
  readonly end: number;
}

interface Segment {
  id: number;
  /** Bytes written (header and whole records). */
  size: number;
  /** Bytes known to be fsynced. */
  durable: number;
  /** No more appends: a later segment exists or will. Sealed segments are wholly durable. */
  sealed: boolean;
}

interface Append {
  /** Frame header, then the payload parts. */
  parts: Buffer[];
  bytes: number;
  resolve: (stored: boolean) => void;
  reject: (err: Error) => void;
}

interface Waiter {
  seg: number;
  end: number;
  resolve: (stored: boolean) => void;
  reject: (err: Error) => void;
}

/** 1 MiB reads: small records come back ~20x faster than with two reads each, and a chunk
 *  stays alive only while a record handed out from it is (a window of a few records). */
const READ_AHEAD_BYTES = 1024 * 1024;

/** 64 KiB: the smallest default segment (a buffer's max_bytes can be 64 KiB); smaller ones
 *  would roll, with two fsyncs, every few batches. */
const MIN_SEGMENT_BYTES = 64 * 1024;

/** Buffers per writev: Linux's IOV_MAX is 1024; a record takes 2-4 (frame header, parts). */
const MAX_IOV = 1000;

/** Logging a full buffer once a minute: it can flap per ack, and each flap is the same news. */
const FULL_LOG_EVERY_MS = 60_000;

export class DiskBuffer {
  readonly dir: string;
  private readonly log: Logger;
  private readonly maxBytes: number;
  private readonly dropNewest: boolean;
  private readonly segmentBytes: number;
  private readonly fsyncIntervalMs: number;
  private readonly fsyncBytes: number;
  private readonly cursorIntervalMs: number;

  private segments: Segment[] = [];
  private nextId = 1;
  /** The writer's handle on the last segment; null until the first append needs one. */
  private wfh: FileHandle | null = null;
  private pending: Append[] = [];
  /** A flag, not just the promise: a loop with nothing to await ends before its promise is
   *  even stored, and a stale promise would keep later appends from starting a new loop. */
  private writing = false;
  private written: Promise<void> = Promise.resolve();
  private waiters: Waiter[] = [];
  private unsynced = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | null = null;
  private syncAgain = false;

  private rseg = 0;
  private roff = SEGMENT_HEADER_BYTES;
  private rfh: FileHandle | null = null;
  private rfhId = -1;
  private readBusy: Promise<BufferRecord | null> | null = null;
  /** The read-ahead chunk: bytes [start, start + buf.length) of segment `seg`. */
  private ra: { seg: number; start: number; buf: Buffer } | null = null;
  private readerWake: (() => void) | undefined;
  /** Records read and not acked yet, in read order. */
  private outstanding: BufferRecord[] = [];

  private aseg = 0;
  private aoff = SEGMENT_HEADER_BYTES;
  private cursorDirty = false;
  private cursorTimer: NodeJS.Timeout | undefined;
  private cursorWriting: Promise<void> = Promise.resolve();
  private deleting: Promise<void> = Promise.resolve();
  private roomWake: (() => void) | undefined;
  private fullLoggedAt = -Infinity;

  private unackedBytes = 0;
  private unackedRecords = 0;
  private failed: VesError | null = null;
  private closing = false;
  private closed: Promise<void> | null = null;

  /** Appends dropped by drop_newest, and their bytes (frames included). */
  droppedRecords = 0;
  droppedBytes = 0;
  /** Bytes cut off by recovery at open (torn or corrupt tails, segments moved aside). */
  recoveredDroppedBytes = 0;

  private constructor(o: DiskBufferOptions) {
    this.dir = o.dir;
    this.log = o.log;
    this.maxBytes = o.maxBytes;
    this.dropNewest = o.whenFull === 'drop_newest';
    // An eighth of max_bytes for small buffers, so the disk holds at most ~1/8 above the bound.
    this.segmentBytes =
      o.segmentBytes ??
      Math.min(DISK_BUFFER_DEFAULTS.segmentBytes, Math.max(MIN_SEGMENT_BYTES, o.maxBytes / 8));
    this.fsyncIntervalMs = o.fsyncIntervalMs ?? DISK_BUFFER_DEFAULTS.fsyncIntervalMs;
    this.fsyncBytes = o.fsyncBytes ?? DISK_BUFFER_DEFAULTS.fsyncBytes;
    this.cursorIntervalMs = o.cursorIntervalMs ?? DISK_BUFFER_DEFAULTS.cursorIntervalMs;
  }

  /** Opens (or creates) the buffer in `dir`, recovering what an earlier run left there. */
  static async open(o: DiskBufferOptions): Promise<DiskBuffer> {
    if (!(o.maxBytes > 0)) throw new RangeError('DiskBuffer: maxBytes must be > 0');
    const b = new DiskBuffer(o);
    await b.recover();
    b.cursorTimer = setInterval(() => void b.persistCursor(), b.cursorIntervalMs);
    b.cursorTimer.unref();
    return b;
  }

  /** Unacknowledged record bytes (frames included): what max_bytes bounds. */
  get bytes(): number {
    return this.unackedBytes;
  }

  /** Unacknowledged records (written, read or not). */
  get records(): number {
    return this.unackedRecords;
  }

  /** Segment files in use. */
  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Appends one record (the parts are concatenated into its payload). Resolves true once it is
   * fsynced, false when drop_newest dropped it; with block it first waits for room. Calls may
   * overlap: records are written in call order. Rejects once the buffer failed or closed.
   */
  append(payload: Buffer | readonly Buffer[]): Promise<boolean> {
    if (this.failed !== null) return Promise.reject(this.failed);
    if (this.closing) return Promise.reject(closedError());
    const parts = Buffer.isBuffer(payload) ? [payload] : payload;
    const { header, length } = frameHeader(parts);
    if (length === 0 || length > MAX_PAYLOAD_BYTES) {
      return Promise.reject(
        new RangeError(`DiskBuffer.append: payload of ${length} bytes (1..${MAX_PAYLOAD_BYTES})`),
      );
    }
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({
        parts: [header, ...parts],
        bytes: RECORD_HEADER_BYTES + length,
        resolve,
        reject,
      });
      if (!this.writing) {
        this.writing = true;
        this.written = this.writeLoop();
      }
    });
  }

  /**
   * The next record in append order, once it is fsynced: waits while there is none. Resolves
   * null once the buffer is closing. One read at a time.
   */
  read(): Promise<BufferRecord | null> {
    if (this.readBusy !== null) {
      return Promise.reject(new Error('DiskBuffer.read: one read at a time'));
    }
    const p = this.readNext().finally(() => {
      this.readBusy = null;
    });
    this.readBusy = p;
    return p;
  }

  /**
   * The consumer is done with `rec` (delivered, or accounted for): it will not be read again,
   * even after a restart once the cursor is persisted. In the order read() returned them.
   */
  ack(rec: BufferRecord): void {
    if (this.outstanding[0] !== rec) {
      throw new RangeError('DiskBuffer.ack: acknowledge records in the order read() gave them');
    }
    this.outstanding.shift();
    this.aseg = rec.segment;
    this.aoff = rec.end;
    this.unackedBytes -= rec.end - rec.offset;
    this.unackedRecords--;
    this.cursorDirty = true;
    this.dropAcked();
    this.wakeRoom();
  }

  /**
   * Stops: waits for the write in progress, rejects appends not written yet, fsyncs what was
   * written (those appends resolve), persists the cursor, closes the files. read() resolves null.
   */
  close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  // ---- recovery --------------------------------------------------------------------------

  private async recover(): Promise<void> {
    const dir = this.dir;
    const log = this.log;
    let names: string[];
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      names = await readdir(dir);
    } catch (err) {
      throw new VesError(
        'VES_DATA_DIR',
        `cannot create the disk buffer ${dir}: ${(err as Error).message}; check that data_dir is writable`,
        undefined,
        { cause: err },
      );
    }
    if (names.includes(CURSOR_TMP_FILE)) await unlink(join(dir, CURSOR_TMP_FILE)).catch(noop);
    const ids = names
      .map(segmentId)
      .filter((id) => id >= 0)
      .sort((a, b) => a - b);

    const read = await readCursor(dir);
    let cursor: Cursor | null = null;
    if (read.ok) cursor = read.cursor;
    else if (!read.missing) {
      log.warn('disk buffer cursor is unreadable: every record in the buffer is sent again', {
        code: 'VES_BUFFER_CORRUPT',
        dir,
        reason: read.reason,
      });
    }

    let dropped = 0;
    let start: Cursor | null = null;
    for (const id of ids) {
      const path = join(dir, segmentName(id));
      this.nextId = Math.max(this.nextId, id + 1);
      if (cursor !== null && id < cursor.segment) {
        // Fully acknowledged: the crash came between the cursor write and this deletion.
        await unlink(path).catch(noop);
        continue;
      }
      const seg = await this.recoverSegment(path, id, cursor);
      dropped += seg.dropped;
      if (seg.segment === null) continue;
      this.segments.push(seg.segment);
      this.unackedBytes += seg.segment.size - seg.from;
      this.unackedRecords += seg.records;
      start ??= { segment: id, offset: seg.from };
    }
    if (cursor !== null) this.nextId = Math.max(this.nextId, cursor.segment + 1);
    this.recoveredDroppedBytes = dropped;

    start ??= { segment: this.nextId, offset: SEGMENT_HEADER_BYTES };
    this.rseg = this.aseg = start.segment;
    this.roff = this.aoff = start.offset;

    // The last segment takes more appends if it has room.
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined && last.size < this.segmentBytes) {
      try {
        this.wfh = await open(join(dir, segmentName(last.id)), 'r+');
        last.sealed = false;
      } catch (err) {
        throw ioError(`cannot open ${segmentName(last.id)} in ${dir}`, err);
      }
    }
    this.dropAcked();
    if (this.unackedRecords > 0) {
      log.info('disk buffer holds records from an earlier run; they are sent first', {
        dir,
        records: this.unackedRecords,
        bytes: this.unackedBytes,
        segments: this.segments.length,
      });
    }
  }

  /**
   * Verifies one segment, truncating a torn or corrupt tail. `from` is where its unacknowledged
   * records start: the cursor's offset in the cursor's segment (if it falls on a record), else
   * the first record. `segment` is null for a file that is gone (it held nothing, or was moved
   * aside).
   */
  private async recoverSegment(
    path: string,
    id: number,
    cursor: Cursor | null,
  ): Promise<{ segment: Segment | null; from: number; records: number; dropped: number }> {
    const log = this.log;
    const name = segmentName(id);
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'r+');
      const size = (await fh.stat()).size;
      const magic = Buffer.alloc(SEGMENT_HEADER_BYTES);
      if (size >= SEGMENT_HEADER_BYTES) await readFully(fh, magic, SEGMENT_HEADER_BYTES, 0);
      if (size < SEGMENT_HEADER_BYTES || magic.every((b) => b === 0)) {
        // Created, header not on disk yet (cut short, or zeros after a power loss): records are
        // only appended once the header is fsynced, so nothing was ever stored in it.
        await fh.close();
        fh = undefined;
        await unlink(path);
        return { segment: null, from: 0, records: 0, dropped: 0 };
      }
      if (!magic.equals(SEGMENT_MAGIC)) {
        if (magic.subarray(0, 6).toString('latin1') === 'VESBUF') {
          throw new VesError(
            'VES_DATA_DIR',
            `${path} has disk buffer format ${JSON.stringify(magic.toString('latin1'))}, this agent ` +
              `reads ${JSON.stringify(SEGMENT_MAGIC.toString('latin1'))}: run the agent that wrote ` +
              'it until its buffer is empty, or move the directory away',
            2,
          );
        }
        await fh.close();
        fh = undefined;
        const aside = `${path}.corrupt-${new Date().toISOString().replace(/:/g, '-')}`;
        await rename(path, aside);
        log.warn('disk buffer segment has no valid header; moved aside, its records are lost', {
          code: 'VES_BUFFER_CORRUPT',
          segment: name,
          moved_to: aside,
          dropped_bytes: size,
        });
        return { segment: null, from: 0, records: 0, dropped: size };
      }
      let from = cursor !== null && cursor.segment === id ? cursor.offset : SEGMENT_HEADER_BYTES;
      let scan = await scanSegment(fh, size, from);
      if (!scan.sawCountFrom) {
        log.warn('disk buffer cursor does not fall on a record: its segment is sent again whole', {
          code: 'VES_BUFFER_CORRUPT',
          segment: name,
          cursor_offset: from,
        });
        from = SEGMENT_HEADER_BYTES;
        scan = await scanSegment(fh, size, from);
      }
      let dropped = 0;
      if (scan.problem !== undefined) {
        dropped = size - scan.end;
        await fh.truncate(scan.end);
        log.warn(
          scan.problem.torn
            ? 'disk buffer segment ends in a torn record (an append cut short by a crash); truncated'
            : 'disk buffer segment has a corrupt record; truncated there, the records after it are lost',
          {
            code: 'VES_BUFFER_CORRUPT',
            segment: name,
            offset: scan.problem.offset,
            reason: scan.problem.reason,
            dropped_bytes: dropped,
          },
        );
      }
      // What survived a process crash may still sit in the page cache only: make it durable
      // before anything built on it (the cursor, new records) is.
      await fh.sync();
      await fh.close();
      fh = undefined;
      const end = scan.end;
      return {
        segment: { id, size: end, durable: end, sealed: true },
        from: Math.min(from, end),
        records: scan.records,
        dropped,
      };
    } catch (err) {
      await fh?.close().catch(noop);
      if (err instanceof VesError) throw err;
      throw ioError(`cannot recover ${name} in ${this.dir}`, err);
    }
  }

  // ---- writing ---------------------------------------------------------------------------

  /**
   * Writes the queued appends in call order. Consecutive appends that have room and fit in the
   * current segment go out in one writev: a syscall (a thread-pool round trip) per record capped
   * small records at ~2,200/s here; one per run lifts that to the disk's bandwidth.
   */
  private async writeLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const work = this.pending;
        this.pending = [];
        let i = 0;
        while (i < work.length) {
          const a = work[i];
          if (this.failed !== null || this.closing) {
            a.reject(this.failed ?? closedError());
            i++;
            continue;
          }
          if (!this.hasRoom(a.bytes, 0)) {
            if (this.dropNewest) {
              this.droppedRecords++;
              this.droppedBytes += a.bytes;
              a.resolve(false);
              i++;
              continue;
            }
            await this.waitForRoom(a.bytes);
            if (this.failed !== null || this.closing) continue; // rejected at the loop's top
          }
          let n = 0;
          try {
            n = await this.writeRun(work, i);
          } catch (err) {
            this.fail(err);
            continue; // fail() rejected what was written; the rest is rejected at the top
          }
          i += n;
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Room for `bytes` more when `extra` bytes are about to be written before them. An empty
   *  buffer takes any one record, however big (else it could never pass). */
  private hasRoom(bytes: number, extra: number): boolean {
    const used = this.unackedBytes + extra;
    return used === 0 || used + bytes <= this.maxBytes;
  }

  private async waitForRoom(bytes: number): Promise<void> {
    const now = Date.now();
    if (now - this.fullLoggedAt >= FULL_LOG_EVERY_MS) {
      this.fullLoggedAt = now;
      this.log.warn(
        'disk buffer is full: new batches wait, sources pause until the sink catches up',
        {
          code: 'VES_BUFFER_FULL',
          dir: this.dir,
          bytes: this.unackedBytes,
          max_bytes: this.maxBytes,
        },
      );
    }
    while (!this.hasRoom(bytes, 0) && this.failed === null && !this.closing) {
      await new Promise<void>((r) => (this.roomWake = r));
    }
  }

  /**
   * Writes work[i] (which has room) and the appends after it that also have room and fit in the
   * same segment, in one writev. Returns how many it wrote.
   */
  private async writeRun(work: Append[], i: number): Promise<number> {
    const first = work[i];
    let seg = this.segments[this.segments.length - 1];
    if (
      this.wfh === null ||
      seg === undefined ||
      seg.sealed ||
      (seg.size > SEGMENT_HEADER_BYTES && seg.size + first.bytes > this.segmentBytes)
    ) {
      seg = await this.roll();
    }
    let bytes = first.bytes;
    let iov = first.parts.length;
    let j = i + 1;
    while (j < work.length) {
      const b = work[j];
      if (iov + b.parts.length > MAX_IOV || !this.hasRoom(b.bytes, bytes)) break;
      if (seg.size + bytes + b.bytes > this.segmentBytes) break;
      bytes += b.bytes;
      iov += b.parts.length;
      j++;
    }
    const parts: Buffer[] = [];
    for (let k = i; k < j; k++) for (const p of work[k].parts) parts.push(p);
    const pos = seg.size;
    try {
      await writeFully(this.wfh as FileHandle, parts, pos);
    } catch (err) {
      // Leave no half-written run behind for the next start to call corrupt.
      await this.wfh?.truncate(pos).catch(noop);
      for (let k = i; k < j; k++)
        work[k].reject(ioError(`cannot write to ${segmentName(seg.id)}`, err));
      throw ioError(`cannot write to ${segmentName(seg.id)} in ${this.dir}`, err);
    }
    let end = pos;
    for (let k = i; k < j; k++) {
      const a = work[k];
      end += a.bytes;
      this.waiters.push({ seg: seg.id, end, resolve: a.resolve, reject: a.reject });
    }
    seg.size = end;
    this.unackedBytes += bytes;
    this.unackedRecords += j - i;
    this.unsynced += bytes;
    if (this.unsynced >= this.fsyncBytes) void this.sync();
    else this.syncTimer ??= setTimeout(this.onSyncTimer, this.fsyncIntervalMs);
    return j - i;
  }

  private readonly onSyncTimer = (): void => {
    this.syncTimer = undefined;
    void this.sync();
  };

  /** Seals the current segment (everything in it fsynced) and starts the next one. */
  private async roll(): Promise<Segment> {
    const old = this.segments[this.segments.length - 1];
    if (old !== undefined) {
      if (this.wfh !== null) {
        await this.syncAll();
        if (this.failed !== null) throw this.failed;
        const fh = this.wfh;
        this.wfh = null;
        await fh.close();
      }
      old.sealed = true;
    }
    const id = this.nextId++;
    const name = segmentName(id);
    let fh: FileHandle | undefined;
    try {
      // wx: an id is never reused, and a file that exists would be someone else's records.
      fh = await open(join(this.dir, name), 'wx', 0o600);
      await writeFully(fh, [SEGMENT_MAGIC], 0);
      await fh.sync();
      await syncDir(this.dir); // the new name must survive a crash as well as its records
    } catch (err) {
      await fh?.close().catch(noop);
      throw ioError(`cannot create ${name} in ${this.dir}`, err);
    }
    const seg: Segment = {
      id,
      size: SEGMENT_HEADER_BYTES,
      durable: SEGMENT_HEADER_BYTES,
      sealed: false,
    };
    this.segments.push(seg);
    this.wfh = fh;
    this.wakeReader(); // a reader at the end of the old segment moves on
    return seg;
  }

  /** fsync the writer's segment up to what is written now; one fsync at a time. */
  private sync(): Promise<void> {
    if (this.syncing !== null) {
      this.syncAgain = true;
      return this.syncing;
    }
    if (this.syncTimer !== undefined) {
      clearTimeout(this.syncTimer);
      this.syncTimer = undefined;
    }
    const seg = this.segments[this.segments.length - 1];
    const fh = this.wfh;
    if (seg === undefined || fh === null || seg.durable >= seg.size || this.failed !== null) {
      return Promise.resolve();
    }
    const target = seg.size;
    this.unsynced = 0;
    const p = fh.sync().then(
      () => {
        seg.durable = target;
        this.resolveDurable(seg.id, target);
        this.wakeReader();
      },
      (err: unknown) => this.fail(ioError(`cannot fsync ${segmentName(seg.id)}`, err)),
    );
    this.syncing = p.then(() => {
      this.syncing = null;
      if (this.syncAgain) {
        this.syncAgain = false;
        if (this.unsynced > 0) void this.sync();
      }
    });
    return this.syncing;
  }

  /** Waits until everything written so far is fsynced (or the buffer failed). */
  private async syncAll(): Promise<void> {
    for (;;) {
      while (this.syncing !== null) await this.syncing;
      const seg = this.segments[this.segments.length - 1];
      if (this.failed !== null || seg === undefined || this.wfh === null) return;
      if (seg.durable >= seg.size) return;
      await this.sync();
    }
  }

  private resolveDurable(segId: number, end: number): void {
    const w = this.waiters;
    let k = 0;
    while (k < w.length && (w[k].seg < segId || (w[k].seg === segId && w[k].end <= end))) {
      w[k].resolve(true);
      k++;
    }
    if (k > 0) w.splice(0, k);
  }

  // ---- reading ---------------------------------------------------------------------------

  private async readNext(): Promise<BufferRecord | null> {
    for (;;) {
      if (this.failed !== null) throw this.failed;
      if (this.closing) return null;
      const seg = this.segmentFrom(this.rseg);
      if (seg !== undefined) {
        if (seg.id !== this.rseg) {
          this.rseg = seg.id;
          this.roff = SEGMENT_HEADER_BYTES;
        }
        if (this.roff < seg.durable) return this.readRecord(seg);
        if (seg.sealed && this.roff >= seg.size) {
          this.rseg = seg.id + 1;
          this.roff = SEGMENT_HEADER_BYTES;
          continue;
        }
      }
      await new Promise<void>((r) => (this.readerWake = r));
    }
  }

  /** The first segment with an id >= `id` (acked ones are gone, so ids may skip). */
  private segmentFrom(id: number): Segment | undefined {
    for (const s of this.segments) if (s.id >= id) return s;
    return undefined;
  }

  private async readRecord(seg: Segment): Promise<BufferRecord> {
    const name = segmentName(seg.id);
    const off = this.roff;
    let payload: Buffer;
    let crc: number;
    try {
      const h = await this.span(seg, off, RECORD_HEADER_BYTES);
      const length = h.readUInt32LE(0);
      crc = h.readUInt32LE(4);
      if (length === 0 || off + RECORD_HEADER_BYTES + length > seg.durable) {
        throw corrupt(`${name} at ${off}: record length ${length} runs past the fsynced end`);
      }
      const rec = await this.span(seg, off, RECORD_HEADER_BYTES + length);
      payload = rec.subarray(RECORD_HEADER_BYTES);
    } catch (err) {
      this.fail(err instanceof VesError ? err : ioError(`cannot read ${name}`, err));
      throw this.failed;
    }
    if (crc32(payload) !== crc) {
      // It verified when written or recovered: the disk returned other bytes. Stop; the next
      // start's recovery cuts the segment at this record and says how much was lost.
      this.fail(corrupt(`${name} at ${off}: CRC-32 mismatch on read`));
      throw this.failed;
    }
    const rec: BufferRecord = {
      payload,
      segment: seg.id,
      offset: off,
      end: off + RECORD_HEADER_BYTES + payload.length,
    };
    this.roff = rec.end;
    this.outstanding.push(rec);
    return rec;
  }

  /**
   * Bytes [off, off + n) of a segment (n <= its fsynced end), from the read-ahead chunk or a new
   * one: small records then cost one read per READ_AHEAD_BYTES, not two per record. A chunk is
   * never reused, since the payloads handed out are views into it.
   */
  private async span(seg: Segment, off: number, n: number): Promise<Buffer> {
    const ra = this.ra;
    if (
      ra !== null &&
      ra.seg === seg.id &&
      off >= ra.start &&
      off + n <= ra.start + ra.buf.length
    ) {
      return ra.buf.subarray(off - ra.start, off - ra.start + n);
    }
    if (this.rfhId !== seg.id) {
      const old = this.rfh;
      this.rfh = null;
      this.rfhId = -1;
      await old?.close();
      this.rfh = await open(join(this.dir, segmentName(seg.id)), 'r');
      this.rfhId = seg.id;
    }
    const len = Math.max(n, Math.min(READ_AHEAD_BYTES, seg.durable - off));
    const buf = Buffer.allocUnsafe(len);
    await readFully(this.rfh as FileHandle, buf, len, off);
    this.ra = { seg: seg.id, start: off, buf };
    return buf.subarray(0, n);
  }

  // ---- acknowledging ---------------------------------------------------------------------

  /** Deletes the sealed segments the ack cursor has passed. */
  private dropAcked(): void {
    const segs = this.segments;
    while (segs.length > 0) {
      const s = segs[0];
      if (!s.sealed) break; // the writer's segment never is
      const passed = s.id < this.aseg || (s.id === this.aseg && this.aoff >= s.size);
      if (!passed) break;
      segs.shift();
      const path = join(this.dir, segmentName(s.id));
      this.deleting = this.deleting.then(() =>
        unlink(path).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return;
          this.log.warn('cannot delete an acknowledged disk buffer segment', {
            code: 'VES_BUFFER_IO',
            path,
            error: err.message,
          });
        }),
      );
    }
  }

  private persistCursor(): Promise<void> {
    if (!this.cursorDirty) return this.cursorWriting;
    this.cursorDirty = false;
    const c: Cursor = { segment: this.aseg, offset: this.aoff };
    this.cursorWriting = this.cursorWriting.then(() =>
      writeCursor(this.dir, c).catch((err: Error) => {
        this.cursorDirty = true; // the next tick tries again; meanwhile a crash re-sends more
        this.log.warn('cannot write the disk buffer cursor', {
          code: 'VES_BUFFER_IO',
          dir: this.dir,
          error: err.message,
        });
      }),
    );
    return this.cursorWriting;
  }

  // ---- state -----------------------------------------------------------------------------

  private wakeReader(): void {
    const w = this.readerWake;
    this.readerWake = undefined;
    w?.();
  }

  private wakeRoom(): void {
    const w = this.roomWake;
    this.roomWake = undefined;
    w?.();
  }

  private fail(err: unknown): void {
    if (this.failed !== null) return;
    this.failed = err instanceof VesError ? err : ioError(`disk buffer ${this.dir} failed`, err);
    const f = this.failed;
    for (const w of this.waiters) w.reject(f);
    this.waiters = [];
    for (const a of this.pending) a.reject(f);
    this.pending = [];
    this.wakeReader();
    this.wakeRoom();
  }

  private async shutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.cursorTimer);
    this.wakeReader();
    this.wakeRoom();
    while (this.writing) await this.written;
    for (const a of this.pending) a.reject(closedError());
    this.pending = [];
    if (this.readBusy !== null) await this.readBusy.catch(noop);
    await this.syncAll();
    if (this.syncTimer !== undefined) clearTimeout(this.syncTimer);
    for (const w of this.waiters) w.reject(this.failed ?? closedError());
    this.waiters = [];
    await this.persistCursor();
    await this.deleting;
    await this.wfh?.close().catch(noop);
    await this.rfh?.close().catch(noop);
    this.wfh = null;
    this.rfh = null;
    if (this.failed === null && this.unackedRecords === 0) await this.removeEmpty();
  }

  /**
   * Everything was acknowledged: the files go, so a drained buffer leaves an empty directory (and
   * a sink switched back to a memory buffer has nothing to warn about). Segments first: a crash
   * between the two leaves a cursor past every segment, which recovery reads as "all sent".
   */
  private async removeEmpty(): Promise<void> {
    try {
      for (const s of this.segments) await unlink(join(this.dir, segmentName(s.id)));
      this.segments = [];
      await unlink(join(this.dir, CURSOR_FILE)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    } catch (err) {
      this.log.warn('cannot remove the files of an empty disk buffer', {
        code: 'VES_BUFFER_IO',
        dir: this.dir,
        error: (err as Error).message,
      });
    }
  }
}

/** Record bytes in the segment files of `dir` (0 when there are none; a buffer closed empty
 *  removes its files): for the start-up warning about a buffer left behind. */
export async function diskBufferFileBytes(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const n of names) {
    if (segmentId(n) < 0) continue;
    total += await stat(join(dir, n)).then(
      (s) => Math.max(0, s.size - SEGMENT_HEADER_BYTES),
      () => 0,
    );
  }
  return total;
}

function ioError(what: string, err: unknown): VesError {
  return new VesError(
    'VES_BUFFER_IO',
    `${what}: ${(err as Error).message}; the agent stops, nothing unacknowledged is lost: ` +
      'free space or fix the disk, then start it again',
    undefined,
    { cause: err },
  );
}

function corrupt(what: string): VesError {
  return new VesError(
    'VES_BUFFER_CORRUPT',
    `disk buffer record no longer verifies: ${what}; the agent stops and the next start ` +
      'truncates the segment at this record',
  );
}

function closedError(): Error {
  return new Error('the disk buffer is closed');
}

function noop(): void {}
