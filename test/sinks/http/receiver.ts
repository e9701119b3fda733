// A local HTTP(S) receiver for the http sink tests (node:http on 127.0.0.1): decodes zstd and
// gzip bodies, records what it accepted, and injects faults on command (503 + Retry-After,
// connection resets, stalls, refusals), each for the next N requests or for matching bodies.

import { once } from 'node:events';
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decompress } from '@mongodb-js/zstd';

export type Fault =
  | { kind: 'status'; status: number; headers?: Record<string, string>; body?: string }
  | { kind: 'reset' }
  | { kind: 'stall'; ms: number };

export interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** Decoded body (after Content-Encoding). */
  body: Buffer;
  /** When the request's body had arrived (Date.now()). */
  at: number;
}

/** An answer for a request that got no fault; default 200 with an empty body. */
export type Responder = (r: Received) => {
  status: number;
  body?: string;
  headers?: Record<string, string>;
};

interface Armed {
  fault: Fault;
  left: number;
  match: ((body: string) => boolean) | undefined;
}

export interface Receiver {
  url: string;
  /** Every request that arrived, faulted or not, in arrival order. */
  all: Received[];
  /** Requests answered 2xx: what was delivered. */
  accepted: Received[];
  /** Bytes of every accepted body, concatenated in arrival order. */
  acceptedBytes(): Buffer;
  /** The `seq` field of every event accepted so far (duplicates kept). */
  seqs(): number[];
  /** The next `times` requests (whose decoded body matches, if given) get this fault. */
  inject(fault: Fault, times?: number, match?: (body: string) => boolean): void;
  respond: Responder;
  close(): Promise<void>;
}

export async function startReceiver(tls?: ServerOptions): Promise<Receiver> {
  const armed: Armed[] = [];
  const all: Received[] = [];
  const accepted: Received[] = [];
  const stalls = new Set<NodeJS.Timeout>();
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const raw = Buffer.concat(chunks);
        const enc = req.headers['content-encoding'];
        let body: Buffer;
        try {
          body =
            enc === 'gzip'
              ? gunzipSync(raw)
              : enc === 'zstd' && raw.length > 0
                ? await decompress(raw)
                : raw;
        } catch (err) {
          res.writeHead(400).end(`cannot decode ${enc}: ${(err as Error).message}`);
          return;
        }
        const r: Received = {
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
          at: Date.now(),
        };
        all.push(r);
        const text = body.toString('utf8');
        const a = armed.find((x) => x.left > 0 && (x.match === undefined || x.match(text)));
        if (a) a.left--;
        const fault = a?.fault;
        if (fault?.kind === 'reset') {
          req.socket.destroy();
          return;
        }
        if (fault?.kind === 'status') {
          res.writeHead(fault.status, fault.headers).end(fault.body ?? '');
          return;
        }
        if (fault?.kind === 'stall') {
          // Answer late; by then the sink has timed out and closed the socket (so no record).
          const t = setTimeout(() => {
            stalls.delete(t);
            if (res.destroyed || req.socket.destroyed) return;
            accepted.push(r);
            res.writeHead(200).end();
          }, fault.ms);
          stalls.add(t);
          return;
        }
        const answer = receiver.respond(r);
        if (answer.status >= 200 && answer.status < 300) accepted.push(r);
        res.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      })();
    });
  };
  const server = tls ? createHttps(tls, handler) : createHttp(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    all,
    accepted,
    acceptedBytes: () => Buffer.concat(accepted.map((r) => r.body)),
    seqs: () => {
      const out: number[] = [];
      for (const r of accepted) {
        for (const m of r.body.toString('utf8').matchAll(/"seq":(\d+)/g)) out.push(Number(m[1]));
      }
      return out;
    },
    inject: (fault, times = 1, match) => armed.push({ fault, left: times, match }),
    respond: () => ({ status: 200 }),
    close: async () => {
      for (const t of stalls) clearTimeout(t);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
  return receiver;
}
