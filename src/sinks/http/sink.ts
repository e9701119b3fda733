// The `http` sink: each batch is encoded by its format, compressed off the main thread and sent
// on a keep-alive pool, up to `concurrency` at once, retried inside write() until delivered.
// write() resolves once the server took the batch; it rejects with a SinkRejectedError
// (permanent, dead-lettered by the pipeline) when the server refuses it for good.

import type { HttpSinkConfig } from '../../config/types.js';
import { SinkRejectedError, VesError } from '../../errors.js';
import type { Batch, ComponentContext, Sink } from '../../pipeline/types.js';
import { registerSecret } from '../../observe/logger.js';
import { VERSION } from '../../version.js';
import { readTlsFiles, type TlsFiles } from '../tls.js';
import { compress, CONTENT_ENCODING, prepare } from './compress.js';
import { makeFormat, type Format, type Verdict } from './formats/index.js';
import {
  backoffMs,
  classify,
  describeError,
  detailOf,
  DETAIL_BYTES,
  HttpService,
  type Outcome,
} from './service.js';

/** Per-sink totals, read by the stats line and /metrics. */
export interface HttpSinkStats {
  /** Requests sent (every attempt). */
  requests: number;
  /** Attempts that were retried (whole batches, or the items a bulk answer asked for again). */
  retries: number;
  /** Request body bytes sent, after compression. */
  bytesSent: number;
  /** Events refused for good (dead-lettered), plus those an OTLP partialSuccess dropped. */
  rejected: number;
}

/** Retry warnings: every one of the first few, then one in ten (a dead receiver is a long story). */
const WARN_FIRST_ATTEMPTS = 3;
const WARN_EVERY_ATTEMPTS = 10;

export async function build(config: HttpSinkConfig, ctx: ComponentContext): Promise<HttpSink> {
  const tls = await readTlsFiles(config.tls, ctx.id);
  await prepare(config.compression);
  return new HttpSink(config, ctx, tls);
}

export class HttpSink implements Sink {
  readonly wants = { ndjson: true, raw: false };
  /** Writes the sink takes at once (requests in flight); the pipeline's runner reads it. */
  readonly concurrency: number;
  readonly stats: HttpSinkStats = { requests: 0, retries: 0, bytesSent: 0, rejected: 0 };
  private readonly service: HttpService;
  private readonly format: Format;
  private readonly headers: Record<string, string>;
  private readonly probeHeaders: Record<string, string>;
  /** origin + path, for messages: a query string may carry a token, a uri never logs it. */
  private readonly where: string;
  /** Writes holding a request slot, and those waiting for one (FIFO: batches start in order). */
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Retry sleeps in progress; close() cuts them short. */
  private readonly sleepers = new Set<() => void>();

  constructor(
    private readonly config: HttpSinkConfig,
    private readonly ctx: ComponentContext,
    tls: TlsFiles,
  ) {
    const uri = new URL(config.uri);
    this.where = uri.origin + uri.pathname;
    this.concurrency = config.concurrency;
    this.format = makeFormat(config);
    this.service = new HttpService({
      uri,
      connections: config.concurrency,
      timeout: config.timeout,
      tls: { ...tls, verify: config.tls.verify },
    });
    // Lower-case names, so a configured Content-Type replaces ours instead of doubling it.
    const common: Record<string, string> = { 'user-agent': `ves-log-collector/${VERSION}` };
    for (const [name, value] of Object.entries(config.headers)) common[name.toLowerCase()] = value;
    const auth = config.auth;
    if (auth !== null) {
      // Never in a log line, /stats or /health, whoever quotes them (observe/logger.ts).
      if (auth.strategy === 'bearer') registerSecret(auth.token);
      else {
        registerSecret(auth.password);
        registerSecret(Buffer.from(`${auth.user}:${auth.password}`).toString('base64'));
      }
      common.authorization =
        auth.strategy === 'bearer'
          ? `Bearer ${auth.token}`
          : `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    }
    this.probeHeaders = common;
    this.headers = { 'content-type': this.format.contentType, ...common };
    const encoding = CONTENT_ENCODING[config.compression];
    if (encoding !== null) this.headers['content-encoding'] = encoding;
  }

  async healthcheck(): Promise<void> {
    if (!this.config.healthcheck) return;
    const { method, path, anyAnswer } = this.format.probe;
    let status: number;
    let body: Buffer;
    try {
      ({ status, body } = await this.service.send(method, path, this.probeHeaders, null, true));
    } catch (err) {
      throw this.unhealthy(`is not reachable: ${describeError(err)}`, err);
    }
    if (anyAnswer || (status >= 200 && status < 300)) return;
    const hint =
      status === 401 || status === 403
        ? ' (check `auth`)'
        : status === 404
          ? ' (check the path in `uri`)'
          : '';
    const detail = body.length > 0 ? `: ${detailOf(body).trim()}` : '';
    throw this.unhealthy(`answered ${status} to ${method} ${path.split('?')[0]}${hint}${detail}`);
  }

  write(batch: Batch): Promise<void> {
    const lines = batch.ndjson;
    if (lines === null || lines.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(this.closedError());
    return this.deliver(lines, batch.events);
  }

  /** Sends `all` until the server took it, or refused (some of) it for good. */
  private async deliver(all: Buffer, events: number): Promise<void> {
    await this.acquire();
    try {
      const { initial_backoff, max_backoff, max_attempts } = this.config.retry;
      let pending = all;
      let body = await this.encode(pending);
      const refused: Buffer[] = [];
      let refusedEvents = 0;
      let first: { status: number; detail: string } | undefined;
      for (let attempt = 1; ; attempt++) {
        if (this.closed) throw this.closedError();
        const { outcome, verdict } = await this.attempt(body, pending);
        let why = '';
        let waitMs: number | undefined;
        if (outcome.kind === 'refused') {
          refused.push(pending);
          refusedEvents += pending === all ? events : countLines(pending);
          first ??= { status: outcome.status, detail: outcome.detail };
          break;
        }
        if (outcome.kind === 'ok') {
          if (verdict === null) break;
          if (verdict.dropped > 0) this.dropped(verdict);
          if (verdict.rejected !== null) {
            refused.push(verdict.rejected);
            refusedEvents += verdict.rejectedEvents;
            first ??= { status: verdict.status, detail: verdict.reason.slice(0, DETAIL_BYTES) };
          }
          if (verdict.retry === null) break;
          // Only the items the server asked for again.
          pending = verdict.retry;
          body = await this.encode(pending);
          why = `${countLines(pending)} items to send again: ${verdict.reason}`;
        } else {
          why = outcome.why;
          waitMs = outcome.waitMs;
        }
        if (max_attempts > 0 && attempt >= max_attempts) {
          throw new VesError(
            'VES_SINK_WRITE',
            `sink ${this.ctx.id}: gave up on a batch for ${this.where} after ${attempt} attempts (retry.max_attempts); last: ${why}`,
          );
        }
        const wait = waitMs ?? backoffMs(attempt, initial_backoff, max_backoff);
        if (attempt <= WARN_FIRST_ATTEMPTS || attempt % WARN_EVERY_ATTEMPTS === 0) {
          this.ctx.log.warn('request failed; retrying', {
            code: 'VES_SINK_WRITE',
            uri: this.where,
            attempt,
            error: why,
            retry_in_ms: wait,
          });
        }
        this.stats.retries++;
        await this.sleep(wait);
      }
      if (refusedEvents > 0 && first !== undefined) {
        this.stats.rejected += refusedEvents;
        const part = refusedEvents === events ? 'a batch' : `${refusedEvents} of ${events} events`;
        throw new SinkRejectedError(
          `sink ${this.ctx.id}: ${this.where} refused ${part} for good (HTTP ${first.status}): ${first.detail}`,
          first.status,
          first.detail,
          refused.length === 1 ? refused[0] : Buffer.concat(refused),
          refusedEvents,
        );
      }
    } finally {
      this.release();
    }
  }

  /** One request. Network errors and timeouts come back as a retry outcome, never thrown. */
  private async attempt(
    body: Buffer,
    lines: Buffer,
  ): Promise<{ outcome: Outcome; verdict: Verdict | null }> {
    const f = this.format;
    this.stats.requests++;
    this.stats.bytesSent += body.length;
    let answer;
    try {
      answer = await this.service.send(
        this.config.method,
        f.path,
        this.headers,
        body,
        f.accepted !== undefined,
      );
    } catch (err) {
      if (this.closed) throw this.closedError();
      return {
        outcome: { kind: 'retry', why: describeError(err), status: 0, waitMs: undefined },
        verdict: null,
      };
    }
    const outcome = classify(answer, f);
    const verdict = outcome.kind === 'ok' && f.accepted ? f.accepted(answer.body, lines) : null;
    return { outcome, verdict };
  }

  private async encode(lines: Buffer): Promise<Buffer> {
    return compress(this.config.compression, this.format.encode(lines));
  }

  private dropped(v: Verdict): void {
    this.stats.rejected += v.dropped;
    this.ctx.log.warn('the receiver accepted the batch but dropped some events', {
      code: 'VES_SINK_REJECTED',
      uri: this.where,
      dropped: v.dropped,
      reason: v.reason.slice(0, DETAIL_BYTES),
    });
  }

  private acquire(): Promise<void> | void {
    if (this.active < this.config.concurrency) {
      this.active++;
      return;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next)
      next(); // the slot passes on as it is
    else this.active--;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  /**
   * Gives up at once (the pipeline's grace period is over): writes still retrying or waiting
   * reject now, their batches unacknowledged (re-sent after the next start), and requests in
   * flight are aborted. Without it a write to a dead receiver would retry until it came back.
   */
  abort(): void {
    if (this.closing !== null) return;
    this.stop();
    this.closing = this.service.destroy();
  }

  /** After the last write: closes the connections. With writes still running, aborts them. */
  async close(): Promise<void> {
    if (this.closing === null) {
      const busy = this.active > 0;
      this.stop();
      this.closing = busy ? this.service.destroy() : this.service.close();
    }
    await this.closing;
  }

  private stop(): void {
    this.closed = true;
    for (const wake of [...this.sleepers]) wake();
    for (const go of this.waiting.splice(0)) {
      this.active++;
      go();
    }
  }

  private closedError(): VesError {
    return new VesError(
      'VES_SINK_WRITE',
      `sink ${this.ctx.id}: closed before ${this.where} acknowledged the batch; it is sent again after the next start`,
    );
  }

  private unhealthy(what: string, cause?: unknown): VesError {
    return new VesError(
      'VES_SINK_HEALTHCHECK',
      `sink ${this.ctx.id}: ${this.where} ${what}`,
      undefined,
      cause === undefined ? undefined : { cause },
    );
  }
}

function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
  return n;
}
