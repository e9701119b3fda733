// A CheckpointStore kept in memory, for unit tests of sources: same rules as the real one
// (never backwards unless reset, rekey moves an entry), no files.

import type { CheckpointEntry, CheckpointStore } from '../../src/engine/checkpoints.js';

export class MemoryCheckpoints implements CheckpointStore {
  readonly entries = new Map<string, Map<string, CheckpointEntry>>();
  flushes = 0;

  private of(sourceId: string): Map<string, CheckpointEntry> {
    let m = this.entries.get(sourceId);
    if (m === undefined) {
      m = new Map();
      this.entries.set(sourceId, m);
    }
    return m;
  }

  get(sourceId: string, key: string): CheckpointEntry | undefined {
    return this.entries.get(sourceId)?.get(key);
  }

  findByInode(
    sourceId: string,
    dev: number,
    ino: number,
  ): { key: string; entry: CheckpointEntry } | undefined {
    for (const [key, entry] of this.of(sourceId)) {
      if (entry.dev === dev && entry.ino === ino) return { key, entry };
    }
    return undefined;
  }

  set(sourceId: string, key: string, entry: CheckpointEntry, reset = false): void {
    const m = this.of(sourceId);
    const had = m.get(key);
    if (had !== undefined && entry.offset < had.offset && !reset) return;
    m.set(key, { ...entry });
  }

  rekey(sourceId: string, oldKey: string, newKey: string): void {
    const m = this.of(sourceId);
    const e = m.get(oldKey);
    if (e === undefined) return;
    m.delete(oldKey);
    m.set(newKey, e);
  }

  delete(sourceId: string, key: string): void {
    this.of(sourceId).delete(key);
  }

  async flush(): Promise<void> {
    this.flushes++;
  }
}
