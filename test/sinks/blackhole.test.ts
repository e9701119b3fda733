// The blackhole sink acks every batch at once and keeps nothing; the pipeline counts for it.
import { expect, test } from 'vitest';
import { sinkSchema } from '../../src/sinks/index.js';
import { build } from '../../src/sinks/blackhole/sink.js';
import { decodeValue } from '../../src/config/schema.js';
import { captureLogger } from '../helpers/logger.js';
import { testBatch } from '../helpers/sink-compliance.js';

test('the config decodes with its defaults', () => {
  const c = decodeValue(sinkSchema, { type: 'blackhole' }, 'test');
  expect(c).toMatchObject({ type: 'blackhole', encoding: 'ndjson' });
});

test.each(['ndjson', 'raw'] as const)(
  'wants %s only, acks every batch, logs the count at close',
  async (encoding) => {
    const { log, records } = captureLogger();
    const c = decodeValue(sinkSchema, { type: 'blackhole', encoding }, 'test');
    const sink = await build(c as never, { id: 'null', dataDir: '/nonexistent', log });
    expect(sink.wants).toEqual({ ndjson: encoding === 'ndjson', raw: encoding === 'raw' });
    await Promise.all([sink.write(testBatch(['a', 'b'])), sink.write(testBatch(['c']))]);
    await sink.write({ ...testBatch([]), ndjson: null, raw: null });
    await sink.close();
    expect(records.at(-1)).toMatchObject({ msg: 'discarded', events: 3 });
  },
);
