// Checkpoints: the byte offset reached in each file identity, persisted atomically
// (temp file, fsync, rename) into data_dir. Only the acker advances them, once every sink
// acknowledged the lines before the offset (DESIGN.md "Delivery semantics").
//
// On disk (data_dir, files 0600, the dir 0700):
//
//   checkpoints.json        the current generation
//   checkpoints.prev.json   the generation before it (the current one is renamed here just before
//                           the new one replaces it), the fallback when the current is corrupt
//   checkpoints.json.tmp    a write in progress (left behind only by a crash)
//
// A write: tmp <- JSON; fsync(tmp); rename(json -> prev.json); rename(tmp -> json); fsync(dir).
// Every file carries a `generation` that each write increments. At open the valid file with the
// highest generation wins, whichever name it has: normally checkpoints.json; prev.json when
// checkpoints.json is corrupt (that one is logged VES_CHECKPOINT_CORRUPT and moved aside to
// checkpoints.json.corrupt-<time>); the fsynced tmp after a crash between the two renames. The
// fallback costs re-sending at most one checkpoint interval of lines, never losing any.

import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { VesError, EXIT_USAGE } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import { readJsonFile, syncDir, writeSynced } from './durable.js';

export interface CheckpointEntry {
  /** Byte offset after the last delivered line. */
  offset: number;
  /** Last known path (informational: identity is the key). */
  path: string;
  /** Device and inode when the file was last seen, for the device_and_inode fallback. */
  dev: number;
  ino: number;
  /** Milliseconds since epoch of the last update. */
  updated: number;
}

export interface CheckpointStore {
  /** Entry for a file identity key, if any. Do not mutate it: set() stores its own copy. */
  get(sourceId: string, key: string): CheckpointEntry | undefined;
  /** Find an entry of this source by device+inode (used when a fingerprint is not yet known). */
  findByInode(
    sourceId: string,
    dev: number,
    ino: number,
  ): { key: string; entry: CheckpointEntry } | undefined;
  /** Record a delivered position (in memory; persisted by flush()). Never moves backwards
   *  for the same key unless `reset` is set (copytruncate starts a file again at 0). */
  set(sourceId: string, key: string, entry: CheckpointEntry, reset?: boolean): void;
  /** Move an entry to a new key (a file's fingerprint became known after it grew). */
  rekey(sourceId: string, oldKey: string, newKey: string): void;
  /** Forget a file (deleted and fully read). */
  delete(sourceId: string, key: string): void;
  /** Persist atomically if anything changed. Coalesced: one write at a time; a flush during a
   *  write schedules exactly one more, which every flush until it starts shares. */
  flush(): Promise<void>;
}

/** The store openCheckpoints returns: the interface plus close (a last flush). */
export interface CheckpointFile extends CheckpointStore {
  /** Flush what changed, wait for writes in progress; the store stays readable. */
  close(): Promise<void>;
  /** Generation of the last file written or read (0: none yet). */
  readonly generation: number;
}

/** The file format this code writes and reads. */
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_FILE = 'checkpoints.json';
export const CHECKPOINT_PREV_FILE = 'checkpoints.prev.json';
export const CHECKPOINT_TMP_FILE = 'checkpoints.json.tmp';

interface FileShape {
  version: number;
  generation: number;
  written: string;
  sources: Record<string, Record<string, CheckpointEntry>>;
}

type Loaded =
  { ok: true; data: FileShape } | { ok: false; missing: boolean; reason: string; version?: number };

/** Open (or create) the checkpoints of `dataDir`, recovering from a corrupt or torn file. */
export async function openCheckpoints(dataDir: string, log: Logger): Promise<CheckpointFile> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new VesError(
      'VES_DATA_DIR',
      `cannot create data_dir ${dataDir}: ${(err as Error).message}; set data_dir to a writable directory`,
      EXIT_USAGE,
      { cause: err },
    );
  }
  const curPath = join(dataDir, CHECKPOINT_FILE);
  const prevPath = join(dataDir, CHECKPOINT_PREV_FILE);
  const tmpPath = join(dataDir, CHECKPOINT_TMP_FILE);

  const cur = await load(curPath);
  const prev = await load(prevPath);
  const tmp = await load(tmpPath);

  for (const [file, l] of [
    [curPath, cur],
    [prevPath, prev],
  ] as const) {
    if (l.ok || l.missing) continue;
    if (l.version !== undefined) {
      throw new VesError(
        'VES_DATA_DIR',
        `${file} has format version ${l.version}, this agent reads version ${CHECKPOINT_VERSION}: ` +
          'it was written by a newer agent; run that version, or move the file away to read every file again',
        EXIT_USAGE,
      );
    }
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/:/g, '-')}`;
    await rename(file, aside).catch(() => undefined);
    log.warn('checkpoint file is unreadable; moved aside, using the previous generation', {
      code: 'VES_CHECKPOINT_CORRUPT',
      file,
      moved_to: aside,
      reason: l.reason,
    });
  }
  if (!tmp.ok && !tmp.missing) await unlink(tmpPath).catch(() => undefined); // a torn write

  let best: { data: FileShape; from: string } | undefined;
  for (const [from, l] of [
    [curPath, cur],
    [prevPath, prev],
    [tmpPath, tmp],
  ] as const) {
    if (l.ok && (best === undefined || l.data.generation > best.data.generation)) {
      best = { data: l.data, from };
    }
  }
  if (best?.from === tmpPath) {
    log.info('checkpoints restored from a write interrupted before its rename', {
      file: tmpPath,
      generation: best.data.generation,
    });
  } else if (best?.from === prevPath) {
    log.warn('checkpoints restored from the previous generation', {
      code: 'VES_CHECKPOINT_CORRUPT',
      file: prevPath,
      generation: best.data.generation,
    });
  } else if (best === undefined && [cur, prev].some((l) => l.ok || !l.missing)) {
    log.warn('no readable checkpoint generation: files are read from their configured start', {
      code: 'VES_CHECKPOINT_CORRUPT',
    });
  }
  return new Store(dataDir, curPath, prevPath, tmpPath, best?.data, log);
}

async function load(file: string): Promise<Loaded> {
  const read = await readJsonFile(file);
  return read.ok ? validate(read.data) : read;
}

/** Checks the whole shape: a file that parses but holds nonsense is as corrupt as a torn one. */
function validate(data: unknown): Loaded {
  const bad = (reason: string): Loaded => ({ ok: false, missing: false, reason });
  if (typeof data !== 'object' || data === null) return bad('not an object');
  const d = data as Partial<FileShape>;
  if (d.version !== CHECKPOINT_VERSION) {
    if (typeof d.version === 'number' && d.version > CHECKPOINT_VERSION) {
      return { ok: false, missing: false, reason: 'newer version', version: d.version };
    }
    return bad(`unknown version ${String(d.version)}`);
  }
  if (!isCount(d.generation)) return bad('bad generation');
  if (typeof d.sources !== 'object' || d.sources === null) return bad('no sources');
  for (const [sid, keys] of Object.entries(d.sources)) {
    if (typeof keys !== 'object' || keys === null) return bad(`source ${sid} is not an object`);
    for (const [key, e] of Object.entries(keys)) {
      if (
        typeof e !== 'object' ||
        e === null ||
        !isCount(e.offset) ||
        typeof e.path !== 'string' ||
        !isCount(e.dev) ||
        !isCount(e.ino) ||
        !isCount(e.updated)
      ) {
        return bad(`entry ${sid}/${key} is malformed`);
      }
    }
  }
  return { ok: true, data: d as FileShape };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

class Store implements CheckpointFile {
  private readonly bySource = new Map<string, Map<string, CheckpointEntry>>();
  private dirty = false;
  private gen: number;
  /** The write in progress, and the one more write scheduled after it (at most one). */
  private current: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(
    private readonly dir: string,
    private readonly curPath: string,
    private readonly prevPath: string,
    private readonly tmpPath: string,
    loaded: FileShape | undefined,
    private readonly log: Logger,
  ) {
    this.gen = loaded?.generation ?? 0;
    if (loaded !== undefined) {
      for (const [sid, keys] of Object.entries(loaded.sources)) {
        const m = new Map<string, CheckpointEntry>();
        for (const [key, e] of Object.entries(keys)) m.set(key, copy(e));
        this.bySource.set(sid, m);
      }
    }
  }

  get generation(): number {
    return this.gen;
  }

  get(sourceId: string, key: string): CheckpointEntry | undefined {
    return this.bySource.get(sourceId)?.get(key);
  }

  findByInode(
    sourceId: string,
    dev: number,
    ino: number,
  ): { key: string; entry: CheckpointEntry } | undefined {
    const m = this.bySource.get(sourceId);
    if (m === undefined) return undefined;
    for (const [key, entry] of m) {
      if (entry.dev === dev && entry.ino === ino) return { key, entry };
    }
    return undefined;
  }

  set(sourceId: string, key: string, entry: CheckpointEntry, reset = false): void {
    let m = this.bySource.get(sourceId);
    if (m === undefined) {
      m = new Map();
      this.bySource.set(sourceId, m);
    }
    const had = m.get(key);
    if (had !== undefined && !reset && entry.offset < had.offset) return;
    m.set(key, copy(entry));
    this.dirty = true;
  }

  rekey(sourceId: string, oldKey: string, newKey: string): void {
    const m = this.bySource.get(sourceId);
    const e = m?.get(oldKey);
    if (m === undefined || e === undefined || oldKey === newKey) return;
    m.delete(oldKey);
    m.set(newKey, e);
    this.dirty = true;
  }

  delete(sourceId: string, key: string): void {
    const m = this.bySource.get(sourceId);
    if (m !== undefined && m.delete(key)) {
      this.dirty = true;
      if (m.size === 0) this.bySource.delete(sourceId);
    }
  }

  flush(): Promise<void> {
    if (this.next !== null) return this.next; // already scheduled: share it
    if (this.current !== null) {
      // A write is in progress and may have snapshotted before the latest set(): one more.
      const after = this.current.then(
        () => undefined,
        () => undefined,
      );
      this.next = after.then(() => {
        this.next = null;
        return this.startWrite();
      });
      return this.next;
    }
    return this.startWrite();
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private startWrite(): Promise<void> {
    if (!this.dirty) return Promise.resolve();
    this.dirty = false;
    const gen = this.gen + 1;
    const text = this.serialize(gen);
    const p: Promise<void> = this.write(text).then(
      () => {
        this.gen = gen;
        if (this.current === p) this.current = null;
      },
      (err: unknown) => {
        if (this.current === p) this.current = null;
        this.dirty = true; // what was not written is written by the next flush
        throw new VesError(
          'VES_DATA_DIR',
          `cannot write checkpoints in ${this.dir}: ${(err as Error).message}; check that data_dir is writable and not full`,
          undefined,
          { cause: err },
        );
      },
    );
    this.current = p;
    return p;
  }

  private serialize(gen: number): string {
    const sources: Record<string, Record<string, CheckpointEntry>> = {};
    for (const [sid, m] of this.bySource) {
      const keys: Record<string, CheckpointEntry> = {};
      for (const [key, e] of m) keys[key] = e;
      sources[sid] = keys;
    }
    const file: FileShape = {
      version: CHECKPOINT_VERSION,
      generation: gen,
      written: new Date().toISOString(),
      sources,
    };
    // One entry per line: readable by operators, diffable, and still small.
    return JSON.stringify(file, null, 1) + '\n';
  }

  private async write(text: string): Promise<void> {
    await writeSynced(this.tmpPath, text);
    // Keep the last good generation: it is what open() falls back to if the new one is lost.
    await rename(this.curPath, this.prevPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rename(this.tmpPath, this.curPath);
    if (!(await syncDir(this.dir))) {
      this.log.debug('directory fsync not supported here', { dir: this.dir });
    }
  }
}

function copy(e: CheckpointEntry): CheckpointEntry {
  return { offset: e.offset, path: e.path, dev: e.dev, ino: e.ino, updated: e.updated };
}
