// Tracks sealed batches until every sink acknowledged them, then commits their checkpoint marks
// to the store strictly in seq order, so a checkpoint never passes a line that is not delivered.
//
// The queue is an array of entries in seq order with a moving head (no shift() per batch):
//
//     entries:  [ committed ... | head                                  | (free) ]
//                 ^ dropped by    ^ oldest uncommitted: its marks are     ^ entries.length:
//                   compaction      committed as soon as pending === 0,    track() appends
//                                   then the head moves on, and so on
//
//     seq:         ...  7   8   9   10  11
//     pending:          0   1   0   0   2        <- 7 is committed; 9 and 10 are fully acked but
//                      ^head                        wait behind 8 (8's lines come first)

import type { CheckpointStore } from './checkpoints.js';
import type { AckMark, Batch } from '../pipeline/types.js';

interface Entry {
  seq: number;
  /** Sinks that have not acked yet. */
  pending: number;
  marks: AckMark[];
  bytes: number;
  events: number;
}

/** What is not delivered yet, for backpressure. */
export interface InFlight {
  /** Batches tracked and not committed (some may be acked, waiting behind an earlier one). */
  batches: number;
  /** Bytes and events of batches that some sink still holds (not acked by every sink). */
  bytes: number;
  events: number;
}

/** Compact the queue once this many committed entries sit before the head, and they are more
 *  than half of it: copying is then amortised O(1) per batch, and the array stays small. */
const COMPACT_AT = 1024;

export class Acker {
  /** Live counters (one object, updated in place: read it, do not keep a copy). */
  readonly inFlight: InFlight = { batches: 0, bytes: 0, events: 0 };
  /** Acks for a seq not in flight (a double ack, or after commit): ignored, counted for tests
   *  and stats, because committing early would lose data and throwing would stop a sink. */
  spuriousAcks = 0;

  private readonly store: CheckpointStore;
  private entries: Entry[] = [];
  private head = 0;
  private lastSeq = -Infinity;
  private waiters: (() => void)[] = [];
  /** Sources whose marks are not file positions (the http source): their committed marks go
   *  to a listener instead of the checkpoint store. Empty for file-only agents. */
  private readonly listeners = new Map<string, (mark: AckMark) => void>();

  constructor(store: CheckpointStore) {
    this.store = store;
  }

  /** Start tracking a sealed batch; call in seq order, before any sink can ack it. */
  track(batch: Batch, sinkCount: number): void {
    if (!(batch.seq > this.lastSeq)) {
      throw new RangeError(`Acker.track: seq ${batch.seq} is not after ${this.lastSeq}`);
    }
    this.lastSeq = batch.seq;
    const entries = this.entries;
    const pending = sinkCount > 0 ? sinkCount : 0;
    entries.push({
      seq: batch.seq,
      pending,
      marks: batch.marks,
      bytes: batch.bytes,
      events: batch.events,
    });
    const f = this.inFlight;
    f.batches++;
    if (pending > 0) {
      f.bytes += batch.bytes;
      f.events += batch.events;
    } else {
      this.commit(); // no sink: acked at once (it may still wait behind an earlier batch)
    }
  }

  /** One sink finished writing batch `seq`. Called once per sink per batch. */
  ack(seq: number): void {
    const i = this.indexOf(seq);
    if (i < 0) {
      this.spuriousAcks++;
      return;
    }
    const e = this.entries[i];
    if (e.pending === 0) {
      this.spuriousAcks++;
      return;
    }
    if (--e.pending > 0) return;
    const f = this.inFlight;
    f.bytes -= e.bytes;
    f.events -= e.events;
    if (i === this.head) this.commit();
  }

  /**
   * Hand the committed marks of `sourceId` to `listener` instead of writing them as checkpoints.
   * It is called in commit order: a mark is committed once every sink acknowledged every batch
   * up to the one carrying it, so the source may treat all it emitted before that mark as
   * delivered (the http source answers its requests then).
   */
  listen(sourceId: string, listener: (mark: AckMark) => void): void {
    this.listeners.set(sourceId, listener);
  }

  /** Resolves once nothing is in flight (every tracked batch committed). */
  drained(): Promise<void> {
    if (this.inFlight.batches === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Commit the marks of every fully acked batch at the head, in order. */
  private commit(): void {
    const entries = this.entries;
    const store = this.store;
    const listeners = this.listeners;
    let head = this.head;
    const now = Date.now();
    while (head < entries.length && entries[head].pending === 0) {
      const marks = entries[head].marks;
      for (let k = 0; k < marks.length; k++) {
        const m = marks[k];
        if (listeners.size !== 0) {
          const listener = listeners.get(m.sourceId);
          if (listener !== undefined) {
            listener(m);
            continue;
          }
        }
        let dev = m.dev;
        let ino = m.ino;
        // File marks carry dev/ino; marks made elsewhere (tests, future sources) may not.
        if (dev === undefined || ino === undefined) {
          const prev = store.get(m.sourceId, m.key);
          dev = prev?.dev ?? 0;
          ino = prev?.ino ?? 0;
          if (prev === undefined && m.key.startsWith('ino:')) {
            // `ino:<dev>:<ino>` (engine/tailer/fingerprint.ts inodeKey)
            const parts = m.key.split(':');
            dev = Number(parts[1]) || 0;
            ino = Number(parts[2]) || 0;
          }
        }
        // reset = true: marks arrive here in read order, so the latest is the truth even when
        // it is smaller (a copytruncated file read again from 0 under the same key).
        store.set(
          m.sourceId,
          m.key,
          { offset: m.offset, path: m.path, dev, ino, updated: now },
          true,
        );
      }
      head++;
      this.inFlight.batches--;
    }
    if (head === entries.length) {
      entries.length = 0;
      head = 0;
    } else if (head >= COMPACT_AT && head * 2 >= entries.length) {
      entries.splice(0, head);
      head = 0;
    }
    this.head = head;
    if (this.inFlight.batches === 0 && this.waiters.length > 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const resolve of w) resolve();
    }
  }

  /** Index of `seq` in entries, or -1. Seqs are increasing and usually consecutive: try the
   *  direct offset first, then binary search. */
  private indexOf(seq: number): number {
    const entries = this.entries;
    const head = this.head;
    const n = entries.length;
    if (head >= n) return -1;
    const guess = head + (seq - entries[head].seq);
    if (guess >= head && guess < n && entries[guess].seq === seq) return guess;
    let lo = head;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = entries[mid].seq;
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
