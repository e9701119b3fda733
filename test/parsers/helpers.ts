// Runs a parser the way the process stage does (split -> parse -> encode one chunk) and hands
// back the events: every output line must be valid JSON, or the helper throws.

import { compileParser, type ParserOptions } from '../../src/parsers/index.js';
import { ParseStage } from '../../src/parsers/stage.js';
import type { Parser } from '../../src/parsers/captures.js';
import type { LineChunk } from '../../src/pipeline/types.js';

/** The ingest clock of every test: 2026-11-23T12:34:56.789Z. */
export const NOW = Date.UTC(2026, 10, 23, 12, 34, 56, 789);
export const NOW_ISO = '2026-11-23T12:34:56.789Z';

export type Event = Record<string, unknown>;

export interface RunOptions {
  templates?: string[];
  fields?: Record<string, string | number | boolean>;
  truncated?: boolean;
  ends?: Int32Array;
  /** The source's keep_message. */
  keepMessage?: boolean;
  /** The lines are agents' events (the http source's `forwarded`). */
  forwarded?: boolean;
}

export function makeParser(name: string, opts: RunOptions = {}): Parser {
  const o: ParserOptions = {
    templates: opts.templates ?? [],
    reserved: [
      ...(opts.forwarded === true ? [] : ['source', 'host', 'parse_error', 'truncated']),
      ...Object.keys(opts.fields ?? {}),
    ],
    forwarded: opts.forwarded,
    now: () => NOW,
  };
  const p = compileParser(name, o);
  if (p === null) throw new Error('raw has no parser');
  return p;
}

/** The NDJSON of one chunk holding `input` (lines joined by `\n` unless given as a Buffer). */
export function encode(
  parser: Parser | string,
  input: string | Buffer | string[],
  opts: RunOptions = {},
): { ndjson: string; events: Event[]; parseErrors: number; stage: ParseStage } {
  const p = typeof parser === 'string' ? makeParser(parser, opts) : parser;
  const stage = new ParseStage(p, {
    host: 'h1',
    fields: opts.fields ?? {},
    now: () => NOW,
    keepMessage: opts.keepMessage ?? false,
    forwarded: opts.forwarded,
  });
  const buf = Buffer.isBuffer(input)
    ? input
    : Buffer.from(Array.isArray(input) ? input.map((l) => l + '\n').join('') : input, 'utf8');
  let lines = 0;
  for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) lines++;
  const chunk: LineChunk = {
    sourceId: 's',
    path: '/var/log/test.log',
    buf,
    lines,
    truncated: opts.truncated ?? false,
    mark: null,
    readAt: 0,
  };
  if (opts.ends) chunk.ends = opts.ends;
  const block = stage.process(chunk, { ndjson: true, raw: false });
  const ndjson = block.ndjson!.toString('utf8');
  const events = ndjson
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Event;
      } catch (err) {
        throw new Error(`not JSON: ${l}\n${(err as Error).message}`);
      }
    });
  return { ndjson, events, parseErrors: stage.lastParseErrors, stage };
}

/** One line -> its event without the fields every event has (source, host). */
export function parseOne(parser: string, line: string | Buffer, opts: RunOptions = {}): Event {
  const buf = Buffer.isBuffer(line) ? Buffer.concat([line, Buffer.from('\n')]) : line + '\n';
  const { events } = encode(parser, buf, opts);
  if (events.length !== 1) throw new Error(`expected one event, got ${events.length}`);
  const { source, host, ...rest } = events[0];
  if (source !== '/var/log/test.log' || host !== 'h1') throw new Error('bad source or host');
  return rest;
}

/** Only the keys an expectation names (so a table row lists what it is about). */
export function pick(event: Event, keys: string[]): Event {
  return Object.fromEntries(keys.filter((k) => k in event).map((k) => [k, event[k]]));
}
