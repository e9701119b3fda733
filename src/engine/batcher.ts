// Groups encoded Blocks into Batches: sealed at max_events, max_bytes or timeout (from the first
// event of the open batch), whichever comes first; one Buffer.concat per encoding at seal time
// (none for a batch of one block).
//
// A block that would overflow the open batch is split at a line boundary. The first part has no
// mark, the remainder keeps the block's mark: a checkpoint mark only ever travels with the batch
// holding the last line it covers, so acking a batch never checkpoints lines still waiting here.
//
//   block:   [ l1 l2 l3 | l4 l5 ]  mark@l5      open batch has room for 3 events
//   batch n: [ ...  l1 l2 l3 ]     (no mark from this block)  -> sealed
//   batch n+1: [ l4 l5 ...         mark@l5
//
// Adaptive sealing (batch.adaptive, the default): after each push the open batch is also sealed
// once it holds `target` events, where
//
//   target = 1                         when pushes come at most once per timeout: this one came
//                                      >= timeout after the last, or they average <= 1 a timeout
//          = clamp(rate x timeout / 2, 1, max_events)     otherwise
//
//   (rate: events/s and pushes/s, measured over >= 100 ms windows, smoothed over ~500 ms)
//
// Pushes at most once per timeout (a quiet host, or a busy file read every few ms whose chunks
// each carry a timeout's worth of lines) seal at once: waiting could not gather another chunk,
// so it would only add latency. The push rate is smoothed so that an odd pair of close pushes
// (one append read in two pieces) does not make the second wait. More frequent pushes (many
// small chunks: many files) are gathered up to about half of what arrives in one timeout, i.e.
// for about timeout / 2; a busy host fills max_events as before. The half keeps a chunk a
// little smaller than average from waiting a whole timeout for the next. The target never splits a block (only max_events and max_bytes
// do: splitting costs a scan and gains no latency), and the timeout still bounds the wait of a
// batch that stays below it.

import type { BatchConfig } from '../config/types.js';
import type { AckMark, Batch, Block } from '../pipeline/types.js';

const NL = 10;
/**
 * 100 ms: the rate is measured over windows at least this long (20 reads of a busy file, which
 * is read every 5 ms), then smoothed with a 500 ms time constant; a pause that long starts the
 * measure afresh (the last burst says nothing about the next line).
 */
const RATE_WINDOW_MS = 100;
const RATE_SMOOTH_MS = 500;

export class Batcher {
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly onBatch: (b: Batch) => void;
  private readonly adaptive: boolean;
  /** Seal after a push once the open batch holds this many events (max_events unless adaptive). */
  private target: number;
  /** Smoothed events/s, the target it gives, and the window being measured. */
  private rate = 0;
  private rateTarget = 1;
  private windowStart = 0;
  private windowEvents = 0;
  private lastPushAt = -Infinity;
  /** Smoothed pushes/s (blocks, not events), and the window's count. */
  private pushRate = 0;
  private windowPushes = 0;

  private seq = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onTimeout = (): void => {
    this.timer = undefined;
    this.seal();
  };

  // The open batch: parts are kept as they came and joined once when sealed.
  private ndjsonParts: Buffer[] = [];
  private rawParts: Buffer[] = [];
  private ndjsonBytes = 0;
  private rawBytes = 0;
  private events = 0;
  private firstReadAt = Infinity;
  /** Furthest mark per file: `${sourceId}\0${key}` -> mark. A Map, since one batch can hold
   *  blocks of many files (a fleet of small logs) and a linear search would be quadratic. */
  private marks = new Map<string, AckMark>();

  constructor(cfg: BatchConfig, onBatch: (b: Batch) => void) {
    if (!(cfg.max_events >= 1)) throw new RangeError(`batch.max_events must be >= 1`);
    if (!(cfg.max_bytes >= 1)) throw new RangeError(`batch.max_bytes must be >= 1`);
    this.maxEvents = cfg.max_events;
    this.maxBytes = cfg.max_bytes;
    this.timeoutMs = Math.max(0, cfg.timeout);
    this.onBatch = onBatch;
    this.adaptive = cfg.adaptive === true;
    this.target = this.adaptive ? 1 : this.maxEvents;
    this.windowStart = performance.now();
  }

  /** Events at which a push seals the open batch while pushes come often (adaptive). */
  get sizeTarget(): number {
    return this.adaptive ? this.rateTarget : this.maxEvents;
  }

  /** The smoothed rate the adaptive target comes from, events/s. */
  get observedRate(): number {
    return this.rate;
  }

  /** Bytes in the open batch (the largest encoding), for the in-flight bound. */
  get pendingBytes(): number {
    return this.ndjsonBytes > this.rawBytes ? this.ndjsonBytes : this.rawBytes;
  }

  /** Events in the open batch. */
  get pendingEvents(): number {
    return this.events;
  }

  /** Add a block; may seal one or more batches synchronously (through onBatch). */
  push(block: Block): void {
    if (this.closed) throw new Error('Batcher.push after close()');
    if (this.adaptive) this.observe(block.events);
    let b = block;
    for (;;) {
      if (b.events === 0) {
        // Nothing to ship, but the mark of a fully filtered chunk must still travel: it rides
        // with the open batch (its lines came before), or alone in an empty batch at timeout.
        if (b.mark !== null) {
          this.addMark(b.mark);
          this.armTimer();
        }
        return;
      }
      const roomEvents = this.maxEvents - this.events;
      const roomBytes = this.maxBytes - this.pendingBytes;
      const nLen = b.ndjson === null ? 0 : b.ndjson.length;
      const rLen = b.raw === null ? 0 : b.raw.length;
      if (b.events <= roomEvents && nLen <= roomBytes && rLen <= roomBytes) {
        this.append(b);
        if (this.events >= this.target || this.pendingBytes >= this.maxBytes) this.seal();
        else this.armTimer(); // only a batch left open needs one (a steady host's seals at once)
        return;
      }
      let k = linesThatFit(b, roomEvents, roomBytes);
      if (k === 0) {
        if (this.events > 0) {
          this.seal(); // the next line does not fit: start a new batch and try again
          continue;
        }
        k = 1; // one event bigger than max_bytes: it goes alone
      }
      if (k >= b.events) {
        this.append(b);
        this.seal();
        return;
      }
      const nCut = b.ndjson === null ? 0 : afterNthNewline(b.ndjson, k, b.events);
      const rCut = b.raw === null ? 0 : afterNthNewline(b.raw, k, b.events);
      this.append({
        events: k,
        ndjson: b.ndjson === null ? null : b.ndjson.subarray(0, nCut),
        raw: b.raw === null ? null : b.raw.subarray(0, rCut),
        mark: null,
        readAt: b.readAt,
      });
      this.seal();
      b = {
        events: b.events - k,
        ndjson: b.ndjson === null ? null : b.ndjson.subarray(nCut),
        raw: b.raw === null ? null : b.raw.subarray(rCut),
        mark: b.mark,
        readAt: b.readAt,
      };
    }
  }

  /** Seal the open batch now (if it holds anything). */
  flush(): void {
    this.seal();
  }

  /** Seal what is open and stop the timer; push() after this throws. */
  close(): void {
    this.seal();
    this.closed = true;
  }

  /** Once per push (not per line): the gap since the last push, the rate, the target. */
  private observe(events: number): void {
    const now = performance.now();
    const gap = now - this.lastPushAt;
    this.lastPushAt = now;
    if (gap >= RATE_SMOOTH_MS) {
      this.rate = 0;
      this.pushRate = 0;
      this.rateTarget = 1;
      this.windowStart = now;
      this.windowEvents = 0;
      this.windowPushes = 0;
    }
    this.windowEvents += events;
    this.windowPushes++;
    const dt = now - this.windowStart;
    if (dt >= RATE_WINDOW_MS) {
      const a = this.rate === 0 ? 1 : Math.min(1, dt / RATE_SMOOTH_MS);
      this.rate += ((this.windowEvents * 1000) / dt - this.rate) * a;
      this.pushRate += ((this.windowPushes * 1000) / dt - this.pushRate) * a;
      this.windowStart = now;
      this.windowEvents = 0;
      this.windowPushes = 0;
      const t = Math.round((this.rate * this.timeoutMs) / 2000);
      // At most one push per timeout on average: nothing to wait for.
      const sparse = (this.pushRate * this.timeoutMs) / 1000 <= 1;
      this.rateTarget = sparse || t < 1 ? 1 : t > this.maxEvents ? this.maxEvents : t;
    }
    this.target = gap >= this.timeoutMs ? 1 : this.rateTarget;
  }

  /** Adds a block to the open batch; the caller seals it or arms the timer. */
  private append(b: Block): void {
    if (b.ndjson !== null) {
      this.ndjsonParts.push(b.ndjson);
      this.ndjsonBytes += b.ndjson.length;
    }
    if (b.raw !== null) {
      this.rawParts.push(b.raw);
      this.rawBytes += b.raw.length;
    }
    this.events += b.events;
    if (b.readAt < this.firstReadAt) this.firstReadAt = b.readAt;
    if (b.mark !== null) this.addMark(b.mark);
  }

  /** Start the timeout with the first event (or mark) of the open batch: it bounds latency. */
  private armTimer(): void {
    if (this.timer === undefined && !this.closed) {
      this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    }
  }

  /** Keep one mark per file: the last one read is the furthest (offsets of a file identity only
   *  grow, and after a copytruncate the later, smaller offset is the right one). */
  private addMark(mark: AckMark): void {
    this.marks.set(`${mark.sourceId}\0${mark.key}`, mark);
  }

  private seal(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.events === 0 && this.marks.size === 0) return;
    const nParts = this.ndjsonParts;
    const rParts = this.rawParts;
    const ndjson = join(nParts, this.ndjsonBytes);
    const raw = join(rParts, this.rawBytes);
    const batch: Batch = {
      seq: ++this.seq,
      events: this.events,
      ndjson,
      raw,
      bytes: this.pendingBytes,
      marks: [...this.marks.values()],
      firstReadAt: this.firstReadAt === Infinity ? performance.now() : this.firstReadAt,
      sealedAt: performance.now(),
    };
    this.ndjsonParts = [];
    this.rawParts = [];
    this.ndjsonBytes = 0;
    this.rawBytes = 0;
    this.events = 0;
    this.firstReadAt = Infinity;
    this.marks = new Map();
    this.onBatch(batch);
  }
}

/**
 * The parts of one encoding as one Buffer: a single part as it is (a steady host's batch is
 * often one block, so this skips a copy of every byte), several joined in one copy. Block
 * buffers are never written after they are handed over, so sharing them is safe.
 */
function join(parts: Buffer[], bytes: number): Buffer | null {
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes);
}

/**
 * How many whole lines of `b` fit in roomEvents and roomBytes (for every encoding it has).
 * Only the byte bound needs a walk; the event bound alone is just a min.
 */
function linesThatFit(b: Block, roomEvents: number, roomBytes: number): number {
  const maxK = roomEvents < b.events ? roomEvents : b.events;
  if (maxK <= 0) return 0;
  const n = b.ndjson;
  const r = b.raw;
  if ((n === null || n.length <= roomBytes) && (r === null || r.length <= roomBytes)) return maxK;
  // Walk line by line (indexOf is native memchr) until a prefix of either encoding passes
  // roomBytes. Runs once per sealed batch, not per block.
  let k = 0;
  let nPos = 0;
  let rPos = 0;
  while (k < maxK) {
    if (n !== null) {
      const e = n.indexOf(NL, nPos) + 1;
      if (e === 0 || e > roomBytes) break;
      nPos = e;
    }
    if (r !== null) {
      const e = r.indexOf(NL, rPos) + 1;
      if (e === 0 || e > roomBytes) break;
      rPos = e;
    }
    k++;
  }
  return k;
}

/**
 * Offset just after the k-th `\n` of a buffer holding `total` lines (each ending in `\n`).
 * Scans from whichever end is nearer: a split near the end of a big block costs as little as one
 * near its start.
 */
export function afterNthNewline(buf: Buffer, k: number, total: number): number {
  if (k <= 0) return 0;
  if (k >= total) return buf.length;
  if (k <= total - k) {
    let pos = -1;
    for (let j = 0; j < k; j++) pos = buf.indexOf(NL, pos + 1);
    return pos + 1;
  }
  // The k-th newline is the (total - k + 1)-th from the end; the last byte is the total-th.
  let pos = buf.length - 1;
  for (let j = 0; j < total - k; j++) pos = buf.lastIndexOf(NL, pos - 1);
  return pos + 1;
}
