// The `blackhole` sink: every batch is acknowledged as soon as it arrives and then forgotten.
// What it would have written is counted by the pipeline (per-sink events and bytes), and logged
// once at close at debug level.

import type { BlackholeSinkConfig } from '../../config/types.js';
import type { Batch, ComponentContext, Sink } from '../../pipeline/types.js';

export async function build(config: BlackholeSinkConfig, ctx: ComponentContext): Promise<Sink> {
  const ndjson = config.encoding !== 'raw';
  let events = 0;
  let bytes = 0;
  return {
    wants: { ndjson, raw: !ndjson },
    write(batch: Batch): Promise<void> {
      const buf = ndjson ? batch.ndjson : batch.raw;
      events += batch.events;
      bytes += buf === null ? 0 : buf.length;
      return Promise.resolve();
    },
    async close(): Promise<void> {
      ctx.log.debug('discarded', { events, bytes });
    },
  };
}
