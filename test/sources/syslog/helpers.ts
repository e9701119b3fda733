// Shared by the syslog source tests: a SourceContext that records chunks, a config with test
// bounds, the messages of recorded chunks (split as the pipeline splits them), and a TCP client.

import { connect, type Socket } from 'node:net';
import type { SyslogSourceConfig } from '../../../src/config/types.js';
import { Counters } from '../../../src/observe/counters.js';
import type { LineChunk, SourceContext } from '../../../src/pipeline/types.js';
import { build, type SyslogSource } from '../../../src/sources/syslog/source.js';
import { chunkLines } from '../../helpers/line-chunk.js';
import { captureLogger, type LogRecord } from '../../helpers/logger.js';
import { MemoryCheckpoints } from '../../helpers/memory-checkpoints.js';

export function syslogConfig(over: Partial<SyslogSourceConfig> = {}): SyslogSourceConfig {
  return {
    type: 'syslog',
    mode: 'tcp',
    address: '127.0.0.1:0', // a free port: tests never use fixed ones
    max_frame_bytes: 1024,
    max_connections: 64,
    connection_idle_timeout: 0,
    tls: null,
    parser: 'syslog',
    fields: {},
    ...over,
  };
}

export interface Harness {
  src: SyslogSource;
  chunks: LineChunk[];
  records: LogRecord[];
  port: number;
  /** The agent totals the source was given (its `sources.sys` entry, `dropped`). */
  counters: Counters;
}

/** Builds and starts a source on a free port; the caller stops it (see `started`). */
export async function startSyslog(
  over: Partial<SyslogSourceConfig> = {},
  started: SyslogSource[] = [],
): Promise<Harness> {
  const chunks: LineChunk[] = [];
  const { log, records } = captureLogger();
  const counters = new Counters();
  const ctx: SourceContext = {
    id: 'sys',
    dataDir: '/nonexistent',
    log,
    checkpoints: new MemoryCheckpoints(),
    emit: (c) => chunks.push(c),
    done: () => undefined,
    counters,
  };
  const src = await build(syslogConfig(over), ctx);
  started.push(src);
  await src.start();
  return { src, chunks, records, port: src.address()!.port, counters };
}

/** [message, truncated, path] of every message, checked against the LineChunk contract. */
export function messages(chunks: LineChunk[]): Array<[string, boolean, string]> {
  return chunks.flatMap((c) =>
    chunkLines(c).map((m): [string, boolean, string] => [m, c.truncated, c.path]),
  );
}

export const texts = (chunks: LineChunk[]): string[] => messages(chunks).map(([t]) => t);

export async function tcpClient(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** Writes and waits until the kernel took the bytes. */
export function send(socket: Socket, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.write(data, (err) => (err ? reject(err) : resolve())),
  );
}

/** Ends our side and waits for the socket to close. */
export function closeClient(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
  });
}
