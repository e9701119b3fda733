// Checkpoints: the byte offset reached in each file identity, persisted atomically
// (temp file, fsync, rename) into data_dir. Only the acker advances them, once every sink
// acknowledged the lines before the offset (DESIGN.md "Delivery semantics").
// IMPLEMENTATION PENDING (helper H3): this file fixes the interface the tailer codes against.

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
  /** Entry for a file identity key, if any. */
  get(sourceId: string, key: string): CheckpointEntry | undefined;
  /** Find an entry of this source by device+inode (used when a fingerprint is not yet known). */
  findByInode(sourceId: string, dev: number, ino: number): { key: string; entry: CheckpointEntry } | undefined;
  /** Record a delivered position (in memory; persisted by flush()). Never moves backwards
   *  for the same key unless `reset` is set (copytruncate starts a file again at 0). */
  set(sourceId: string, key: string, entry: CheckpointEntry, reset?: boolean): void;
  /** Move an entry to a new key (a file's fingerprint became known after it grew). */
  rekey(sourceId: string, oldKey: string, newKey: string): void;
  /** Forget a file (deleted and fully read). */
  delete(sourceId: string, key: string): void;
  /** Persist atomically if anything changed. */
  flush(): Promise<void>;
}
