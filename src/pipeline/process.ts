// The process stage: turns a chunk of raw lines into an encoded Block (parse -> transform ->
// encode). With the `raw` parser this is one pass of the NDJSON encoder over the chunk.
// Parsers, transforms and worker threads plug in here (fast-path issue).

import type { AgentConfig } from '../config/types.js';
import { encodeLines, makeEncodeOptions, type EncodeOptions } from '../engine/encoder.js';
import type { Counters } from '../observe/counters.js';
import type { Block, LineChunk, Wants } from './types.js';

export class Processor {
  /** Constant parts of each source's events (host, static fields), encoded once. */
  private readonly encodeOpts = new Map<string, EncodeOptions>();

  constructor(
    config: AgentConfig,
    private readonly wants: Wants,
    private readonly counters: Counters,
  ) {
    for (const [id, sc] of Object.entries(config.sources)) {
      this.encodeOpts.set(id, makeEncodeOptions({ host: config.host, fields: sc.fields }));
    }
  }

  process(chunk: LineChunk): Block {
    const c = this.counters;
    c.linesIn += chunk.lines;
    c.bytesIn += chunk.buf.length;
    if (chunk.truncated) c.truncatedLines++;
    return encodeLines(chunk, this.wants, this.encodeOpts.get(chunk.sourceId)!);
  }
}
