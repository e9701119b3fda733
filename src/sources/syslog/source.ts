// The `syslog` source: listens on TCP (optionally TLS) or UDP and hands what peers send to the
// pipeline as LineChunks of whole messages (./framing.ts), one chunk per read, path = the peer.
//
// Backpressure: pause() stops reading every TCP socket (senders block on their own side, nothing
// is lost); a UDP socket cannot be paused, so datagrams that arrive while paused are dropped and
// counted (VES_SOURCE_LIMIT). No checkpoints: what was received is delivered at least once while
// the agent runs; a peer that needs more than that uses TCP, where a stopped agent refuses.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { EventEmitter } from 'node:events';
import {
  type AddressInfo,
  createServer as createTcpServer,
  isIPv6,
  type Server,
  type Socket,
} from 'node:net';
import { performance } from 'node:perf_hooks';
import { createServer as createTlsServer } from 'node:tls';
import type { SyslogSourceConfig } from '../../config/types.js';
import { VesError } from '../../errors.js';
import { readServerTls } from '../tls.js';
import { splitAddress, whyNoListen } from '../../engine/listen.js';
import type { SourceCounters } from '../../observe/counters.js';
import type { LineChunk, Source, SourceContext } from '../../pipeline/types.js';
import { FrameDecoder, type FramingStats } from './framing.js';

/** 60 s: TCP keep-alive probes start after this much silence, so dead peers free their slot. */
const KEEPALIVE_MS = 60_000;
/** 10 s: the most often one kind of VES_SOURCE_LIMIT warning is logged (a flood logs a count). */
const WARN_EVERY_MS = 10_000;
/**
 * 4 MiB: the UDP receive buffer asked of the kernel (it caps it at net.core.rmem_max), so a
 * burst waits there rather than being dropped while the event loop is busy.
 */
const UDP_RECV_BUFFER = 4 * 1024 * 1024;

export interface SyslogStats extends FramingStats {
  /** TCP connections accepted so far, and open now. */
  connections: number;
  open: number;
  /** TCP connections refused over max_connections; idle ones closed. */
  refused: number;
  idleClosed: number;
  /** UDP datagrams dropped while the pipeline was over its bound (paused). */
  dropped: number;
}

export interface SyslogSource extends Source {
  /** Where it listens once started (the real port when 0 was asked for). */
  address(): { host: string; port: number } | null;
  /** Totals so far (a fresh copy per read). */
  readonly stats: SyslogStats;
}

export async function build(config: SyslogSourceConfig, ctx: SourceContext): Promise<SyslogSource> {
  const tls = config.tls === null ? null : await readServerTls(ctx.id, config.tls);
  return config.mode === 'udp' ? new UdpSource(config, ctx) : new TcpSource(config, ctx, tls);
}

function emptyStats(): SyslogStats {
  return {
    frames: 0,
    empty: 0,
    truncated: 0,
    incomplete: 0,
    connections: 0,
    open: 0,
    refused: 0,
    idleClosed: 0,
    dropped: 0,
  };
}

function addFraming(into: FramingStats, from: FramingStats): void {
  into.frames += from.frames;
  into.empty += from.empty;
  into.truncated += from.truncated;
  into.incomplete += from.incomplete;
}

/** `tcp://1.2.3.4:5678`, `udp://[::1]:5678`: the `source` field of the peer's events. */
function peerPath(scheme: string, address: string | undefined, port: number | undefined): string {
  const host = address === undefined ? 'unknown' : isIPv6(address) ? `[${address}]` : address;
  return `${scheme}://${host}:${port ?? 0}`;
}

/** Logs a warning of one kind at most every WARN_EVERY_MS, with how many happened meanwhile. */
class ThrottledWarning {
  private last = -Infinity;
  private count = 0;
  constructor(
    private readonly ctx: SourceContext,
    private readonly msg: string,
  ) {}
  note(fields: Record<string, unknown> = {}): void {
    this.count++;
    const now = Date.now();
    if (now - this.last < WARN_EVERY_MS) return;
    this.last = now;
    this.ctx.log.warn(this.msg, { code: 'VES_SOURCE_LIMIT', count: this.count, ...fields });
    this.count = 0;
  }
}

interface Connection {
  socket: Socket;
  decoder: FrameDecoder;
  onData: (data: Buffer) => void;
}

class TcpSource implements SyslogSource {
  /** Counts of the listener, plus the framing counts of connections already closed. */
  private readonly totals = emptyStats();
  private readonly server: Server;
  private readonly conns = new Set<Connection>();
  private bound: { host: string; port: number } | null = null;
  private paused = false;
  private stopped = false;
  private readonly refusedWarning: ThrottledWarning;
  /** The agent's counters of this source (/metrics: ves_source_connections). */
  private readonly counters: SourceCounters | undefined;

  constructor(
    private readonly config: SyslogSourceConfig,
    private readonly ctx: SourceContext,
    tls: { cert: Buffer; key: Buffer } | null,
  ) {
    this.counters = ctx.counters?.source(ctx.id);
    this.refusedWarning = new ThrottledWarning(
      ctx,
      `refused connections over max_connections (${config.max_connections}); raise it or look for a sender that leaks connections`,
    );
    const onSocket = (socket: Socket) => this.accept(socket, tls !== null ? 'tls' : 'tcp');
    if (tls === null) {
      this.server = createTcpServer({ noDelay: true }, onSocket);
    } else {
      this.server = createTlsServer({ cert: tls.cert, key: tls.key }, onSocket);
      this.server.on('tlsClientError', (err: Error, socket: Socket) =>
        ctx.log.debug('TLS handshake failed', {
          peer: peerPath('tls', socket.remoteAddress, socket.remotePort),
          error: err.message,
        }),
      );
    }
    // The kernel still accepts; node closes the socket at once and tells us.
    this.server.maxConnections = config.max_connections;
    this.server.on('drop', (d?: { remoteAddress?: string; remotePort?: number }) => {
      this.totals.refused++;
      this.refusedWarning.note({ peer: peerPath('tcp', d?.remoteAddress, d?.remotePort) });
    });
  }

  address(): { host: string; port: number } | null {
    return this.bound;
  }

  /** Live totals: closed connections plus the open ones. */
  get stats(): SyslogStats {
    const s = { ...this.totals };
    for (const c of this.conns) addFraming(s, c.decoder.stats);
    return s;
  }

  async start(): Promise<void> {
    const server = this.server;
    this.bound = await listen(this.config, this.ctx, async (host, port) => {
      await opened(server, (ready) => server.listen({ host, port }, ready));
      return (server.address() as AddressInfo).port;
    });
    server.on('error', (err) =>
      this.ctx.log.error('listener failed', { code: 'VES_SOURCE_READ', error: err.message }),
    );
  }

  private accept(socket: Socket, scheme: string): void {
    if (this.stopped) {
      socket.destroy();
      return;
    }
    const sourceId = this.ctx.id;
    const path = peerPath(scheme, socket.remoteAddress, socket.remotePort);
    const emit = this.ctx.emit;
    const decoder = new FrameDecoder(this.config.max_frame_bytes, (buf, lines, ends, truncated) => {
      const chunk: LineChunk = {
        sourceId,
        path,
        buf,
        lines,
        truncated,
        mark: null,
        readAt: performance.now(),
      };
      if (ends !== null) chunk.ends = ends;
      emit(chunk);
    });
    const conn: Connection = { socket, decoder, onData: (data) => decoder.push(data) };
    this.conns.add(conn);
    this.totals.connections++;
    this.totals.open++;
    if (this.counters) this.counters.connections = this.totals.open;
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on('data', conn.onData);
    // A reset or an error ends the connection like a close: what arrived is kept.
    socket.on('error', (err) =>
      this.ctx.log.debug('connection error', { peer: path, error: err.message }),
    );
    socket.once('close', () => this.release(conn));
    if (this.config.connection_idle_timeout > 0) {
      socket.on('timeout', () => {
        this.totals.idleClosed++;
        this.ctx.log.debug('closing an idle connection', { peer: path });
        socket.destroy();
      });
    }
    if (this.paused) socket.pause();
    else this.watchIdle(socket, true);
  }

  /**
   * The idle timer runs only while we read: a connection we paused is silent because of us,
   * not because its sender went quiet.
   */
  private watchIdle(socket: Socket, on: boolean): void {
    const idle = this.config.connection_idle_timeout;
    if (idle > 0) socket.setTimeout(on ? idle : 0);
  }

  /** The connection ended: hand over its last message, fold its counts into the totals. */
  private release(conn: Connection): void {
    if (!this.conns.delete(conn)) return;
    conn.socket.off('data', conn.onData);
    conn.decoder.end();
    addFraming(this.totals, conn.decoder.stats);
    this.totals.open--;
    if (this.counters) this.counters.connections = this.totals.open;
  }

  pause(): void {
    if (this.paused || this.stopped) return;
    this.paused = true;
    for (const c of this.conns) {
      c.socket.pause();
      this.watchIdle(c.socket, false);
    }
  }

  resume(): void {
    if (!this.paused || this.stopped) return;
    this.paused = false;
    for (const c of this.conns) {
      this.watchIdle(c.socket, true);
      c.socket.resume();
    }
  }

  /**
   * Stops listening and closes every connection; what each had received is handed over (a
   * message without its trailer as is, an octet-counted one short of MSG-LEN flagged truncated).
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const c of [...this.conns]) {
      // What a paused socket already read from the kernel is still ours to deliver.
      for (
        let d = c.socket.read() as Buffer | null;
        d !== null;
        d = c.socket.read() as Buffer | null
      ) {
        c.decoder.push(d);
      }
      this.release(c);
      c.socket.destroy();
    }
    if (this.bound !== null) await closed;
  }
}

class UdpSource implements SyslogSource {
  private readonly totals = emptyStats();
  private readonly socket: UdpSocket;
  private readonly decoder: FrameDecoder;
  private bound: { host: string; port: number } | null = null;
  private paused = false;
  private stopped = false;
  /** The peer of the messages waiting in the decoder, and its path. */
  private peerAddr = '';
  private peerPort = -1;
  private path = '';
  private flushQueued = false;
  private droppedSincePause = 0;
  /** The agent's counters of this source (ves_source_dropped_total) and all of them (drops). */
  private readonly counters: SourceContext['counters'];
  private readonly mine: SourceCounters | undefined;
  private readonly flushNow = (): void => {
    this.flushQueued = false;
    this.decoder.flush();
  };

  constructor(
    private readonly config: SyslogSourceConfig,
    private readonly ctx: SourceContext,
  ) {
    this.counters = ctx.counters;
    this.mine = ctx.counters?.source(ctx.id);
    const { host } = splitAddress(config.address);
    this.socket = createSocket({
      type: isIPv6(host) ? 'udp6' : 'udp4',
      recvBufferSize: UDP_RECV_BUFFER,
    });
    const sourceId = ctx.id;
    this.decoder = new FrameDecoder(config.max_frame_bytes, (buf, lines, ends, truncated) => {
      const chunk: LineChunk = {
        sourceId,
        path: this.path,
        buf,
        lines,
        truncated,
        mark: null,
        readAt: performance.now(),
      };
      if (ends !== null) chunk.ends = ends;
      ctx.emit(chunk);
    });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    this.socket.on('error', (err) =>
      ctx.log.error('UDP socket failed', { code: 'VES_SOURCE_READ', error: err.message }),
    );
  }

  address(): { host: string; port: number } | null {
    return this.bound;
  }

  get stats(): SyslogStats {
    return { ...this.totals, ...this.decoder.stats };
  }

  async start(): Promise<void> {
    const socket = this.socket;
    this.bound = await listen(this.config, this.ctx, async (host, port) => {
      await opened(socket, (ready) => socket.bind({ address: host, port }, ready));
      return socket.address().port;
    });
  }

  /**
   * Hot path, once per datagram: no string unless the peer changed. The datagrams that arrive
   * in one turn of the event loop go to the pipeline as one chunk per peer (setImmediate).
   */
  private onMessage(msg: Buffer, address: string, port: number): void {
    if (this.stopped) return;
    if (this.paused) {
      this.totals.dropped++;
      this.droppedSincePause++;
      if (this.mine !== undefined) {
        this.mine.dropped++;
        this.counters!.dropped++;
      }
      return;
    }
    if (port !== this.peerPort || address !== this.peerAddr) {
      this.decoder.flush(); // the waiting messages are another peer's
      this.peerAddr = address;
      this.peerPort = port;
      this.path = peerPath('udp', address, port);
    }
    this.decoder.message(msg);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(this.flushNow);
    }
  }

  pause(): void {
    if (this.paused || this.stopped) return;
    // Hand over what waits (it was received before the bound was reached), then drop and count.
    this.decoder.flush();
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.reportDrops();
  }

  private reportDrops(): void {
    if (this.droppedSincePause === 0) return;
    this.ctx.log.warn(
      'dropped UDP datagrams while the pipeline was over its bound (UDP cannot be paused; use mode: tcp to lose none)',
      { code: 'VES_SOURCE_LIMIT', dropped: this.droppedSincePause },
    );
    this.droppedSincePause = 0;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.decoder.flush();
    this.reportDrops();
    if (this.bound === null) return;
    await new Promise<void>((r) => this.socket.close(() => r()));
  }
}

/**
 * Binds with `bind(host, port)` (resolves with the port it got); a failure becomes
 * VES_SOURCE_LISTEN naming the address and why. Logs where it listens.
 */
/** Opens a server or socket with `open(ready)`; an 'error' before `ready` rejects. */
function opened(target: EventEmitter, open: (ready: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    target.once('error', reject);
    open(() => {
      target.off('error', reject);
      resolve();
    });
  });
}

async function listen(
  config: SyslogSourceConfig,
  ctx: SourceContext,
  bind: (host: string, port: number) => Promise<number>,
): Promise<{ host: string; port: number }> {
  const { host, port } = splitAddress(config.address);
  const bound = await bind(host, port).catch((err: NodeJS.ErrnoException) => {
    const why = whyNoListen(err);
    throw new VesError(
      'VES_SOURCE_LISTEN',
      `source ${ctx.id}: cannot listen on ${config.address} (${config.mode}): ${why}`,
      undefined,
      { cause: err },
    );
  });
  const shown = isIPv6(host) ? `[${host}]:${bound}` : `${host}:${bound}`;
  ctx.log.info('listening', {
    mode: config.tls !== null ? 'tls' : config.mode,
    address: shown,
  });
  return { host, port: bound };
}
