// `format: otlp`: OTLP/HTTP logs in JSON (ExportLogsServiceRequest). Events are grouped into one
// resourceLogs per (host, service); `level` maps to severityNumber, `message` is the body, and
// the other fields become attributes. https://opentelemetry.io/docs/specs/otlp/#otlphttp

import { VERSION } from '../../../version.js';
import { eventTimeMs, forEachLine, nanosText, parseEvent, pathOr } from './events.js';
import type { FormatBuilder, Verdict } from './index.js';

/** Fields that become something other than an attribute. */
const RESERVED = new Set(['message', 'timestamp', 'level', 'host', 'service']);
/** Event fields renamed to their OpenTelemetry semantic-convention names. */
const RENAMED: Record<string, string> = { source: 'log.file.path' };

/**
 * Level names -> OTLP SeverityNumber (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21;
 * the +1..+3 steps rank within one). Syslog's names follow the OpenTelemetry collector's
 * syslog mapping (notice INFO2, crit FATAL2, alert FATAL3, emerg FATAL4).
 */
const SEVERITY: Record<string, number> = {
  trace: 1,
  debug: 5,
  info: 9,
  informational: 9,
  notice: 10,
  warn: 13,
  warning: 13,
  error: 17,
  err: 17,
  fatal: 21,
  panic: 21,
  crit: 22,
  critical: 22,
  alert: 23,
  emerg: 24,
  emergency: 24,
};

/** Syslog severities 0..7 as numbers (RFC 5424): emerg .. debug. */
const SYSLOG_NUMBERS = [24, 23, 22, 17, 13, 10, 9, 5];

/** A level field -> severityNumber (0 = unspecified). */
export function severityNumber(level: unknown): number {
  if (typeof level === 'string') return SEVERITY[level.toLowerCase()] ?? 0;
  if (typeof level !== 'number' || !Number.isInteger(level)) return 0;
  if (level >= 0 && level < 8) return SYSLOG_NUMBERS[level];
  // pino/bunyan: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal.
  if (level >= 10 && level <= 60 && level % 10 === 0) return [1, 5, 9, 13, 17, 21][level / 10 - 1];
  return 0;
}

type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  | Record<string, never>;
interface KeyValue {
  key: string;
  value: AnyValue;
}

/** A JSON value as an OTLP AnyValue (int64 as decimal text, as the JSON mapping writes it). */
export function anyValue(v: unknown): AnyValue {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'number':
      return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
    case 'object':
      if (v === null) return {};
      if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValue) } };
      return {
        kvlistValue: { values: Object.entries(v).map(([key, x]) => ({ key, value: anyValue(x) })) },
      };
    default:
      return { stringValue: String(v) };
  }
}

interface LogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber?: number;
  severityText?: string;
  body: AnyValue;
  attributes: KeyValue[];
}

export const otlp: FormatBuilder = (_config, uri) => {
  const path = pathOr(uri, '/v1/logs');
  const scope = { name: 'ves-log-collector', version: VERSION };
  return {
    contentType: 'application/json',
    path,
    probe: { method: 'OPTIONS', path, anyAnswer: true },
    encode(ndjson) {
      const groups = new Map<string, { attributes: KeyValue[]; records: LogRecord[] }>();
      const now = Date.now();
      const observed = nanosText(now);
      forEachLine(ndjson, (start, end) => {
        const line = ndjson.toString('utf8', start, end);
        const ev = parseEvent(line) ?? { message: line };
        const host = ev.host;
        const service = ev.service;
        const key = `${typeof host === 'string' ? host : ''}\u0000${typeof service === 'string' ? service : ''}`;
        let group = groups.get(key);
        if (group === undefined) {
          const attributes: KeyValue[] = [];
          if (typeof host === 'string')
            attributes.push({ key: 'host.name', value: { stringValue: host } });
          if (typeof service === 'string') {
            attributes.push({ key: 'service.name', value: { stringValue: service } });
          }
          group = { attributes, records: [] };
          groups.set(key, group);
        }
        const attributes: KeyValue[] = [];
        for (const name of Object.keys(ev)) {
          if (RESERVED.has(name)) continue;
          // host and service that are not text stay as attributes rather than vanish.
          attributes.push({ key: RENAMED[name] ?? name, value: anyValue(ev[name]) });
        }
        if (host !== undefined && typeof host !== 'string')
          attributes.push({ key: 'host', value: anyValue(host) });
        if (service !== undefined && typeof service !== 'string') {
          attributes.push({ key: 'service', value: anyValue(service) });
        }
        const record: LogRecord = {
          timeUnixNano: nanosText(eventTimeMs(ev.timestamp) ?? now),
          observedTimeUnixNano: observed,
          body: ev.message === undefined ? { stringValue: line } : anyValue(ev.message),
          attributes,
        };
        if (ev.level !== undefined && ev.level !== null) {
          record.severityNumber = severityNumber(ev.level);
          record.severityText = String(ev.level);
        }
        group.records.push(record);
      });
      const resourceLogs = [...groups.values()].map((g) => ({
        resource: { attributes: g.attributes },
        scopeLogs: [{ scope, logRecords: g.records }],
      }));
      return Buffer.from(JSON.stringify({ resourceLogs }));
    },
    accepted: readPartialSuccess,
    // OTLP/HTTP: only 429, 502, 503 and 504 are retryable; any other failure is final.
    refusedForGood: (status) => status >= 500 && status !== 502 && status !== 503 && status !== 504,
  };
};

/** A 200 may still say some records were refused (partialSuccess); which ones, it does not say. */
function readPartialSuccess(answer: Buffer): Verdict | null {
  if (answer.length === 0) return null;
  let parsed: { partialSuccess?: { rejectedLogRecords?: string | number; errorMessage?: string } };
  try {
    parsed = JSON.parse(answer.toString('utf8')) as typeof parsed;
  } catch {
    return null; // a 200 is a success; its body is only advice
  }
  const n = Number(parsed.partialSuccess?.rejectedLogRecords ?? 0);
  if (!(n > 0)) return null;
  return {
    retry: null,
    rejected: null,
    rejectedEvents: 0,
    dropped: n,
    status: 200,
    reason: parsed.partialSuccess?.errorMessage ?? 'partial success',
  };
}
