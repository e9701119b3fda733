// Runs a Tailer over a temp dir and records what it emits; acks every chunk into an in-memory
// checkpoint store at once (as if every sink acknowledged it), like the pipeline's acker would.

import { afterEach } from 'vitest';
import { Tailer, type TailerOptions } from '../../src/engine/tailer/index.js';
import { captureLogger, type LogRecord } from './logger.js';
import { MemoryCheckpoints } from './memory-checkpoints.js';

export interface Chunk {
  path: string;
  key: string;
  text: string;
  lines: number;
  truncated: boolean;
  offset: number;
}

export interface Tailing {
  tailer: Tailer;
  store: MemoryCheckpoints;
  chunks: Chunk[];
  /** Every emitted line, without its `\n`, in emission order. */
  lines: string[];
  logs: LogRecord[];
  /** Lines emitted for one path (the path at the time of reading). */
  linesOf(path: string): string[];
}

export const SOURCE = 'src';

/** Small, test-friendly defaults: fast polls, long timeouts (tests shorten them explicitly). */
export const TEST_DEFAULTS = {
  maxLineBytes: 64 * 1024,
  readChunkBytes: 64 * 1024,
  partialLineTimeoutMs: 60_000,
  pollIntervalMs: 30,
  idleTimeoutMs: 60_000,
  rotateWaitMs: 150,
};

const running = new Set<Tailer>();
afterEach(async () => {
  await Promise.all([...running].map((t) => t.stop()));
  running.clear();
});

export type TailOptions = Partial<Omit<TailerOptions, 'onLines' | 'log' | 'positions'>> & {
  include: string[];
  /** Ack chunks into the store as they are emitted. Default true. */
  ack?: boolean;
  store?: MemoryCheckpoints;
  /** Called after each chunk is recorded (e.g. to pause). */
  onChunk?: (c: Chunk, t: Tailing) => void;
};

export function tail(opts: TailOptions): Tailing {
  const store = opts.store ?? new MemoryCheckpoints();
  const { log, records } = captureLogger();
  const ack = opts.ack ?? true;
  const t = {} as Tailing;
  const chunks: Chunk[] = [];
  const lines: string[] = [];
  const tailer = new Tailer({
    ...TEST_DEFAULTS,
    ...opts,
    log,
    positions: {
      get: (k) => store.get(SOURCE, k),
      findByInode: (dev, ino) => store.findByInode(SOURCE, dev, ino),
      rekey: (a, b) => store.rekey(SOURCE, a, b),
    },
    onLines: (path, key, buf, n, truncated, offset) => {
      const text = buf.toString('latin1');
      if (!text.endsWith('\n'))
        throw new Error(`chunk does not end on a newline: ${JSON.stringify(text)}`);
      const split = text.slice(0, -1).split('\n');
      if (split.length !== n) throw new Error(`chunk says ${n} lines, holds ${split.length}`);
      const c: Chunk = { path, key, text, lines: n, truncated, offset };
      chunks.push(c);
      for (const l of split) lines.push(l);
      if (ack) {
        const had = store.get(SOURCE, key);
        store.set(
          SOURCE,
          key,
          { offset, path, dev: 0, ino: 0, updated: Date.now() },
          had !== undefined && offset < had.offset, // copytruncate under an inode key
        );
      }
      opts.onChunk?.(c, t);
    },
  });
  running.add(tailer);
  Object.assign(t, {
    tailer,
    store,
    chunks,
    lines,
    logs: records,
    linesOf: (p: string) =>
      chunks.filter((c) => c.path === p).flatMap((c) => c.text.slice(0, -1).split('\n')),
  });
  return t;
}

/** `prefix-0` .. `prefix-(n-1)`, each with its newline. */
export function numbered(prefix: string, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += `${prefix}-${i}\n`;
  return s;
}

export function range(prefix: string, from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(`${prefix}-${i}`);
  return out;
}
