// A counting HTTP receiver for the agent's http sink (format: ndjson): every POST body is
// counted into an Accountant BEFORE the 200 goes out, so anything the agent saw acknowledged is
// counted. It can go down and come back: 'refuse' closes the listening socket and every
// connection (connection refused, as a dead host), '503' answers 503 with Retry-After.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Accountant } from './accountant.js';

export type DownMode = 'refuse' | '503';

export class SeqReceiver {
  readonly seqs = new Accountant();
  /** Requests answered 200 / refused with 503 / cut off mid-body (agent killed). */
  requests = 0;
  refused = 0;
  aborted = 0;
  /** performance.now() of the last counted batch. */
  lastBatchAt = 0;
  port = 0;
  private mode: 'up' | DownMode = 'up';
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
  }

  /** Listens on a free loopback port (or `port`, to come back where it was). */
  async start(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get uri(): string {
    return `http://127.0.0.1:${this.port}/v1/logs`;
  }

  get up(): boolean {
    return this.mode === 'up';
  }

  /** Goes down: 'refuse' stops listening and drops every connection; '503' stays up but refuses. */
  async down(mode: DownMode = 'refuse'): Promise<void> {
    this.mode = mode;
    if (mode === 'refuse') await this.close();
  }

  /** Comes back on the same port. */
  async restore(): Promise<void> {
    const was = this.mode;
    this.mode = 'up';
    if (was === 'refuse') await this.start(this.port);
  }

  async stop(): Promise<void> {
    if (this.server.listening) await this.close();
  }

  private close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeAllConnections();
    return closed;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    let done = false;
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('close', () => {
      if (!done) this.aborted++;
    });
    req.on('end', () => {
      done = true;
      if (this.mode !== 'up') {
        this.refused++;
        res.writeHead(503, { 'retry-after': '1' }).end('receiver down for the test');
        return;
      }
      let body = Buffer.concat(chunks);
      const enc = req.headers['content-encoding'];
      if (enc === 'gzip') body = gunzipSync(body);
      else if (enc !== undefined && enc !== 'identity') {
        res.writeHead(415).end(`content-encoding ${enc} not supported by the test receiver`);
        return;
      }
      this.seqs.addText(body.toString('utf8'));
      this.requests++;
      this.lastBatchAt = performance.now();
      res.writeHead(200).end();
    });
  }
}
