// The http sink's transport: one undici Pool per sink (keep-alive connections, one request on
// each), and the rules that sort an attempt's outcome into delivered, retry later, or refused.
//
//   2xx                         -> delivered (the format may still read per-item results)
//   network error, timeout      -> retry, exponential backoff with full jitter, capped
//   408, 429, 5xx               -> retry; 429 and 503 wait for Retry-After when it is given
//   other 4xx (and 1xx, 3xx)    -> refused for good: the write rejects with SinkRejectedError
//   a 5xx the format knows      -> refused for good (a ClickHouse parse error is a 500)

import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import { SinkRejectedError } from '../../errors.js';
import type { Format } from './formats/index.js';

/** What the sink needs from an answer. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body: whole for a 2xx the format reads, the start of it otherwise, empty if unread. */
  body: Buffer;
}

export type Outcome =
  | { kind: 'ok' }
  | { kind: 'retry'; why: string; status: number; waitMs: number | undefined }
  | { kind: 'refused'; status: number; detail: string };

/** The refusal reason carried on a rejected batch: the start of the answer. */
export const DETAIL_BYTES = 500;
/** Of a failed answer, read this much (a ClickHouse error is ~200 B; HTML error pages ~10 KiB). */
const ERROR_BODY_BYTES = 64 * 1024;
/** Of a 2xx the format reads (an Elasticsearch bulk answer, filtered to statuses): a bound on a
 *  misbehaving server, far above the ~40 B per item a filtered answer takes. */
const OK_BODY_BYTES = 64 * 1024 * 1024;
/** A Retry-After is honoured up to this: a bogus header must not park a sink for a day. */
const RETRY_AFTER_MAX_MS = 5 * 60 * 1000;

export interface ServiceOptions {
  uri: URL;
  /** Pooled connections = requests in flight at once. */
  connections: number;
  /** Connect, answer headers and answer body each within this. ms. */
  timeout: number;
  tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; verify: boolean };
}

export class HttpService {
  private readonly pool: Pool;

  constructor(o: ServiceOptions) {
    this.pool = new Pool(o.uri.origin, {
      connections: o.connections,
      // One request per connection at a time: a stalled answer then holds up no other batch.
      pipelining: 1,
      headersTimeout: o.timeout,
      bodyTimeout: o.timeout,
      connect: {
        timeout: o.timeout,
        rejectUnauthorized: o.tls.verify,
        ca: o.tls.ca,
        cert: o.tls.cert,
        key: o.tls.key,
      },
    });
  }

  /**
   * One request. `readOk`: the caller reads a 2xx body (else it is drained unread). Throws on
   * network errors and timeouts (undici's errors, with their `code`).
   */
  async send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer | null,
    readOk: boolean,
  ): Promise<Answer> {
    const res = await this.pool.request({ method: method as 'POST', path, headers, body });
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    let data: Buffer = EMPTY;
    if (ok && !readOk) await res.body.dump();
    else data = await readCapped(res.body, ok ? OK_BODY_BYTES : ERROR_BODY_BYTES);
    return { status: res.statusCode, headers: res.headers, body: data };
  }

  /** Waits for requests in flight, then closes the connections. */
  close(): Promise<void> {
    return this.pool.close();
  }

  /** Aborts requests in flight (they fail with UND_ERR_DESTROYED) and closes the connections. */
  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}

const EMPTY = Buffer.alloc(0);

/** Reads a body up to `limit` bytes; past it the stream is destroyed (the connection closes). */
async function readCapped(body: Readable, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(parts, Math.min(size, limit));
}

/** Sorts a non-network outcome. `format` may know that one of its server's 5xx is final. */
export function classify(answer: Answer, format: Format, now = Date.now()): Outcome {
  const s = answer.status;
  if (s >= 200 && s < 300) return { kind: 'ok' };
  const text = answer.body.toString('utf8');
  const retryable = s === 408 || s === 429 || s >= 500;
  if (retryable && !format.refusedForGood?.(s, text)) {
    const waitMs =
      s === 429 || s === 503 ? retryAfterMs(answer.headers['retry-after'], now) : undefined;
    return {
      kind: 'retry',
      why: `HTTP ${s}${text ? `: ${snippet(text, 200)}` : ''}`,
      status: s,
      waitMs,
    };
  }
  return { kind: 'refused', status: s, detail: detailOf(answer.body) };
}

/** The first DETAIL_BYTES bytes of an answer as text (cut on a character boundary). */
export function detailOf(body: Buffer): string {
  if (body.length <= DETAIL_BYTES) return body.toString('utf8');
  // toString drops a character cut in half as U+FFFD; strip that one replacement char.
  return body
    .subarray(0, DETAIL_BYTES)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
}

function snippet(text: string, max: number): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
}

/**
 * Retry-After (RFC 9110 10.2.3): delay-seconds or an HTTP-date. ms to wait, capped at
 * RETRY_AFTER_MAX_MS; undefined when absent or unreadable.
 */
export function retryAfterMs(
  value: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  let ms: number;
  if (/^\d+$/.test(v)) ms = Number(v) * 1000;
  else {
    // An HTTP-date starts with the day's name; Date.parse alone would read "-1" as a year.
    const at = /^[A-Za-z]/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, RETRY_AFTER_MAX_MS);
}

/**
 * The wait before retry number `attempt` (1-based): "full jitter" (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): uniform in [0, min(cap, initial * 2^(attempt-1))), so
 * many agents that failed together do not come back together.
 */
export function backoffMs(
  attempt: number,
  initial: number,
  cap: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(cap, initial * 2 ** Math.min(attempt - 1, 40));
  return Math.floor(random() * ceiling);
}

/** True for an error that retrying cannot fix (a refusal): the pipeline dead-letters the batch. */
export function isPermanent(err: unknown): boolean {
  return (
    err instanceof SinkRejectedError ||
    (typeof err === 'object' && err !== null && (err as { permanent?: unknown }).permanent === true)
  );
}

/** TLS failures: named, with what to change (they are otherwise a bare OpenSSL code). */
const TLS_HINTS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'set tls.ca to the certificate that signed it',
  SELF_SIGNED_CERT_IN_CHAIN: 'set tls.ca to the CA that signed it',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'set tls.ca to the CA that signed it',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'set tls.ca to the CA that signed it',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID:
    'the certificate does not name this host; use the name it has in uri',
};

/** A network error as one line: its code, message, and a hint for TLS ones. */
export function describeError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code;
  const msg = e.message ?? String(err);
  const hint = code ? TLS_HINTS[code] : undefined;
  const text = code && !msg.includes(code) ? `${code}: ${msg}` : msg;
  return hint ? `${text} (${hint}, or tls.verify: false for tests)` : text;
}
