// Small files that must survive a crash whole (checkpoints, the disk buffer's cursor): read as
// JSON with a reason when they cannot be, written to a temp file that is fsynced before the
// caller renames it over the old one, and the directory fsynced so the rename survives too.

import { open, readFile } from 'node:fs/promises';

export type JsonRead =
  | { ok: true; data: unknown }
  | { ok: false; missing: true; reason: 'missing' }
  | { ok: false; missing: false; reason: string };

/** The parsed content of `file`; `missing` when it does not exist, else why it cannot be read. */
export async function readJsonFile(file: string): Promise<JsonRead> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { ok: false, missing: true, reason: 'missing' };
    }
    return { ok: false, missing: false, reason: (err as Error).message };
  }
  try {
    return { ok: true, data: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, missing: false, reason: `not JSON (${(err as Error).message})` };
  }
}

/** Writes `text` to `tmp` (created 0600) and fsyncs it: ready to be renamed into place. */
export async function writeSynced(tmp: string, text: string): Promise<void> {
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * fsync a directory so a rename or a new file in it survives a crash. Resolves false where the
 * filesystem cannot fsync a directory (EINVAL/EPERM/EISDIR/EBADF): nothing better exists there.
 */
export async function syncDir(dir: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(dir, 'r');
    await fh.sync();
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw err;
    return false;
  } finally {
    await fh?.close();
  }
}
