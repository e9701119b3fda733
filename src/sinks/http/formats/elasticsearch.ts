// `format: elasticsearch`: the _bulk API, one `create` action per event (append-only, so it also
// writes to data streams), the index named from the event's date. The answer is read per item:
// 429/5xx items are sent again, other refused items are rejected for good (dead-lettered).
// https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html

import { eventTimeMs, forEachLine, joinLines, parseEvent } from './events.js';
import type { FormatBuilder, Verdict } from './index.js';

/** Only what the verdict needs: the answer stays small however big the batch was. */
const FILTER = 'filter_path=errors,items.*.status,items.*.error';

export const elasticsearch: FormatBuilder = (config, uri) => {
  const pattern = config.elasticsearch?.index ?? 'ves-%Y.%m.%d';
  const dated = /%[YmdH]/.test(pattern);
  // One action line per index name; a batch usually spans one day, so this is a cache of one.
  let lastName = '';
  let lastAction = Buffer.alloc(0);
  const action = (ms: number): Buffer => {
    const name = dated ? indexName(pattern, ms) : pattern.replace(/%%/g, '%');
    if (name !== lastName) {
      lastName = name;
      lastAction = Buffer.from(`{"create":{"_index":${JSON.stringify(name)}}}\n`);
    }
    return lastAction;
  };
  const base = uri.pathname.replace(/\/_bulk\/?$/, '');
  const root = base.endsWith('/') ? base : `${base}/`;
  const search = `${uri.search === '' ? '?' : `${uri.search}&`}${FILTER}`;
  return {
    contentType: 'application/x-ndjson',
    path: `${root}_bulk${search}`,
    // GET / answers the cluster's name and version: it checks the credentials as well.
    probe: { method: 'GET', path: root + uri.search, anyAnswer: false },
    encode(ndjson) {
      const parts: Buffer[] = [];
      const now = Date.now();
      forEachLine(ndjson, (start, end) => {
        let ms = now;
        if (dated) {
          const ev = parseEvent(ndjson.toString('utf8', start, end));
          ms = eventTimeMs(ev?.timestamp) ?? now;
        }
        // The event line is copied as it is: one subarray, no re-encoding.
        parts.push(action(ms), ndjson.subarray(start, end + 1));
      });
      const body = Buffer.concat(parts);
      // _bulk needs the last line to end in a newline.
      return body.length > 0 && body[body.length - 1] !== 10
        ? Buffer.concat([body, Buffer.from('\n')])
        : body;
    },
    accepted: readBulkAnswer,
  };
};

/** %Y %m %d %H of `ms` in UTC; %% is a literal %. */
export function indexName(pattern: string, ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => (n < 10 ? `0${n}` : String(n));
  return pattern.replace(/%[YmdH%]/g, (t) => {
    switch (t) {
      case '%Y':
        return String(d.getUTCFullYear());
      case '%m':
        return two(d.getUTCMonth() + 1);
      case '%d':
        return two(d.getUTCDate());
      case '%H':
        return two(d.getUTCHours());
      default:
        return '%';
    }
  });
}

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

/** Per-item results, in the order of the events. */
function readBulkAnswer(answer: Buffer, ndjson: Buffer): Verdict | null {
  let parsed: { errors?: boolean; items?: Array<Record<string, BulkItem>> };
  try {
    parsed = JSON.parse(answer.toString('utf8')) as typeof parsed;
  } catch {
    // A 2xx we cannot read: send it all again rather than assume (at-least-once).
    return everything(ndjson, 'an answer that is not JSON');
  }
  if (parsed.errors !== true) return null;
  const items = parsed.items ?? [];
  const retry: number[] = [];
  const rejected: number[] = [];
  let status = 0;
  let reason = '';
  let i = 0;
  forEachLine(ndjson, (start, end) => {
    const item = items[i++];
    const r = item && (item.create ?? Object.values(item)[0]);
    const s = r?.status ?? 0;
    if (s >= 200 && s < 300) return;
    if (s === 429 || s >= 500 || s === 0) {
      retry.push(start, end);
      return;
    }
    rejected.push(start, end);
    if (status === 0) {
      status = s;
      const e = r?.error;
      reason = typeof e === 'string' ? e : `${e?.type ?? 'error'}: ${e?.reason ?? ''}`;
    }
  });
  if (i !== items.length) return everything(ndjson, `${items.length} items for ${i} events`);
  return {
    retry: retry.length > 0 ? joinLines(ndjson, retry) : null,
    rejected: rejected.length > 0 ? joinLines(ndjson, rejected) : null,
    rejectedEvents: rejected.length / 2,
    dropped: 0,
    status,
    reason,
  };
}

function everything(ndjson: Buffer, why: string): Verdict {
  return {
    retry: ndjson,
    rejected: null,
    rejectedEvents: 0,
    dropped: 0,
    status: 0,
    reason: `Elasticsearch sent ${why}`,
  };
}
