// A sequence-numbered line writer at a steady rate, in the test process: every `tickMs` it
// appends (with one synchronous write) the lines due since the start, `<tag> seq=<n> xxx`
// (seqLines of test/e2e/harness.ts). Writes are synchronous so that a test can rotate the file
// between two ticks and know exactly which lines went where (copytruncate's loss window).

import { closeSync, openSync, writeSync } from 'node:fs';
import { seqLines } from '../../e2e/harness.js';

export interface SeqWriterOptions {
  path: string;
  /** Lines per second. */
  rate: number;
  /** Stream name: the accountant keys seqs by it. Default 'line'. */
  tag?: string;
  /** Write period. ms; default 10 (at 50,000 lines/s: 500 lines, ~30 KB per write). */
  tickMs?: number;
}

export class SeqWriter {
  readonly path: string;
  readonly tag: string;
  readonly rate: number;
  /** Lines written so far = the next seq. */
  seq = 0;
  private fd: number;
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  /** Time the rate is counted from, moved forward by pauses so they create no backlog. */
  private origin = 0;
  private pausedAt = 0;
  /** Seq at `origin`: the rate applies to lines written after it. */
  private base = 0;

  constructor(opts: SeqWriterOptions) {
    this.path = opts.path;
    this.tag = opts.tag ?? 'line';
    this.rate = opts.rate;
    this.tickMs = opts.tickMs ?? 10;
    this.fd = openSync(this.path, 'a');
  }

  start(): this {
    this.origin = performance.now();
    this.base = this.seq;
    this.timer = setInterval(() => this.tick(), this.tickMs);
    return this;
  }

  /** Writes the lines due by now. A stalled event loop catches up in one bigger write. */
  tick(): void {
    if (this.pausedAt !== 0 || this.timer === undefined) return;
    const due = this.base + Math.floor(((performance.now() - this.origin) * this.rate) / 1000);
    if (due > this.seq) this.write(due - this.seq);
  }

  /** Appends `n` lines at once (outside the rate), returns the first seq written. */
  write(n: number): number {
    const first = this.seq;
    writeSync(this.fd, seqLines(first, first + n, this.tag));
    this.seq += n;
    return first;
  }

  pause(): void {
    if (this.pausedAt === 0) this.pausedAt = performance.now();
  }

  resume(): void {
    if (this.pausedAt === 0) return;
    this.origin += performance.now() - this.pausedAt;
    this.pausedAt = 0;
  }

  /** After a rename rotation: write to a new file at `path` (as a logger reopening its log). */
  reopen(): void {
    closeSync(this.fd);
    this.fd = openSync(this.path, 'a');
  }

  /** Stops the timer (writes what is due first) and closes the file. Returns lines written. */
  stop(): number {
    if (this.timer !== undefined) {
      this.tick();
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
    return this.seq;
  }
}
