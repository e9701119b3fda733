// The disk buffer's read cursor: the position of the first record the sink has not acknowledged,
// persisted atomically (temp file, fsync, rename, fsync dir: as checkpoints are) so a restart
// does not send acknowledged records again.

import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { CURSOR_FILE, CURSOR_TMP_FILE, CURSOR_VERSION } from './format.js';

export interface Cursor {
  /** Segment id of the first unacknowledged record. */
  segment: number;
  /** Byte offset of that record in its segment file. */
  offset: number;
}

export type CursorRead =
  | { ok: true; cursor: Cursor }
  | { ok: false; missing: true }
  | { ok: false; missing: false; reason: string };

export async function readCursor(dir: string): Promise<CursorRead> {
  let text: string;
  try {
    text = await readFile(join(dir, CURSOR_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, missing: true };
    return { ok: false, missing: false, reason: (err as Error).message };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, missing: false, reason: `not JSON (${(err as Error).message})` };
  }
  const d = data as { version?: unknown; segment?: unknown; offset?: unknown } | null;
  if (typeof d !== 'object' || d === null || d.version !== CURSOR_VERSION) {
    return { ok: false, missing: false, reason: `not a version ${CURSOR_VERSION} cursor` };
  }
  if (!isCount(d.segment) || !isCount(d.offset)) {
    return { ok: false, missing: false, reason: 'segment or offset is not a whole number' };
  }
  return { ok: true, cursor: { segment: d.segment, offset: d.offset } };
}

/** Replaces the cursor file atomically: a crash leaves the old cursor or the new one. */
export async function writeCursor(dir: string, cursor: Cursor): Promise<void> {
  const tmp = join(dir, CURSOR_TMP_FILE);
  const body = JSON.stringify({
    version: CURSOR_VERSION,
    segment: cursor.segment,
    offset: cursor.offset,
    written: new Date().toISOString(),
  });
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(body + '\n', 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, join(dir, CURSOR_FILE));
  await syncDir(dir);
}

/** fsync a directory so a rename or a new file in it survives a crash. Filesystems that cannot
 *  fsync a directory (EINVAL/EPERM/EISDIR/EBADF) offer nothing better: ignored there. */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw err;
  } finally {
    await fh?.close();
  }
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
