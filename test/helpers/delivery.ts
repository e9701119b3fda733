// What the disk says an agent will send again after kill -9, read independently of src/: the
// records a sink's disk buffer holds past its persisted cursor (replayed on restart) and a
// file's checkpoint (the source resumes there). A duplicate after a crash must come from one.

import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

/**
 * The NDJSON bodies of the records a disk buffer still holds past its persisted cursor: what a
 * restart sends again. Decodes the format of src/engine/disk-buffer/format.ts on its own:
 * segment = "VESBUF1\n", then frames [u32 length][u32 crc][payload]; payload = [u8 flags]
 * [u32 events][body] (flags 1: NDJSON). A torn last frame is ignored, as recovery does.
 */
export async function unackedRecords(bufDir: string): Promise<string[]> {
  const out: string[] = [];
  if (!existsSync(bufDir)) return out;
  let cursor = { segment: 0, offset: 8 };
  const cursorFile = join(bufDir, 'cursor.json');
  if (existsSync(cursorFile)) cursor = JSON.parse(await readFile(cursorFile, 'utf8'));
  const segs = (await readdir(bufDir)).filter((n) => /^\d+\.seg$/.test(n)).sort();
  for (const name of segs) {
    const id = Number(name.slice(0, -4));
    if (id < cursor.segment) continue;
    const buf = await readFile(join(bufDir, name));
    expect(buf.subarray(0, 8).toString('latin1')).toBe('VESBUF1\n');
    let pos = id === cursor.segment ? cursor.offset : 8;
    while (pos + 8 <= buf.length) {
      const len = buf.readUInt32LE(pos);
      if (len === 0 || pos + 8 + len > buf.length) break;
      const payload = buf.subarray(pos + 8, pos + 8 + len);
      expect(payload[0]).toBe(1);
      out.push(payload.subarray(5).toString());
      pos += 8 + len;
    }
  }
  return out;
}

/** The checkpointed offset of the one file an agent with `dataDir` tails (0: no checkpoint yet). */
export async function checkpointOffset(dataDir: string): Promise<number> {
  const file = join(dataDir, 'checkpoints.json');
  if (!existsSync(file)) return 0;
  const text = await readFile(file, 'utf8');
  const offsets = [...text.matchAll(/"offset":\s*(\d+)/g)].map((m) => Number(m[1]));
  expect(offsets.length).toBe(1);
  return offsets[0];
}

/** Lines before `offset` in `log`: what the checkpoint says was delivered (or buffered). */
export async function linesBefore(log: string, offset: number): Promise<number> {
  return (await readFile(log)).subarray(0, offset).toString('latin1').split('\n').length - 1;
}
