// The contract of a transform: built once from its config, compiled once per source (against
// that source's parser keys), then applied to each chunk's capture tables. No per-line objects:
// a transform reads the line table and field records (../parsers/captures.ts) and drops a line
// by clearing its byte in the keep mask.
//
//   keep (Uint8Array, one byte per line of the chunk)      1 = kept, 0 = dropped
//   +---+---+---+---+---+
//   | 1 | 0 | 1 | 1 | 0 |   a transform looks only at lines still 1, and may set them to 0
//   +---+---+---+---+---+
//
// After the last transform the stage (./stage.ts) moves the kept lines to the front of the line
// table, so the encoder walks only them and needs no mask of its own.

import type { FieldValue } from '../config/types.js';
import type { Captures, KeyTable } from '../parsers/captures.js';

/** One chunk as the transforms see it. Reused: one per source, not one per chunk. */
export interface TransformInput {
  /** The chunk's lines (split, and parsed when the source has a parser). */
  cap: Captures;
  /** One byte per line of cap: 1 kept, 0 dropped. */
  keep: Uint8Array;
  /** Lines still kept (some transforms stop early at 0). */
  kept: number;
  /** Ingest clock of this chunk, ms since the epoch: read once per chunk. */
  now: number;
}

/** A transform compiled for one source. */
export interface CompiledTransform {
  /** Drop lines by clearing their keep byte; returns how many this call dropped. */
  apply(t: TransformInput): number;
}

/** What a transform knows of a source when it compiles for it. */
export interface SourceView {
  /** `sources.<id>`. */
  id: string;
  /** The parser name (`raw`: the only field is `message`, the whole line). */
  parser: string;
  /** The parser's fixed keys (records with KEY >= 0 name them); null for raw. */
  keys: KeyTable | null;
  /** Keys may come from the line itself (json, logfmt): looked up by their bytes. */
  dynamic: boolean;
  /** Static fields every event of the source carries so far (its `fields`, earlier enrich). */
  statics: ReadonlyMap<string, FieldValue>;
}

/** A transform built from its config: shared by every source it applies to. */
export interface Transform {
  /** The `transforms[]` entry's name: the `transform` label of its metrics. */
  readonly name: string;
  /** Static fields added to the events of its sources (enrich), pre-encoded with the rest. */
  readonly fields: Readonly<Record<string, FieldValue>> | null;
  /** Compile for one source; null when it has no per-chunk work there (static enrich). */
  compile(source: SourceView): CompiledTransform | null;
}

/** What build() may use. */
export interface TransformContext {
  /** The entry's name (`name:`, or `<type>_<index>`). */
  name: string;
  /** Config path for messages: `transforms[2]`. */
  path: string;
  /** Environment for enrich `env:` (process.env; tests pass their own). */
  env: NodeJS.ProcessEnv;
}

/** A transform's config as its schema decodes it: `name` is filled in by the list (./index.ts). */
export type Decoded<C extends { name: string }> = Omit<C, 'name'> & { name?: string };
