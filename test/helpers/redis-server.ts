// Debian's redis-server started as an ordinary process for a test: a free loopback port, no
// persistence, its files in a temp dir. stop() and start() again on the same port let a test
// take Redis away and bring it back. CI installs the server (.ci/run); without it the tests
// fail and say so, they never skip.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A port nobody listens on now (the OS picks it; closed again before the server binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = (s.address() as { port: number }) ?? { port: 0 };
      s.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:<port> (rediss:// with tls; no credentials). */
  url: string;
  /** A client for the test's own reads (XRANGE, XLEN...), authenticated when needed. */
  client: Redis;
  /** Starts the server again on the same port after stop(). */
  start(): Promise<void>;
  /** Stops the server (SIGTERM, then waits for its exit). The test client stays usable later. */
  stop(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT); it then answers what it was sent meanwhile. */
  resume(): void;
  /** Stops it and removes its files. */
  close(): Promise<void>;
}

export interface RedisServerOptions {
  /** --requirepass: the `default` user needs this password. */
  password?: string;
  /** TLS only (--port 0 --tls-port N): the server's PEM certificate and key. */
  tls?: { cert: string; key: string };
}

/** One redis-server for a test file: started before its tests (handed to `onStart`), closed after. */
export function useRedisServer(
  onStart: (redis: RedisServer) => void,
  o: RedisServerOptions = {},
): void {
  let redis: RedisServer | undefined;
  beforeAll(async () => {
    redis = await startRedis(o);
    onStart(redis);
  }, 30_000);
  afterAll(async () => {
    await redis?.close();
  });
}

export async function startRedis(o: RedisServerOptions = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(`${REDIS_SERVER} is missing: apt-get install redis-server (.ci/run does)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'ves-redis-'));
  const port = await freePort();
  let proc: ChildProcess | null = null;
  let output = '';

  const start = async (): Promise<void> => {
    // --save '' and --appendonly no: nothing is written to disk; --dir keeps any file in ours.
    const args = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    args.push('--logfile', '', '--daemonize', 'no');
    if (o.tls === undefined) args.push('--port', String(port));
    else {
      args.push('--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no');
      args.push('--tls-cert-file', o.tls.cert, '--tls-key-file', o.tls.key);
      args.push('--tls-ca-cert-file', o.tls.cert); // required by the server even without client certs
    }
    if (o.password !== undefined) args.push('--requirepass', o.password);
    const p = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    output = '';
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<never>((_, reject) =>
      p.once('exit', (code) =>
        reject(new Error(`redis-server exited (${code}) at start:\n${output.slice(-2000)}`)),
      ),
    );
    const ready = (async () => {
      const deadline = Date.now() + 20_000; // a loaded machine: starting takes ~10 ms idle
      while (!output.includes('Ready to accept connections')) {
        if (Date.now() > deadline) throw new Error(`redis-server not ready:\n${output}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await Promise.race([ready, exited]);
    exited.catch(() => undefined);
  };

  const stop = async (): Promise<void> => {
    const p = proc;
    proc = null;
    if (p === null || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    });
  };

  await start();
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password: o.password,
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    tls: o.tls && { ca: readFileSync(o.tls.cert) },
  });
  client.on('error', () => undefined); // while the server is stopped on purpose
  await client.connect();
  return {
    port,
    url: `${o.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    client,
    start,
    stop,
    pause: () => proc?.kill('SIGSTOP'),
    resume: () => proc?.kill('SIGCONT'),
    async close() {
      client.disconnect();
      proc?.kill('SIGCONT'); // a paused server cannot act on SIGTERM
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every entry of a stream as [id, {field: value}], oldest first. */
export async function readStream(
  client: Redis,
  key: string,
): Promise<Array<[string, Record<string, string>]>> {
  const out: Array<[string, Record<string, string>]> = [];
  let from = '-';
  for (;;) {
    // Pages of 10,000: one reply for a whole test stream would be one huge allocation.
    const page = await client.xrange(key, from, '+', 'COUNT', 10_000);
    for (const [id, flat] of page) {
      const fields: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
      out.push([id, fields]);
    }
    if (page.length < 10_000) return out;
    from = '(' + page[page.length - 1][0];
  }
}
