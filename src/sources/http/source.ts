// The `http` source: `POST /v1/logs` with NDJSON bodies (plain, gzip or zstd), what our http sink
// sends with `format: ndjson`. A request is answered 200 only once every sink acknowledged its
// events (delivered, or in a disk buffer), so an agent's retry never loses a line.
//
//   request ─ route, auth ─ admission (requests, bytes) ─ read (≤ max_body_bytes) ─ decode
//     ─ check every line ─ emit chunks (last one carries mark #seq) ─ wait for commit of #seq ─ 200
//
// Refusals: 404/405 (wrong path/method), 401 (token), 415 (encoding), 413 (too large, as sent
// or inflated), 400 (the first line that is not a JSON object; nothing of it is taken), 503 +
// Retry-After (over the in-flight bounds, the pipeline paused us, stopping, or no ack within
// ack_timeout). A refusal before the body is read closes the connection (body unread).

import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Server } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpSourceConfig } from '../../config/types.js';
import { boundUrl, listen } from '../../engine/listen.js';
import { VesError } from '../../errors.js';
import { readServerTls } from '../tls.js';
import type { AckMark, Source, SourceContext } from '../../pipeline/types.js';
import {
  BodyError,
  bodyEncoding,
  decodeBody,
  prepareZstd,
  splitBody,
  type BodyEncoding,
} from './body.js';

/**
 * 256 KiB chunks: the file source's read size, so a big body is parsed in pieces the parse
 * workers take (their rings hold records of up to 512 KiB) rather than all on the main thread.
 */
const CHUNK_BYTES = 256 * 1024;
/** The one mark key of this source: marks are request numbers, committed in order. */
const MARK_KEY = 'http';
const PATH = '/v1/logs';

export interface HttpSource extends Source {
  /** `http(s)://host:port` as bound once started (the real port when 0 was asked for). */
  readonly url: string;
}

/** A request whose events are in the pipeline, waiting for the commit of its mark. */
interface Waiting {
  seq: number;
  events: number;
  /** null once answered (ack timeout, or the client went away). */
  res: ServerResponse | null;
  timer: NodeJS.Timeout;
}

export async function build(config: HttpSourceConfig, ctx: SourceContext): Promise<HttpSource> {
  const sourceId = ctx.id;
  const log = ctx.log;
  if (ctx.onCommit === undefined) {
    throw new VesError('VES_INTERNAL', 'the http source needs a pipeline that reports commits');
  }
  // zstd is native: load it now so a broken install fails at start, not on the first request.
  await prepareZstd().catch((err: Error) => {
    throw new VesError(
      'VES_SOURCE_LISTEN',
      `sources.${sourceId}: cannot load @mongodb-js/zstd to read zstd bodies (${err.message}); reinstall the agent with npm`,
    );
  });
  const tls = config.tls === null ? null : await readServerTls(sourceId, config.tls);
  const expected = config.auth === null ? null : digest(`Bearer ${config.auth.token}`);
  const maxBody = config.max_body_bytes;
  const maxRequests = config.max_in_flight_requests;
  const maxBytes = config.max_in_flight_bytes;
  const retryAfter = String(Math.max(1, Math.ceil(config.retry_after / 1000)));
  // Requests by status and bytes as received, for /metrics (kept across a reload's rebuild).
  const stats = ctx.counters?.source(sourceId) ?? {
    lines: 0,
    bytes: 0,
    dropped: 0,
    connections: 0,
  };
  const http = (stats.http ??= { requests: new Map<number, number>(), bytes: 0 });
  const requests = http.requests;

  let inFlightRequests = 0;
  let inFlightBytes = 0;
  let paused = false;
  let stopping = false;
  let started = false;
  let url = '';
  /** Request numbers: each request's last chunk carries mark #seq (emit order = seq order). */
  let seq = 0;
  /** Requests waiting for their commit, in seq order (at most max_in_flight_requests). */
  const waiting: Waiting[] = [];

  ctx.onCommit((mark: AckMark) => {
    // Marks commit in batch order and a batch keeps the furthest mark of this source, so the
    // commit of #n means every request up to n is acknowledged by every sink.
    const upTo = mark.offset;
    while (waiting.length > 0 && waiting[0].seq <= upTo) {
      const w = waiting.shift()!;
      clearTimeout(w.timer);
      if (w.res !== null) send(w.res, 200, { accepted: w.events });
    }
  });

  const send = (res: ServerResponse, status: number, body: object, close = false): void => {
    if (res.headersSent || res.destroyed) return;
    requests.set(status, (requests.get(status) ?? 0) + 1);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 503) headers['retry-after'] = retryAfter;
    if (status === 401) headers['www-authenticate'] = 'Bearer';
    if (status === 405 || status === 204) headers.allow = 'POST, OPTIONS';
    // A refusal before the body was read ends the connection: the unread body cannot be
    // skipped to reach a next request. While stopping, no connection is kept either.
    if (close || stopping) headers.connection = 'close';
    const text =
      status === 204 ? '' : JSON.stringify(status < 300 ? body : { status, ...body }) + '\n';
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(status, headers);
    res.end(text);
  };

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    error: string,
    close: boolean,
  ): void => {
    log.debug('http request refused', { status, error, peer: peerOf(req) });
    send(res, status, { error }, close);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    // Nothing below reads the body: a refusal here leaves it unread and closes the connection.
    if (path !== PATH) {
      if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
        const why = stopping ? 'stopping' : paused ? 'busy: the pipeline is catching up' : null;
        send(res, why === null ? 200 : 503, why === null ? { status: 'ok' } : { error: why });
        return;
      }
      refuse(req, res, 404, `not found: POST ${PATH} takes logs`, true);
      return;
    }
    if (req.method === 'OPTIONS') {
      // The http sink's start-up probe (OPTIONS uri) lands here.
      send(res, 204, {});
      return;
    }
    if (req.method !== 'POST') {
      refuse(req, res, 405, `method ${req.method} not allowed: use POST`, true);
      return;
    }
    if (expected !== null && !authorized(req.headers.authorization, expected)) {
      refuse(req, res, 401, 'missing or wrong bearer token', true);
      return;
    }
    if (stopping) {
      refuse(req, res, 503, 'the agent is stopping', true);
      return;
    }
    if (paused) {
      refuse(req, res, 503, 'busy: the pipeline is catching up', true);
      return;
    }
    const encoding = bodyEncoding(req.headers['content-encoding']);
    if (encoding === null) {
      refuse(req, res, 415, 'unsupported Content-Encoding: use zstd, gzip or none', true);
      return;
    }
    const lengthHeader = req.headers['content-length'];
    const length = lengthHeader === undefined ? -1 : Number(lengthHeader);
    if (length > maxBody) {
      refuse(req, res, 413, `body over max_body_bytes (${maxBody})`, true);
      return;
    }
    // Admission: a slot, and the body's bytes when the length is known (else counted as read).
    if (inFlightRequests >= maxRequests || inFlightBytes + Math.max(length, 0) > maxBytes) {
      refuse(req, res, 503, 'busy: too many requests in flight', true);
      return;
    }
    admit(req, res, encoding, length);
  };

  function admit(
    req: IncomingMessage,
    res: ServerResponse,
    encoding: BodyEncoding,
    length: number,
  ): void {
    inFlightRequests++;
    // `Expect: 100-continue` (see checkContinue below): admitted, so the body may come now.
    if (req.headers.expect !== undefined) res.writeContinue();
    let held = length > 0 ? length : 0;
    inFlightBytes += held;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      inFlightRequests--;
      inFlightBytes -= held;
    };
    // Answered, failed or abandoned: the slot and its bytes are free again.
    res.once('close', release);

    const parts: Buffer[] = [];
    let received = 0;
    let failed = false;
    const fail = (status: number, error: string): void => {
      failed = true;
      req.off('data', onData);
      refuse(req, res, status, error, true);
    };
    const onData = (c: Buffer): void => {
      received += c.length;
      http.bytes += c.length;
      if (received > maxBody) return fail(413, `body over max_body_bytes (${maxBody})`);
      if (length < 0) {
        held += c.length;
        inFlightBytes += c.length;
        if (inFlightBytes > maxBytes) return fail(503, 'busy: too many bytes in flight');
      }
      parts.push(c);
    };
    req.on('data', onData);
    // A client that goes away mid-body: req errors or closes before 'end'; nothing was emitted.
    req.on('error', () => undefined);
    req.once('end', () => {
      if (failed) return;
      const body = parts.length === 1 ? parts[0] : Buffer.concat(parts, received);
      parts.length = 0;
      accept(req, res, body, encoding, (bytes) => {
        // The inflated body replaces the bytes as sent in the count.
        inFlightBytes += bytes - held;
        held = bytes;
        return inFlightBytes <= maxBytes;
      }).catch((err: Error) => {
        log.error('http request failed', { code: 'VES_INTERNAL', error: err.message });
        send(res, 500, { error: 'internal error' });
      });
    });
  }

  async function accept(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    encoding: BodyEncoding,
    hold: (bytes: number) => boolean,
  ): Promise<void> {
    const readAt = performance.now();
    let data: Buffer;
    try {
      data = await decodeBody(body, encoding, maxBody);
    } catch (err) {
      if (!(err instanceof BodyError)) throw err;
      refuse(req, res, err.status, err.message, false);
      return;
    }
    if (res.destroyed) return; // the client left while the body was inflated
    if (data !== body && !hold(data.length)) {
      refuse(req, res, 503, 'busy: too many bytes in flight', false);
      return;
    }
    if (stopping) {
      refuse(req, res, 503, 'the agent is stopping', false);
      return;
    }
    const split = splitBody(data, CHUNK_BYTES);
    if ('line' in split) {
      refuse(
        req,
        res,
        400,
        `line ${split.line}: ${split.reason}; nothing of this request was accepted`,
        false,
      );
      return;
    }
    if (split.events === 0) {
      send(res, 200, { accepted: 0 });
      return;
    }
    // All checked: the whole request enters the pipeline now, in one synchronous run, so its
    // chunks are contiguous and its mark comes after all of them.
    const n = ++seq;
    const peer = peerOf(req);
    const { chunks, lines } = split;
    const last = chunks.length - 1;
    for (let i = 0; i <= last; i++) {
      const mark: AckMark | null =
        i === last ? { sourceId, key: MARK_KEY, offset: n, path: peer } : null;
      ctx.emit({
        sourceId,
        path: peer, // the events' `source` only with forwarded: false (else the line's own)
        buf: chunks[i],
        lines: lines[i],
        truncated: false, // lines are never cut: forwarded lines' own `truncated` may stand
        mark,
        readAt,
      });
    }
    const w: Waiting = {
      seq: n,
      events: split.events,
      res,
      timer: setTimeout(() => {
        // At-least-once: the events may still be delivered; the client sends them again.
        w.res = null;
        refuse(
          req,
          res,
          503,
          `not acknowledged by every sink within ack_timeout (${config.ack_timeout} ms)`,
          false,
        );
      }, config.ack_timeout),
    };
    w.timer.unref();
    res.once('close', () => (w.res = null));
    waiting.push(w);
  }

  // The TLS files were tried at readServerTls: creating the server cannot fail on them.
  const server: Server = tls === null ? createServer(onRequest) : createTlsServer(tls, onRequest);

  // A client that sends `Expect: 100-continue` waits for our go before sending its body: it is
  // given only once admitted, so a refusal costs it no upload at all.
  server.on('checkContinue', onRequest);

  return {
    get url() {
      return url;
    },
    async start() {
      if (started || stopping) return;
      started = true;
      const what = `sources.${sourceId}.address`;
      const bound = await listen(server, config.address, what, 'VES_SOURCE_LISTEN');
      url = boundUrl(bound, tls === null ? 'http' : 'https');
      log.info('http source listening', { url: `${url}${PATH}`, tls: tls !== null });
    },
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      // Stop listening (a reload binds the same address next) and drop idle keep-alive
      // connections. Requests being read get 503 when their body ends (nothing more is
      // emitted from now on); those waiting for acks are answered as the pipeline drains.
      if (started) server.close();
      (server as import('node:http').Server).closeIdleConnections?.();
    },
  };
}

/** sha256 of a header value: compared in constant time, on equal lengths whatever was sent. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  // RFC 6750: the scheme is case-insensitive; one space before the token (as the sink sends).
  const value =
    header.length > 7 && header.slice(0, 7).toLowerCase() === 'bearer '
      ? `Bearer ${header.slice(7).trim()}`
      : header;
  return timingSafeEqual(digest(value), expected);
}

/** The client's IP address (IPv4 without its ::ffff: prefix): the `source` of its events. */
function peerOf(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '-';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}
