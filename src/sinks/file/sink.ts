// The `file` sink: appends each batch to a file with one write (gzip: one gzip member per batch,
// compressed on the libuv thread pool), optionally fsynced, rotated by size. With a `{field}`
// path (./path-template.ts) each event goes to the file its fields name, a few files kept open.
// A batch is acked once its bytes are in the file(s) (and on disk, with fsync: true).
//
// Synchronous small writes. At a steady rate each batch is a small append (~170 KB at 100,000
// lines/s in 100 reads a second), and an async write is a libuv thread-pool round trip: ~90 us
// of CPU on this project's 2-core VM (queueing, a thread wake-up, the completion callback)
// against ~10-40 us for writeSync into the page cache, and at 100-165 batches a second it was
// the largest per-batch cost left (bench/RESULTS.md, "Steady load, after"). So a batch of at
// most SYNC_WRITE_MAX bytes, uncompressed, without fsync, to a file on a local filesystem is
// written with writeSync; the promise still resolves only once the bytes are in the file, so acks
// mean what they did. Big batches (catch-up) stay on the pool so the copy overlaps with parsing;
// gzip and fsync stay asynchronous (CPU-heavy, or a wait on the disk); a network mount could
// stall the event loop.

import { promisify } from 'node:util';
import { access, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { constants as fsc, createReadStream, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { dirname, resolve } from 'node:path';
import { createGunzip, gzip as gzipCb, type ZlibOptions } from 'node:zlib';
import type { FileSinkConfig } from '../../config/types.js';
import { syncDir } from '../../engine/durable.js';
import { isLocalFs } from '../../engine/local-fs.js';
import { VesError } from '../../errors.js';
import type { Batch, ComponentContext, Sink } from '../../pipeline/types.js';
import { MAX_OPEN_FILES_DEFAULT } from './config.js';
import { compilePathTemplate, type PathTemplate } from './path-template.js';

const gzip = promisify<Buffer, ZlibOptions, Buffer>(gzipCb);

/**
 * gzip level 3: measured on NDJSON nginx events (bench machine, Node 20), level 3 compresses
 * ~250 MB/s at 11.9x, level 6 (zlib's default) ~125 MB/s at 13.3x. A collector must keep up
 * with its writers first; the files stay readable by zcat/gunzip either way.
 */
const GZIP_LEVEL = 3;

/** Reading back from the end to find the last newline of a torn file: one read per 64 KiB. */
const TAIL_SCAN_BYTES = 64 * 1024;
/** gunzip reads ~38 MB/s of compressed NDJSON here: 32 MiB keeps the start-up check near 1 s.
 *  (With `rotate`, files stay below max_bytes; without it a big gzip file is not checked.) */
const GZIP_VERIFY_MAX_BYTES = 32 * 1024 * 1024;
/** 256 KiB: the largest batch written synchronously (see the header), a copy of ~50-100 us at
 *  most; a steady 100,000 lines/s batch is ~170 KB. The default max_bytes (1 MiB) of a catch-up
 *  batch stays asynchronous. */
const SYNC_WRITE_MAX = 256 * 1024;

export async function build(config: FileSinkConfig, ctx: ComponentContext): Promise<Sink> {
  const template = compilePathTemplate(config.path);
  if (template !== null) return new TemplatedFileSink(config, ctx, template);
  const sink = new FileSink(config, ctx, resolve(config.path), new Map());
  await sink.open(true);
  return sink;
}

/** One output file: append, repair at start-up, rotate. */
class FileSink implements Sink {
  readonly wants: { ndjson: boolean; raw: boolean };
  private readonly ndjson: boolean;
  private fh: FileHandle | null = null;
  /** Bytes in the current file (compressed bytes with gzip): what rotation compares. */
  private size = 0;
  /** Writes run one after another even if a caller does not wait (the runner does). */
  private chain: Promise<void> = Promise.resolve();
  /** Small batches may be written with writeSync (see the header): set at open. */
  private syncWrites = false;

  constructor(
    private readonly config: FileSinkConfig,
    private readonly ctx: ComponentContext,
    readonly path: string,
    /** statfs verdicts by device, shared by the files of one sink (engine/local-fs.ts). */
    private readonly localDevs: Map<bigint | number, boolean>,
  ) {
    this.ndjson = config.encoding !== 'raw';
    this.wants = { ndjson: this.ndjson, raw: !this.ndjson };
  }

  /** Open (create) the file for appending. `repair`: at start-up, first remove what a killed
   *  agent may have left half-written at its end (see repairTail). */
  async open(repair = false): Promise<void> {
    try {
      await mkdir(dirname(this.path), { recursive: true });
      // a+: append, and read for repairTail.
      let fh = await open(this.path, 'a+');
      const st = await fh.stat();
      this.size = st.size;
      this.syncWrites =
        this.config.compression === 'none' &&
        !this.config.fsync &&
        (await isLocalFs(this.localDevs, st.dev, this.path));
      if (repair && this.size > 0 && !(await this.repairTail(fh))) {
        await fh.close();
        fh = await open(this.path, 'a+');
        this.size = 0;
      }
      this.fh = fh;
    } catch (err) {
      throw this.error('cannot open', err);
    }
  }

  /**
   * A kill -9 (or power loss) during a write can leave part of a batch at the end of the file.
   * That batch was never acked, so its lines are sent again after the restart; what must go is
   * the torn piece, or the next batch would be glued to it.
   * - Text (ndjson, raw): every batch ends in `\n`; the bytes after the last `\n` are cut off.
   * - gzip: a torn member makes everything after it unreadable to gunzip, and finding member
   *   ends means decompressing, so the file is checked by decompressing it (streamed, off the
   *   main thread) and, when torn, renamed to `<path>.torn-<time>` (zcat still reads its whole
   *   members) and a new file is started. Files above GZIP_VERIFY_MAX_BYTES are not checked.
   * Returns false when the file was renamed away (the caller opens a fresh one).
   */
  private async repairTail(fh: FileHandle): Promise<boolean> {
    const log = this.ctx.log;
    if (this.config.compression === 'gzip') {
      if (this.size > GZIP_VERIFY_MAX_BYTES) {
        log.info('gzip output too large to check for a torn last member at start-up', {
          path: this.path,
          bytes: this.size,
        });
        return true;
      }
      try {
        await pipeline(
          createReadStream(this.path),
          createGunzip(),
          new Writable({ write: (_c, _e, cb) => cb() }),
        );
        return true;
      } catch (err) {
        const aside = `${this.path}.torn-${new Date().toISOString().replace(/:/g, '-')}`;
        await rename(this.path, aside);
        log.warn(
          'output ended in a torn gzip member (interrupted write); moved aside, starting a new file',
          {
            code: 'VES_SINK_WRITE',
            path: this.path,
            moved_to: aside,
            error: (err as Error).message,
          },
        );
        return false;
      }
    }
    // Text: look back from the end for the last newline, 64 KiB at a time.
    const block = Buffer.allocUnsafe(Math.min(TAIL_SCAN_BYTES, this.size));
    let end = this.size;
    let keep = 0;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const { bytesRead } = await fh.read(block, 0, end - start, start);
      const nl = block.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (nl >= 0) {
        keep = start + nl + 1;
        break;
      }
      end = start;
    }
    if (keep < this.size) {
      await fh.truncate(keep);
      log.warn('removed a torn last line left by an interrupted write; its batch is sent again', {
        code: 'VES_SINK_WRITE',
        path: this.path,
        bytes: this.size - keep,
      });
      this.size = keep;
    }
    return true;
  }

  async healthcheck(): Promise<void> {
    const dir = dirname(this.path);
    try {
      await access(dir, fsc.W_OK);
    } catch (err) {
      throw new VesError(
        'VES_SINK_HEALTHCHECK',
        `sink ${this.ctx.id}: directory ${dir} of ${this.path} is not writable: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  }

  write(batch: Batch): Promise<void> {
    return this.append(this.ndjson ? batch.ndjson : batch.raw);
  }

  /** Appends whole lines (one write, one gzip member); resolves once they are in the file. */
  append(src: Buffer | null): Promise<void> {
    const p = this.chain.then(() => this.writeNow(src));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async writeNow(src: Buffer | null): Promise<void> {
    if (src === null || src.length === 0) return;
    let buf: Buffer;
    try {
      // Off the main thread: zlib's async gzip runs on the libuv pool. Each batch is a whole
      // gzip member; concatenated members are one valid gzip stream (RFC 1952 2.2).
      buf = this.config.compression === 'gzip' ? await gzip(src, { level: GZIP_LEVEL }) : src;
    } catch (err) {
      throw this.error('cannot compress a batch for', err);
    }
    const rot = this.config.rotate;
    if (rot !== null && this.size > 0 && this.size + buf.length > rot.max_bytes) {
      await this.rotate(rot.max_files);
    }
    if (this.fh === null) await this.open(true); // after a failed write: repair first
    const fh = this.fh as FileHandle;
    const before = this.size;
    try {
      let off = 0;
      if (this.syncWrites && buf.length <= SYNC_WRITE_MAX) {
        while (off < buf.length) off += writeSync(fh.fd, buf, off, buf.length - off);
      }
      while (off < buf.length) {
        const { bytesWritten } = await fh.write(buf, off, buf.length - off);
        off += bytesWritten;
      }
      if (this.config.fsync) await fh.sync();
      this.size = before + buf.length;
    } catch (err) {
      // Leave no torn batch behind: the retry appends the whole batch again.
      await fh.truncate(before).catch(() => {
        // Cannot even truncate: reopen before the next write.
        this.fh = null;
        void fh.close().catch(() => undefined);
      });
      throw this.error('cannot write to', err);
    }
  }

  /**
   * path -> path.1, path.1 -> path.2, ... path.(max_files-1) -> path.max_files; the oldest
   * (path.max_files) is deleted first. Then a fresh path is opened.
   */
  private async rotate(maxFiles: number): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    try {
      if (fh !== null) {
        if (this.config.fsync) await fh.sync();
        await fh.close();
      }
      const p = this.path;
      await unlink(`${p}.${maxFiles}`).catch(ignoreMissing);
      for (let i = maxFiles - 1; i >= 1; i--) {
        await rename(`${p}.${i}`, `${p}.${i + 1}`).catch(ignoreMissing);
      }
      await rename(p, `${p}.1`).catch(ignoreMissing);
    } catch (err) {
      throw this.error('cannot rotate', err);
    }
    await this.open();
    if (this.config.fsync) await this.syncDir();
  }

  /** With fsync: true the renames and the new file's entry must survive a crash as well. */
  private async syncDir(): Promise<void> {
    // The data itself was fsynced; a directory fsync that fails changes nothing for it.
    await syncDir(dirname(this.path)).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.chain;
    const fh = this.fh;
    this.fh = null;
    if (fh === null) return;
    try {
      if (this.config.fsync) await fh.sync();
    } finally {
      await fh.close();
    }
  }

  private error(what: string, err: unknown): VesError {
    return new VesError(
      'VES_SINK_WRITE',
      `sink ${this.ctx.id}: ${what} ${this.path}: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
}

/**
 * A `{field}` path: each event's fields are read off its NDJSON line to render its file's path
 * (path-template.ts; paid only by sinks with a template), lines are grouped per path in batch
 * order, and each group is appended to its file with one write. Files are opened on first use
 * (repaired like a fixed path) and the least recently written beyond `max_open_files` is closed.
 * A batch is acked once every group is written; if one fails, the whole batch is retried, so
 * files written before the failure may get its lines twice (at-least-once).
 */
class TemplatedFileSink implements Sink {
  readonly wants = { ndjson: true, raw: false };
  /** Open files, least recently written first (Map keeps insertion order). */
  private readonly open = new Map<string, FileSink>();
  private readonly maxOpen: number;
  private chain: Promise<void> = Promise.resolve();
  private readonly localDevs = new Map<bigint | number, boolean>();

  constructor(
    private readonly config: FileSinkConfig,
    private readonly ctx: ComponentContext,
    private readonly template: PathTemplate,
  ) {
    this.maxOpen = config.max_open_files ?? MAX_OPEN_FILES_DEFAULT;
  }

  async healthcheck(): Promise<void> {
    const base = this.template.base;
    try {
      await mkdir(base, { recursive: true });
      await access(base, fsc.W_OK);
    } catch (err) {
      throw new VesError(
        'VES_SINK_HEALTHCHECK',
        `sink ${this.ctx.id}: directory ${base} of ${this.config.path} is not writable: ${(err as Error).message}`,
        undefined,
        { cause: err },
      );
    }
  }

  write(batch: Batch): Promise<void> {
    const p = this.chain.then(() => this.writeNow(batch.ndjson));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async writeNow(src: Buffer | null): Promise<void> {
    if (src === null || src.length === 0) return;
    const groups = new Map<string, Buffer[]>();
    const template = this.template;
    for (let start = 0; start < src.length;) {
      let end = src.indexOf(0x0a, start);
      if (end === -1) end = src.length - 1; // batches end in \n; be safe anyway
      const line = src.subarray(start, end + 1);
      const path = template.pathOf(line);
      const list = groups.get(path);
      if (list === undefined) groups.set(path, [line]);
      else list.push(line);
      start = end + 1;
    }
    // Different files: written at once (each file's own chain keeps its batches in order).
    // One after another, every file would wait a thread-pool round trip for the one before.
    const writes: Promise<void>[] = [];
    for (const [path, lines] of groups) {
      const file = await this.file(path);
      writes.push(file.append(lines.length === 1 ? lines[0] : Buffer.concat(lines)));
    }
    await Promise.all(writes);
  }

  /** The open file of `path`, opened (and the oldest closed) if needed; marks it most recent. */
  private async file(path: string): Promise<FileSink> {
    let f = this.open.get(path);
    if (f !== undefined) {
      this.open.delete(path);
      this.open.set(path, f);
      return f;
    }
    while (this.open.size >= this.maxOpen) {
      const [oldest, sink] = this.open.entries().next().value as [string, FileSink];
      this.open.delete(oldest);
      await sink.close();
    }
    f = new FileSink(this.config, this.ctx, path, this.localDevs);
    await f.open(true);
    this.open.set(path, f);
    return f;
  }

  /** Files open now (tests and /stats). */
  get openFiles(): number {
    return this.open.size;
  }

  async close(): Promise<void> {
    await this.chain;
    const files = [...this.open.values()];
    this.open.clear();
    await Promise.all(files.map((f) => f.close()));
  }
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}
