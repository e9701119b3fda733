// The sink runner: ordered delivery and retries, dead letters for refused batches, the memory
// bound (block pauses, drop_newest drops), and the disk buffer (ack once fsynced, drain to the
// sink, replay after a restart, several writes in flight with the cursor moving in order).

import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { BufferConfig } from '../../src/config/types.js';
import { SinkRejectedError, VesError } from '../../src/errors.js';
import { Counters } from '../../src/observe/counters.js';
import { silentLogger } from '../../src/observe/logger.js';
import { SinkRunner, type SinkRunnerOptions } from '../../src/pipeline/sink-runner.js';
import type { Batch, Sink } from '../../src/pipeline/types.js';
import { captureLogger } from '../helpers/logger.js';
import { testBatch } from '../helpers/sink-compliance.js';
import { useTempDir } from '../helpers/tmp.js';
import { delay, waitFor } from '../helpers/wait.js';

/** A sink whose writes do what `behave` says; records what it accepted and the overlap seen. */
class FakeSink implements Sink {
  readonly wants = { ndjson: true, raw: false };
  written: string[] = [];
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  closed = false;
  constructor(
    private behave: (b: Batch, call: number) => Promise<void> = async () => undefined,
    readonly concurrency?: number,
  ) {}
  async write(batch: Batch): Promise<void> {
    const call = this.calls++;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.behave(batch, call);
      this.written.push(batch.ndjson!.toString());
    } finally {
      this.inFlight--;
    }
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A sink whose writes hang until release(): close() waits for writes in flight, so tests
 *  release them after abandon() (the writes then resolve, and count as delivered). */
function hangingSink(): { sink: FakeSink; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { sink: new FakeSink(() => gate), release: () => release() };
}

const MEMORY: BufferConfig = { type: 'memory', max_bytes: 1 << 20, when_full: 'block' };
const DISK: BufferConfig = { type: 'disk', max_bytes: 1 << 20, when_full: 'block' };

function harness(
  dataDir: string,
  sink: Sink,
  buffer: BufferConfig,
  extra: Partial<SinkRunnerOptions> = {},
) {
  const acks: number[] = [];
  const fatal: Error[] = [];
  const counters = new Counters();
  const opts: SinkRunnerOptions = {
    id: 'out',
    sink,
    log: silentLogger,
    counters,
    dataDir,
    buffer,
    onAck: (seq) => acks.push(seq),
    onFatal: (err) => fatal.push(err),
    tuning: { retryFirstMs: 1, retryMaxMs: 4, disk: { fsyncIntervalMs: 1 } },
    concurrency: (sink as { concurrency?: number }).concurrency,
    ...extra,
  };
  return { acks, fatal, counters, open: () => SinkRunner.open(opts) };
}

const batches = (n: number, tag = 'b') =>
  Array.from({ length: n }, (_, i) => testBatch([`${tag}${i} one`, `${tag}${i} two`]));
const bodies = (bs: Batch[]) => bs.map((b) => b.ndjson!.toString());

describe('sink runner: memory buffer', () => {
  const tmp = useTempDir();

  test('delivers in order, one write at a time, and acks each after its write', async () => {
    const sink = new FakeSink(() => delay(Math.random() * 3));
    const h = harness(tmp(), sink, MEMORY);
    const r = await h.open();
    const bs = batches(30);
    for (const b of bs) r.enqueue(b);
    await r.idle();
    expect(sink.written).toEqual(bodies(bs));
    expect(sink.maxInFlight).toBe(1);
    expect(h.acks).toEqual(bs.map((b) => b.seq));
    expect(h.counters.eventsOut).toBe(60);
    await r.close();
    expect(sink.closed).toBe(true);
  });

  test('a failing write is retried until it succeeds; nothing is acked before', async () => {
    const sink = new FakeSink(async (_b, call) => {
      if (call < 3) throw new VesError('VES_SINK_WRITE', `attempt ${call} failed`);
    });
    const h = harness(tmp(), sink, MEMORY);
    const r = await h.open();
    const [a, b] = batches(2);
    r.enqueue(a);
    r.enqueue(b);
    await r.idle();
    expect(sink.written).toEqual(bodies([a, b]));
    expect(h.acks).toEqual([a.seq, b.seq]);
    expect(h.counters.sinkErrors).toBe(3);
    await r.close();
  });

  test('a refused batch goes to the dead-letter file (0600), is counted and acked; the next ones flow', async () => {
    const sink = new FakeSink(async (b) => {
      if (b.ndjson!.includes('bad0')) {
        throw Object.assign(
          new VesError('VES_SINK_REJECTED', 'HTTP 400: field `status` must be a number'),
          {
            status: 400,
          },
        );
      }
    });
    const { log, records } = captureLogger();
    const h = harness(tmp(), sink, MEMORY, { log });
    const r = await h.open();
    const [good] = batches(1, 'good');
    const [bad] = batches(1, 'bad');
    const [after] = batches(1, 'after');
    for (const b of [good, bad, after]) r.enqueue(b);
    await r.idle();
    expect(sink.written).toEqual(bodies([good, after]));
    expect(h.acks).toEqual([good.seq, bad.seq, after.seq]);
    expect(h.counters.deadLetteredBatches).toBe(1);
    expect(h.counters.deadLetteredEvents).toBe(2);
    const file = join(tmp(), 'dead-letter', 'out.ndjson');
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        time: expect.any(String),
        sink: 'out',
        code: 'VES_SINK_REJECTED',
        status: 400,
        reason: 'HTTP 400: field `status` must be a number',
        events: 2,
        body: bad.ndjson!.toString(),
      },
    ]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(tmp(), 'dead-letter'))).mode & 0o777).toBe(0o700);
    expect(records.find((x) => x.code === 'VES_SINK_REJECTED')?.file).toBe(file);
    await r.close();
  });

  test('permanent: true counts as refused; a partial refusal dead-letters only the refused events', async () => {
    const refused = Buffer.from('{"message":"only this one"}\n');
    const sink = new FakeSink(async (_b, call) => {
      if (call === 0) throw Object.assign(new Error('nope'), { permanent: true });
      if (call === 1)
        throw new SinkRejectedError('1 of 2 items refused', 400, 'mapper', refused, 1);
    });
    const h = harness(tmp(), sink, MEMORY);
    const r = await h.open();
    const bs = batches(2);
    for (const b of bs) r.enqueue(b);
    await r.idle();
    const lines = (await readFile(join(tmp(), 'dead-letter', 'out.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.code, l.events, l.body])).toEqual([
      ['VES_SINK_REJECTED', 2, bs[0].ndjson!.toString()],
      ['VES_SINK_REJECTED', 1, refused.toString()],
    ]);
    expect(h.acks).toEqual(bs.map((b) => b.seq));
    expect(h.counters.deadLetteredEvents).toBe(3);
    expect(h.counters.eventsOut).toBe(1); // the accepted half of the second batch
    await r.close();
  });

  test('VES_SINK_CLOSED is fatal: reported once, not retried, not acked', async () => {
    const sink = new FakeSink(async () => {
      throw new VesError('VES_SINK_CLOSED', 'EPIPE');
    });
    const h = harness(tmp(), sink, MEMORY);
    const r = await h.open();
    for (const b of batches(3)) r.enqueue(b);
    await waitFor(() => h.fatal.length > 0);
    await delay(20);
    expect(h.fatal.map((e) => (e as VesError).code)).toEqual(['VES_SINK_CLOSED']);
    expect(sink.calls).toBe(1);
    expect(h.acks).toEqual([]);
    await r.close();
  });

  test('block: the runner says full at max_bytes, relieved below half', async () => {
    const gates: (() => void)[] = [];
    const sink = new FakeSink(() => new Promise<void>((r) => gates.push(r)));
    const bs = batches(10);
    const size = bs[0].bytes;
    const h = harness(tmp(), sink, { type: 'memory', max_bytes: 4 * size, when_full: 'block' });
    const r = await h.open();
    for (let i = 0; i < 3; i++) r.enqueue(bs[i]);
    expect(r.full).toBe(false);
    r.enqueue(bs[3]);
    expect(r.full).toBe(true); // the pipeline pauses its sources now
    expect(r.relieved).toBe(false);
    await waitFor(() => gates.length === 1);
    gates.shift()!();
    await waitFor(() => gates.length === 1);
    expect(r.full).toBe(false);
    expect(r.relieved).toBe(false); // 3 of 4 held
    gates.shift()!();
    await waitFor(() => gates.length === 1);
    expect(r.relieved).toBe(true);
    r.abandon();
    gates.forEach((g) => g());
    await r.close();
  });

  test('drop_newest: past max_bytes new batches are dropped, counted and acked at once', async () => {
    const gates: (() => void)[] = [];
    const sink = new FakeSink(() => new Promise<void>((r) => gates.push(r)));
    const bs = batches(6);
    const h = harness(tmp(), sink, {
      type: 'memory',
      max_bytes: 2 * bs[0].bytes,
      when_full: 'drop_newest',
    });
    const r = await h.open();
    for (const b of bs) r.enqueue(b);
    expect(r.full).toBe(false); // drop_newest never pauses the sources
    expect(h.acks).toEqual(bs.slice(2).map((b) => b.seq));
    expect(h.counters.droppedBatches).toBe(4);
    expect(h.counters.droppedEvents).toBe(8);
    await waitFor(() => gates.length === 1);
    gates.shift()!();
    await waitFor(() => gates.length === 1);
    gates.shift()!();
    await r.idle();
    expect(sink.written).toEqual(bodies(bs.slice(0, 2)));
    await r.close();
  });

  test('concurrency: up to N writes in flight; acks come as writes finish', async () => {
    const sink = new FakeSink((b) => delay(b.ndjson!.includes('b0 ') ? 40 : 1), 3);
    const h = harness(tmp(), sink, MEMORY);
    const r = await h.open();
    const bs = batches(6);
    for (const b of bs) r.enqueue(b);
    await r.idle();
    expect(sink.maxInFlight).toBe(3);
    expect(new Set(h.acks)).toEqual(new Set(bs.map((b) => b.seq)));
    expect(h.acks[h.acks.length - 1]).toBe(bs[0].seq); // the slow first one finished last
    await r.close();
  });

  test('abandon stops retrying: the batch stays unacked', async () => {
    const sink = new FakeSink(async () => {
      throw new VesError('VES_SINK_WRITE', 'down');
    });
    const h = harness(tmp(), sink, MEMORY, {
      tuning: { retryFirstMs: 10_000, retryMaxMs: 10_000 },
    });
    const r = await h.open();
    r.enqueue(batches(1)[0]);
    await waitFor(() => sink.calls === 1);
    r.abandon();
    await r.close(); // does not wait out the 10 s backoff
    expect(h.acks).toEqual([]);
  });
});

describe('sink runner: disk buffer', () => {
  const tmp = useTempDir();

  test('acks once the batch is in the buffer, even while the sink hangs; a restart replays it', async () => {
    const { sink: hang, release } = hangingSink();
    const h = harness(tmp(), hang, DISK);
    const r = await h.open();
    const bs = batches(5);
    for (const b of bs) r.enqueue(b);
    await waitFor(() => h.acks.length === 5, { what: 'acks from the disk buffer' });
    expect(hang.written).toEqual([]);
    expect(r.buffered).toMatchObject({ type: 'disk', diskRecords: 5, memoryBytes: 0 });
    await waitFor(() => hang.calls === 1, { what: 'the drain loop to write the first record' });
    r.abandon();
    release(); // the first record's write completes: it is delivered, the others are not
    await r.close();
    expect(hang.written).toEqual(bodies(bs.slice(0, 1)));

    const sink = new FakeSink();
    const h2 = harness(tmp(), sink, DISK);
    const r2 = await h2.open();
    r2.start();
    await r2.idle();
    expect(sink.written).toEqual(bodies(bs.slice(1)));
    expect(h2.counters.eventsOut).toBe(8);
    await r2.close();
    // Acknowledged by the sink: a third run sends nothing again.
    const again = new FakeSink();
    const r3 = await harness(tmp(), again, DISK).open();
    r3.start();
    await delay(30);
    expect(again.written).toEqual([]);
    await r3.close();
  });

  test('close cuts short a write that only ends when the sink closes; the record stays for the next start', async () => {
    // Like the http sink retrying a receiver that is down: write() settles only on close().
    let fail!: (e: Error) => void;
    const sink = new FakeSink(() => new Promise<void>((_, reject) => (fail = reject)));
    sink.close = async () => fail(new VesError('VES_SINK_WRITE', 'closed before acknowledged'));
    const h = harness(tmp(), sink, DISK);
    const r = await h.open();
    const [b] = batches(1);
    r.enqueue(b);
    await waitFor(() => sink.calls === 1);
    r.abandon();
    const t0 = performance.now();
    await r.close();
    expect(performance.now() - t0).toBeLessThan(3000);
    const next = new FakeSink();
    const r2 = await harness(tmp(), next, DISK).open();
    r2.start();
    await r2.idle();
    expect(next.written).toEqual(bodies([b]));
    await r2.close();
  });

  test('drains to the sink in order, retrying failures, then is idle and empty', async () => {
    const sink = new FakeSink(async (_b, call) => {
      if (call % 3 === 1) throw new VesError('VES_SINK_WRITE', 'flaky');
    });
    const h = harness(tmp(), sink, DISK);
    const r = await h.open();
    const bs = batches(20);
    for (const b of bs) r.enqueue(b);
    await r.idle();
    expect(sink.written).toEqual(bodies(bs));
    expect(sink.maxInFlight).toBe(1);
    expect(r.buffered.diskRecords).toBe(0);
    expect(h.acks.sort((a, b) => a - b)).toEqual(bs.map((b) => b.seq));
    await r.close();
  });

  test('a refused record goes to the dead-letter file and the buffer moves past it', async () => {
    const sink = new FakeSink(async (b) => {
      if (b.ndjson!.includes('b1 ')) throw new VesError('VES_SINK_REJECTED', 'HTTP 422');
    });
    const h = harness(tmp(), sink, DISK);
    const r = await h.open();
    const bs = batches(3);
    for (const b of bs) r.enqueue(b);
    await r.idle();
    expect(sink.written).toEqual(bodies([bs[0], bs[2]]));
    const dead = JSON.parse(await readFile(join(tmp(), 'dead-letter', 'out.ndjson'), 'utf8'));
    expect(dead).toMatchObject({ reason: 'HTTP 422', events: 2, body: bs[1].ndjson!.toString() });
    await r.close();
    const again = new FakeSink();
    const r2 = await harness(tmp(), again, DISK).open();
    r2.start();
    await delay(30);
    expect(again.written).toEqual([]);
    await r2.close();
  });

  test('several writes in flight: the cursor only passes records that are all done', async () => {
    // Writes of b0 hang until released; b1..b3 finish at once.
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    const sink = new FakeSink((b) => (b.ndjson!.includes('b0 ') ? slow : Promise.resolve()), 4);
    const h = harness(tmp(), sink, DISK);
    const r = await h.open();
    const bs = batches(4);
    for (const b of bs) r.enqueue(b);
    await waitFor(() => sink.written.length === 3);
    expect(r.buffered.diskRecords).toBe(4); // b1..b3 are done, but b0 is not: nothing acked
    await delay(20);
    expect(r.buffered.diskRecords).toBe(4);
    release();
    await r.idle(); // b0 done: the cursor passes all four at once
    expect(r.buffered.diskRecords).toBe(0);
    expect(sink.written[3]).toBe(bs[0].ndjson!.toString());
    await r.close();
  });

  test('full disk buffer with drop_newest: drops are counted and acked', async () => {
    const { sink: hang, release } = hangingSink();
    const bs = batches(10);
    const h = harness(tmp(), hang, {
      type: 'disk',
      max_bytes: 3 * (bs[0].ndjson!.length + 5 + 8),
      when_full: 'drop_newest',
    });
    const r = await h.open();
    for (const b of bs) r.enqueue(b);
    await waitFor(() => h.acks.length === 10);
    expect(h.counters.droppedBatches).toBe(7);
    expect(h.counters.droppedEvents).toBe(14);
    r.abandon();
    release();
    await r.close();
  });

  test('full disk buffer with block: acks stop until the sink frees room', async () => {
    let open = false;
    const gates: (() => void)[] = [];
    const sink = new FakeSink(() =>
      open ? Promise.resolve() : new Promise<void>((r) => gates.push(r)),
    );
    const bs = batches(8);
    const h = harness(tmp(), sink, {
      type: 'disk',
      max_bytes: 3 * (bs[0].ndjson!.length + 5 + 8),
      when_full: 'block',
    });
    const r = await h.open();
    for (const b of bs) r.enqueue(b);
    await waitFor(() => h.acks.length === 3);
    await delay(30);
    expect(h.acks.length).toBe(3); // the pipeline's in-flight bound pauses the sources now
    open = true;
    gates.forEach((g) => g());
    await r.idle();
    expect(h.acks.length).toBe(8);
    expect(sink.written).toEqual(bodies(bs));
    await r.close();
  });
});
