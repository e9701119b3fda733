// observeSink counts what a sink delivered and remembers its failures; sinkHealth judges them.
import { expect, test, vi } from 'vitest';
import { Counters } from '../../src/observe/counters.js';
import {
  FAILING_FOR_MS,
  FAILURES_IN_A_ROW,
  observeSink,
  sinkHealth,
} from '../../src/observe/health.js';
import { VesError } from '../../src/errors.js';
import type { Sink } from '../../src/pipeline/types.js';
import { testBatch } from '../helpers/sink-compliance.js';

function flakySink(): Sink & { fail: Error | null } {
  const s = {
    fail: null as Error | null,
    wants: { ndjson: true, raw: false },
    write: vi.fn(async () => {
      if (s.fail) throw s.fail;
    }),
    close: vi.fn(async () => undefined),
  };
  return s;
}

test('delivered events, bytes of the encoding the sink wants and ack latency are counted', async () => {
  const c = new Counters();
  const inner = flakySink();
  const sink = observeSink('out', inner, c);
  expect(sink.wants).toBe(inner.wants);
  expect(observeSink('up', { ...flakySink(), concurrency: 4 }, c).concurrency).toBe(4);
  const b = testBatch(['a', 'bb', 'ccc']);
  await sink.write(b);
  const s = c.sink('out');
  expect(s).toMatchObject({ events: 3, bytes: b.ndjson!.length, errors: 0 });
  expect(s.ack.count).toBe(1);
  expect(c.latency.ack.count).toBe(1);
  await sink.close();
  expect(inner.close).toHaveBeenCalledOnce();
});

test(`unhealthy after ${FAILURES_IN_A_ROW} failures in a row, healthy again after a success`, async () => {
  const c = new Counters();
  const inner = flakySink();
  const sink = observeSink('out', inner, c);
  inner.fail = new VesError(
    'VES_SINK_WRITE',
    'sink out: cannot write to /x: ENOSPC: no space left',
  );
  for (let i = 1; i <= FAILURES_IN_A_ROW; i++) {
    await expect(sink.write(testBatch(['x']))).rejects.toThrow('ENOSPC');
    const h = sinkHealth('out', c.sink('out'));
    expect(h.healthy).toBe(i < FAILURES_IN_A_ROW);
    expect(h.failingSince).not.toBeNull();
  }
  const down = sinkHealth('out', c.sink('out'));
  expect(down.reason).toMatch(/^3 writes failed in a row over \d+\.\d s: VES_SINK_WRITE: .*ENOSPC/);
  expect(c.sink('out').errors).toBe(FAILURES_IN_A_ROW);
  inner.fail = null;
  await sink.write(testBatch(['y']));
  const up = sinkHealth('out', c.sink('out'));
  expect(up).toMatchObject({ healthy: true, reason: null, failingSince: null, failuresInARow: 0 });
  expect(up.lastError).toMatch(/ENOSPC/); // kept for the dashboard
});

test('one failure is a blip until it has lasted FAILING_FOR_MS', async () => {
  const c = new Counters();
  const inner = flakySink();
  const sink = observeSink('out', inner, c);
  inner.fail = new Error('timeout');
  await expect(sink.write(testBatch(['x']))).rejects.toThrow();
  const s = c.sink('out');
  expect(sinkHealth('out', s).healthy).toBe(true);
  expect(sinkHealth('out', s, s.failingSince + FAILING_FOR_MS).healthy).toBe(false);
});

test('VES_SINK_CLOSED marks the sink dead; a rebuilt sink starts healthy', async () => {
  const c = new Counters();
  const inner = flakySink();
  inner.fail = new VesError('VES_SINK_CLOSED', 'sink out: cannot write to stdout: EPIPE');
  await expect(observeSink('out', inner, c).write(testBatch(['x']))).rejects.toThrow();
  expect(sinkHealth('out', c.sink('out')).reason).toMatch(/^failed for good: VES_SINK_CLOSED/);
  observeSink('out', flakySink(), c);
  expect(sinkHealth('out', c.sink('out')).healthy).toBe(true);
});

test('credentials quoted by an error never reach lastError', async () => {
  const c = new Counters();
  const inner = flakySink();
  inner.fail = new Error(
    'connect ECONNREFUSED https://agent:s3cret@logs.example:8443/v1 (Authorization: Bearer abc.def-123)',
  );
  await expect(observeSink('up', inner, c).write(testBatch(['x']))).rejects.toThrow();
  const e = c.sink('up').lastError!;
  expect(e).not.toContain('s3cret');
  expect(e).not.toContain('abc.def-123');
  expect(e).toContain('https://***@logs.example:8443/v1');
});
