// The disk buffer's read cursor: the position of the first record the sink has not acknowledged,
// persisted atomically (temp file, fsync, rename, fsync dir: as checkpoints are) so a restart
// does not send acknowledged records again.

import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { readJsonFile, syncDir, writeSynced } from '../durable.js';
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
  const read = await readJsonFile(join(dir, CURSOR_FILE));
  if (!read.ok) return read.missing ? { ok: false, missing: true } : read;
  const data = read.data;
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
  await writeSynced(tmp, body + '\n');
  await rename(tmp, join(dir, CURSOR_FILE));
  await syncDir(dir);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
