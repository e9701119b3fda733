// The parse worker pool: every line out, in read order, with its mark, whether a chunk went to a
// worker or stayed on the main thread; full and tiny rings, chunks and blocks too big for their
// ring; flags (truncated, multiline ends) crossing threads; counters relayed; a worker that
// throws or exits fails loudly and nothing after its chunk is handed over; close is bounded.

import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import type { AgentConfig } from '../../src/config/types.js';
import { Counters } from '../../src/observe/counters.js';
import { Processor } from '../../src/pipeline/process.js';
import type { AckMark, Block, LineChunk, Wants } from '../../src/pipeline/types.js';
import { statefulSources, WorkerPool, type PoolOptions } from '../../src/pipeline/workers.js';
import { bundleForWorker } from '../helpers/bundle.js';
import { captureLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/wait.js';

const WANTS: Wants = { ndjson: true, raw: true };
const FILES = ['/var/log/a.log', '/var/log/b.log', '/var/log/ünïcode c.log'];

function config(): AgentConfig {
  return parseConfig(
    'sources:\n' +
      '  a: {type: file, include: [/var/log/a.log], fields: {team: web}}\n' +
      '  b: {type: file, include: [/var/log/b.log, "/var/log/*c.log"]}\n' +
      'sinks:\n  out: {type: stdout}\n',
    'agent.yaml',
    {},
  );
}

/** A chunk of `n` lines of `path`, numbered from `from`, with its mark at the end. */
function chunk(file: number, from: number, n: number, extra = ''): LineChunk {
  const path = FILES[file];
  let s = '';
  for (let i = from; i < from + n; i++) s += `${path} seq=${i}${extra} ${'x'.repeat(i % 23)}\n`;
  const mark: AckMark = {
    sourceId: file === 0 ? 'a' : 'b',
    key: `k${file}`,
    offset: from + n,
    path,
  };
  return {
    sourceId: mark.sourceId,
    path,
    buf: Buffer.from(s),
    lines: n,
    truncated: false,
    mark,
    readAt: performance.now(),
  };
}

/** A mixed stream of chunks: three files, 1..40 lines each, in one read order. */
function stream(count: number): LineChunk[] {
  const next = [0, 0, 0];
  const out: LineChunk[] = [];
  for (let i = 0; i < count; i++) {
    const f = (i * 7) % 3;
    const n = 1 + ((i * 13) % 40);
    out.push(chunk(f, next[f], n));
    next[f] += n;
  }
  return out;
}

/** Message texts of a block's NDJSON (and its other fields minus the ingest timestamp). */
function events(b: Block): Record<string, unknown>[] {
  return b
    .ndjson!.toString('utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => {
      const e = JSON.parse(l) as Record<string, unknown>;
      delete e.timestamp;
      return e;
    });
}

let entry: string;
let testEntry: string;
const pools: WorkerPool[] = [];

beforeAll(async () => {
  // The production entry (src/cli.ts turns into a parse worker) and the one with cues.
  [entry, testEntry] = await Promise.all([
    bundleForWorker('src/cli.ts'),
    bundleForWorker('test/fixtures/test-parse-worker.ts'),
  ]);
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function makePool(o: Partial<PoolOptions> = {}) {
  const cfg = o.config ?? config();
  const counters = new Counters();
  const blocks: Block[] = [];
  const fatal: Error[] = [];
  const { log, records } = captureLogger();
  const pool = new WorkerPool({
    config: cfg,
    wants: WANTS,
    counters,
    log,
    size: 2,
    processor: new Processor(cfg, WANTS, counters),
    onBlock: (b) => blocks.push(b),
    onFatal: (e) => fatal.push(e),
    entry,
    ...o,
  });
  pools.push(pool);
  return { pool, blocks, fatal, counters, records, cfg };
}

async function ready(pool: WorkerPool, n = 2): Promise<void> {
  await waitFor(() => pool.readyCount === n, { timeout: 10_000, what: 'workers READY' });
}

/** Every chunk's lines came out, in submission order, with the chunk's own mark. */
function expectInOrder(chunks: LineChunk[], blocks: Block[]): void {
  expect(blocks.length).toBe(chunks.length);
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i];
    const b = blocks[i];
    expect(b.mark).toBe(c.mark);
    expect(b.readAt).toBe(c.readAt);
    expect(b.events).toBe(c.lines);
    expect(b.raw!.equals(c.buf)).toBe(true);
  }
  const all = Buffer.concat(blocks.map((b) => b.ndjson!)).toString('utf8');
  const msgs = all
    .split('\n')
    .slice(0, -1)
    .map((l) => (JSON.parse(l) as { message: string }).message);
  const want = Buffer.concat(chunks.map((c) => c.buf))
    .toString('utf8')
    .split('\n')
    .slice(0, -1);
  expect(msgs).toEqual(want);
}

describe('through workers', () => {
  test('every line out, in read order, with its mark; counters relayed', async () => {
    const { pool, blocks, counters, fatal } = makePool();
    await ready(pool);
    const chunks = stream(600);
    for (const c of chunks) pool.submit(c);
    expect(await pool.drained(20_000)).toBe(true);
    expectInOrder(chunks, blocks);
    expect(fatal).toEqual([]);
    const lines = chunks.reduce((n, c) => n + c.lines, 0);
    expect(counters.linesIn).toBe(lines);
    expect(counters.bytesIn).toBe(chunks.reduce((n, c) => n + c.buf.length, 0));
    expect(pool.takeBusyUs()).toBeGreaterThan(0); // the workers did some of it
    expect(pool.pendingBytes).toBe(0);
    expect(pool.inFlight).toBe(0);
  });

  test('events are the same as the main thread makes (fields, source path, host)', async () => {
    const { pool, blocks, cfg } = makePool();
    await ready(pool);
    const chunks = [chunk(0, 0, 5), chunk(2, 0, 3, ' "quoted" \\ \u0001')];
    const trunc = chunk(1, 0, 1);
    trunc.truncated = true;
    chunks.push(trunc);
    for (const c of chunks) pool.submit(c);
    expect(await pool.drained(10_000)).toBe(true);
    const inline = new Processor(cfg, WANTS, new Counters());
    for (let i = 0; i < chunks.length; i++) {
      expect(events(blocks[i])).toEqual(events(inline.process(chunks[i])));
    }
    expect(events(blocks[2])[0].truncated).toBe(true);
  });

  test('multiline line ends (LineChunk.ends) cross to the worker', async () => {
    const { pool, blocks, cfg } = makePool();
    await ready(pool);
    const text = 'Error: boom\n  at a()\n  at b()\nnext line\n';
    const c: LineChunk = {
      sourceId: 'a',
      path: FILES[0],
      buf: Buffer.from(text),
      lines: 2,
      ends: new Int32Array([text.indexOf('next'), text.length]),
      truncated: false,
      mark: null,
      readAt: performance.now(),
    };
    pool.submit(c);
    expect(await pool.drained(10_000)).toBe(true);
    expect(events(blocks[0])).toEqual(events(new Processor(cfg, WANTS, new Counters()).process(c)));
  });

  test("transforms' counters (dropped, per transform) come back from the workers", async () => {
    const cfg = parseConfig(
      'sources:\n  a: {type: file, include: [/var/log/a.log]}\n' +
        'transforms:\n' +
        '  - {type: filter, name: no_sevens, action: drop, condition: {field: message, contains: "7 "}}\n' +
        'sinks:\n  out: {type: stdout}\n',
      'agent.yaml',
      {},
    );
    const { pool, blocks, counters, fatal } = makePool({ config: cfg });
    await ready(pool);
    const chunks = Array.from({ length: 50 }, (_, i) => chunk(0, i * 20, 20));
    for (const c of chunks) pool.submit(c);
    expect(await pool.drained(10_000)).toBe(true);
    expect(fatal).toEqual([]);
    const kept = blocks.reduce((n, b) => n + b.events, 0);
    const sevens = 100; // seq=7, 17, ..., 997: one in ten of 1,000 lines
    expect(kept).toBe(1000 - sevens);
    expect(counters.transforms.get('no_sevens')?.dropped).toBe(sevens);
    expect(counters.transformDropped).toBe(sevens);
    expect(pool.takeBusyUs()).toBeGreaterThan(0);
  });

  test('a slow chunk holds back the ones after it: order is kept', async () => {
    const { pool, blocks } = makePool({ entry: testEntry });
    await ready(pool);
    const chunks = [chunk(0, 0, 3, ' SLOW'), ...stream(40).slice(1)];
    for (const c of chunks) pool.submit(c);
    expect(blocks.length).toBe(0); // the first one is still in a worker
    expect(await pool.drained(10_000)).toBe(true);
    expectInOrder(chunks, blocks);
  });
});

describe('rings', () => {
  test('tiny rings: full ones make the main thread parse, records wrap around', async () => {
    const { pool, blocks } = makePool({ chunkRingBytes: 4096, blockRingBytes: 8192 });
    await ready(pool);
    const chunks = stream(3000);
    for (let i = 0; i < chunks.length; i++) {
      pool.submit(chunks[i]);
      if (i % 50 === 0) await new Promise((r) => setImmediate(r)); // let blocks come back
    }
    expect(await pool.drained(20_000)).toBe(true);
    expectInOrder(chunks, blocks);
  });

  test('a chunk too big for its ring is parsed here; a block too big comes by message', async () => {
    const { pool, blocks } = makePool({ chunkRingBytes: 64 * 1024, blockRingBytes: 1024 });
    await ready(pool);
    // 1,000 lines (~40 KB) fit the chunk ring; their NDJSON never fits a 1 KiB block ring.
    // 2,000 lines (~80 KB) do not fit the chunk ring (its records are at most 32 KiB).
    const chunks = [chunk(0, 0, 1000), chunk(1, 0, 2000), chunk(0, 1000, 2)];
    for (const c of chunks) pool.submit(c);
    expect(await pool.drained(10_000)).toBe(true);
    expectInOrder(chunks, blocks);
  });

  test('before READY, chunks are parsed on the main thread, in order', async () => {
    const { pool, blocks } = makePool();
    const chunks = stream(20);
    for (const c of chunks) pool.submit(c);
    expectInOrder(chunks, blocks); // synchronously: no worker was ready
    expect(await pool.drained(1000)).toBe(true);
  });
});

describe('state', () => {
  test('sources under throttle or key-less sample are parsed on the main thread', async () => {
    const cfg = parseConfig(
      'sources:\n' +
        '  a: {type: file, include: [/var/log/a.log]}\n' +
        '  b: {type: file, include: [/var/log/b.log]}\n' +
        '  c: {type: file, include: [/var/log/c.log]}\n' +
        'transforms:\n' +
        '  - {type: throttle, sources: [a], events_per_second: 1000000}\n' +
        '  - {type: sample, sources: [b], rate: 1}\n' +
        '  - {type: sample, sources: [c], rate: 1, key: message}\n' +
        'sinks:\n  out: {type: stdout}\n',
      'agent.yaml',
      {},
    );
    expect([...statefulSources(cfg)].sort()).toEqual(['a', 'b']);
    // A CRASH cue would fail a worker: for a and b no worker ever sees the chunk.
    const { pool, blocks, fatal } = makePool({ config: cfg, entry: testEntry, size: 1 });
    await ready(pool, 1);
    const crash = (sourceId: string): LineChunk => ({ ...chunk(0, 0, 2, ' CRASH'), sourceId });
    for (let i = 0; i < 20; i++) pool.submit(crash(i % 2 === 0 ? 'a' : 'b'));
    expect(await pool.drained(5000)).toBe(true);
    expect(fatal).toEqual([]);
    expect(blocks).toHaveLength(20);
    expect(pool.takeBusyUs()).toBe(0);
  });
});

describe('failures', () => {
  test('process() throwing in a worker: VES_WORKER_FAILED, nothing after it handed over', async () => {
    const { pool, blocks, fatal, records } = makePool({ entry: testEntry, size: 1 });
    await ready(pool, 1);
    const chunks = stream(10);
    chunks[5] = chunk(1, 9999, 2, ' CRASH');
    for (const c of chunks) pool.submit(c);
    expect(await pool.drained(10_000)).toBe(false);
    await waitFor(() => fatal.length === 1, { what: 'onFatal' });
    expect((fatal[0] as { code?: string }).code).toBe('VES_WORKER_FAILED');
    expect(fatal[0].message).toContain('boom on purpose');
    expect(fatal[0].message).toContain('read again at the next start');
    expect(records.some((r) => r.level === 'error' && r.code === 'VES_WORKER_FAILED')).toBe(true);
    // Chunks 0..4 may have been handed over; 5 (lost) and everything after it never are.
    expect(blocks.length).toBeLessThanOrEqual(5);
    blocks.forEach((b, i) => expect(b.mark).toBe(chunks[i].mark));
    pool.submit(chunk(0, 0, 1)); // after a failure: dropped (never acked)
    expect(blocks.length).toBeLessThanOrEqual(5);
  });

  test('a worker exiting: VES_WORKER_FAILED with its exit code', async () => {
    const { pool, blocks, fatal } = makePool({ entry: testEntry, size: 1 });
    await ready(pool, 1);
    pool.submit(chunk(0, 0, 2));
    pool.submit(chunk(0, 2, 2, ' EXIT'));
    pool.submit(chunk(0, 4, 2));
    await waitFor(() => fatal.length === 1, { timeout: 10_000, what: 'onFatal' });
    expect(fatal[0].message).toMatch(/exited unexpectedly \(code 7\)/);
    expect(blocks.length).toBeLessThanOrEqual(1);
  });

  test('close ends the workers within its bound, and is not a failure', async () => {
    const { pool, fatal } = makePool();
    await ready(pool);
    const t0 = performance.now();
    await pool.close(2000);
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(fatal).toEqual([]);
  });
});
