// The loss/duplicate accountant of the reliability suite: counts every delivery of every
// sequence number per stream (the tag before ` seq=`, see seqLines in test/e2e/harness.ts),
// then compares with what the writers wrote. Exact: lost = seqs written and never delivered,
// duplicates = deliveries beyond the first.

/** `<tag> seq=<n>` as written by seqLines; matches inside NDJSON messages and raw lines. */
const SEQ = /([A-Za-z0-9_.-]+) seq=(\d+)/g;

export interface StreamReport {
  tag: string;
  written: number;
  /** Distinct seqs in [0, written) delivered at least once. */
  delivered: number;
  lost: number;
  /** Up to 20 of the lost seqs, for the failure message. */
  lostSample: number[];
  /** Deliveries beyond the first of a seq. */
  duplicates: number;
  /** Deliveries of seqs never written (>= written): a bug in the test or the agent. */
  unknown: number;
}

export class Accountant {
  /** Per tag, deliveries per seq (index = seq). Grows by doubling. */
  private readonly counts = new Map<string, Uint16Array>();
  private readonly highest = new Map<string, number>();
  /** Every delivery counted, duplicates included. */
  deliveries = 0;

  add(tag: string, seq: number): void {
    let c = this.counts.get(tag);
    if (c === undefined || seq >= c.length) {
      const grown = new Uint16Array(Math.max(1024, (c?.length ?? 0) * 2, seq + 1));
      if (c !== undefined) grown.set(c);
      this.counts.set(tag, (c = grown));
    }
    if (c[seq] < 0xffff) c[seq]++;
    if (seq > (this.highest.get(tag) ?? -1)) this.highest.set(tag, seq);
    this.deliveries++;
  }

  /** Counts every `<tag> seq=<n>` in a body (NDJSON or raw). Returns how many it found. */
  addText(text: string): number {
    let n = 0;
    for (const m of text.matchAll(SEQ)) {
      this.add(m[1], Number(m[2]));
      n++;
    }
    return n;
  }

  /** How many times `seq` of `tag` arrived. */
  count(tag: string, seq: number): number {
    return this.counts.get(tag)?.[seq] ?? 0;
  }

  /** Distinct seqs of `tag` in [from, to) that arrived at least once. */
  distinct(tag: string, from = 0, to = Infinity): number {
    const c = this.counts.get(tag);
    if (c === undefined) return 0;
    let n = 0;
    for (let i = from, end = Math.min(to, c.length); i < end; i++) if (c[i] > 0) n++;
    return n;
  }

  /** True once every seq in [0, written) of each tag arrived (the usual wait condition). */
  complete(written: Record<string, number>): boolean {
    for (const [tag, w] of Object.entries(written)) if (this.distinct(tag, 0, w) < w) return false;
    return true;
  }

  /** Seqs of `tag` delivered more than once (each listed once). */
  duplicated(tag: string): number[] {
    const c = this.counts.get(tag);
    const out: number[] = [];
    if (c === undefined) return out;
    for (let i = 0; i < c.length; i++) if (c[i] > 1) out.push(i);
    return out;
  }

  report(tag: string, written: number): StreamReport {
    const c = this.counts.get(tag) ?? new Uint16Array(0);
    let delivered = 0;
    let duplicates = 0;
    let unknown = 0;
    const lostSample: number[] = [];
    for (let i = 0; i < Math.max(written, c.length); i++) {
      const k = i < c.length ? c[i] : 0;
      if (i >= written) {
        unknown += k;
        continue;
      }
      if (k > 0) {
        delivered++;
        duplicates += k - 1;
      } else if (lostSample.length < 20) {
        lostSample.push(i);
      }
    }
    return { tag, written, delivered, lost: written - delivered, lostSample, duplicates, unknown };
  }

  /** One report per tag, summed: `written` maps each tag to the lines its writer wrote. */
  total(written: Record<string, number>): StreamReport {
    const sum: StreamReport = {
      tag: Object.keys(written).join('+'),
      written: 0,
      delivered: 0,
      lost: 0,
      lostSample: [],
      duplicates: 0,
      unknown: 0,
    };
    for (const [tag, w] of Object.entries(written)) {
      const r = this.report(tag, w);
      sum.written += r.written;
      sum.delivered += r.delivered;
      sum.lost += r.lost;
      sum.duplicates += r.duplicates;
      sum.unknown += r.unknown;
      for (const s of r.lostSample) if (sum.lostSample.length < 20) sum.lostSample.push(s);
    }
    return sum;
  }
}
