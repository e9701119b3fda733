// RSS of the agent process over time, from /proc/<pid>/status (Linux, where the suite runs):
// VmRSS sampled every `intervalMs`, plus the kernel's own peak (VmHWM) at each sample, so a
// spike between two samples still counts.

import { readFileSync } from 'node:fs';

export interface RssSample {
  /** performance.now() of the sample. */
  at: number;
  rssBytes: number;
}

export class RssSampler {
  readonly samples: RssSample[] = [];
  /** Highest VmHWM seen (bytes): the process's peak RSS up to the last sample. */
  hwmBytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Reads one sample now; false once the process is gone. */
  sample(): boolean {
    let text: string;
    try {
      text = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    } catch {
      return false;
    }
    const rss = /VmRSS:\s+(\d+) kB/.exec(text);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(text);
    if (rss === null) return false; // a zombie has no memory lines
    this.samples.push({ at: performance.now(), rssBytes: Number(rss[1]) * 1024 });
    if (hwm !== null) this.hwmBytes = Math.max(this.hwmBytes, Number(hwm[1]) * 1024);
    return true;
  }

  /** Peak RSS in bytes: the kernel's high-water mark, or the highest sample. */
  get peakBytes(): number {
    let max = this.hwmBytes;
    for (const s of this.samples) if (s.rssBytes > max) max = s.rssBytes;
    return max;
  }

  /** Highest sampled RSS in [from, to) (performance.now() times), bytes. */
  maxBetween(from: number, to = Infinity): number {
    let max = 0;
    for (const s of this.samples)
      if (s.at >= from && s.at < to && s.rssBytes > max) max = s.rssBytes;
    return max;
  }

  /** Takes a last sample (call before killing the process) and stops. */
  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

export const mb = (bytes: number): number => Math.round((bytes / (1024 * 1024)) * 10) / 10;
