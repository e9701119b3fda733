// One agent per data_dir: `data_dir/agent.lock` holds the owner's pid, created with O_EXCL.
// A lock whose pid is dead (the agent was killed) is taken over; a live one stops the start.
//
// Node has no flock(), so the lock is a file and its liveness is the pid's. A stale lock is
// removed under a second O_EXCL guard file, so a fresh lock created meanwhile is never deleted.

import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EXIT_USAGE, VesError } from '../errors.js';

export const LOCK_FILE = 'agent.lock';

/** Attempts before giving up on a lock that keeps changing under us (agents starting together). */
const MAX_ATTEMPTS = 50; // x GUARD_WAIT_MS at most: ~1 s of a crowd before giving up
/** A lock file with no pid yet may be one being written right now: wait this long for it. */
const EMPTY_LOCK_WAIT_MS = 50;
const EMPTY_LOCK_TRIES = 10; // 10 x 50 ms = 0.5 s, far longer than one write of a few bytes
/** Back-off while another agent holds the takeover guard (it needs two small file ops). */
const GUARD_WAIT_MS = 20;

/** Dirs this process holds: a second lock from the same process is refused (pid is not enough). */
const heldHere = new Set<string>();

/**
 * Lock `dir` (created 0700 if missing) for this process. Resolves to the release function.
 * Throws VES_DATA_DIR_LOCKED (exit 2) when a live agent holds it, VES_DATA_DIR when the dir or
 * the lock cannot be created.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const abs = resolve(dir);
  const lockPath = join(abs, LOCK_FILE);
  try {
    await mkdir(abs, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw dataDirError(abs, err);
  }
  if (heldHere.has(abs)) throw lockedError(abs, process.pid);
  try {
    return await acquire(abs, lockPath);
  } catch (err) {
    // A full disk (ENOSPC writing the pid or the takeover guard) or EIO is about data_dir, not
    // a bug: say so (test/reliability/disk-trouble.test.ts restarts an agent on a full tmpfs).
    throw err instanceof VesError ? err : dataDirError(abs, err);
  }
}

async function acquire(abs: string, lockPath: string): Promise<() => Promise<void>> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (await tryCreate(lockPath, abs)) {
      heldHere.add(abs);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        heldHere.delete(abs);
        // Only remove it if it is still ours (an operator may have removed and re-run).
        const owner = await readPid(lockPath);
        if (owner === process.pid) await unlink(lockPath).catch(() => undefined);
      };
    }
    const owner = await ownerOf(lockPath);
    if (owner === 'gone') continue; // removed meanwhile: try again
    if (owner !== null && owner !== process.pid && isAlive(owner)) throw lockedError(abs, owner);
    // Stale: its pid is dead, or it is our own pid (the agent restarted with the same pid, as
    // PID 1 in a container does), or it never got a pid. Take it over.
    await takeOver(lockPath, owner);
  }
  throw new VesError(
    'VES_DATA_DIR_LOCKED',
    `could not lock data_dir ${abs}: ${lockPath} kept changing (other agents starting at the same time?)`,
    EXIT_USAGE,
  );
}

async function tryCreate(lockPath: string, dir: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(lockPath, 'wx', 0o600); // O_CREAT | O_EXCL
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw dataDirError(dir, err);
  }
  try {
    await fh.writeFile(`${process.pid}\n`, 'utf8');
  } catch (err) {
    // Do not leave an empty lock behind: the next start would wait for a pid that never comes.
    await fh.close().catch(() => undefined);
    await unlink(lockPath).catch(() => undefined);
    throw err;
  }
  await fh.close();
  return true;
}

/** The pid in the lock, null when it has none (yet), 'gone' when the file disappeared. */
async function ownerOf(lockPath: string): Promise<number | null | 'gone'> {
  for (let i = 0; ; i++) {
    let text: string;
    try {
      text = await readFile(lockPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      throw err;
    }
    const pid = parsePid(text);
    if (pid !== null || i >= EMPTY_LOCK_TRIES) return pid;
    await new Promise((r) => setTimeout(r, EMPTY_LOCK_WAIT_MS));
  }
}

async function readPid(lockPath: string): Promise<number | null> {
  try {
    return parsePid(await readFile(lockPath, 'utf8'));
  } catch {
    return null;
  }
}

function parsePid(text: string): number | null {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return null;
  const pid = Number(t);
  return pid > 0 && Number.isSafeInteger(pid) ? pid : null;
}

/** Is a process with this pid alive? kill(pid, 0) checks without sending anything; EPERM means
 *  it exists but belongs to another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove a stale lock so the next attempt can create ours. Removals are serialised by a guard
 * file (`agent.lock.takeover`, O_EXCL): while we hold it nobody else removes the lock, and
 * nobody can create one (it exists), so what we check is what we delete. Without the guard two
 * agents could each judge the lock stale, and the slower one would delete the faster one's
 * fresh lock.
 */
async function takeOver(lockPath: string, stalePid: number | null): Promise<void> {
  const guard = `${lockPath}.takeover`;
  if (!(await tryCreateGuard(guard))) {
    // Another agent is taking over. A guard left by one that died doing it is removed (a
    // double fault: the only case where two takeovers can still overlap).
    const g = await ownerOf(guard);
    if (g !== 'gone' && (g === null || g === process.pid || !isAlive(g))) {
      await unlink(guard).catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, GUARD_WAIT_MS));
    return;
  }
  try {
    const now = await ownerOf(lockPath);
    if (now === 'gone') return;
    if (now === stalePid || now === null || now === process.pid || !isAlive(now)) {
      await unlink(lockPath).catch(() => undefined);
    }
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

async function tryCreateGuard(guard: string): Promise<boolean> {
  try {
    const fh = await open(guard, 'wx', 0o600);
    try {
      await fh.writeFile(`${process.pid}\n`, 'utf8');
    } finally {
      await fh.close();
    }
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function lockedError(dir: string, pid: number): VesError {
  return new VesError(
    'VES_DATA_DIR_LOCKED',
    `data_dir ${dir} is in use by another agent (pid ${pid}); stop that agent, or give this one ` +
      `its own data_dir. If no agent runs, remove ${join(dir, LOCK_FILE)}`,
    EXIT_USAGE,
  );
}

function dataDirError(dir: string, err: unknown): VesError {
  return new VesError(
    'VES_DATA_DIR',
    `cannot create or write data_dir ${dir}: ${(err as Error).message}; set data_dir to a writable directory with free space`,
    EXIT_USAGE,
    { cause: err },
  );
}
