// The transform stage: the `transforms:` list built once, and per source the chain of the
// transforms that apply to it, compiled against that source's parser. A chain runs over a
// chunk's capture tables after parsing and before encoding:
//
//   split -> parse -> chain.run(cap): each step clears keep[i] of lines it drops, then the kept
//                     lines move to the front of the line table (cap.n = kept) -> encode
//
// so the encoders (engine/encoder.ts for raw sources, parsers/encode.ts) walk only kept lines and
// know nothing of transforms. Static enrichment is not a step: fieldsFor() merges it into the
// source's static fields, which the encoders pre-encode once.

import type { AgentConfig, FieldValue, TransformConfig } from '../config/types.js';
import { ConfigError } from '../errors.js';
import type { Counters, TransformCounters } from '../observe/counters.js';
import { Captures, LINE_STRIDE, LE, LS, TMPL, type Parser } from '../parsers/captures.js';
import type { LineChunk } from '../pipeline/types.js';
import { buildTransform } from './index.js';
import type { CompiledTransform, SourceView, Transform, TransformInput } from './types.js';

export interface StageOptions {
  /** Where dropped events are counted; null: not counted (benchmarks). */
  counters?: Counters | null;
  /** For enrich `env:`; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Clock of throttle, read once per chunk; Date.now by default (tests pin it). */
  now?: () => number;
}

/** The whole `transforms:` list, built once (environment variables are read here). */
export class TransformStage {
  private readonly config: AgentConfig;
  private readonly built: Array<{ config: TransformConfig; t: Transform }>;
  private readonly counters: Counters | null;
  private readonly now: () => number;

  constructor(config: AgentConfig, opts: StageOptions = {}) {
    this.config = config;
    this.counters = opts.counters ?? null;
    this.now = opts.now ?? Date.now;
    const env = opts.env ?? process.env;
    this.built = config.transforms.map((tc, i) => ({
      config: tc,
      t: buildTransform(tc, { name: tc.name, path: `transforms[${i}]`, env }),
    }));
    // Every transform that can drop shows in the metrics from the start, at 0.
    for (const tc of config.transforms) if (tc.type !== 'enrich') this.counters?.transform(tc.name);
  }

  /** True when some transform exists (the Processor skips everything else otherwise). */
  get empty(): boolean {
    return this.built.length === 0;
  }

  /** Static fields of a source's events: its own `fields`, then each enrich's, in order. */
  fieldsFor(sourceId: string): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = { ...this.config.sources[sourceId].fields };
    for (const { config, t } of this.built) {
      if (t.fields !== null && appliesTo(config, sourceId)) Object.assign(out, t.fields);
    }
    return out;
  }

  /**
   * The chain of a source with its parser (null: raw), or null when no transform has work per
   * chunk there. Throws a ConfigError when an enrich field is a field the parser writes.
   */
  chainFor(sourceId: string, parser: Parser | null): SourceChain | null {
    const sc = this.config.sources[sourceId];
    const statics = new Map<string, FieldValue>(Object.entries(sc.fields));
    const parsed = new Set(parser?.fieldNames ?? []);
    const view: SourceView = {
      id: sourceId,
      parser: sc.parser,
      keys: parser === null ? null : parser.keys,
      dynamic: parser !== null && parser.fieldNames === null,
      statics,
    };
    const steps: CompiledTransform[] = [];
    const names: string[] = [];
    this.built.forEach(({ config, t }, i) => {
      if (!appliesTo(config, sourceId)) return;
      const step = t.compile(view);
      if (step !== null) {
        steps.push(step);
        names.push(t.name);
      }
      // Later transforms see this one's static fields as constants.
      for (const [k, v] of Object.entries(t.fields ?? {})) {
        if (parsed.has(k)) {
          throw new ConfigError(
            'VES_CONFIG_INVALID',
            `transforms[${i}].fields.${k}`,
            `the ${sc.parser} parser of source ${sourceId} writes a field "${k}" too; rename it (duplicate keys are read differently by every consumer)`,
          );
        }
        statics.set(k, v);
      }
    });
    if (steps.length === 0) return null;
    const counters = this.counters;
    return new SourceChain(
      steps,
      names,
      counters === null ? null : names.map((n) => counters.transform(n)),
      counters,
      this.now,
    );
  }
}

function appliesTo(config: TransformConfig, sourceId: string): boolean {
  return config.sources.length === 0 || config.sources.includes(sourceId);
}

/** 4096 lines: the keep mask's first size; it only grows (to the largest chunk seen). */
const INITIAL_KEEP = 4096;

/** The compiled transforms of one source, in order, with their scratch. */
export class SourceChain {
  /** Lines the last run() dropped, and how many of those had a parse error. */
  lastDropped = 0;
  lastDroppedParseErrors = 0;
  private readonly input: TransformInput;
  /** Own tables for raw sources (parsed ones run on their parser's). */
  private rawCap: Captures | null = null;
  /** The tables of the last run(), for keptRaw(). */
  private lastCap: Captures | null = null;

  constructor(
    private readonly steps: CompiledTransform[],
    /** The step names (metric labels), for tests and messages. */
    readonly names: string[],
    private readonly perStep: TransformCounters[] | null,
    private readonly counters: Counters | null,
    private readonly now: () => number,
  ) {
    this.input = { cap: new Captures(), keep: new Uint8Array(INITIAL_KEEP), kept: 0, now: 0 };
  }

  /**
   * Run every step over the lines of `cap` (split, and parsed if the source has a parser), then
   * move the kept lines to the front of its line table. Returns how many were dropped.
   */
  run(cap: Captures): number {
    const n = cap.n;
    const t = this.input;
    if (t.keep.length < n) t.keep = new Uint8Array(Math.max(n, t.keep.length * 2));
    const keep = t.keep;
    keep.fill(1, 0, n);
    t.cap = cap;
    this.lastCap = cap;
    t.kept = n;
    t.now = this.now();
    const steps = this.steps;
    const perStep = this.perStep;
    let dropped = 0;
    for (let k = 0; k < steps.length && t.kept > 0; k++) {
      const d = steps[k].apply(t);
      if (d > 0) {
        t.kept -= d;
        dropped += d;
        if (perStep !== null) perStep[k].dropped += d;
      }
    }
    this.lastDropped = dropped;
    this.lastDroppedParseErrors = 0;
    if (dropped === 0) return 0;
    if (this.counters !== null) this.counters.transformDropped += dropped;
    this.compact(cap, keep, n);
    return dropped;
  }

  /** Kept lines to the front: the encoders walk lines 0..cap.n and never see a mask. */
  private compact(cap: Captures, keep: Uint8Array, n: number): void {
    const line = cap.line;
    const time = cap.time;
    let w = 0;
    let parseErrors = 0;
    for (let i = 0; i < n; i++) {
      if (keep[i] === 0) {
        if (line[i * LINE_STRIDE + TMPL] < 0) parseErrors++;
        continue;
      }
      if (w !== i) {
        const from = i * LINE_STRIDE;
        const to = w * LINE_STRIDE;
        for (let k = 0; k < LINE_STRIDE; k++) line[to + k] = line[from + k];
        time[w] = time[i];
      }
      w++;
    }
    cap.n = w;
    this.lastDroppedParseErrors = parseErrors;
  }

  /**
   * A raw source's chunk (parser: raw) through the chain: split into the line table, run, and
   * the chunk of the kept lines: the same chunk when nothing was dropped, else a new one (the
   * kept lines copied, `\r` of `\r\n` dropped, as the raw encoder would).
   */
  runRaw(chunk: LineChunk): LineChunk {
    const cap = (this.rawCap ??= new Captures());
    cap.split(chunk.buf, chunk.lines, chunk.ends);
    // A raw line is not a parse error: TMPL -1 would count it as one.
    if (this.run(cap) === 0) return chunk;
    this.lastDroppedParseErrors = 0;
    const buf = this.keptRaw();
    const out: LineChunk = { ...chunk, buf, lines: cap.n };
    if (chunk.ends !== undefined) out.ends = this.keptEnds(cap);
    else delete out.ends;
    return out;
  }

  /** The kept lines of the last run(), each without its `\r\n` and ending in `\n`. */
  keptRaw(): Buffer {
    const cap = this.lastCap as Captures;
    const line = cap.line;
    const n = cap.n;
    const src = cap.buf;
    let size = 0;
    for (let i = 0; i < n; i++) size += line[i * LINE_STRIDE + LE] - line[i * LINE_STRIDE + LS] + 1;
    const out = Buffer.allocUnsafe(size);
    let pos = 0;
    for (let i = 0; i < n; i++) {
      const o = i * LINE_STRIDE;
      pos += src.copy(out, pos, line[o + LS], line[o + LE]);
      out[pos++] = 0x0a;
    }
    return out;
  }

  /** Ends of the lines keptRaw() wrote (for chunks whose lines hold `\n`). */
  private keptEnds(cap: Captures): Int32Array {
    const line = cap.line;
    const ends = new Int32Array(cap.n);
    let pos = 0;
    for (let i = 0; i < cap.n; i++) {
      pos += line[i * LINE_STRIDE + LE] - line[i * LINE_STRIDE + LS] + 1;
      ends[i] = pos;
    }
    return ends;
  }
}

/**
 * A parser followed by its source's chain: ParseStage (parsers/stage.ts) runs it like any
 * parser, and the encoder after it sees only the kept lines.
 */
export class TransformingParser implements Parser {
  readonly keys: Parser['keys'];
  readonly fieldNames: Parser['fieldNames'];
  readonly hits: Float64Array;

  constructor(
    private readonly inner: Parser,
    readonly chain: SourceChain,
  ) {
    this.keys = inner.keys;
    this.fieldNames = inner.fieldNames;
    this.hits = inner.hits;
  }

  parse(cap: Captures): void {
    this.inner.parse(cap);
    this.chain.run(cap);
  }
}
