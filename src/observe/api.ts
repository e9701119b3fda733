// The admin API (`api: {enabled: true}`): node:http, no framework, read-only.
//   GET /metrics  Prometheus text format        GET /stats   the latest snapshot (JSON)
//   GET /health   200 ok / 503 with a reason    GET /events  the snapshot every second (SSE)
//   GET /ui       the dashboard page            GET /        redirects to /ui
// It has no authentication, so it binds 127.0.0.1 unless the config says otherwise, and on a
// loopback address it only answers requests addressed to a loopback name (DNS rebinding: a web
// page cannot make a browser read it through a hostname of the attacker's).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { boundUrl, listen, splitAddress } from '../engine/listen.js';
import { VERSION } from '../version.js';
import type { Counters } from './counters.js';
import { DASHBOARD_HTML } from './dashboard.js';
import type { Logger } from './logger.js';
import { METRICS_CONTENT_TYPE, processMetrics, renderMetrics } from './metrics.js';
import type { PipelineView, Sampler, Snapshot } from './sampler.js';

export interface ApiOptions {
  /** host:port from the config (`[::1]:8686` for IPv6); port 0 picks a free one. */
  address: string;
  counters: Counters;
  sampler: Sampler;
  /** The running pipeline (undefined while a reload swaps it). */
  view: () => PipelineView | undefined;
  log: Logger;
}

export interface ApiServer {
  /** `http://host:port` as bound (with the real port when 0 was asked for). */
  readonly url: string;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

/** The Host header's name without its port (`[::1]:8686` -> `[::1]`). */
function hostName(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.indexOf(':');
  return (colon === -1 ? header : header.slice(0, colon)).toLowerCase();
}

/** Headers of every answer: nothing is cached, nothing sniffed. */
const COMMON = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
/** The page loads nothing from anywhere: inline script and style, data from this origin only. */
const PAGE_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

export { splitAddress };

export async function startApi(opts: ApiOptions): Promise<ApiServer> {
  const { host, port } = splitAddress(opts.address);
  const loopbackOnly = isLoopback(host);
  const streams = new Set<ServerResponse>();
  const log = opts.log;

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { ...COMMON, 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body) + '\n');
  };

  const health = (res: ServerResponse): void => {
    const view = opts.view();
    if (view === undefined) {
      json(res, 503, { status: 'starting', reason: 'the pipeline is starting (or reloading)' });
      return;
    }
    const h = view.health();
    const sinks = Object.fromEntries(
      h.sinks.map((s) => [
        s.id,
        {
          healthy: s.healthy,
          last_error: s.lastError,
          failing_since: s.failingSince,
          failures_in_a_row: s.failuresInARow,
        },
      ]),
    );
    if (!h.running) {
      json(res, 503, { status: 'stopping', reason: 'the agent is shutting down', sinks });
      return;
    }
    const bad = h.sinks.filter((s) => !s.healthy);
    if (bad.length > 0) {
      const reason = bad.map((s) => `sink ${s.id}: ${s.reason}`).join('; ');
      json(res, 503, { status: 'unhealthy', reason, sinks });
      return;
    }
    json(res, 200, { status: 'ok', sinks });
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      ...COMMON,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    // retry: reconnect after 2 s if the agent restarts; history: the charts' past minutes.
    res.write(`retry: 2000\nevent: history\ndata: ${JSON.stringify(opts.sampler.history())}\n\n`);
    const send = (s: Snapshot) => res.write(`data: ${JSON.stringify(s)}\n\n`);
    if (opts.sampler.latest) send(opts.sampler.latest);
    const unsubscribe = opts.sampler.subscribe(send);
    streams.add(res);
    req.on('close', () => {
      unsubscribe();
      streams.delete(res);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (loopbackOnly && !isLoopback(hostName(req.headers.host))) {
      json(res, 403, { error: 'this admin API answers requests to a loopback address only' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      json(res, 405, { error: 'read-only: use GET' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    switch (path) {
      case '/metrics': {
        const body = renderMetrics({
          counters: opts.counters,
          view: opts.view(),
          version: VERSION,
          ...processMetrics(),
        });
        res.writeHead(200, { ...COMMON, 'content-type': METRICS_CONTENT_TYPE });
        res.end(body);
        return;
      }
      case '/health':
        return health(res);
      case '/stats':
        json(res, 200, opts.sampler.latest ?? (await opts.sampler.tick()) ?? {});
        return;
      case '/events':
        return events(req, res);
      case '/ui':
      case '/ui/':
        res.writeHead(200, {
          ...COMMON,
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': PAGE_CSP,
          'x-frame-options': 'DENY',
        });
        res.end(DASHBOARD_HTML);
        return;
      case '/':
        res.writeHead(302, { ...COMMON, location: '/ui' });
        res.end();
        return;
      default:
        json(res, 404, {
          error: 'not found',
          endpoints: ['/metrics', '/health', '/stats', '/events', '/ui'],
        });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      log.error('admin API request failed', {
        code: 'VES_INTERNAL',
        path: req.url,
        error: err.message,
      });
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  // A dashboard left open must not keep a stopping agent alive: SSE sockets are ended on close().
  server.keepAliveTimeout = 5_000;
  const bound = await listen(server, opts.address, 'api.address', 'VES_API_LISTEN');
  const url = boundUrl(bound, 'http');
  log.info('admin API listening', { url, endpoints: '/metrics /health /stats /events /ui' });
  if (!loopbackOnly) {
    log.warn('the admin API listens beyond loopback and has no authentication: firewall it', {
      address: opts.address,
    });
  }
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.end();
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
