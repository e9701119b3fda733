// The behaviour every sink shares (Vector's assert_sink_compliance): every sink test calls it.
// wants names exactly the encodings the sink writes, an empty batch is a no-op that resolves,
// writes resolve one after another in order, healthcheck (if any) passes, close resolves.

import { expect } from 'vitest';
import type { Batch, Sink } from '../../src/pipeline/types.js';

let seq = 0;

/** A batch of the given lines, in both encodings. */
export function testBatch(lines: string[], marks: Batch['marks'] = []): Batch {
  const raw = Buffer.from(lines.map((l) => l + '\n').join(''));
  const ndjson = Buffer.from(lines.map((l) => JSON.stringify({ message: l }) + '\n').join(''));
  return {
    seq: ++seq,
    events: lines.length,
    ndjson,
    raw,
    bytes: Math.max(ndjson.length, raw.length),
    marks,
    firstReadAt: performance.now(),
    sealedAt: performance.now(),
  };
}

/**
 * Drive a freshly built sink through the shared contract. `written()` returns the bytes the
 * destination holds so far (decoded: e.g. gunzipped), to check what arrived.
 */
export async function assertSinkCompliance(
  sink: Sink,
  written: () => Promise<Buffer> | Buffer,
  encoding: 'ndjson' | 'raw',
): Promise<void> {
  expect(sink.wants).toEqual({ ndjson: encoding === 'ndjson', raw: encoding === 'raw' });
  if (sink.healthcheck) await sink.healthcheck();
  const before = (await written()).length;
  await sink.write({ ...testBatch([]), ndjson: null, raw: null });
  expect((await written()).length).toBe(before);
  const a = testBatch(['compliance 1', 'with "quotes"']);
  const b = testBatch(['compliance 2']);
  await Promise.all([sink.write(a), sink.write(b)]);
  const got = (await written()).subarray(before);
  const want = Buffer.concat(encoding === 'ndjson' ? [a.ndjson!, b.ndjson!] : [a.raw!, b.raw!]);
  expect(got.toString()).toBe(want.toString());
  await sink.close();
}
