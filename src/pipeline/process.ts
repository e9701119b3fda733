// The process stage: turns a chunk of raw lines into an encoded Block (parse -> transform ->
// encode). With the `raw` parser this is one pass of the NDJSON encoder over the chunk; any
// other parser runs as a ParseStage (src/parsers/stage.ts): split, parse into capture tables,
// encode. Both are pure and synchronous over the chunk's bytes, so a worker thread runs the same
// Processor. Transforms plug in between parse and encode (fast-path issue).

import type { AgentConfig } from '../config/types.js';
import { encodeLines, makeEncodeOptions, type EncodeOptions } from '../engine/encoder.js';
import type { Counters } from '../observe/counters.js';
import { compileParser } from '../parsers/index.js';
import { AGENT_KEYS } from '../parsers/keys.js';
import { ParseStage } from '../parsers/stage.js';
import { type SourceChain, TransformingParser, TransformStage } from '../transforms/stage.js';
import type { Block, LineChunk, Wants } from './types.js';

/** What a source with transforms asks of its ParseStage when only raw sinks exist. */
const PARSE_AND_RAW: Wants = { ndjson: true, raw: true };

export class Processor {
  /** Constant parts of each raw source's events (host, static fields), encoded once. */
  private readonly encodeOpts = new Map<string, EncodeOptions>();
  /** Sources with a parser other than raw: their compiled parser and encoder state. */
  private readonly stages = new Map<string, ParseStage>();
  /** Sources whose transforms work per line (filter, sample, throttle): src/transforms/stage.ts. */
  private readonly chains = new Map<string, SourceChain>();

  constructor(
    config: AgentConfig,
    private readonly wants: Wants,
    private readonly counters: Counters,
  ) {
    // Transforms: enrich's static fields join the source's own (encoded once with them); the
    // per-line steps run right after the parser (TransformingParser) or, for raw sources, over
    // the split chunk (SourceChain.runRaw). Either way the encoder sees only the kept lines.
    const transforms = new TransformStage(config, { counters });
    for (const [id, sc] of Object.entries(config.sources)) {
      const fields = transforms.fieldsFor(id);
      // An aggregator's intake: the lines are agents' events, whose own source/host are kept.
      const forwarded = sc.type === 'http' && sc.forwarded;
      const statics = Object.keys(fields);
      let parser = compileParser(sc.parser, {
        templates: sc.templates ?? [],
        reserved: forwarded ? statics : [...AGENT_KEYS, ...statics],
        forwarded,
      });
      const chain = transforms.chainFor(id, parser);
      if (chain !== null) {
        this.chains.set(id, chain);
        if (parser !== null) parser = new TransformingParser(parser, chain);
      }
      if (parser === null) {
        this.encodeOpts.set(id, makeEncodeOptions({ host: config.host, fields }));
      } else {
        const keepMessage = sc.keep_message ?? false;
        const settings = { host: config.host, fields, keepMessage, forwarded };
        this.stages.set(id, new ParseStage(parser, settings));
      }
    }
  }

  process(chunk: LineChunk): Block {
    const c = this.counters;
    c.linesIn += chunk.lines;
    c.bytesIn += chunk.buf.length;
    if (chunk.truncated) c.truncatedLines++;
    const stage = this.stages.get(chunk.sourceId);
    const chain = this.chains.size === 0 ? undefined : this.chains.get(chunk.sourceId);
    if (stage === undefined) {
      const kept = chain === undefined ? chunk : chain.runRaw(chunk);
      return encodeLines(kept, this.wants, this.encodeOpts.get(chunk.sourceId)!);
    }
    if (chain === undefined) {
      const block = stage.process(chunk, this.wants);
      c.parseErrors += stage.lastParseErrors;
      return block;
    }
    // Transforms run inside the parse: it must run even when only raw sinks want the chunk
    // (ParseStage parses for NDJSON only), and raw sinks get only the kept lines.
    chain.lastDropped = 0;
    const block = stage.process(chunk, this.wants.ndjson ? this.wants : PARSE_AND_RAW);
    if (!this.wants.ndjson) block.ndjson = null;
    if (chain.lastDropped > 0 && block.raw !== null) block.raw = chain.keptRaw();
    c.parseErrors += stage.lastParseErrors + chain.lastDroppedParseErrors;
    return block;
  }
}
