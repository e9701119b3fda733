// The parse stage of one source: split a chunk into lines, run the source's parser over them,
// encode the events. A pure, synchronous function of the chunk's bytes (plus the parser's own
// counters), so it can move into a worker thread unchanged.

import { isUtf8 } from 'node:buffer';
import {
  encodeStaticFields,
  makeEncodeOptions,
  rawLines,
  type EncodeOptions,
  writeJsonString,
} from '../engine/encoder.js';
import type { FieldValue } from '../config/types.js';
import type { Block, LineChunk, Wants } from '../pipeline/types.js';
import { Captures, type Parser } from './captures.js';
import { countParseErrors, encodeEvents, type EncodeParts, FIRST_RATIO } from './encode.js';
import { IsoWriter } from './time.js';

const SOURCE = Buffer.from(',"source":', 'latin1');

export interface StageSettings {
  host: string;
  fields?: Record<string, FieldValue>;
  /** Ingest clock, ms since the epoch (tests pin it). */
  now?: () => number;
  /** keep_message: write the line as `message` even when the parsed fields hold all of it. */
  keepMessage?: boolean;
  /**
   * The lines are agents' whole events (the http source; the parser was compiled `forwarded`):
   * they carry their own `source` and `host`, so the stage writes only the static fields after
   * the timestamp. A line without them gets none: nothing is added per line (docs/parsers.md).
   * The line's `parse_error` and `truncated` are kept too, and cannot be repeated: the stage
   * writes parse_error only for a line it lifted nothing from, and the http source never cuts
   * a line (its chunks are never `truncated`).
   */
  forwarded?: boolean;
}

export class ParseStage {
  readonly parser: Parser;
  /** Lines of the last chunk that no template matched (the caller adds them to a counter). */
  lastParseErrors = 0;
  private readonly cap = new Captures();
  private readonly parts: EncodeParts;
  private readonly opts: EncodeOptions;
  private readonly keepMessage: boolean;
  private readonly ingestIso = new IsoWriter();
  private midPath = '\u0000'; // no path yet
  private mid: Uint8Array = new Uint8Array(0);
  private readonly forwarded: boolean;

  constructor(parser: Parser, settings: StageSettings) {
    this.parser = parser;
    this.opts = makeEncodeOptions(settings);
    this.keepMessage = settings.keepMessage ?? false;
    this.forwarded = settings.forwarded ?? false;
    // forwarded: the same `<,static>` for every chunk, whatever peer sent it
    if (this.forwarded) this.mid = encodeStaticFields(settings.fields ?? {});
    const keys = parser.keys;
    this.parts = {
      keys,
      maxKey: keys.bytes.reduce((m, k) => Math.max(m, k.length), 0),
      iso: new IsoWriter(),
      ratio: FIRST_RATIO,
    };
  }

  /** Parse and encode one chunk into a Block, building only the encodings some sink wants. */
  process(chunk: LineChunk, want: Wants): Block {
    const buf = chunk.buf;
    let ndjson: Buffer | null = null;
    let events = chunk.lines;
    this.lastParseErrors = 0;
    if (want.ndjson) {
      const cap = this.cap;
      cap.split(buf, chunk.lines, chunk.ends);
      cap.utf8 = isUtf8(buf);
      this.parser.parse(cap);
      this.ingestIso.set(this.opts.now());
      const ingest = this.ingestIso.words;
      const mid = this.midFor(chunk.path);
      ndjson = encodeEvents(cap, this.parts, mid, ingest, chunk.truncated, this.keepMessage);
      events = cap.n;
      this.lastParseErrors = countParseErrors(cap);
    }
    return {
      events,
      ndjson,
      // Raw sinks get the lines as read: parsing does not change them.
      raw: want.raw ? rawLines(buf, true) : null,
      mark: chunk.mark,
      readAt: chunk.readAt,
    };
  }

  /**
   * `,"source":"<path>","host":"<host>"<,static>`: rebuilt only when the path changes. Just
   * `<,static>` for forwarded lines.
   */
  private midFor(path: string): Uint8Array {
    if (path === this.midPath || this.forwarded) return this.mid;
    const p = Buffer.from(path, 'utf8');
    const hf = this.opts.hostAndFields;
    const out = Buffer.alloc(SOURCE.length + 2 + p.length * 6 + hf.length);
    let pos = SOURCE.copy(out, 0);
    out[pos++] = 0x22;
    pos = writeJsonString(p, 0, p.length, out, pos, isUtf8(p));
    out[pos++] = 0x22;
    pos += hf.copy(out, pos);
    this.mid = out.subarray(0, pos);
    this.midPath = path;
    return this.mid;
  }
}
