// Shared by the http sink tests: configs through the real schema (so defaults apply), batches of
// numbered events, and a sink built against a receiver.

import type { HttpSinkConfig } from '../../../src/config/types.js';
import { decodeValue } from '../../../src/config/schema.js';
import { silentLogger, type Logger } from '../../../src/observe/logger.js';
import type { Batch } from '../../../src/pipeline/types.js';
import { schema } from '../../../src/sinks/http/config.js';
import { build, type HttpSink } from '../../../src/sinks/http/sink.js';

/** A config as a user would write it (plus `type: http`), decoded with every default. */
export function httpConfig(keys: Record<string, unknown>): HttpSinkConfig {
  return decodeValue(schema, { type: 'http', ...keys }, 'test.yaml');
}

let nextSeq = 0;

/** `n` events numbered from `from` (`seq` field), as the encoder would lay them out. */
export function seqBatch(from: number, n: number, fields: Record<string, unknown> = {}): Batch {
  let s = '';
  for (let i = from; i < from + n; i++) {
    s +=
      JSON.stringify({
        message: `event ${i}`,
        timestamp: '2026-11-23T12:00:00.000Z',
        source: '/var/log/app.log',
        host: 'edge-1',
        seq: i,
        ...fields,
      }) + '\n';
  }
  const ndjson = Buffer.from(s);
  return {
    seq: ++nextSeq,
    events: n,
    ndjson,
    raw: null,
    bytes: ndjson.length,
    marks: [],
    firstReadAt: performance.now(),
    sealedAt: performance.now(),
  };
}

export async function sinkFor(
  keys: Record<string, unknown>,
  log: Logger = silentLogger,
): Promise<HttpSink> {
  return build(httpConfig(keys), { id: 'up', dataDir: '/nonexistent', log });
}

/** Every number in [0, n) appears in `seqs` (at least once). */
export function missing(seqs: number[], n: number): number[] {
  const seen = new Set(seqs);
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (!seen.has(i)) out.push(i);
  return out;
}
