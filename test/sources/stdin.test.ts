import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import type { StdinSourceConfig } from '../../src/config/types.js';
import type { LineChunk, SourceContext } from '../../src/pipeline/types.js';
import { build } from '../../src/sources/stdin/source.js';
import { captureLogger } from '../helpers/logger.js';
import { MemoryCheckpoints } from '../helpers/memory-checkpoints.js';
import { delay, waitFor } from '../helpers/wait.js';

const config: StdinSourceConfig = { type: 'stdin', parser: 'raw', fields: {}, max_line_bytes: 8 };

function context(): { ctx: SourceContext; chunks: LineChunk[]; done: () => number } {
  const chunks: LineChunk[] = [];
  let done = 0;
  const ctx: SourceContext = {
    id: 'in',
    dataDir: '/nonexistent',
    log: captureLogger().log,
    checkpoints: new MemoryCheckpoints(),
    emit: (c) => chunks.push(c),
    done: () => done++,
  };
  return { ctx, chunks, done: () => done };
}

const texts = (chunks: LineChunk[]): string[] => chunks.map((c) => c.buf.toString());

describe('stdin source', () => {
  test('splits the stream into whole lines; the last line is flushed at EOF; done once', async () => {
    const input = new PassThrough();
    const { ctx, chunks, done } = context();
    const src = await build(config, ctx, { input });
    await src.start();
    input.write('a\nb');
    input.write('c\r\nd');
    input.end('e');
    await waitFor(() => done() === 1, { what: 'done()' });
    expect(texts(chunks)).toEqual(['a\n', 'bc\r\n', 'de\n']);
    expect(chunks.every((c) => c.path === '-' && c.mark === null && c.sourceId === 'in')).toBe(
      true,
    );
    expect(chunks.map((c) => c.lines)).toEqual([1, 1, 1]);
    expect(chunks.every((c) => typeof c.readAt === 'number')).toBe(true);
    await src.stop();
    expect(done()).toBe(1);
  });

  test('long lines are cut at max_line_bytes and flagged', async () => {
    const input = new PassThrough();
    const { ctx, chunks, done } = context();
    const src = await build(config, ctx, { input });
    await src.start();
    input.end('0123456789abc\nok\n');
    await waitFor(() => done() === 1);
    expect(texts(chunks)).toEqual(['01234567\n', 'ok\n']);
    expect(chunks.map((c) => c.truncated)).toEqual([true, false]);
  });

  test('pause holds the stream (nothing lost), resume continues', async () => {
    const input = new PassThrough();
    const { ctx, chunks, done } = context();
    const src = await build({ ...config, max_line_bytes: 1024 }, ctx, { input });
    await src.start();
    input.write('one\n');
    await waitFor(() => chunks.length === 1);
    src.pause();
    input.write('two\n');
    await delay(50); // a grace for a chunk that must not come
    expect(chunks.length).toBe(1);
    src.resume();
    input.end('three\n');
    await waitFor(() => done() === 1);
    expect(texts(chunks)).toEqual(['one\n', 'two\n', 'three\n']);
  });

  test('stop flushes the held partial line and detaches; done is not called', async () => {
    const input = new PassThrough();
    const { ctx, chunks, done } = context();
    const src = await build({ ...config, max_line_bytes: 1024 }, ctx, { input });
    await src.start();
    input.write('whole\nhalf');
    await waitFor(() => chunks.length === 1);
    await src.stop();
    expect(texts(chunks)).toEqual(['whole\n', 'half\n']);
    input.end('ignored\n');
    await delay(20);
    expect(chunks.length).toBe(2);
    expect(done()).toBe(0);
  });

  test('a stream error is logged with VES_SOURCE_READ and ends the source', async () => {
    const input = new PassThrough();
    const chunks: LineChunk[] = [];
    let done = 0;
    const { log, records } = captureLogger();
    const ctx: SourceContext = {
      id: 'in',
      dataDir: '/nonexistent',
      log,
      checkpoints: new MemoryCheckpoints(),
      emit: (c) => chunks.push(c),
      done: () => done++,
    };
    const src = await build({ ...config, max_line_bytes: 1024 }, ctx, { input });
    await src.start();
    input.write('x\ny');
    await waitFor(() => chunks.length === 1);
    input.destroy(new Error('boom'));
    await waitFor(() => done === 1);
    expect(texts(chunks)).toEqual(['x\n', 'y\n']);
    expect(records.some((r) => r.code === 'VES_SOURCE_READ')).toBe(true);
  });
});
