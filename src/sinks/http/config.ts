// Config schema of the `http` sink: batches sent to an HTTP endpoint (our own aggregator,
// ClickHouse, Loki, Elasticsearch or an OTLP collector), compressed, retried, several in flight.

import {
  bool,
  duration,
  fields,
  int,
  isNull,
  nullable,
  object,
  oneOf,
  optional,
  refine,
  string,
  type At,
  type Schema,
} from '../../config/schema.js';
import type { HttpAuthConfig, HttpSinkConfig } from '../../config/types.js';
import { bufferSchema } from '../buffer-config.js';
import { tlsSchema } from '../tls.js';

/** The formats; formats/index.ts maps each to its encoder (typed against this list). */
export const formatNames = ['ndjson', 'clickhouse', 'loki', 'elasticsearch', 'otlp'] as const;

function checkUri(s: string): string | undefined {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return 'expected a URL like https://collector.example:8443/v1/logs';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return `expected an http:// or https:// URL, got ${u.protocol}//`;
  }
  // Credentials in a URL end up in logs and process listings: keep them in `auth`.
  if (u.username || u.password) {
    return 'must not carry a user or password: use `auth: {strategy: basic, user, password}`';
  }
  if (u.hash) return 'must not have a #fragment';
  return undefined;
}

/** RFC 9110 token characters: what a header name may hold. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Headers the sink (or HTTP itself) owns: a config value would corrupt requests. */
const RESERVED_HEADERS: Record<string, string> = {
  host: 'it comes from `uri`',
  'content-length': 'it is computed per request',
  'content-encoding': 'set `compression` instead',
  'transfer-encoding': 'bodies are sent whole',
  connection: 'connections are pooled and kept alive by the sink',
  'keep-alive': 'connections are pooled and kept alive by the sink',
  upgrade: 'not an HTTP/1.1 request header the sink can honour',
};

/** A map of header name -> value; values may be numbers in YAML, they are sent as text. */
const headers: Schema<Record<string, string>> = {
  ...refine(
    fields({ doc: 'Extra request headers, e.g. {X-Scope-OrgID: tenant1}.' }),
    (map, at): Record<string, string> => {
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries(map)) {
        const key = at.child(name);
        if (!HEADER_NAME.test(name)) key.fail('VES_CONFIG_TYPE', 'not a valid header name', true);
        const why = RESERVED_HEADERS[name.toLowerCase()];
        if (why) key.fail('VES_CONFIG_INVALID', `cannot be set: ${why}`, true);
        const text = String(value);
        // CR or LF would split the header into two: refuse rather than send something else.
        if (/[\r\n\0]/.test(text)) key.fail('VES_CONFIG_TYPE', 'must not contain CR, LF or NUL');
        out[name] = text;
      }
      return out;
    },
  ),
  kind: 'map of string',
  fallback: () => ({}),
  defaultText: '{}',
};

/** For the docs only: a key required by one strategy shows no default instead of "required". */
function perStrategy(s: Schema<string>): Schema<string> {
  return { ...s, fallback: () => '', defaultText: '' };
}

const bearer = object(
  {
    strategy: oneOf(['bearer'], { doc: '`bearer`: an `Authorization: Bearer <token>` header.' }),
    token: string({ doc: 'The bearer token, e.g. "${VES_TOKEN}".' }),
  },
  { doc: 'Bearer token auth.' },
);

const basic = object(
  {
    strategy: oneOf(['basic'], { doc: '`basic`: HTTP basic auth.' }),
    user: string({ doc: 'User name.' }),
    password: string({ doc: 'Password, e.g. "${CH_PASSWORD}".' }),
  },
  { doc: 'HTTP basic auth.' },
);

/**
 * `{strategy: bearer, token}` or `{strategy: basic, user, password}`. A union on `strategy` (the
 * schema's union() picks on `type`), so each strategy still rejects the other's keys.
 */
const auth: Schema<HttpAuthConfig | null> = {
  kind: 'null or object',
  doc: 'null, {strategy: bearer, token} or {strategy: basic, user, password}; secrets via ${VAR}.',
  fallback: () => null,
  defaultText: 'null',
  // Walked by the docs generator only: the keys of both strategies (required per strategy).
  fields: {
    strategy: oneOf(['bearer', 'basic'], { doc: 'How to authenticate.' }),
    token: perStrategy(
      string({ doc: 'With `bearer` (required): the token, e.g. "${VES_TOKEN}".' }),
    ),
    user: perStrategy(string({ doc: 'With `basic` (required): the user name.' })),
    password: perStrategy(
      string({ doc: 'With `basic` (required): the password, e.g. "${CH_PASSWORD}".' }),
    ),
  },
  decode(at: At): HttpAuthConfig {
    const s = at.child('strategy');
    if (isNull(s.node)) {
      s.fail('VES_CONFIG_MISSING', 'is required: bearer or basic', true);
    }
    const strategy = oneOf(['bearer', 'basic'], { doc: '' }).decode(s);
    return strategy === 'bearer' ? bearer.decode(at) : basic.decode(at);
  },
};

const tls = tlsSchema('TLS for https:// uris; files are read at start-up.');

/** ClickHouse identifiers are quoted with backticks in the query: refuse what would break out. */
function checkIdentifier(s: string): string | undefined {
  return /[`\\\0-\x1f]/.test(s)
    ? 'must not contain backticks, backslashes or control characters'
    : undefined;
}

const clickhouse = nullable(
  object(
    {
      database: string({
        default: 'default',
        check: checkIdentifier,
        doc: 'Database of the table.',
      }),
      table: string({ check: checkIdentifier, doc: 'Table the events are inserted into.' }),
      skip_unknown_fields: bool({
        default: true,
        doc: 'Ignore event fields the table has no column for (input_format_skip_unknown_fields=1).',
      }),
      date_time_best_effort: bool({
        default: true,
        // Our events carry RFC 3339 timestamps with milliseconds and `Z`, which ClickHouse's
        // basic DateTime parser refuses (measured on 18.16: "Cannot parse input").
        doc: 'Parse DateTime columns from RFC 3339 text like our `timestamp` (date_time_input_format=best_effort).',
      }),
    },
    { doc: 'Options of `format: clickhouse`: `INSERT INTO database.table FORMAT JSONEachRow`.' },
  ),
);

/** Loki label names (Prometheus data model). */
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const loki = nullable(
  object(
    {
      labels: {
        ...refine(fields({ doc: '' }), (map, at): Record<string, string> => {
          const out: Record<string, string> = {};
          for (const [name, value] of Object.entries(map)) {
            if (!LABEL_NAME.test(name)) {
              at.child(name).fail(
                'VES_CONFIG_TYPE',
                'not a valid Loki label name ([A-Za-z_][A-Za-z0-9_]*)',
                true,
              );
            }
            out[name] = String(value);
          }
          if (Object.keys(out).length === 0) {
            at.fail('VES_CONFIG_INVALID', 'Loki needs at least one label per stream');
          }
          return out;
        }),
        kind: 'map of string',
        doc: 'Stream labels: name -> "{field}" (the event field\'s value) or static text. Streams are grouped by their label values.',
        fallback: () => ({ host: '{host}', source: '{source}' }),
        defaultText: '{host: "{host}", source: "{source}"}',
      },
    },
    { doc: 'Options of `format: loki` (the push API, JSON).' },
  ),
);

/** Elasticsearch refuses index names with these (and upper case); `%` tokens are ours. */
function checkIndex(s: string): string | undefined {
  const literal = s.replace(/%[YmdH%]/g, '');
  if (/%/.test(literal)) return 'only %Y, %m, %d, %H (and %% for a literal %) are date tokens';
  if (literal !== literal.toLowerCase()) return 'index names must be lower case';
  if (/[\\/*?"<>| ,#:]/.test(literal))
    return 'index names cannot contain \\ / * ? " < > | space , # :';
  if (/^[-_+]/.test(s)) return 'index names cannot start with -, _ or +';
  return undefined;
}

const elasticsearch = nullable(
  object(
    {
      index: string({
        default: 'ves-%Y.%m.%d',
        check: checkIndex,
        doc: 'Index name; %Y %m %d %H come from the event `timestamp` (UTC), e.g. logs-%Y.%m.%d.',
      }),
    },
    { doc: 'Options of `format: elasticsearch` (the _bulk API with create actions).' },
  ),
);

const retry = object(
  {
    initial_backoff: duration({
      default: '100ms',
      min: '1ms',
      doc: 'Wait before the first retry; doubles per attempt (full jitter).',
    }),
    max_backoff: duration({
      default: '30s', // a receiver that is down costs a few requests a minute per sink
      min: '1ms',
      doc: 'The cap of the wait between attempts (Retry-After may ask for longer, up to 5m).',
    }),
    max_attempts: int({
      default: 0,
      min: 0,
      doc: 'Give up a write after this many attempts (the pipeline then retries it or buffers it); 0 = until delivered.',
    }),
  },
  { doc: 'Retries inside one write: network errors, timeouts, 408, 429 and 5xx.' },
);

const shape = object(
  {
    type: oneOf(['http'], { doc: 'Sends batches to an HTTP endpoint.' }),
    uri: string({
      check: checkUri,
      doc: 'http(s)://host:port/path. A bare `/` path gets the API path of the format (loki: /loki/api/v1/push, otlp: /v1/logs, elasticsearch: /_bulk).',
    }),
    method: oneOf(['POST', 'PUT'], { default: 'POST', doc: 'HTTP method of the write requests.' }),
    headers,
    auth,
    tls,
    timeout: duration({
      default: '30s',
      min: '10ms',
      doc: 'Connecting, sending and waiting for the answer each give up after this; the attempt is then retried.',
    }),
    concurrency: int({
      default: 4, // enough to hide one round trip per batch on a LAN without a thundering herd
      min: 1,
      max: 256, // one keep-alive connection each: a bound on sockets and buffered bodies
      doc: 'Requests in flight at once; batches may then complete out of order (acks still commit in order).',
    }),
    compression: {
      // Left out, it is filled in per format below.
      ...optional(
        oneOf(['none', 'gzip', 'zstd'], {
          doc: 'Body compression, run off the main thread. ClickHouse 18.16, Loki, Elasticsearch and OTLP receivers take gzip.',
        }),
      ),
      defaultText: 'zstd (ndjson), gzip (others)',
    },
    format: oneOf(formatNames, {
      default: 'ndjson',
      doc: 'What the body holds. See the format options.',
    }),
    clickhouse,
    loki,
    elasticsearch,
    retry,
    healthcheck: bool({
      default: true,
      doc: 'Probe the endpoint at start-up (clickhouse: GET /ping, elasticsearch: GET /, others: OPTIONS uri, any answer).',
    }),
    buffer: bufferSchema,
  },
  { doc: 'Sends batches to an HTTP endpoint.' },
);

/** Format option blocks, by the format that reads them. */
const OPTION_KEYS = ['clickhouse', 'loki', 'elasticsearch'] as const;

export const schema: Schema<HttpSinkConfig> = refine(shape, (c, at): HttpSinkConfig => {
  for (const key of OPTION_KEYS) {
    if (key !== c.format && c[key] !== null) {
      at.child(key).fail(
        'VES_CONFIG_INVALID',
        `is for \`format: ${key}\`, but format is ${c.format}`,
        true,
      );
    }
  }
  if (c.format === 'clickhouse' && c.clickhouse === null) {
    at.child('clickhouse').fail(
      'VES_CONFIG_MISSING',
      'is required with `format: clickhouse`: at least {table: <name>}',
      true,
    );
  }
  // The other formats' options all have defaults.
  const loki = c.format === 'loki' ? (c.loki ?? lokiDefaults()) : null;
  const es = c.format === 'elasticsearch' ? (c.elasticsearch ?? { index: 'ves-%Y.%m.%d' }) : null;
  const compression = c.compression ?? (c.format === 'ndjson' ? 'zstd' : 'gzip');
  if (c.format === 'clickhouse' && compression === 'zstd') {
    at.child('compression').fail(
      'VES_CONFIG_INVALID',
      'ClickHouse 18.16 takes gzip, not zstd ("Unknown Content-Encoding of HTTP request: zstd"): use compression: gzip',
    );
  }
  if ((c.tls.cert === null) !== (c.tls.key === null)) {
    at.child('tls').fail('VES_CONFIG_INVALID', '`cert` and `key` go together: set both or neither');
  }
  if (c.auth !== null) {
    const clash = Object.keys(c.headers).find((h) => h.toLowerCase() === 'authorization');
    if (clash) {
      at.child('headers')
        .child(clash)
        .fail('VES_CONFIG_INVALID', 'is set by `auth`: keep one of them', true);
    }
  }
  return { ...c, compression, loki, elasticsearch: es };
});

function lokiDefaults(): { labels: Record<string, string> } {
  return { labels: { host: '{host}', source: '{source}' } };
}
