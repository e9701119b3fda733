// Where chunks are parsed: `workers: 0` inline, `workers: N` in N threads, `workers: auto` inline
// until the main thread is busy, then in threads, then inline again after quiet ticks. Every
// Block comes out in submission order through each switch.

import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { Counters } from '../../src/observe/counters.js';
import { Dispatcher, type DispatcherOptions } from '../../src/pipeline/dispatch.js';
import { Processor } from '../../src/pipeline/process.js';
import type { Block, LineChunk, Wants } from '../../src/pipeline/types.js';
import { bundleForWorker } from '../helpers/bundle.js';
import { captureLogger } from '../helpers/logger.js';
import { waitFor } from '../helpers/wait.js';

const WANTS: Wants = { ndjson: true, raw: false };
let entry: string;
const open: Dispatcher[] = [];

beforeAll(async () => {
  entry = await bundleForWorker('src/cli.ts');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

function make(workers: string, o: Partial<DispatcherOptions> = {}) {
  const config = parseConfig(
    `workers: ${workers}\nsources:\n  s: {type: stdin}\nsinks:\n  out: {type: stdout}\n`,
    'agent.yaml',
    {},
  );
  const counters = new Counters();
  const blocks: Block[] = [];
  const fatal: Error[] = [];
  const { log, records } = captureLogger();
  const d = new Dispatcher({
    config,
    wants: WANTS,
    counters,
    log,
    processor: new Processor(config, WANTS, counters),
    onBlock: (b) => blocks.push(b),
    onFatal: (e) => fatal.push(e),
    workerEntry: entry,
    ...o,
  });
  open.push(d);
  return { d, blocks, fatal, records, counters };
}

let next = 0;
function chunk(n = 20): LineChunk {
  let s = '';
  for (let i = 0; i < n; i++) s += `line seq=${next++}\n`;
  return {
    sourceId: 's',
    path: '-',
    buf: Buffer.from(s),
    lines: n,
    truncated: false,
    mark: null,
    readAt: performance.now(),
  };
}

/** The seq numbers of every event handed over so far: must be 0..n-1 in order. */
function seqsOf(blocks: Block[]): number[] {
  return blocks.flatMap((b) =>
    b
      .ndjson!.toString()
      .split('\n')
      .slice(0, -1)
      .map((l) => Number(/seq=(\d+)/.exec(l)![1])),
  );
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('dispatcher', () => {
  test('workers: 0 parses inline, synchronously, and starts nothing', async () => {
    next = 0;
    const { d, blocks } = make('0');
    d.submit(chunk());
    d.submit(chunk());
    expect(seqsOf(blocks)).toEqual([...Array(40).keys()]);
    expect(d.workers).toBe(0);
    expect(d.pendingBytes).toBe(0);
    expect(await d.drained(10)).toBe(true);
  });

  test('workers: 2 parses in two threads, in order', async () => {
    next = 0;
    const { d, blocks, counters } = make('2');
    await waitFor(() => d.workers === 2, { timeout: 10_000, what: 'two workers' });
    for (let i = 0; i < 300; i++) d.submit(chunk());
    expect(await d.drained(10_000)).toBe(true);
    expect(seqsOf(blocks)).toEqual([...Array(6000).keys()]);
    expect(counters.linesIn).toBe(6000);
  });

  test('workers: auto starts a worker when the main thread is busy, goes back when quiet', async () => {
    next = 0;
    const { d, blocks, records } = make('auto', {
      autoTickMs: 50,
      autoQuietTicks: 3,
      autoSize: 1,
    });
    d.submit(chunk());
    expect(d.workers).toBe(0); // inline at first
    // Busy, but not parsing: no workers (they could take nothing off the main thread).
    for (let i = 0; i < 4; i++) {
      spin(60);
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(d.workers).toBe(0);
    // Busy parsing: the next tick sees the loop ~100% utilised, mostly in process().
    const big = () => chunk(20_000);
    await waitFor(
      () => {
        const until = performance.now() + 60;
        while (performance.now() < until) d.submit(big());
        return d.workers === 1;
      },
      { timeout: 10_000, interval: 1, what: 'auto to start a worker' },
    );
    expect(records.some((r) => r.msg === 'parsing in worker threads')).toBe(true);
    for (let i = 0; i < 100; i++) d.submit(chunk());
    expect(await d.drained(10_000)).toBe(true);
    const total = next;
    // Quiet: three ticks below the stop load, then inline again.
    await waitFor(() => d.workers === 0, { timeout: 10_000, what: 'auto to go back inline' });
    expect(records.some((r) => r.msg === 'parsing inline again')).toBe(true);
    d.submit(chunk());
    expect(seqsOf(blocks)).toEqual([...Array(total + 20).keys()]);
  });
});
