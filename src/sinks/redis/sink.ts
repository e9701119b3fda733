// The `redis` sink: every event of a batch becomes one XADD (MAXLEN ~ trimming) to a Redis
// stream, all of a batch's XADDs pipelined in one write and one round trip (ioredis). Issue #6.
//
// Delivery: write() resolves once Redis answered every XADD with an entry id. A connection
// error, a timeout or a transient refusal (OOM, LOADING, READONLY, NOAUTH...) rejects it and the
// sink runner retries the batch; only the events Redis has not stored yet are sent again (the
// per-batch progress below), so a retry duplicates at most the events whose XADD reached Redis
// but whose reply was lost. A refusal that cannot change by retrying (WRONGTYPE: the key holds
// another type; a syntax error) is permanent: those events are dead-lettered.
//
// Why a pipeline and not MULTI/EXEC: the XADDs of a batch are independent (nothing needs them
// atomic), MULTI/EXEC would still apply the commands before a failing one (Redis has no
// rollback), and per-command replies are what lets a retry send only the events not stored.

import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisSinkConfig } from '../../config/types.js';
import { SinkRejectedError, VesError } from '../../errors.js';
import type { Batch, ComponentContext, Sink } from '../../pipeline/types.js';
import { readTlsFiles, type TlsFiles } from '../tls.js';
import { parseRedisUrl, STREAM_FIELD, type RedisTarget } from './config.js';

/** The field of `encoding: json`, and of an event that has no fields of its own (`{}`). */
const EVENT_FIELD = 'event';

/** Reconnects after a lost connection: 100 ms more per attempt, at most 2 s apart, so a Redis
 *  that is back is found within 2 s; the runner's retries of batches back off on their own. */
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 2000;

/** Connection errors repeat per reconnect attempt: one warning per 10 s, with the count. */
const ERROR_LOG_EVERY_MS = 10_000;

/** At close, replies still in flight get 1 s before the connection is dropped: the runner
 *  already gave its writes their time, and a graceful stop has a deadline. */
const QUIT_WAIT_MS = 1000;

/**
 * Reply errors that may pass without any change to the batch: the server is busy, loading,
 * out of memory, a replica, or the credentials or ACLs are being fixed. Any other reply error
 * (WRONGTYPE, ERR ...) is about the command itself, and permanent.
 */
const TRANSIENT_REPLIES = new Set([
  'BUSY',
  'LOADING',
  'MASTERDOWN',
  'MISCONF',
  'NOREPLICAS',
  'OOM',
  'READONLY',
  'TRYAGAIN',
  'CLUSTERDOWN',
]);
/** Reply errors about who we are: retried (an operator can fix the ACL), logged as such. */
const AUTH_REPLIES = new Set(['NOAUTH', 'WRONGPASS', 'NOPERM']);

/** Per event of a batch in progress: not stored yet, stored, or refused for good. */
const PENDING = 0;
const STORED = 1;
const REFUSED = 2;

export async function build(config: RedisSinkConfig, ctx: ComponentContext): Promise<RedisSink> {
  const target = parseRedisUrl(config.url);
  const tls = target.tls ? await readTlsFiles(config.tls, ctx.id) : null;
  return new RedisSink(config, ctx, target, tls);
}

export class RedisSink implements Sink {
  readonly wants = { ndjson: true, raw: false };
  private readonly client: Redis;
  private readonly where: string;
  /** `stream` split at its placeholders: [literal, field, literal, field, ..., literal]. */
  private readonly keyParts: string[];
  /** XADD arguments between the key and the fields: MAXLEN ~ n * (or just *). */
  private readonly trim: string[];
  private readonly parse: boolean;
  /**
   * Which events of a batch Redis already stored (or refused), kept while the runner retries
   * it: the runner calls write() again with the same Batch object. Weak: a batch that is
   * dropped (the runner stopped) takes its entry with it.
   */
  private readonly progress = new WeakMap<Batch, Uint8Array>();
  private closed = false;
  /** Past the health check: connection errors are logged (before it, its own error says all). */
  private started: boolean;
  /** Connection errors since the last warning, and the last one (writes quote it). */
  private errors = { count: 0, loggedAt: -Infinity, last: '', lastError: null as unknown };

  constructor(
    private readonly config: RedisSinkConfig,
    private readonly ctx: ComponentContext,
    target: RedisTarget,
    tls: TlsFiles | null,
  ) {
    this.where = target.where;
    this.started = !config.healthcheck;
    this.keyParts = config.stream.split(STREAM_FIELD);
    this.trim = config.maxlen > 0 ? ['MAXLEN', '~', String(config.maxlen), '*'] : ['*'];
    // One JSON.parse per event, only when something needs its fields: `encoding: fields`, or
    // a stream key taken from a field. `json` with a fixed key sends each line as it is.
    this.parse = config.encoding === 'fields' || this.keyParts.length > 1;
    const options: RedisOptions = {
      host: target.host,
      port: target.port,
      db: target.db,
      username: config.auth?.user ?? target.username,
      password: config.auth?.password ?? target.password,
      connectionName: 'ves-log-collector',
      lazyConnect: true,
      connectTimeout: config.timeout,
      // No commandTimeout: it arms a timer per command, 1000 per batch (measured: 1% of the
      // agent's CPU, and more in GC). One timer per batch does the job: see replies().
      // Not connected: a write fails at once (and the runner backs off) instead of queueing
      // batches in the client's memory, where no bound or buffer of ours would see them.
      enableOfflineQueue: false,
      // A connection lost with XADDs in flight rejects them at once (0 reconnects to wait for),
      // rather than re-sending them itself: the retry stays with the runner and its progress.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
    };
    if (tls !== null) {
      options.tls = {
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: config.tls.verify,
        // SNI takes a host name only (RFC 6066); an IP address is checked against the IP SANs.
        servername: isIP(target.host) === 0 ? target.host : undefined,
      };
    }
    this.client = new Redis(options);
    // Without a listener ioredis prints every connection error to the console itself.
    this.client.on('error', (err: Error) => this.connectionError(err));
    // A server that stops cleanly (FIN) closes the connection without an 'error'.
    this.client.on('close', () => this.connectionError(null));
    this.client.on('ready', () => {
      if (this.errors.loggedAt === -Infinity) return; // the first connection: nothing to say
      this.ctx.log.info('Redis connection restored', { url: this.where });
      this.errors.loggedAt = -Infinity; // the next failure is reported at once
    });
    // Without a health check, connect now; errors reach on('error'), writes wait for 'ready'.
    if (!config.healthcheck) this.client.connect().catch(() => undefined);
  }

  /** Connects and PINGs; names the URL (never its password) when Redis cannot be used. */
  async healthcheck(): Promise<void> {
    if (!this.config.healthcheck) return;
    try {
      await this.client.connect();
      const pong = await this.replies(this.client.ping());
      if (pong !== 'PONG') throw new Error(`answered ${JSON.stringify(pong)} to PING`);
      this.started = true;
    } catch (caught) {
      // A refused AUTH comes as an 'error' event; connect() then only says the connection closed.
      const err = this.errors.lastError ?? caught;
      const kind = replyKind(err);
      const hint = AUTH_REPLIES.has(kind)
        ? ' (check `auth`, or the user:password in `url`)'
        : kind === ''
          ? ' (is redis-server running there?)'
          : '';
      // Stop reconnecting in the background: the agent is not starting.
      this.client.disconnect();
      throw new VesError(
        'VES_SINK_HEALTHCHECK',
        `sink ${this.ctx.id}: Redis at ${this.where} cannot be used: ${describe(err)}${hint}`,
        undefined,
        { cause: err },
      );
    }
  }

  async write(batch: Batch): Promise<void> {
    const lines = batch.ndjson;
    if (lines === null || lines.length === 0) return;
    if (this.closed) throw this.closedError();
    if (this.client.status === 'wait') {
      // Never connected: built without a health check (a test, or `healthcheck: false`
      // before its background connect started). Connect now; a failure is retried.
      await this.client.connect().catch((err: unknown) => {
        throw this.retryable(err);
      });
    } else if (this.client.status !== 'ready') throw this.notConnected();
    let state = this.progress.get(batch);
    if (state === undefined) {
      // Counted, not taken from batch.events: each reply must match the line it answers.
      state = new Uint8Array(countLines(lines));
      this.progress.set(batch, state);
    }
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.replies(this.send(lines, state).exec());
    } catch (err) {
      throw this.retryable(err);
    }
    // The replies come in the order of the XADDs: match them to the events sent.
    let transient: unknown = null;
    let refusal: Error | null = null;
    let r = 0;
    for (let i = 0; i < state.length; i++) {
      if (state[i] !== PENDING) continue;
      const [err] = replies?.[r++] ?? [new Error('no reply')];
      if (err === null) state[i] = STORED;
      else if (isPermanent(err)) {
        state[i] = REFUSED;
        refusal ??= err;
      } else transient ??= err;
    }
    if (transient !== null) throw this.retryable(transient);
    this.progress.delete(batch);
    if (refusal !== null) throw this.rejected(lines, state, refusal);
  }

  /** Queues one XADD per event not stored yet, and returns the pipeline to exec. */
  private send(lines: Buffer, state: Uint8Array): ReturnType<Redis['pipeline']> {
    const pipe = this.client.pipeline();
    const parse = this.parse;
    const byField = this.config.encoding === 'fields';
    const fixedKey = this.keyParts.length === 1 ? this.keyParts[0] : null;
    let start = 0;
    for (let i = 0; i < state.length && start < lines.length; i++) {
      let end = lines.indexOf(10, start);
      if (end === -1) end = lines.length;
      if (state[i] === PENDING) {
        const args: (string | Buffer)[] = [];
        let event: Record<string, unknown> | null = null;
        if (parse) event = parseEvent(lines.toString('utf8', start, end));
        args.push(fixedKey ?? this.streamKey(event), ...this.trim);
        // encoding: json, or an event with no field to spread: the JSON line as it is.
        const spread = byField && event !== null && pushFields(event, args);
        if (!spread) args.push(EVENT_FIELD, lines.subarray(start, end));
        pipe.call('xadd', args);
      }
      start = end + 1;
    }
    return pipe;
  }

  /**
   * `pending`, or a rejection once `timeout` passed without all replies. Then the connection is
   * dropped and made again: what it still waited for is rejected (maxRetriesPerRequest: 0), and
   * a connection that died without a FIN (a half-open socket) is not waited on for ever.
   */
  private async replies<T>(pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const ms = this.config.timeout;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no reply within ${ms} ms (timeout); reconnecting`));
        this.client.disconnect(true);
      }, ms);
    });
    pending.catch(() => undefined); // settles after the race was lost: not an unhandled error
    try {
      return await Promise.race([pending, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** `stream` with its {field} placeholders filled from the event (missing: empty). */
  private streamKey(event: Record<string, unknown> | null): string {
    const parts = this.keyParts;
    let key = parts[0];
    for (let p = 1; p < parts.length; p += 2) {
      const v = event?.[parts[p]];
      if (typeof v === 'string') key += v;
      else if (typeof v === 'number' || typeof v === 'boolean') key += String(v);
      key += parts[p + 1];
    }
    return key;
  }

  private retryable(err: unknown): VesError {
    if (this.closed) return this.closedError();
    const auth = AUTH_REPLIES.has(replyKind(err));
    return new VesError(
      auth ? 'VES_SINK_AUTH' : 'VES_SINK_WRITE',
      `sink ${this.ctx.id}: Redis at ${this.where} did not store the batch: ${describe(err)}` +
        (auth ? ' (check `auth`, or the user:password in `url`, and the ACL of that user)' : ''),
      undefined,
      { cause: err },
    );
  }

  /** The refused events, as NDJSON lines, for the dead-letter file. */
  private rejected(lines: Buffer, state: Uint8Array, first: Error): SinkRejectedError {
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < state.length && start < lines.length; i++) {
      let end = lines.indexOf(10, start);
      if (end === -1) end = lines.length - 1;
      if (state[i] === REFUSED) parts.push(lines.subarray(start, end + 1));
      start = end + 1;
    }
    const detail = first.message.slice(0, 500);
    const part = parts.length === state.length ? 'a batch' : `${parts.length} events of a batch`;
    return new SinkRejectedError(
      `sink ${this.ctx.id}: Redis at ${this.where} refused ${part} for good: ${detail}`,
      0,
      detail,
      Buffer.concat(parts),
      parts.length,
    );
  }

  /** An 'error' of the connection, or (null) its 'close': counted, warned about every 10 s. */
  private connectionError(err: Error | null): void {
    const e = this.errors;
    e.count++;
    // A refused connection is followed by its close: keep the error that says why.
    if (err !== null) {
      e.last = describe(err);
      e.lastError = err;
    } else if (e.last === '') e.last = 'connection closed';
    const now = Date.now();
    if (this.closed || !this.started || now - e.loggedAt < ERROR_LOG_EVERY_MS) return;
    this.ctx.log.warn('Redis connection failed; reconnecting', {
      code: 'VES_SINK_WRITE',
      url: this.where,
      error: err === null ? 'connection closed' : e.last,
      errors: e.count,
    });
    e.count = 0;
    e.loggedAt = now;
  }

  /** QUIT once the replies in flight are in (up to QUIT_WAIT_MS), then drop the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    if (client.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.quit().catch(() => undefined),
        new Promise<void>((r) => (timer = setTimeout(r, QUIT_WAIT_MS))),
      ]);
      clearTimeout(timer);
    }
    // Also ends reconnecting, and rejects what still waits for a reply.
    client.disconnect();
  }

  /** Not connected (yet, or any more): fail at once, the runner retries after its backoff. */
  private notConnected(): VesError {
    const last = this.errors.last === '' ? '' : `; last error: ${this.errors.last}`;
    return new VesError(
      'VES_SINK_WRITE',
      `sink ${this.ctx.id}: not connected to Redis at ${this.where} (${this.client.status}${last})`,
    );
  }

  private closedError(): VesError {
    return new VesError(
      'VES_SINK_WRITE',
      `sink ${this.ctx.id}: closed before Redis at ${this.where} stored the batch; it is sent again after the next start`,
    );
  }
}

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  // A last line without its newline still is an event.
  return buf[buf.length - 1] === 10 ? n : n + 1;
}

/** An event's fields; null when the line is not a JSON object (then sent whole as `event`). */
function parseEvent(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : null;
  } catch {
    return null; // the encoder writes valid JSON; a damaged line still loses nothing
  }
}

/** Appends name, value for each top-level field; false when the event has none. */
function pushFields(event: Record<string, unknown>, args: (string | Buffer)[]): boolean {
  const before = args.length;
  for (const name in event) {
    const v = event[name];
    // Strings as they are, numbers and booleans as their JSON text, the rest (objects, arrays,
    // null) as JSON: a reader gets back what the event held.
    args.push(
      name,
      typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v),
    );
  }
  return args.length > before;
}

/** The first word of a Redis reply error (WRONGTYPE, NOAUTH...); '' for any other error. */
function replyKind(err: unknown): string {
  const e = err as { name?: string; message?: string } | null;
  if (e?.name !== 'ReplyError' || typeof e.message !== 'string') return '';
  const space = e.message.indexOf(' ');
  return space === -1 ? e.message : e.message.slice(0, space);
}

/** Refused for good: a reply error that is neither transient nor about credentials. */
function isPermanent(err: unknown): boolean {
  const kind = replyKind(err);
  return kind !== '' && !TRANSIENT_REPLIES.has(kind) && !AUTH_REPLIES.has(kind);
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0]);
  const e = err as { message?: string; code?: string } | null;
  const msg = e?.message || e?.code || String(err);
  return msg;
}
