// The file tailer engine: follows the files that globs name, across renames, truncation and
// deletion, and hands out chunks of whole lines with the identity and offset to checkpoint.
//
// It knows nothing of config or pipeline types (like Vector's lib/file-source): the caller passes
// plain options, a lookup of checkpointed positions (read only: offsets are written by whoever
// sees the lines delivered) and a callback for lines.
//
// One loop does all file I/O, one operation at a time, from two FIFO queues:
//
//   examineQ: paths to look at (new, renamed, retried)   -- drained first, even while paused
//   readQ:    files with work (data to read, a check, a timeout due)
//
//     readQ  [ a | b | c ]  -> take a, read ONE chunk of it -> a has more -> [ b | c | a ]
//
// so a busy file cannot starve the others (round robin, one chunk per file per turn). Events and
// timers only set flags on a file and queue it; the loop does the work, so no two operations on
// one file ever overlap.
//
// Synchronous small reads. A file followed at a steady rate is read in small appends, and each
// was an fstat plus a read through libuv's thread pool: ~90 us of CPU per round trip on this
// project's 2-core VM (queueing, a thread wake-up, the completion callback), against ~5-10 us for
// fstatSync/readSync of a page-cached file (made synchronous, with the chase below, they took
// 10-25% off the agent's CPU at a steady 100,000 lines/s: bench/RESULTS.md, "Steady load,
// after"). So the size check of an open descriptor, the head check and the poll's stat of the
// path (8,000 a second with 2,000 files at the default 250 ms), and a read of at most SYNC_READ_MAX
// bytes that reaches the known end are done synchronously; reads that leave more behind (catch-up)
// stay asynchronous, so the copy overlaps with parsing and encoding on the main thread. Bytes
// just appended are in the page cache; a read from the disk itself happens at most once per
// file, at the end of a catch-up. Only for files the tailer opened itself on a local filesystem
// (statfs): a stalled network mount must not block the event loop.

import { open as fsOpen, stat, type FileHandle } from 'node:fs/promises';
import { fstatSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../observe/logger.js';
import { isLocalFs } from '../local-fs.js';
import { LineSplitter } from '../lines.js';
import { Discovery, type FileEvent } from './discovery.js';
import {
  checksumOfHead,
  fingerprint,
  FINGERPRINT_BYTES,
  fingerprintSync,
  inodeKey,
  type FingerprintMode,
  type Identity,
} from './fingerprint.js';

/** Receives whole lines of one file. `buf` is a fresh buffer owned by the receiver. */
export type LinesHandler = (
  path: string,
  key: string,
  buf: Buffer,
  lines: number,
  truncated: boolean,
  offset: number,
  /** Device and inode of the file, kept in its checkpoint for the device_and_inode fallback. */
  dev: number,
  ino: number,
) => void;

/** A checkpointed position, as the tailer needs it. */
export interface Position {
  offset: number;
  /** Milliseconds since epoch of its last update: an inode born after it is another file. */
  updated: number;
}

/** Read-only access to checkpoints (plus moving one to a new key), bound to one source. */
export interface Positions {
  get(key: string): Position | undefined;
  findByInode(dev: number, ino: number): { key: string; entry: Position } | undefined;
  rekey(oldKey: string, newKey: string): void;
}

export interface TailerOptions {
  include: string[];
  exclude?: string[];
  /** Relative globs are resolved against this. Default process.cwd(). */
  cwd?: string;
  /** Where a file with no checkpoint that exists at start begins. Default 'beginning'. */
  readFrom?: 'beginning' | 'end';
  fingerprint?: FingerprintMode;
  maxLineBytes: number;
  readChunkBytes: number;
  partialLineTimeoutMs: number;
  pollIntervalMs: number;
  idleTimeoutMs: number;
  /**
   * How long a rotated or deleted file stays open after its last new bytes: writers keep their
   * old descriptor for a moment after a rotation. Default 1000 ms.
   */
  rotateWaitMs?: number;
  /** Full rescan of the base directories (events can be missed). Default 10000 ms. */
  rescanIntervalMs?: number;
  positions?: Positions;
  log: Logger;
  onLines: LinesHandler;
  /** How files are opened; tests inject failures here. Default fs.promises.open(path, 'r'). */
  openFile?: (path: string) => Promise<FileHandle>;
}

export interface TailerStats {
  /** Files followed (open or idle-closed). */
  files: number;
  /** Open descriptors. */
  open: number;
  /** Lines cut at maxLineBytes. */
  truncatedLines: number;
  /** Paths not read because another file has the same fingerprint. */
  shadowed: number;
}

/** 1 s: writers such as nginx reopen their log within milliseconds of the rotation signal. */
const DEFAULT_ROTATE_WAIT_MS = 1000;
/** 10 s: a readdir of each base directory, cheap even with thousands of files. */
const DEFAULT_RESCAN_MS = 10_000;
/** 30 s: a file that keeps failing costs at most one open attempt (and one log line) per 30 s. */
const MAX_BACKOFF_MS = 30_000;
/** 64 KiB: read_from=end starts after the last newline found in this much of the file's tail. */
const TAIL_SCAN_BYTES = 64 * 1024;
/** 4096 keys: remembers where recently closed files ended (for copies) in ~0.5 MB at most. */
const KNOWN_MAX = 4096;
/** 10 ms: the timer that drives polls and timeouts never spins faster than this. */
const MIN_TICK_MS = 10;
/**
 * 5 ms: a file that just gave data is looked at again this soon after reaching its end (unless
 * fs.watch reports its every write, Discovery.everyChange: then its next event does). Reading
 * again at once would chase a line-at-a-time writer with one read per line (a core spent on
 * syscalls); waiting for chokidar's throttled events or the poll adds up to poll_interval of
 * latency. 5 ms is the batcher's own default timeout: reads of a busy file pick up ~5 ms of
 * lines each, at most 200 fstat+read per second per file.
 */
const CHASE_MS = 5;
/**
 * 512 KiB: the largest read done synchronously (see "Synchronous small reads" above), ~100 us of
 * copying from the page cache at most; a steady 100,000 lines/s in 10 ms appends is ~170 KB per
 * read. Reads that leave more behind (a catch-up's) stay asynchronous whatever their size.
 */
const SYNC_READ_MAX = 512 * 1024;
/** One followed file: an inode with (usually) an open descriptor and a splitter. */
class TailedFile {
  path: string;
  /** The path no longer leads to this inode (renamed away or deleted): finish and close. */
  orphan = false;
  fh: FileHandle | null;
  readonly dev: bigint;
  readonly ino: bigint;
  readonly inode: string;
  readonly birthNs: bigint;
  key: string;
  provisional: boolean;
  /** Where this file started being read (a checkpoint, 0 or the end). */
  startOffset: number;
  /** Last known size of the inode. */
  size: number;
  splitter!: LineSplitter;
  /** performance.now() of the last read that returned bytes (or of opening). */
  lastDataAt: number;
  lastCheckAt: number;
  queued = false;
  /** stat the path: rotation, truncation, growth. */
  needsCheck = false;
  /** fstat the descriptor: did it grow while we read? */
  needsSize = false;
  /** Waiting in the chase list (see CHASE_MS). */
  chasing = false;
  /** On a local filesystem (statfs): reads cannot wait on a network, events are not remote. */
  local = false;
  /** Small reads and size checks of the descriptor may be synchronous (a local file we opened). */
  syncIo = false;
  done = false;
  retryAt = 0;
  backoff = 0;
  errorLogged = false;

  constructor(path: string, fh: FileHandle, st: BigIntStats, id: Identity, start: number) {
    const now = performance.now();
    this.path = path;
    this.fh = fh;
    this.dev = st.dev;
    this.ino = st.ino;
    this.inode = `${st.dev}:${st.ino}`;
    this.birthNs = st.birthtimeNs;
    this.key = id.key;
    this.provisional = id.provisional;
    this.startOffset = start;
    this.size = Number(st.size);
    this.lastDataAt = now;
    this.lastCheckAt = now;
  }
}

interface ExamineTask {
  path: string;
  /** Found by the walk at start: read_from=end applies. */
  startup: boolean;
}

type Barrier = () => void;

interface PathRetry {
  at: number;
  backoff: number;
  startup: boolean;
  code: string;
}

export class Tailer {
  private readonly opts: TailerOptions;
  private readonly log: Logger;
  private readonly mode: FingerprintMode;
  private readonly readFrom: 'beginning' | 'end';
  private readonly chunk: number;
  private readonly rotateWait: number;
  private readonly rescanEvery: number;
  private readonly positions: Positions | undefined;
  private readonly openFile: (path: string) => Promise<FileHandle>;
  private readonly discovery: Discovery;

  private readonly byInode = new Map<string, TailedFile>();
  private readonly byPath = new Map<string, TailedFile>();
  private readonly byKey = new Map<string, TailedFile>();
  /** End offsets of closed files by fingerprint: a copy found later resumes there. */
  private readonly known = new Map<string, number>();
  /** Paths skipped because a live file has the same fingerprint; looked at again when it ends. */
  private readonly shadows = new Set<string>();
  private readonly dupWarned = new Set<string>();
  private readonly retryPaths = new Map<string, PathRetry>();
  /** statfs verdicts by device: true when reads there may be synchronous (see ../local-fs.ts). */
  private readonly localDevs = new Map<bigint | number, boolean>();

  private readonly examineQ: (ExamineTask | Barrier)[] = [];
  private readonly examinePending = new Set<string>();
  private readonly readQ: TailedFile[] = [];
  private chaseList: TailedFile[] = [];
  private chaseTimer: NodeJS.Timeout | null = null;

  private started = false;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private paused = false;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastRescan = 0;
  private rescanning = false;
  private truncatedClosed = 0;

  constructor(opts: TailerOptions) {
    this.opts = opts;
    this.log = opts.log;
    this.mode = opts.fingerprint ?? 'checksum';
    this.readFrom = opts.readFrom ?? 'beginning';
    this.chunk = opts.readChunkBytes;
    this.rotateWait = opts.rotateWaitMs ?? DEFAULT_ROTATE_WAIT_MS;
    this.rescanEvery = opts.rescanIntervalMs ?? DEFAULT_RESCAN_MS;
    this.positions = opts.positions;
    this.openFile = opts.openFile ?? ((p) => fsOpen(p, 'r'));
    if (!(this.chunk >= 1)) throw new RangeError(`readChunkBytes must be >= 1, got ${this.chunk}`);
    this.discovery = new Discovery({
      include: opts.include,
      exclude: opts.exclude ?? [],
      cwd: opts.cwd ?? process.cwd(),
      log: opts.log,
      onEvent: (p, ev) => this.onFileEvent(p, ev),
    });
  }

  /** Watch, find the files that exist, and open them. Resolves once they are all opened. */
  async start(): Promise<void> {
    if (this.started) throw new Error('Tailer.start() called twice');
    this.started = true;
    const found = await this.discovery.start();
    if (this.stopped) return;
    for (const p of found) this.queueExamine(p, true);
    this.lastRescan = performance.now();
    const o = this.opts;
    // Half the shortest timeout: each fires at most that late.
    const tick = Math.max(
      MIN_TICK_MS,
      Math.min(o.pollIntervalMs, o.partialLineTimeoutMs, o.idleTimeoutMs, this.rotateWait) / 2,
    );
    this.timer = setInterval(() => this.tick(), tick);
    // The tailer must not be what keeps a process alive: its owner (and chokidar) decide that.
    this.timer.unref();
    await new Promise<void>((resolve) => {
      this.examineQ.push(resolve);
      this.kick();
    });
  }

  /** Backpressure: no more reads (nor emits) until resume(). The data waits in the files. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.kick();
  }

  /**
   * Stop discovering and reading; resolves when no read is in flight and descriptors are closed.
   * Partial lines are NOT flushed: they are read again from the checkpoint once complete.
   */
  stop(): Promise<void> {
    if (this.stopping === null) this.stopping = this.doStop();
    return this.stopping;
  }

  stats(): TailerStats {
    let open = 0;
    let truncated = this.truncatedClosed;
    for (const f of this.byInode.values()) {
      if (f.fh !== null) open++;
      truncated += f.splitter.truncatedLines;
    }
    return {
      files: this.byInode.size,
      open,
      truncatedLines: truncated,
      shadowed: this.shadows.size,
    };
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    if (this.chaseTimer !== null) clearTimeout(this.chaseTimer);
    await this.discovery.close();
    await this.loopDone;
    for (const t of this.examineQ) if (typeof t === 'function') t();
    this.examineQ.length = 0;
    this.readQ.length = 0;
    const closing: Promise<void>[] = [];
    for (const f of this.byInode.values()) {
      if (f.fh !== null) closing.push(f.fh.close().catch(() => undefined));
      f.fh = null;
      f.done = true;
    }
    await Promise.all(closing);
  }

  // ---- events and timers: set flags, queue, never do I/O themselves ----

  private onFileEvent(p: string, ev: FileEvent): void {
    if (this.stopped) return;
    const f = this.byPath.get(p);
    if (ev === 'add' || f === undefined) {
      if (ev !== 'unlink') this.queueExamine(p, false);
      if (f !== undefined) this.requestCheck(f);
      return;
    }
    if (ev === 'change' && f.fh !== null && !f.orphan) {
      // More bytes in a file we hold open. A rotation or truncation comes with its own events
      // (or the poll), so this needs an fstat, not a stat of the path. And a file read less than
      // CHASE_MS ago waits for the chase: a writer that writes line by line sends an event per
      // write (fs.watch passes each one on), which must not become a read per line.
      if (performance.now() - f.lastDataAt < CHASE_MS) this.chase(f);
      else {
        f.needsSize = true;
        this.schedule(f);
      }
      return;
    }
    this.requestCheck(f);
  }

  private requestCheck(f: TailedFile): void {
    f.needsCheck = true;
    this.schedule(f);
  }

  private schedule(f: TailedFile): void {
    if (f.queued || f.done) return;
    f.queued = true;
    this.readQ.push(f);
    this.kick();
  }

  /** Look at `f`'s size again in CHASE_MS: one timer for every file that just reached its end. */
  private chase(f: TailedFile): void {
    if (f.chasing || this.stopped) return;
    f.chasing = true;
    this.chaseList.push(f);
    if (this.chaseTimer !== null) return;
    this.chaseTimer = setTimeout(() => {
      this.chaseTimer = null;
      const list = this.chaseList;
      this.chaseList = [];
      for (const c of list) {
        c.chasing = false;
        c.needsSize = true;
        this.schedule(c);
      }
    }, CHASE_MS);
    this.chaseTimer.unref();
  }

  private queueExamine(p: string, startup: boolean): void {
    if (this.stopped || this.examinePending.has(p)) return;
    this.examinePending.add(p);
    this.examineQ.push({ path: p, startup });
    this.kick();
  }

  private tick(): void {
    if (this.stopped) return;
    const now = performance.now();
    const o = this.opts;
    for (const f of this.byInode.values()) {
      if (f.queued) continue;
      if (f.retryAt !== 0) {
        if (now >= f.retryAt) {
          f.retryAt = 0;
          this.requestCheck(f);
        }
        continue;
      }
      if (now - f.lastCheckAt >= o.pollIntervalMs) f.needsCheck = true;
      const idle = now - f.lastDataAt;
      if (
        f.needsCheck ||
        (f.splitter.hasPending && idle >= o.partialLineTimeoutMs) ||
        (f.orphan && idle >= this.rotateWait) ||
        (f.fh !== null && idle >= o.idleTimeoutMs)
      ) {
        this.schedule(f);
      }
    }
    for (const [p, r] of this.retryPaths) {
      if (now >= r.at) this.queueExamine(p, r.startup);
    }
    if (!this.rescanning && now - this.lastRescan >= this.rescanEvery) {
      this.rescanning = true;
      this.lastRescan = now;
      this.discovery
        .rescan()
        .then((found) => {
          for (const p of found) this.queueExamine(p, false);
        })
        .catch((err: unknown) => this.internal('rescan failed', err))
        .finally(() => {
          this.rescanning = false;
        });
    }
  }

  // ---- the loop ----

  private kick(): void {
    if (this.running || this.stopped) return;
    if (this.examineQ.length === 0 && (this.paused || this.readQ.length === 0)) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (!this.stopped) {
        const task = this.examineQ.shift();
        if (task !== undefined) {
          if (typeof task === 'function') task();
          else {
            this.examinePending.delete(task.path);
            try {
              await this.examine(task.path, task.startup);
            } catch (err) {
              this.internal('examining a file failed', err, task.path);
            }
          }
          continue;
        }
        if (this.paused) break;
        const f = this.readQ.shift();
        if (f === undefined) break;
        f.queued = false;
        try {
          await this.step(f);
        } catch (err) {
          this.internal('reading a file failed', err, f.path);
          this.backoff(f);
        }
      }
    } finally {
      // The queues were seen empty (or paused/stopped) with no await since: nothing is missed.
      this.running = false;
    }
  }

  /** One turn of a file: a check if asked, then one chunk, or the timeouts when at its end. */
  private async step(f: TailedFile): Promise<void> {
    if (f.done || f.retryAt > performance.now()) return;
    if (f.needsCheck) {
      f.needsCheck = false;
      f.needsSize = false;
      await this.check(f);
      if (f.done) return;
    } else if (f.needsSize) {
      f.needsSize = false;
      if (f.fh !== null) {
        const size = f.syncIo
          ? fstatSync(f.fh.fd).size
          : Number((await f.fh.stat({ bigint: true })).size);
        if (size < f.splitter.readPos) f.needsCheck = true;
        else f.size = size;
      }
    }
    const sp = f.splitter;
    if (f.fh !== null && sp.readPos < f.size) {
      if (this.paused) {
        // Paused during the check: keep the turn for resume(), and do not treat it as idle.
        this.schedule(f);
        return;
      }
      if (await this.headChanged(f)) {
        await this.truncated(f);
        this.schedule(f);
        return;
      }
      await this.readOnce(f);
      if (f.done) return;
      if (sp.readPos < f.size || f.needsCheck) this.schedule(f);
      else if (!(f.local && this.discovery.everyChange(f.path))) this.chase(f);
      // else: the next write is an event (fs.watch on a local disk), and an event within
      // CHASE_MS of this read is deferred to the chase (onFileEvent): no timer wake-up per read.
      return;
    }
    if (f.needsCheck) {
      this.schedule(f);
      return;
    }
    // At the end of the file.
    const o = this.opts;
    const idle = performance.now() - f.lastDataAt;
    if (sp.hasPending && idle >= o.partialLineTimeoutMs) this.flush(f);
    if (f.orphan) {
      if (f.fh === null || idle >= this.rotateWait) await this.finish(f);
      return;
    }
    if (f.fh !== null && idle >= o.idleTimeoutMs) {
      const fh = f.fh;
      f.fh = null;
      await fh.close();
    }
    sp.compact();
  }

  /** Read one chunk (at most readChunkBytes, at most what stat said is there) and split it. */
  private async readOnce(f: TailedFile): Promise<void> {
    const fh = f.fh as FileHandle;
    const sp = f.splitter;
    const pos = sp.readPos;
    const want = Math.min(this.chunk, f.size - pos);
    // Sized to what is there: a small append does not pin a readChunkBytes buffer in the pipeline.
    const buf = sp.alloc(want);
    const carried = sp.carriedBytes;
    let n: number;
    try {
      // A small read up to the known end (an append being followed) is synchronous: see the
      // header. Reads that leave more behind are a catch-up's and stay asynchronous, so runs of
      // synchronous reads of one file are always separated by a timer or an event.
      n =
        f.syncIo && want <= SYNC_READ_MAX && pos + want === f.size
          ? readSync(fh.fd, buf, carried, want, pos)
          : (await fh.read(buf, carried, want, pos)).bytesRead;
    } catch (err) {
      this.readFailed(f, err);
      return;
    }
    if (n === 0) {
      // Shorter than stat said: truncated under us. check() decides.
      f.needsCheck = true;
      return;
    }
    f.lastDataAt = performance.now();
    f.errorLogged = false;
    f.backoff = 0;
    if (
      f.provisional &&
      (pos + n >= FINGERPRINT_BYTES || buf.subarray(carried, carried + n).indexOf(10) !== -1)
    ) {
      // Its first line just completed: the file gets its real identity before any line leaves.
      if (!(await this.confirmIdentity(f))) return;
    }
    if (this.stopped) return;
    sp.push(buf, carried + n);
  }

  /** stat the path: follow renames, notice rotation, deletion and truncation, reopen idle files. */
  private async check(f: TailedFile): Promise<void> {
    f.lastCheckAt = performance.now();
    if (!f.orphan) {
      let st: BigIntStats | null = null;
      if (f.syncIo) {
        // The safety-net poll stats every open file each poll_interval: with 2,000 files that
        // was 8,000 thread-pool round trips a second (see the header). The path leads to a
        // local file we opened (a lookup in the page cache, no network).
        st = statSync(f.path, { bigint: true, throwIfNoEntry: false }) ?? null;
      } else {
        try {
          st = await stat(f.path, { bigint: true });
        } catch (err) {
          if (errCode(err) !== 'ENOENT') throw err;
        }
      }
      if (st === null || st.ino !== f.ino || st.dev !== f.dev || st.birthtimeNs !== f.birthNs) {
        // Deleted, or renamed away with (perhaps) a new file in its place.
        this.orphanize(f);
        if (st !== null) this.queueExamine(f.path, false);
      } else {
        f.size = Number(st.size);
        if (f.fh === null && f.size !== f.splitter.readPos) await this.reopen(f);
        if (f.fh !== null && f.size < f.splitter.readPos) await this.truncated(f);
        return;
      }
    }
    // Orphan: only the descriptor leads to it now.
    if (f.fh === null) return; // step() finishes it
    const size = f.syncIo ? fstatSync(f.fh.fd).size : Number((await f.fh.stat()).size);
    f.size = size;
    if (size < f.splitter.readPos) await this.truncated(f);
  }

  private async reopen(f: TailedFile): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await this.openFile(f.path);
    } catch (err) {
      if (errCode(err) === 'ENOENT') {
        this.orphanize(f);
        return;
      }
      this.readFailed(f, err);
      return;
    }
    let st: BigIntStats;
    try {
      st = await fh.stat({ bigint: true });
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    if (st.ino !== f.ino || st.dev !== f.dev) {
      // Replaced between our stat and open.
      await fh.close();
      this.orphanize(f);
      this.queueExamine(f.path, false);
      return;
    }
    f.fh = fh;
    f.lastDataAt = performance.now();
  }

  /**
   * copytruncate seen late: the file was emptied and has grown past our offset again before any
   * stat saw it shorter (a loaded host, a fast writer). Its first line is no longer the one its
   * key was made from. Checked before each read (one 1 KiB pread, page-cached: at most
   * 1000 / CHASE_MS per busy file per second; synchronous where the reads are, as it was one of
   * the thread-pool round trips of every append) so that the new content is never read from the old
   * content's offset, which would skip its start and leave the copy shadowed for good
   * (test/reliability/rotation.test.ts under load).
   */
  private async headChanged(f: TailedFile): Promise<boolean> {
    if (this.mode !== 'checksum' || f.provisional || f.orphan || f.fh === null) return false;
    if (f.splitter.readPos === 0) return false;
    const id = f.syncIo
      ? fingerprintSync(f.fh.fd, this.mode, f.dev, f.ino)
      : await fingerprint(f.fh, this.mode, f.dev, f.ino);
    return id.key !== f.key;
  }

  /**
   * Same inode, fewer bytes than we read: copytruncate (or a manual `> file`). Start again at 0.
   * With 'checksum' the new content gets its own key (the old key keeps the old content's
   * offset, for the copy); with 'device_and_inode' the key stays and its marks go backwards.
   */
  private async truncated(f: TailedFile): Promise<void> {
    const sp = f.splitter;
    this.log.info('file truncated (copytruncate?); reading it again from the start', {
      path: f.path,
      size: f.size,
      offset: sp.readPos,
    });
    // Bytes read before the truncation are delivered, never silently dropped.
    this.flush(f);
    const endedAt = sp.emittedOffset;
    sp.reset(0);
    f.startOffset = 0;
    if (this.mode === 'checksum' && f.fh !== null) {
      const old = f.key;
      const id = await fingerprint(f.fh, this.mode, f.dev, f.ino);
      if (id.key !== old) {
        if (old.startsWith('fp:')) this.remember(old, endedAt);
        await this.setKey(f, id, false);
      }
    }
  }

  /** A provisional file's first line completed: switch to its fingerprint. False: drop the read. */
  private async confirmIdentity(f: TailedFile): Promise<boolean> {
    const fh = f.fh as FileHandle;
    const id = await fingerprint(fh, this.mode, f.dev, f.ino);
    if (id.provisional) return true;
    const sp = f.splitter;
    if (sp.emittedOffset === f.startOffset) {
      // Nothing delivered under the inode key yet: if this content is known (a copy of a file
      // read before), resume where that one was, as if we had known from the start.
      const known = this.knownOffset(id.key);
      if (known !== undefined && known > sp.readPos) {
        const size = Number((await fh.stat({ bigint: true })).size);
        // A copy shorter than what was read of its original holds nothing new: its end.
        const at = Math.min(known, size);
        if (await this.setKey(f, id, false)) {
          sp.reset(at);
          f.startOffset = at;
          f.size = size;
          return false;
        }
      }
    }
    return this.setKey(f, id, true);
  }

  /**
   * Give `f` a new identity. When a live file already has it, `f` is shadowed (closed, looked at
   * again when that one ends) and false is returned.
   */
  private async setKey(f: TailedFile, id: Identity, moveCheckpoint: boolean): Promise<boolean> {
    const old = f.key;
    if (this.byKey.get(old) === f) this.byKey.delete(old);
    const holder = this.byKey.get(id.key);
    if (holder !== undefined && holder !== f) {
      this.warnDuplicate(f.path, holder.path);
      this.shadows.add(f.path);
      await this.forget(f);
      this.recheckShadows();
      return false;
    }
    if (moveCheckpoint && this.positions !== undefined && this.positions.get(old) !== undefined) {
      this.positions.rekey(old, id.key);
    }
    f.key = id.key;
    f.provisional = id.provisional;
    this.byKey.set(id.key, f);
    this.recheckShadows();
    return true;
  }

  /** Look at a path: a file we follow (renamed?), one to start following, or nothing. */
  private async examine(p: string, startup: boolean): Promise<void> {
    if (this.stopped) return;
    let st: BigIntStats;
    try {
      st = await stat(p, { bigint: true });
    } catch (err) {
      if (errCode(err) === 'ENOENT') {
        this.retryPaths.delete(p);
        const f = this.byPath.get(p);
        if (f !== undefined) this.requestCheck(f);
        return;
      }
      this.pathFailed(p, err, startup);
      return;
    }
    if (!st.isFile()) return;
    const same = this.byInode.get(`${st.dev}:${st.ino}`);
    if (same !== undefined) {
      if (same.fh !== null || same.birthNs === st.birthtimeNs) {
        if (same.path !== p) await this.relink(same, p);
        this.requestCheck(same);
        return;
      }
      // The inode was freed and reused while we had it closed: the old file is gone.
      await this.finish(same);
    }
    const prev = this.byPath.get(p);
    if (prev !== undefined) {
      // The path names another file now (rotation): the old one finishes from its descriptor.
      this.orphanize(prev);
      this.requestCheck(prev);
    }
    let fh: FileHandle;
    try {
      fh = await this.openFile(p);
    } catch (err) {
      if (errCode(err) === 'ENOENT') return;
      this.pathFailed(p, err, startup);
      return;
    }
    this.retryPaths.delete(p);
    try {
      // Identity from the descriptor: the path may have been replaced since the stat above.
      const fst = await fh.stat({ bigint: true });
      const inode = `${fst.dev}:${fst.ino}`;
      if (!fst.isFile() || this.byInode.has(inode)) {
        await fh.close();
        if (fst.isFile()) this.queueExamine(p, startup);
        return;
      }
      const id = await fingerprint(fh, this.mode, fst.dev, fst.ino);
      const holder = this.byKey.get(id.key);
      if (holder !== undefined) {
        await fh.close();
        this.warnDuplicate(p, holder.path);
        this.shadows.add(p);
        return;
      }
      const start = await this.startOffset(fh, p, fst, id, startup);
      if (this.stopped) {
        await fh.close();
        return;
      }
      const f = new TailedFile(p, fh, fst, id, start);
      f.local = await isLocalFs(this.localDevs, fst.dev, p);
      f.syncIo = f.local && this.opts.openFile === undefined;
      const onLines = this.opts.onLines;
      f.splitter = new LineSplitter(
        this.opts.maxLineBytes,
        (buf, lines, truncated, offset) => {
          try {
            onLines(f.path, f.key, buf, lines, truncated, offset, Number(f.dev), Number(f.ino));
          } catch (err) {
            this.internal('the lines handler threw', err, f.path);
          }
        },
        start,
      );
      this.byInode.set(inode, f);
      this.byPath.set(p, f);
      this.byKey.set(id.key, f);
      this.shadows.delete(p);
      this.log.debug('following file', { path: p, key: id.key, offset: start });
      this.schedule(f);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** Where a newly followed file starts: its checkpoint, else 0 (or its end, see readFrom). */
  private async startOffset(
    fh: FileHandle,
    p: string,
    st: BigIntStats,
    id: Identity,
    startup: boolean,
  ): Promise<number> {
    const size = Number(st.size);
    let at = this.knownOffset(id.key);
    if (at !== undefined && at > size) {
      // copytruncate's copy of a file that was read past the copy's end (lines the writer added
      // between logrotate's copy and its truncate): everything the copy holds was delivered.
      // Reading it from 0 would re-send the whole file (test/reliability/rotation.test.ts).
      this.log.debug('a copy of a file read past its end: nothing new in it', { path: p, size });
      return size;
    }
    const pos = this.positions;
    if (at === undefined && pos !== undefined) {
      const e = pos.get(id.key);
      if (e !== undefined) {
        if (this.trusted(id.key, e, st)) at = e.offset;
      } else if (this.mode === 'checksum' && !id.provisional) {
        // Known under its inode key: it was new (no full first line) when last read.
        const ik = inodeKey(st.dev, st.ino);
        const ie = pos.get(ik);
        if (ie !== undefined && this.trusted(ik, ie, st) && ie.offset <= size) {
          pos.rekey(ik, id.key);
          at = ie.offset;
        }
      } else if (this.mode === 'device_and_inode') {
        // Checkpointed by fingerprint (the mode changed): adopt it if the content matches.
        const found = pos.findByInode(Number(st.dev), Number(st.ino));
        if (found !== undefined && found.key.startsWith('fp:')) {
          const head = Buffer.allocUnsafe(FINGERPRINT_BYTES);
          const n = (await fh.read(head, 0, FINGERPRINT_BYTES, 0)).bytesRead;
          if (checksumOfHead(head.subarray(0, n)) === found.key) {
            pos.rekey(found.key, id.key);
            at = found.entry.offset;
          }
        }
      }
    }
    if (at !== undefined) {
      if (at <= size) return at;
      this.log.info(
        'checkpoint is past the end of the file (truncated meanwhile); reading it from the start',
        {
          path: p,
          size,
          offset: at,
        },
      );
      return 0;
    }
    if (startup && this.readFrom === 'end') return tailStart(fh, size);
    return 0;
  }

  /** An inode-keyed checkpoint is another file's when this inode was born after it was written. */
  private trusted(key: string, e: Position, st: BigIntStats): boolean {
    if (!key.startsWith('ino:') || st.birthtimeNs === 0n) return true;
    const bornMs = Number(st.birthtimeNs / 1_000_000n);
    if (bornMs <= e.updated) return true;
    this.log.debug('inode reused by a new file; its old checkpoint is ignored', { key });
    return false;
  }

  private knownOffset(key: string): number | undefined {
    return key.startsWith('fp:') ? this.known.get(key) : undefined;
  }

  /** Only fingerprints: an inode key says nothing once the inode can be reused. */
  private remember(key: string, offset: number): void {
    if (!key.startsWith('fp:')) return;
    this.known.delete(key);
    this.known.set(key, offset);
    if (this.known.size > KNOWN_MAX) {
      const oldest = this.known.keys().next().value as string;
      this.known.delete(oldest);
    }
  }

  /** `f` was found under a new path `p`: renamed (follow it) or hard-linked (keep the old name). */
  private async relink(f: TailedFile, p: string): Promise<void> {
    if (!f.orphan) {
      try {
        const st = await stat(f.path, { bigint: true });
        if (st.ino === f.ino && st.dev === f.dev) return; // a second name for the same file
      } catch {
        // the old name is gone: a rename
      }
    }
    const prev = this.byPath.get(p);
    if (prev !== undefined && prev !== f) {
      this.orphanize(prev);
      this.requestCheck(prev);
    }
    if (this.byPath.get(f.path) === f) this.byPath.delete(f.path);
    this.log.debug('file renamed', { from: f.path, to: p });
    f.path = p;
    f.orphan = false;
    this.byPath.set(p, f);
  }

  private orphanize(f: TailedFile): void {
    if (this.byPath.get(f.path) === f) this.byPath.delete(f.path);
    f.orphan = true;
  }

  /** Deliver what a finished file still holds, close it and forget it. */
  private async finish(f: TailedFile): Promise<void> {
    if (f.fh !== null) {
      // Late writes (the writer still had it open) are read first.
      const size = Number((await f.fh.stat({ bigint: true })).size);
      if (size > f.splitter.readPos) {
        f.size = size;
        this.schedule(f);
        return;
      }
    }
    this.flush(f);
    this.remember(f.key, f.splitter.emittedOffset);
    this.log.debug('file done', { path: f.path, key: f.key, offset: f.splitter.emittedOffset });
    await this.forget(f);
    this.recheckShadows();
  }

  /** Drop a file from every map and close its descriptor; nothing is emitted. */
  private async forget(f: TailedFile): Promise<void> {
    f.done = true;
    this.truncatedClosed += f.splitter.truncatedLines;
    if (this.byInode.get(f.inode) === f) this.byInode.delete(f.inode);
    if (this.byPath.get(f.path) === f) this.byPath.delete(f.path);
    if (this.byKey.get(f.key) === f) this.byKey.delete(f.key);
    const fh = f.fh;
    f.fh = null;
    if (fh !== null) await fh.close().catch(() => undefined);
  }

  private flush(f: TailedFile): void {
    if (f.splitter.flushPartial() && f.provisional) {
      // Rare: a line flushed before the file has a fingerprint carries the inode key.
      this.log.debug('partial line delivered before the file had a fingerprint', { path: f.path });
    }
  }

  private recheckShadows(): void {
    if (this.shadows.size === 0) return;
    for (const p of this.shadows) this.queueExamine(p, false);
    this.shadows.clear();
  }

  private warnDuplicate(p: string, other: string): void {
    if (this.dupWarned.has(p)) return;
    // 10k paths: the set is only there to keep the log quiet; clearing it just logs again.
    if (this.dupWarned.size >= 10_000) this.dupWarned.clear();
    this.dupWarned.add(p);
    this.log.warn(
      'file has the same fingerprint (first line) as a file being read: it is read after that one ends, from where that one stopped. If these are different files, use fingerprint: device_and_inode',
      { path: p, same_as: other },
    );
  }

  // ---- errors: logged with a code, retried later, never fatal ----

  private readFailed(f: TailedFile, err: unknown): void {
    if (!f.errorLogged) {
      f.errorLogged = true;
      this.log.warn('cannot read file; retrying', {
        code: 'VES_SOURCE_READ',
        path: f.path,
        error: errMessage(err),
      });
    }
    const fh = f.fh;
    f.fh = null;
    if (fh !== null) fh.close().catch(() => undefined);
    this.backoff(f);
  }

  private backoff(f: TailedFile): void {
    f.backoff = Math.min(MAX_BACKOFF_MS, Math.max(this.opts.pollIntervalMs, f.backoff * 2));
    f.retryAt = performance.now() + f.backoff;
    f.needsCheck = true;
  }

  private pathFailed(p: string, err: unknown, startup: boolean): void {
    const code = errCode(err) ?? 'EUNKNOWN';
    const had = this.retryPaths.get(p);
    if (had === undefined || had.code !== code) {
      this.log.warn('cannot open file; retrying', {
        code: 'VES_SOURCE_READ',
        path: p,
        error: errMessage(err),
      });
    }
    const backoff = Math.min(
      MAX_BACKOFF_MS,
      had === undefined ? this.opts.pollIntervalMs : had.backoff * 2,
    );
    this.retryPaths.set(p, { at: performance.now() + backoff, backoff, startup, code });
  }

  private internal(msg: string, err: unknown, p?: string): void {
    this.log.error(msg, { code: 'VES_INTERNAL', path: p, error: errMessage(err) });
  }
}

/** read_from=end: just after the last newline, so the line being written is read whole. */
async function tailStart(fh: FileHandle, size: number): Promise<number> {
  if (size === 0) return 0;
  const n = Math.min(size, TAIL_SCAN_BYTES);
  const buf = Buffer.allocUnsafe(n);
  const got = (await fh.read(buf, 0, n, size - n)).bytesRead;
  const nl = buf.subarray(0, got).lastIndexOf(10);
  if (nl !== -1) return size - n + nl + 1;
  return n === size ? 0 : size;
}

function errCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : undefined;
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
