// The config after loading: defaults applied, ${VAR} interpolated, units turned into numbers
// (durations in milliseconds, sizes in bytes; the YAML says `5ms`, `1MiB`, the key stays the
// same). Components receive these shapes.
// The schema that produces them (with the defaults and docs) is in each component's config.ts
// and in ./schema.ts for the top level.

export type FieldValue = string | number | boolean;

/**
 * A source's `multiline` (src/sources/multiline.ts): which lines start an event; the others
 * continue the one before, joined with `\n`.
 */
export interface MultilineConfig {
  /** indented: lines starting with a space or tab continue; start_*: matching lines start. */
  mode: 'indented' | 'start_prefix' | 'start_pattern';
  /** start_prefix: the literal text a starting line begins with. */
  prefix?: string;
  /** start_pattern: a JavaScript regular expression tested on a line's first 256 bytes. */
  pattern?: string;
  /** A pending event with no new line for this long is emitted. Milliseconds. */
  timeout: number;
  /** A longer event is cut here and flagged `truncated`. Bytes. */
  max_bytes: number;
}

export interface FileSourceConfig {
  type: 'file';
  /** Glob patterns of files to tail. */
  include: string[];
  /** Glob patterns excluded from `include`. */
  exclude: string[];
  /** Where to start in a file that has no checkpoint. */
  read_from: 'beginning' | 'end';
  parser: string;
  /** Line formats of `parser: template` (src/parsers/template); [] for other parsers. */
  templates?: string[];
  /** Write the line as `message` even when the parsed fields hold all of it. */
  keep_message?: boolean;
  /** Static fields added to every event. */
  fields: Record<string, FieldValue>;
  /** Longer lines are cut here and flagged `truncated`. Bytes. */
  max_line_bytes: number;
  /** Size of one read from a file. Bytes. */
  read_chunk_bytes: number;
  /** A partial last line with no newline is emitted after this long. Milliseconds. */
  partial_line_timeout: number;
  /** Safety-net stat poll of open files (events can be missed on some filesystems). ms. */
  poll_interval: number;
  /** How a file is recognised across renames: hash of its first line, or device+inode. */
  fingerprint: 'checksum' | 'device_and_inode';
  /** Files without new data for this long release their descriptor. Milliseconds. */
  idle_timeout: number;
  /** Join continuation lines into one event; null (the default) = one line, one event. */
  multiline?: MultilineConfig | null;
}

export interface StdinSourceConfig {
  type: 'stdin';
  parser: string;
  /** Line formats of `parser: template`; [] for other parsers. */
  templates?: string[];
  keep_message?: boolean;
  fields: Record<string, FieldValue>;
  max_line_bytes: number;
  multiline?: MultilineConfig | null;
}

export type SourceConfig = FileSourceConfig | StdinSourceConfig;

/** A sink's `buffer` (src/sinks/buffer-config.ts): where its batches wait, and how many. */
export interface BufferConfig {
  /** memory: acked once the sink wrote a batch; disk: once it is fsynced into the disk buffer. */
  type: 'memory' | 'disk';
  /** Bound on batches waiting for the sink. Bytes (default 16 MiB memory, 1 GiB disk). */
  max_bytes: number;
  /** At the bound: pause the sources (block), or drop the new batch and count it. */
  when_full: 'block' | 'drop_newest';
}

export interface StdoutSinkConfig {
  type: 'stdout';
  encoding: 'ndjson' | 'raw';
  /** Always set by the schema; a config built in code may leave it out (a memory buffer). */
  buffer?: BufferConfig;
}

export interface FileSinkConfig {
  type: 'file';
  path: string;
  encoding: 'ndjson' | 'raw';
  compression: 'none' | 'gzip';
  /** fsync after every batch before acknowledging it (slower, survives power loss). */
  fsync: boolean;
  /** Rotate the output file when it reaches max_bytes; keep max_files old ones. */
  rotate: { max_bytes: number; max_files: number } | null;
  /** With a `{field}` path: files kept open at once. Set by the schema; default 64. */
  max_open_files?: number;
  /** Always set by the schema; a config built in code may leave it out (a memory buffer). */
  buffer?: BufferConfig;
}

/** How the http sink proves who it is; secrets come from ${VAR} and are never logged. */
export type HttpAuthConfig =
  { strategy: 'bearer'; token: string } | { strategy: 'basic'; user: string; password: string };

export interface HttpSinkConfig {
  type: 'http';
  /** http(s)://host:port/path; per format, a bare `/` path gets the API's usual path. */
  uri: string;
  method: 'POST' | 'PUT';
  /** Extra request headers (names checked; reserved ones like content-length refused). */
  headers: Record<string, string>;
  auth: HttpAuthConfig | null;
  /** Files (PEM). Certificates are verified unless `verify: false`. */
  tls: { ca: string | null; cert: string | null; key: string | null; verify: boolean };
  /** One request: connect, send, and the answer's headers and body each within this. ms. */
  timeout: number;
  /** Requests in flight at once (= pooled keep-alive connections). */
  concurrency: number;
  /** Defaulted per format by the schema: zstd for ndjson, gzip for the others. */
  compression: 'none' | 'gzip' | 'zstd';
  format: 'ndjson' | 'clickhouse' | 'loki' | 'elasticsearch' | 'otlp';
  /** Options of `format: clickhouse` (null otherwise). */
  clickhouse: {
    database: string;
    table: string;
    skip_unknown_fields: boolean;
    date_time_best_effort: boolean;
  } | null;
  /** Options of `format: loki`: label name -> `{field}` or static text. */
  loki: { labels: Record<string, string> } | null;
  /** Options of `format: elasticsearch`: index name, `%Y %m %d %H` from the event's timestamp. */
  elasticsearch: { index: string } | null;
  /** Retries inside one write. Milliseconds; max_attempts 0 = until delivered. */
  retry: { initial_backoff: number; max_backoff: number; max_attempts: number };
  /** Probe the endpoint at start-up. */
  healthcheck: boolean;
  /** Where batches wait for the endpoint (src/sinks/buffer-config.ts). */
  buffer?: BufferConfig;
}

/** Discards every batch (acknowledged at once): benchmarks, trying a parser. */
export interface BlackholeSinkConfig {
  type: 'blackhole';
  encoding: 'ndjson' | 'raw';
  buffer: BufferConfig;
}

export type SinkConfig = StdoutSinkConfig | FileSinkConfig | HttpSinkConfig | BlackholeSinkConfig;

export interface BatchConfig {
  max_events: number;
  /** Bytes. */
  max_bytes: number;
  /** Milliseconds. */
  timeout: number;
  /**
   * Tune the sealing size between 1 and max_events from the observed rate (engine/batcher.ts).
   * Absent (tests, code-built configs): false, a fixed max_events.
   */
  adaptive?: boolean;
}

export interface ApiConfig {
  enabled: boolean;
  address: string;
}

/** A `filter` condition (src/transforms/condition.ts): exactly one form is set. */
export interface ConditionConfig {
  field?: string;
  equals?: FieldValue;
  prefix?: string;
  contains?: string;
  in?: FieldValue[];
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  level_at_least?:
    'trace' | 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit' | 'alert' | 'emerg';
  all?: ConditionConfig[];
  any?: ConditionConfig[];
  not?: ConditionConfig;
}

/** Keys of every `transforms[]` entry. */
interface TransformCommon {
  /** Label of its metrics; `<type>_<index>` when not set in the file. */
  name: string;
  /** Sources it applies to; empty: all. */
  sources: string[];
}

export interface FilterConfig extends TransformCommon {
  type: 'filter';
  action: 'keep' | 'drop';
  condition: ConditionConfig;
}

export interface EnrichConfig extends TransformCommon {
  type: 'enrich';
  fields: Record<string, FieldValue>;
  /** Field name -> environment variable name, read once at start. */
  env: Record<string, FieldValue>;
  host: boolean;
  source: boolean;
  timestamp: 'parsed' | 'ingest';
}

export interface SampleConfig extends TransformCommon {
  type: 'sample';
  rate: number;
  key?: string;
}

export interface ThrottleConfig extends TransformCommon {
  type: 'throttle';
  events_per_second: number;
  key?: string;
  max_keys: number;
}

export type TransformConfig = FilterConfig | EnrichConfig | SampleConfig | ThrottleConfig;

export interface AgentConfig {
  data_dir: string;
  sources: Record<string, SourceConfig>;
  /** Ordered transforms (src/transforms/): each applies to the events of its sources. */
  transforms: TransformConfig[];
  batch: BatchConfig;
  sinks: Record<string, SinkConfig>;
  api: ApiConfig;
  /** Graceful stop must finish within this. Milliseconds. */
  shutdown_timeout: number;
  /** How often checkpoints are written while running. Milliseconds. */
  checkpoint_interval: number;
  /** Added to every NDJSON event as `host`. Defaults to os.hostname(). */
  host: string;
  /** Parse worker threads: 0 parses on the main thread, auto starts them under load. */
  workers: 'auto' | number;
}
