// The stdout sink: one write per batch, resolves only when the stream took the bytes (drain),
// a closed stdout (EPIPE) rejects with VES_SINK_CLOSED (permanent: the agent stops) and never crashes.

import { spawn } from 'node:child_process';
import { join, dirname } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import { describe, expect, test } from 'vitest';
import { build } from '../../src/sinks/stdout/sink.js';
import { silentLogger } from '../../src/observe/logger.js';
import { assertSinkCompliance, testBatch } from '../helpers/sink-compliance.js';
import { useTempDir } from '../helpers/tmp.js';

const ctx = { id: 'out', dataDir: '/nonexistent', log: silentLogger };
const SINK_TS = fileURLToPath(new URL('../../src/sinks/stdout/sink.ts', import.meta.url));

/** A writable that keeps what it gets; `delayMs` makes each write complete later. */
function memory(
  opts: { highWaterMark?: number; delayMs?: number; fail?: NodeJS.ErrnoException } = {},
) {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: opts.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (opts.fail) return cb(opts.fail);
      const done = () => {
        chunks.push(chunk);
        cb();
      };
      if (opts.delayMs) setTimeout(done, opts.delayMs);
      else done();
    },
  });
  return { stream, data: () => Buffer.concat(chunks) };
}

describe('stdout sink', () => {
  const tmp = useTempDir();

  test.each<['ndjson' | 'raw']>([['ndjson'], ['raw']])('compliance (%s)', async (encoding) => {
    const m = memory();
    const sink = await build({ type: 'stdout', encoding }, ctx, m.stream);
    await assertSinkCompliance(sink, m.data, encoding);
  });

  test('write resolves only after the stream accepted the bytes (drain)', async () => {
    const m = memory({ highWaterMark: 16, delayMs: 20 });
    const sink = await build({ type: 'stdout', encoding: 'raw' }, ctx, m.stream);
    const b = testBatch(['a line longer than the sixteen byte high water mark']);
    let resolved = false;
    const p = sink.write(b).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(resolved).toBe(false); // the slow stream has not taken it yet
    await p;
    expect(m.data().toString()).toBe(b.raw!.toString());
    expect(m.stream.writableLength).toBe(0);
  });

  test('a stream error (EPIPE) rejects with VES_SINK_CLOSED, then every write does', async () => {
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    const m = memory({ fail: epipe });
    const sink = await build({ type: 'stdout', encoding: 'ndjson' }, ctx, m.stream);
    await expect(sink.write(testBatch(['x']))).rejects.toMatchObject({
      code: 'VES_SINK_CLOSED',
      message: expect.stringContaining('EPIPE'),
    });
    await expect(sink.write(testBatch(['y']))).rejects.toMatchObject({ code: 'VES_SINK_CLOSED' });
    await sink.close();
  });

  test('healthcheck fails on a closed stream', async () => {
    const m = memory();
    const sink = await build({ type: 'stdout', encoding: 'ndjson' }, ctx, m.stream);
    await sink.healthcheck!();
    m.stream.destroy();
    await expect(sink.healthcheck!()).rejects.toMatchObject({ code: 'VES_SINK_HEALTHCHECK' });
    await expect(sink.write(testBatch(['x']))).rejects.toMatchObject({ code: 'VES_SINK_CLOSED' });
  });

  test('real process.stdout whose reader went away: rejected, no crash', async () => {
    // A child writes batches to its real stdout; we close our end of the pipe at once.
    const entry = join(tmp(), 'child.mjs');
    await esbuild({
      stdin: {
        contents: `
          import { build } from ${JSON.stringify(SINK_TS)};
          const log = { debug() {}, info() {}, warn() {}, error() {}, child() { return log; } };
          const sink = await build({ type: 'stdout', encoding: 'raw' }, { id: 'out', dataDir: '', log });
          const raw = Buffer.alloc(64 * 1024, 0x61);
          for (let i = 0; i < 200; i++) {
            try {
              await sink.write({ seq: i + 1, events: 1, ndjson: null, raw, bytes: raw.length, marks: [], firstReadAt: 0, sealedAt: 0 });
            } catch (err) {
              process.stderr.write('rejected ' + err.code + ': ' + err.message + '\\n');
              process.exit(0);
            }
          }
          process.stderr.write('never failed\\n');
        `,
        resolveDir: dirname(SINK_TS),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: entry,
      logLevel: 'error',
    });
    const child = spawn(process.execPath, [entry], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone: the child's next write gets EPIPE
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(err).toMatch(/rejected VES_SINK_CLOSED: .*EPIPE/);
    expect(code).toBe(0);
  });
});
