// Shared by the http source tests: a source on an ephemeral loopback port with a context that
// records what it emits and lets the test commit marks (as the acker would), and a raw client
// that reports the answer even when the server answers before the body was sent.

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { decodeValue } from '../../../src/config/schema.js';
import type { HttpSourceConfig } from '../../../src/config/types.js';
import { Counters, type SourceCounters } from '../../../src/observe/counters.js';
import type { AckMark, LineChunk, SourceContext } from '../../../src/pipeline/types.js';
import { schema } from '../../../src/sources/http/config.js';
import { build, type HttpSource } from '../../../src/sources/http/source.js';
import { captureLogger, type LogRecord } from '../../helpers/logger.js';
import { MemoryCheckpoints } from '../../helpers/memory-checkpoints.js';

export interface Harness {
  src: HttpSource;
  config: HttpSourceConfig;
  /** http://127.0.0.1:port/v1/logs */
  url: string;
  chunks: LineChunk[];
  records: LogRecord[];
  /** The source's totals as the pipeline would hold them (requests by status, bytes). */
  counters: SourceCounters;
  /** Commit marks up to and including request #offset, as the acker does. */
  commit(offset: number): void;
  /** The mark of the last emitted chunk that carries one. */
  lastMark(): AckMark | null;
  /** Every emitted line, as text. */
  lines(): string[];
  stop(): Promise<void>;
}

/** Config keys as YAML would give them (`max_body_bytes: 1KiB`), defaults from the schema. */
export async function startSource(
  keys: Record<string, unknown> = {},
  opts: { ctx?: Partial<SourceContext> } = {},
): Promise<Harness> {
  const config = decodeValue(
    schema,
    { type: 'http', address: '127.0.0.1:0', ...keys },
    'test.yaml',
  );
  const chunks: LineChunk[] = [];
  const { log, records } = captureLogger();
  const agent = new Counters();
  const counters: SourceCounters = agent.source('fleet');
  let listener: ((m: AckMark) => void) | undefined;
  const ctx: SourceContext = {
    id: 'fleet',
    dataDir: '/nonexistent',
    log,
    checkpoints: new MemoryCheckpoints(),
    emit: (c) => chunks.push(c),
    done: () => undefined,
    onCommit: (l) => (listener = l),
    counters: agent,
    ...opts.ctx,
  };
  const src = await build(config, ctx);
  await src.start();
  return {
    src,
    config,
    url: `${src.url}/v1/logs`,
    chunks,
    records,
    counters,
    commit(offset) {
      listener!({ sourceId: 'fleet', key: 'http', offset, path: '-' });
    },
    lastMark() {
      for (let i = chunks.length - 1; i >= 0; i--) if (chunks[i].mark) return chunks[i].mark;
      return null;
    },
    lines() {
      return chunks.flatMap((c) => c.buf.toString('utf8').split('\n').slice(0, -1));
    },
    stop: () => src.stop(),
  };
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed JSON body. */
  json: Record<string, unknown>;
}

export interface PostOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Send no Content-Length (chunked). */
  chunked?: boolean;
  /** TLS: trust this CA. */
  ca?: Buffer;
  /** Send `Expect: 100-continue` and the body only once the server says 100 Continue. */
  expectContinue?: boolean;
}

/**
 * One request on a fresh connection. Resolves with the answer as soon as it arrives, even if
 * the server answered before reading the body and the rest of the upload then failed.
 */
export function post(url: string, body: Buffer | string, opts: PostOptions = {}): Promise<Answer> {
  const data = typeof body === 'string' ? Buffer.from(body) : body;
  const headers: Record<string, string> = { ...opts.headers };
  if (!opts.chunked) headers['content-length'] = String(data.length);
  if (opts.expectContinue) headers.expect = '100-continue';
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: opts.method ?? 'POST',
      headers,
      agent: false,
      ca: opts.ca,
    });
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', () => undefined);
      const done = (): void => {
        const text = Buffer.concat(parts).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          // not JSON (204)
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
      };
      res.on('end', done);
      res.on('close', done);
    });
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (err) => {
      // EPIPE/ECONNRESET after the answer came: the server closed without reading the rest.
      if (!answered) reject(err);
    });
    if (opts.expectContinue) {
      // The body goes only after 100 Continue; a refusal comes instead of it.
      req.on('continue', () => req.end(data));
      req.flushHeaders();
    } else req.end(data);
  });
}

/** `n` NDJSON lines `{"message":"<tag>-<i>","i":<i>}`. */
export function ndjson(n: number, tag = 'm'): string {
  let s = '';
  for (let i = 0; i < n; i++) s += `{"message":"${tag}-${i}","i":${i}}\n`;
  return s;
}
