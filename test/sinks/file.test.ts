// The file sink on real files: append, gzip members, rotation, fsync, errors.

import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { FileSinkConfig } from '../../src/config/types.js';
import { build } from '../../src/sinks/file/sink.js';
import { captureLogger } from '../helpers/logger.js';
import { assertSinkCompliance, testBatch } from '../helpers/sink-compliance.js';
import { useTempDir } from '../helpers/tmp.js';
import { cfg, ctx } from './file-helpers.js';

const readOr = async (p: string) => readFile(p).catch(() => Buffer.alloc(0));

describe('file sink', () => {
  const tmp = useTempDir();
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test.each<['ndjson' | 'raw']>([['ndjson'], ['raw']])('compliance (%s)', async (encoding) => {
    const path = join(tmp(), 'out.log');
    const sink = await build(cfg(path, { encoding }), ctx);
    await assertSinkCompliance(sink, () => readOr(path), encoding);
  });

  test('compliance (gzip)', async () => {
    const path = join(tmp(), 'out.ndjson.gz');
    const sink = await build(cfg(path, { compression: 'gzip' }), ctx);
    await assertSinkCompliance(
      sink,
      async () => {
        const b = await readOr(path);
        return b.length === 0 ? b : gunzipSync(b);
      },
      'ndjson',
    );
  });

  test('creates the parent dirs and appends to an existing file', async () => {
    const path = join(tmp(), 'a', 'b', 'out.ndjson');
    const s1 = await build(cfg(path), ctx);
    const b1 = testBatch(['one']);
    await s1.write(b1);
    await s1.close();
    const s2 = await build(cfg(path), ctx);
    const b2 = testBatch(['two', 'three']);
    await s2.write(b2);
    await s2.close();
    expect(await readFile(path, 'utf8')).toBe(b1.ndjson!.toString() + b2.ndjson!.toString());
  });

  test('gzip: one member per batch, the whole file gunzips in one go', async () => {
    const path = join(tmp(), 'out.gz');
    const sink = await build(cfg(path, { compression: 'gzip' }), ctx);
    const batches = Array.from({ length: 20 }, (_, i) =>
      testBatch([`line ${i}`, `more ${i} ${'x'.repeat(i * 50)}`]),
    );
    for (const b of batches) await sink.write(b);
    await sink.close();
    const file = await readFile(path);
    // 20 gzip members: the magic bytes 1f 8b 08 open each.
    let members = 0;
    for (
      let i = file.indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
      i >= 0;
      i = file.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), i + 1)
    )
      members++;
    expect(members).toBeGreaterThanOrEqual(20);
    expect(gunzipSync(file).toString()).toBe(
      Buffer.concat(batches.map((b) => b.ndjson!)).toString(),
    );
  });

  test.each<[string, Partial<FileSinkConfig>]>([
    ['plain', {}],
    ['gzip', { compression: 'gzip' }],
  ])('rotation keeps max_files and loses nothing in between (%s)', async (_n, extra) => {
    const dir = tmp();
    const path = join(dir, 'out.log');
    const maxFiles = 3;
    const sink = await build(
      cfg(path, { rotate: { max_bytes: 1024, max_files: maxFiles }, ...extra }),
      ctx,
    );
    // Random hex: gzip cannot shrink it to nothing, so the files do fill up.
    const batches = Array.from({ length: 40 }, (_, i) =>
      testBatch([`batch ${i} ${randomBytes(100).toString('hex')}`]),
    );
    for (const b of batches) await sink.write(b);
    await sink.close();
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['out.log', 'out.log.1', 'out.log.2', 'out.log.3']);
    const decode = (b: Buffer) => (extra.compression === 'gzip' ? gunzipSync(b) : b);
    let kept = '';
    for (const f of ['out.log.3', 'out.log.2', 'out.log.1', 'out.log']) {
      const b = await readFile(join(dir, f));
      expect(b.length).toBeLessThanOrEqual(1024);
      kept += decode(b).toString();
    }
    const all = Buffer.concat(batches.map((b) => b.ndjson!)).toString();
    expect(all.endsWith(kept)).toBe(true); // the newest files, in order, whole batches
    expect(kept.length).toBeGreaterThan(0);
  });

  test('rotation: a batch bigger than max_bytes gets a file of its own', async () => {
    const dir = tmp();
    const path = join(dir, 'out.log');
    const sink = await build(cfg(path, { rotate: { max_bytes: 1024, max_files: 5 } }), ctx);
    const small = testBatch(['small']);
    const big = testBatch(['z'.repeat(5000)]);
    await sink.write(small);
    await sink.write(big);
    await sink.write(small);
    await sink.close();
    expect((await readFile(join(dir, 'out.log.2'))).toString()).toBe(small.ndjson!.toString());
    expect((await readFile(join(dir, 'out.log.1'))).toString()).toBe(big.ndjson!.toString());
    expect((await readFile(path)).toString()).toBe(small.ndjson!.toString());
  });

  test('fsync: true syncs before the write resolves', async () => {
    const path = join(tmp(), 'out.log');
    // FileHandle is not exported: take its prototype from a handle.
    const probe = await open(join(tmp(), 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const sync = vi.spyOn(proto, 'sync');
    const sink = await build(cfg(path, { fsync: true }), ctx);
    await sink.write(testBatch(['a']));
    expect(sync).toHaveBeenCalledTimes(1);
    await sink.write(testBatch(['b']));
    expect(sync).toHaveBeenCalledTimes(2);
    await sink.close();
  });

  test('fsync: false does not sync', async () => {
    const probe = await open(join(tmp(), 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const sync = vi.spyOn(proto, 'sync');
    const sink = await build(cfg(join(tmp(), 'o.log')), ctx);
    await sink.write(testBatch(['a']));
    await sink.close();
    expect(sync).not.toHaveBeenCalled();
  });

  test.each<[string, string, string]>([
    [
      'a torn last line is cut off',
      '{"message":"a"}\n{"message":"b"}\n{"mess',
      '{"message":"a"}\n{"message":"b"}\n',
    ],
    ['a file that is one torn line is emptied', '{"mess', ''],
    ['an intact file is left alone', '{"message":"a"}\n', '{"message":"a"}\n'],
  ])('start-up after a kill -9 (text): %s', async (_n, before, kept) => {
    const path = join(tmp(), 'out.ndjson');
    await writeFile(path, before);
    const { log, records } = captureLogger();
    const sink = await build(cfg(path), { ...ctx, log });
    const b = testBatch(['next']);
    await sink.write(b);
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(kept + b.ndjson!.toString());
    expect(records.some((r) => r.code === 'VES_SINK_WRITE')).toBe(before !== kept);
  });

  test('start-up after a kill -9 (text): a torn line longer than one scan block', async () => {
    const path = join(tmp(), 'out.ndjson');
    const good = '{"message":"ok"}\n';
    await writeFile(path, good + 'x'.repeat(200_000));
    const sink = await build(cfg(path), ctx);
    await sink.close();
    expect(await readFile(path, 'utf8')).toBe(good);
  });

  test('start-up after a kill -9 (gzip): a torn member moves the file aside, whole members kept', async () => {
    const dir = tmp();
    const path = join(dir, 'out.gz');
    const whole = gzipSync(Buffer.from('{"message":"a"}\n'));
    const torn = gzipSync(Buffer.from('{"message":"b"}\n')).subarray(0, 12);
    await writeFile(path, Buffer.concat([whole, torn]));
    const sink = await build(cfg(path, { compression: 'gzip' }), ctx);
    const b = testBatch(['next']);
    await sink.write(b);
    await sink.close();
    expect(gunzipSync(await readFile(path)).toString()).toBe(b.ndjson!.toString());
    const aside = (await readdir(dir)).filter((f) => f.startsWith('out.gz.torn-'));
    expect(aside).toHaveLength(1);
    // zcat-style: the whole members before the tear are still there.
    expect((await readFile(join(dir, aside[0]))).subarray(0, whole.length).equals(whole)).toBe(
      true,
    );
  });

  test('start-up (gzip): an intact file is appended to', async () => {
    const dir = tmp();
    const path = join(dir, 'out.gz');
    await writeFile(path, gzipSync(Buffer.from('{"message":"a"}\n')));
    const sink = await build(cfg(path, { compression: 'gzip' }), ctx);
    await sink.write(testBatch(['b']));
    await sink.close();
    expect(gunzipSync(await readFile(path)).toString()).toBe('{"message":"a"}\n{"message":"b"}\n');
    expect(await readdir(dir)).toEqual(['out.gz']);
  });

  test('a failed write: VES_SINK_WRITE naming the path (ENOSPC on /dev/full)', async () => {
    const sink = await build(cfg('/dev/full'), ctx);
    await expect(sink.write(testBatch(['a']))).rejects.toMatchObject({
      code: 'VES_SINK_WRITE',
      message: expect.stringContaining('/dev/full'),
    });
    await sink.close();
  });

  test('a path that cannot be opened: VES_SINK_WRITE at build', async () => {
    const file = join(tmp(), 'f');
    await writeFile(file, '');
    await expect(build(cfg(join(file, 'out.log')), ctx)).rejects.toMatchObject({
      code: 'VES_SINK_WRITE',
      message: expect.stringContaining(join(file, 'out.log')),
    });
  });

  test('healthcheck fails when the directory is gone', async () => {
    const dir = join(tmp(), 'd');
    const sink = await build(cfg(join(dir, 'out.log')), ctx);
    await sink.healthcheck!();
    await rm(dir, { recursive: true });
    await expect(sink.healthcheck!()).rejects.toMatchObject({ code: 'VES_SINK_HEALTHCHECK' });
    await sink.close();
  });
});
