// `format: loki`: Loki's push API in JSON, events grouped into streams by their label values:
//   {"streams":[{"stream":{"host":"a"},"values":[["<unix ns>","<event as JSON>"], ...]}, ...]}
// https://grafana.com/docs/loki/latest/reference/loki-http-api/#ingest-logs

import { eventTimeMs, forEachLine, nanosText, parseEvent, pathOr } from './events.js';
import type { FormatBuilder } from './index.js';

/** A label's value: one event field (`{field}`), or the same text for every event. */
type LabelSource = { name: string; field: string | null; text: string };

/** Loki needs at least one label per stream: events that have none of the fields get this. */
const FALLBACK_LABELS = { job: 'ves-log-collector' };

export const loki: FormatBuilder = (config, uri) => {
  const labels = config.loki?.labels ?? {};
  const sources: LabelSource[] = Object.entries(labels).map(([name, value]) => {
    const m = /^\{([^{}]+)\}$/.exec(value);
    return { name, field: m ? m[1] : null, text: value };
  });
  const path = pathOr(uri, '/loki/api/v1/push');
  return {
    contentType: 'application/json',
    path,
    probe: { method: 'OPTIONS', path, anyAnswer: true },
    encode(ndjson) {
      const streams = new Map<string, { stream: Record<string, string>; values: string[][] }>();
      const now = Date.now();
      forEachLine(ndjson, (start, end) => {
        const line = ndjson.toString('utf8', start, end);
        const ev = parseEvent(line);
        let stream: Record<string, string> = {};
        let key = '';
        for (const s of sources) {
          let v: string | undefined = s.text;
          if (s.field !== null) {
            const f = ev?.[s.field];
            v =
              f === undefined || f === null
                ? undefined
                : typeof f === 'string'
                  ? f
                  : JSON.stringify(f);
          }
          if (v === undefined) continue;
          stream[s.name] = v;
          // \u0000 cannot occur in a label name, so the key is unambiguous.
          key += `${s.name}\u0000${v}\u0000`;
        }
        if (key === '') stream = FALLBACK_LABELS;
        let entry = streams.get(key);
        if (entry === undefined) {
          entry = { stream, values: [] };
          streams.set(key, entry);
        }
        entry.values.push([nanosText(eventTimeMs(ev?.timestamp) ?? now), line]);
      });
      return Buffer.from(JSON.stringify({ streams: [...streams.values()] }));
    },
  };
};
