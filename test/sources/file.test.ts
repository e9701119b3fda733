import { appendFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { FileSourceConfig } from '../../src/config/types.js';
import { checksumKey } from '../../src/engine/tailer/fingerprint.js';
import { VesError } from '../../src/errors.js';
import type { LineChunk, Source, SourceContext } from '../../src/pipeline/types.js';
import { build } from '../../src/sources/file/source.js';
import { captureLogger } from '../helpers/logger.js';
import { MemoryCheckpoints } from '../helpers/memory-checkpoints.js';
import { useTempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

function config(include: string[]): FileSourceConfig {
  return {
    type: 'file',
    include,
    exclude: [],
    read_from: 'beginning',
    parser: 'raw',
    fields: {},
    max_line_bytes: 1024,
    read_chunk_bytes: 64 * 1024,
    partial_line_timeout: 60_000,
    poll_interval: 30,
    fingerprint: 'checksum',
    idle_timeout: 60_000,
  };
}

const started: Source[] = [];
afterEach(async () => {
  await Promise.all(started.map((s) => s.stop()));
  started.length = 0;
});

describe('file source', () => {
  const dir = useTempDir();

  function context(store = new MemoryCheckpoints()): { ctx: SourceContext; chunks: LineChunk[] } {
    const chunks: LineChunk[] = [];
    const ctx: SourceContext = {
      id: 'web',
      dataDir: dir(),
      log: captureLogger().log,
      checkpoints: store,
      emit: (c) => chunks.push(c),
      done: () => undefined,
    };
    return { ctx, chunks };
  }

  test('emits LineChunks with a checkpoint mark per chunk', async () => {
    const p = path.join(dir(), 'access.log');
    await writeFile(p, 'GET /a\nGET /b\n');
    const { ctx, chunks } = context();
    const src = await build(config([path.join(dir(), '*.log')]), ctx);
    started.push(src);
    await src.start();
    await waitFor(() => chunks.length === 1);
    const c = chunks[0];
    expect(c.buf.toString()).toBe('GET /a\nGET /b\n');
    expect(c.lines).toBe(2);
    expect(c.truncated).toBe(false);
    expect(c.sourceId).toBe('web');
    expect(c.path).toBe(p);
    const st = await stat(p);
    expect(c.mark).toEqual({
      sourceId: 'web',
      key: checksumKey(Buffer.from('GET /a')),
      offset: 14,
      path: p,
      dev: st.dev,
      ino: st.ino,
    });
    expect(c.readAt).toBeGreaterThan(0);
  });

  test('starts at the checkpoint of the file identity (the source never writes one)', async () => {
    const p = path.join(dir(), 'access.log');
    await writeFile(p, 'first\nsecond\n');
    const store = new MemoryCheckpoints();
    const key = checksumKey(Buffer.from('first'));
    store.set('web', key, { offset: 6, path: p, dev: 0, ino: 0, updated: Date.now() });
    const { ctx, chunks } = context(store);
    const src = await build(config([p]), ctx);
    started.push(src);
    await src.start();
    await appendFile(p, 'third\n');
    await waitFor(() => chunks.reduce((n, c) => n + c.lines, 0) === 2);
    expect(chunks.map((c) => c.buf.toString()).join('')).toBe('second\nthird\n');
    expect(chunks.at(-1)!.mark!.offset).toBe((await stat(p)).size);
    expect(store.get('web', key)!.offset).toBe(6);
  });

  test('an empty include list is a config error naming the key', async () => {
    const { ctx } = context();
    const err = await build(config([]), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VesError);
    expect((err as VesError).code).toBe('VES_CONFIG_INVALID');
    expect((err as VesError).message).toContain('sources.web.include');
  });
});
