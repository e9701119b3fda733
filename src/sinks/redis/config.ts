// Config schema of the `redis` sink: every event XADDed to a Redis stream (`MAXLEN ~` trimming),
// as one stream field per event field or as one NDJSON `event` field. Issue #6.

import {
  bool,
  duration,
  int,
  nullable,
  object,
  oneOf,
  refine,
  string,
  type Schema,
} from '../../config/schema.js';
import type { RedisSinkConfig } from '../../config/types.js';
import { bufferSchema } from '../buffer-config.js';
import { tlsSchema } from '../tls.js';

/** Where the sink connects, taken apart from `url` (and `auth`), for the client and messages. */
export interface RedisTarget {
  tls: boolean;
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  /** redis[s]://host:port/db: the URL without credentials, safe to log. */
  where: string;
}

/** The default port of redis:// and rediss:// alike (Redis has no separate TLS port). */
const DEFAULT_PORT = 6379;

/** Takes `url` apart; throws an Error with a message for the schema to report. */
export function parseRedisUrl(s: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw new Error('expected a URL like redis://127.0.0.1:6379/0 or rediss://host:6380');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`expected a redis:// or rediss:// URL, got ${u.protocol}//`);
  }
  if (u.hostname === '') throw new Error('needs a host: redis://host:port/db');
  if (u.search || u.hash) throw new Error('must not have a ?query or #fragment');
  const path = u.pathname === '' || u.pathname === '/' ? '0' : u.pathname.slice(1);
  // Redis has 16 databases unless `databases` says more; the server refuses a number too high.
  if (!/^\d{1,5}$/.test(path)) throw new Error(`the path is the database number, got /${path}`);
  const db = Number(path);
  const port = u.port === '' ? DEFAULT_PORT : Number(u.port);
  // WHATWG URL keeps the [] of an IPv6 host; the socket wants it bare.
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return {
    tls: u.protocol === 'rediss:',
    host,
    port,
    db,
    username: u.username === '' ? undefined : decodeURIComponent(u.username),
    password: u.password === '' ? undefined : decodeURIComponent(u.password),
    where: `${u.protocol}//${u.host}/${db}`,
  };
}

function checkUrl(s: string): string | undefined {
  try {
    parseRedisUrl(s);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** `{field}` placeholders in `stream`: top-level event fields. */
export const STREAM_FIELD = /\{([^{}]*)\}/g;

function checkStream(s: string): string | undefined {
  for (const m of s.matchAll(STREAM_FIELD)) {
    if (!/^[A-Za-z_][A-Za-z0-9_.@-]*$/.test(m[1])) {
      return `{${m[1]}} is not a field name: placeholders are {field}, a top-level event field`;
    }
  }
  if (/[{}]/.test(s.replace(STREAM_FIELD, ''))) return 'a { or } without its pair';
  return undefined;
}

const auth = nullable(
  object(
    {
      user: nullable(
        string({ doc: 'ACL user name (Redis 6+); null: the `default` user (`AUTH password`).' }),
      ),
      password: string({ doc: 'Password, e.g. "${REDIS_PASSWORD}".' }),
    },
    { doc: 'Credentials, instead of user:password@ in `url`; secrets via ${VAR}.' },
  ),
);

const tls = tlsSchema('TLS for rediss:// urls; files are read at start-up.');

const shape = object(
  {
    type: oneOf(['redis'], { doc: 'Adds every event to a Redis stream (XADD).' }),
    url: string({
      check: checkUrl,
      doc: 'redis://[user:password@]host:port/db, or rediss:// for TLS. Port 6379 and db 0 when left out.',
    }),
    auth,
    tls,
    stream: string({
      check: checkStream,
      doc: 'Stream key, e.g. logs. `{field}` takes a top-level event field (logs:{service}); a missing field is left empty.',
    }),
    maxlen: int({
      default: 1_000_000, // ~1 GB of typical nginx events in Redis: a bound, not an archive
      min: 0,
      doc: 'Trim each stream to about this many entries (XADD MAXLEN ~, cheap whole-node trimming); 0 = never trim.',
    }),
    encoding: oneOf(['fields', 'json'], {
      default: 'fields',
      doc: 'fields: each top-level event field is a stream field (objects and arrays as JSON). json: one field `event` holding the JSON event.',
    }),
    timeout: duration({
      default: '10s',
      min: '10ms',
      doc: 'Connecting, and each batch’s replies, give up after this; the batch is then retried.',
    }),
    healthcheck: bool({
      default: true,
      doc: 'Connect and PING at start-up; the agent does not start when Redis cannot be reached.',
    }),
    buffer: bufferSchema,
  },
  { doc: 'Adds every event to a Redis stream.' },
);

export const schema: Schema<RedisSinkConfig> = refine(shape, (c, at): RedisSinkConfig => {
  const target = parseRedisUrl(c.url);
  if (c.auth !== null && (target.username !== undefined || target.password !== undefined)) {
    at.child('auth').fail(
      'VES_CONFIG_INVALID',
      '`url` carries credentials too: keep them in one place',
      true,
    );
  }
  if ((c.tls.cert === null) !== (c.tls.key === null)) {
    at.child('tls').fail('VES_CONFIG_INVALID', '`cert` and `key` go together: set both or neither');
  }
  if (!target.tls && (c.tls.ca !== null || c.tls.cert !== null || !c.tls.verify)) {
    at.child('tls').fail('VES_CONFIG_INVALID', 'applies to rediss:// urls only; `url` is redis://');
  }
  return c;
});
