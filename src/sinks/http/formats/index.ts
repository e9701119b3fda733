// The http sink's formats: `format` -> an encoder that turns a batch's NDJSON bytes into the
// request body (and path and content type), and knows how its server answers.
//
// A format never sees objects it did not ask for: ndjson and clickhouse send the batch bytes as
// they are; loki, elasticsearch and otlp read each event once while building their body.

import type { HttpSinkConfig } from '../../../config/types.js';
import { clickhouse } from './clickhouse.js';
import { elasticsearch } from './elasticsearch.js';
import { loki } from './loki.js';
import { ndjson } from './ndjson.js';
import { otlp } from './otlp.js';

/** What a 2xx answer said about single events, when the format can tell (per-item results). */
export interface Verdict {
  /** NDJSON lines to send again (e.g. Elasticsearch items refused with 429 or 5xx). */
  retry: Buffer | null;
  /** NDJSON lines refused for good, and how many there are. */
  rejected: Buffer | null;
  rejectedEvents: number;
  /** Events the receiver dropped without saying which (OTLP partialSuccess): only counted. */
  dropped: number;
  /** Status of the first refused item, and the receiver's reason. */
  status: number;
  reason: string;
}

/** The start-up probe. */
export interface Probe {
  method: 'GET' | 'OPTIONS';
  path: string;
  /** true: any HTTP answer proves the server is there; false: it must be a 2xx. */
  anyAnswer: boolean;
}

export interface Format {
  readonly contentType: string;
  /** Path and query of every write request (the uri's origin is the pool's). */
  readonly path: string;
  readonly probe: Probe;
  /** The request body (before compression) for these NDJSON lines. */
  encode(ndjson: Buffer): Buffer;
  /** Reads a 2xx answer (when defined, the sink reads the body): null means all was taken. */
  accepted?(answer: Buffer, ndjson: Buffer): Verdict | null;
  /**
   * For an answer the generic rule would retry (5xx): whether this server means "never" (a
   * ClickHouse parse error comes back as 500). Retrying those would block the sink forever.
   */
  refusedForGood?(status: number, answer: string): boolean;
}

export type FormatBuilder = (config: HttpSinkConfig, uri: URL) => Format;

/** The registry; keyed by the schema's format list, so a missing format is a type error. */
const formats: Record<HttpSinkConfig['format'], FormatBuilder> = {
  ndjson,
  clickhouse,
  loki,
  elasticsearch,
  otlp,
};

export function makeFormat(config: HttpSinkConfig): Format {
  return formats[config.format](config, new URL(config.uri));
}
