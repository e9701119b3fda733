// Finds the files that include/exclude globs name: a walk of each glob's static base directory at
// start and on rescans, and chokidar events (add/change/unlink) for what happens in between.
//
// chokidar v5 has no globs: picomatch.scan() gives each pattern's base directory, chokidar watches
// that directory (depth-limited unless the glob has `**`), picomatch filters the paths. A base
// directory that does not exist yet is not handed to chokidar (v5 reports `ready` early and misses
// files created right after such a directory appears); rescans add it once it exists.
//
// A base with no subdirectories wanted (a plain file name, `dir/*.log`: nearly every config) is
// watched with fs.watch directly instead (watchFlat): chokidar re-reads such a directory, a
// readdir plus an lstat of every entry, after each event in it, back to back for as long as a
// file there keeps being written.

import { watch as fsWatch } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { watch } from 'chokidar';
import picomatch from 'picomatch';
import type { Logger } from '../../observe/logger.js';

export type FileEvent = 'add' | 'change' | 'unlink';

export interface DiscoveryOptions {
  include: string[];
  exclude: string[];
  /** Relative patterns are resolved against this directory. */
  cwd: string;
  log: Logger;
  onEvent(path: string, event: FileEvent): void;
}

/** A directory to watch and walk; depth undefined = unlimited (the glob has `**`). */
export interface Base {
  dir: string;
  depth: number | undefined;
}

/** Absolute form of a pattern (globs keep their special characters). */
function absolute(pattern: string, cwd: string): string {
  return path.isAbsolute(pattern) ? path.normalize(pattern) : path.join(cwd, pattern);
}

/** The directories to watch for a set of include patterns, merged per directory. */
export function planBases(include: string[], cwd: string): Base[] {
  const byDir = new Map<string, number | undefined>();
  for (const raw of include) {
    const pattern = absolute(raw, cwd);
    const scan = picomatch.scan(pattern);
    let dir: string;
    let depth: number | undefined;
    if (!scan.isGlob) {
      // A plain file name: watch its directory, only that level.
      dir = path.dirname(pattern);
      depth = 0;
    } else {
      dir = scan.base === '' ? '/' : scan.base;
      // `a/*/b.log` needs one level of subdirectories below the base; `**` any number.
      depth = scan.glob.includes('**') ? undefined : scan.glob.split('/').length - 1;
    }
    if (!byDir.has(dir)) byDir.set(dir, depth);
    else {
      const had = byDir.get(dir);
      byDir.set(dir, had === undefined || depth === undefined ? undefined : Math.max(had, depth));
    }
  }
  return [...byDir].map(([dir, depth]) => ({ dir, depth }));
}

/** include minus exclude, on absolute paths. Excludes without a `/` match the file name. */
export function compileMatcher(
  include: string[],
  exclude: string[],
  cwd: string,
): (p: string) => boolean {
  const inc = picomatch(include.map((p) => absolute(p, cwd)));
  const exNames = exclude.filter((p) => !p.includes('/'));
  const exPaths = exclude.filter((p) => p.includes('/')).map((p) => absolute(p, cwd));
  const exName = exNames.length > 0 ? picomatch(exNames) : null;
  const exPath = exPaths.length > 0 ? picomatch(exPaths) : null;
  return (p) =>
    inc(p) && (exPath === null || !exPath(p)) && (exName === null || !exName(path.basename(p)));
}

export class Discovery {
  readonly matches: (p: string) => boolean;
  private readonly bases: Base[];
  private readonly log: Logger;
  private readonly onEvent: DiscoveryOptions['onEvent'];
  private readonly watchers = new Map<string, { close(): Promise<void> | void }>();
  /** The watchers of watchFlat: every write to a file in their directory is an event. */
  private readonly flat = new WeakSet<object>();
  private closed = false;

  constructor(opts: DiscoveryOptions) {
    this.matches = compileMatcher(opts.include, opts.exclude, opts.cwd);
    this.bases = planBases(opts.include, opts.cwd);
    this.log = opts.log;
    this.onEvent = opts.onEvent;
  }

  /** Start watching the base directories that exist; returns every matching file found. */
  async start(): Promise<string[]> {
    const missing: string[] = [];
    for (const base of this.bases) {
      if (!(await this.watchBase(base))) missing.push(base.dir);
    }
    if (missing.length > 0) {
      this.log.info('directory does not exist yet; its files are picked up once it does', {
        dirs: missing,
      });
    }
    return this.walkAll();
  }

  /** Safety net for missed events, and the way new base directories are found. */
  async rescan(): Promise<string[]> {
    for (const base of this.bases) {
      if (!this.watchers.has(base.dir)) await this.watchBase(base);
    }
    return this.walkAll();
  }

  /**
   * True while `p`'s directory is watched with fs.watch (watchFlat): each write to `p` is an
   * event, none is throttled away (chokidar's can be), so the tailer needs no look of its own
   * after a read to see what came next.
   */
  everyChange(p: string): boolean {
    const w = this.watchers.get(path.dirname(p));
    return w !== undefined && this.flat.has(w);
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.watchers.values()];
    this.watchers.clear();
    await Promise.all(all.map((w) => w.close()));
  }

  /** Watch one base directory if it exists; resolves once chokidar is ready for it. */
  private async watchBase(base: Base): Promise<boolean> {
    let ino: number;
    try {
      const st = await stat(base.dir);
      if (!st.isDirectory()) return false;
      ino = st.ino;
    } catch {
      return false;
    }
    if (this.closed || this.watchers.has(base.dir)) return true;
    if (base.depth === 0) return this.watchFlat(base.dir, ino);
    const matches = this.matches;
    const w = watch(base.dir, {
      // Our own walk finds the initial files, so read_from=end knows exactly which existed.
      ignoreInitial: true,
      // Raw events: rename+create must not be folded into one 'change' (we check inodes anyway).
      atomic: false,
      depth: base.depth,
      // chokidar watches (and lstat's on every change) each path it does not ignore: leave out
      // those no pattern wants. With depth 0 (no subdirectories wanted) the name alone decides,
      // before any lstat: a busy unrelated file next to ours (another log, our own output)
      // otherwise cost ~9% of the agent's CPU in a catch-up profile (bench/e2e/catchup.mjs).
      ignored:
        base.depth === 0
          ? (p: string) => p !== base.dir && !matches(p)
          : (p: string, stats?: { isFile(): boolean }) =>
              stats !== undefined && stats.isFile() && !matches(p),
    });
    this.watchers.set(base.dir, w);
    const onEvent = this.onEvent;
    w.on('add', (p) => {
      if (matches(p)) onEvent(p, 'add');
    });
    w.on('change', (p) => {
      if (matches(p)) onEvent(p, 'change');
    });
    w.on('unlink', (p) => {
      if (matches(p)) onEvent(p, 'unlink');
    });
    w.on('error', (err) => {
      this.log.warn('file watcher error; the poll interval keeps files followed', {
        code: 'VES_SOURCE_READ',
        dir: base.dir,
        error: err instanceof Error ? err.message : String(err),
      });
    });
    await new Promise<void>((resolve) => w.once('ready', resolve));
    return true;
  }

  /**
   * One directory, no subdirectories: fs.watch (inotify on Linux) on it. An event costs a name
   * match; only a matching name that appeared, moved or went costs an lstat (add or unlink).
   * chokidar instead re-read the whole directory after every event, back to back while a file
   * in it was written: at 100,000 lines/s appended (bench/e2e/workers.mjs) ~50 readdirs and
   * ~400 lstats a second, most of the agent's CPU. Events are hints: the tailer stats and reads
   * for itself, and its poll and rescans cover a missed one.
   */
  private watchFlat(dir: string, ino: number): boolean {
    const matches = this.matches;
    const onEvent = this.onEvent;
    const log = this.log;
    const self = path.basename(dir);
    /** Stop; the next rescan watches the directory again once it exists. */
    const lost = (err: unknown): void => {
      if (this.watchers.get(dir) !== handle) return;
      this.watchers.delete(dir);
      w?.close();
      if (err === null) {
        log.info('directory removed or replaced; watched again once it exists', { dir });
        return;
      }
      log.warn('file watcher error; the poll interval keeps files followed', {
        code: 'VES_SOURCE_READ',
        dir,
        error: err instanceof Error ? err.message : String(err),
      });
    };
    let w: ReturnType<typeof fsWatch> | undefined;
    const handle = { close: () => w?.close() };
    try {
      w = fsWatch(dir, { persistent: true }, (event, name) => {
        if (name === null) {
          // No name (some platforms, an overflowed queue): look at every file again.
          const all: string[] = [];
          void walk(dir, 0, matches, all).then(() => all.forEach((p) => onEvent(p, 'add')));
          return;
        }
        if (event === 'rename' && name === self) {
          // inotify names the directory itself when it is removed or moved: the watch is dead.
          stat(dir).then(
            (st) => st.ino !== ino && lost(null),
            () => lost(null),
          );
        }
        const p = path.join(dir, name);
        if (!matches(p)) return;
        if (event === 'change') onEvent(p, 'change');
        else {
          lstat(p).then(
            (st) => {
              if (!st.isDirectory()) onEvent(p, 'add');
            },
            () => onEvent(p, 'unlink'),
          );
        }
      });
    } catch (err) {
      this.watchers.set(dir, handle);
      lost(err);
      return false;
    }
    w.on('error', lost);
    this.watchers.set(dir, handle);
    this.flat.add(handle);
    return true;
  }

  private async walkAll(): Promise<string[]> {
    const out: string[] = [];
    for (const base of this.bases) await walk(base.dir, base.depth, this.matches, out);
    return out;
  }
}

/** Matching files under `dir`, `depth` levels of subdirectories deep. Symlinked dirs are not followed. */
async function walk(
  dir: string,
  depth: number | undefined,
  matches: (p: string) => boolean,
  out: string[],
): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // gone or unreadable: chokidar reports errors, the next rescan tries again
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (depth === undefined || depth > 0) {
        await walk(p, depth === undefined ? undefined : depth - 1, matches, out);
      }
    } else if ((e.isFile() || e.isSymbolicLink()) && matches(p)) {
      out.push(p);
    }
  }
}
