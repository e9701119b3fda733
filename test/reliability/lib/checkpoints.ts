// What the agent's checkpoint file says, read from the outside (format: src/engine/checkpoints.ts,
// decoded here independently): which offset each file is checkpointed at, and how many lines
// lie before it. A duplicate is allowed only past the checkpoint on disk at a crash.

import { existsSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface CheckpointRow {
  source: string;
  key: string;
  path: string;
  offset: number;
}

/** Entries of `<dataDir>/checkpoints.json` (none when the file does not exist yet). */
export async function readCheckpoints(dataDir: string): Promise<CheckpointRow[]> {
  const file = join(dataDir, 'checkpoints.json');
  if (!existsSync(file)) return [];
  const data = JSON.parse(await readFile(file, 'utf8')) as {
    sources: Record<string, Record<string, { offset: number; path: string }>>;
  };
  const rows: CheckpointRow[] = [];
  for (const [source, keys] of Object.entries(data.sources)) {
    for (const [key, e] of Object.entries(keys))
      rows.push({ source, key, path: e.path, offset: e.offset });
  }
  return rows;
}

/** The checkpointed offset of the file at `path` (0 when it has none). */
export async function checkpointOf(dataDir: string, path: string): Promise<number> {
  const rows = (await readCheckpoints(dataDir)).filter((r) => r.path === path);
  return rows.reduce((max, r) => Math.max(max, r.offset), 0);
}

/** Whole lines in the first `offset` bytes of `file`: with seqLines from 0, the first seq past it. */
export async function linesBefore(file: string, offset: number): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let n = 0;
    for (let pos = 0; pos < offset;) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, offset - pos), pos);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10); i !== -1 && i < bytesRead; i = buf.indexOf(10, i + 1)) n++;
      pos += bytesRead;
    }
    return n;
  } finally {
    await fh.close();
  }
}
