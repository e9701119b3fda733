// Reading events back out of NDJSON batch bytes, for the formats that need their fields (loki
// labels, Elasticsearch date-named indexes, OTLP records): once per event, at send time.

/** Calls fn(start, end) for each non-empty line of `buf`; `end` is the index of its `\n`. */
export function forEachLine(buf: Buffer, fn: (start: number, end: number) => void): void {
  const n = buf.length;
  let start = 0;
  while (start < n) {
    let nl = buf.indexOf(10, start);
    if (nl < 0) nl = n;
    if (nl > start) fn(start, nl);
    start = nl + 1;
  }
}

export type Event = Record<string, unknown>;

/** The event on this line, or null when the line is not a JSON object (sent on as text). */
export function parseEvent(text: string): Event | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Event) : null;
  } catch {
    return null;
  }
}

/**
 * An event time in ms since the epoch: RFC 3339 text (our `timestamp`), or a number in seconds,
 * milliseconds, microseconds or nanoseconds (told apart by size, as Vector and Loki clients
 * do). undefined when absent or unreadable: the caller uses the send time.
 */
export function eventTimeMs(v: unknown): number | undefined {
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : ms;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return undefined;
  // 1e11 s is the year 5138; 1e14 ms and 1e17 us are the same instant.
  if (v < 1e11) return Math.round(v * 1000);
  if (v < 1e14) return Math.round(v);
  if (v < 1e17) return Math.round(v / 1e3);
  return Math.round(v / 1e6);
}

/** ms -> nanoseconds as decimal text (both Loki and OTLP JSON want int64 as a string). */
export function nanosText(ms: number): string {
  return ms === 0 ? '0' : `${ms}000000`;
}

/** Joins the [start, end) line ranges of `buf` back into NDJSON (each line ends in `\n`). */
export function joinLines(buf: Buffer, ranges: number[]): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < ranges.length; i += 2) {
    parts.push(buf.subarray(ranges[i], ranges[i + 1]), NEWLINE);
  }
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');

/** The uri's path and query, or `def` (plus the query) when the uri has a bare `/` path. */
export function pathOr(uri: URL, def: string): string {
  return (uri.pathname === '/' ? def : uri.pathname) + uri.search;
}
