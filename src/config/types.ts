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

/**
 * The `http` source (src/sources/http): an aggregator's intake, `POST /v1/logs` with the NDJSON
 * bodies the http sink sends (`format: ndjson`), answered once every sink acknowledged them.
 */
export interface HttpSourceConfig {
  type: 'http';
  /** host:port to listen on (port 0: any free one). */
  address: string;
  /** Clients must send `Authorization: Bearer <token>`; null: no authentication. */
  auth: { strategy: 'bearer'; token: string } | null;
  /** Serve HTTPS with these PEM files; null: plain HTTP. */
  tls: { cert_file: string; key_file: string } | null;
  /** A larger body (as sent, and once decompressed) is refused with 413. Bytes. */
  max_body_bytes: number;
  /** Requests being read or waiting for their acknowledgement; more get 503. */
  max_in_flight_requests: number;
  /** Body bytes held by those requests; a request that would cross it gets 503. Bytes. */
  max_in_flight_bytes: number;
  /** A request whose events are not acknowledged by every sink within this gets 503. ms. */
  ack_timeout: number;
  /** The Retry-After of a 503. Milliseconds (sent as whole seconds, at least 1). */
  retry_after: number;
  /** json (lift each object's fields) or raw (keep each line as `message`). */
  parser: string;
  /** Always [] (no templates for this source); kept for the shared parser checks. */
  templates?: string[];
  keep_message?: boolean;
  /** The lines are agents' events: their own source/host/parse_error/truncated are kept. */
  forwarded: boolean;
  fields: Record<string, FieldValue>;
}

/** The `syslog` source (src/sources/syslog): messages from the network, RFC 6587 framing on TCP. */
export interface SyslogSourceConfig {
  type: 'syslog';
  /** tcp (optionally TLS) or udp; both on one port takes two sources. */
  mode: 'tcp' | 'udp';
  /** host:port to listen on; port 0 picks a free one (logged). */
  address: string;
  /** Longer messages are cut here and flagged `truncated`. Bytes. */
  max_frame_bytes: number;
  /** tcp: connections at once; more are refused (closed at once) and logged. */
  max_connections: number;
  /** tcp: a connection silent for this long is closed; 0 keeps it open. Milliseconds. */
  connection_idle_timeout: number;
  /** tcp: serve TLS with these PEM files; null: plain TCP. */
  tls: { cert_file: string; key_file: string } | null;
  parser: string;
  /** Line formats of `parser: template`; [] for other parsers. */
  templates?: string[];
  keep_message?: boolean;
  fields: Record<string, FieldValue>;
  /** No `multiline`: a message that holds `\n` arrives whole already (octet counting). */
  multiline?: never;
}

export type SourceConfig =
  FileSourceConfig | StdinSourceConfig | HttpSourceConfig | SyslogSourceConfig;

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

/** A network sink's `tls` (src/sinks/tls.ts): files (PEM), read at start-up. Certificates are
 *  verified unless `verify: false`. */
export interface TlsConfig {
  ca: string | null;
  cert: string | null;
  key: string | null;
  verify: boolean;
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
  tls: TlsConfig;
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

/** Adds every event to a Redis stream (src/sinks/redis): XADD with MAXLEN ~, pipelined. */
export interface RedisSinkConfig {
  type: 'redis';
  /** redis[s]://[user:password@]host[:port][/db]. */
  url: string;
  /** Credentials instead of the URL's; user null = the `default` user. Never logged. */
  auth: { user: string | null; password: string } | null;
  /** Used with rediss:// only. */
  tls: TlsConfig;
  /** Stream key; `{field}` placeholders take top-level event fields. */
  stream: string;
  /** Approximate bound of each stream (MAXLEN ~); 0 = no trimming. */
  maxlen: number;
  /** fields: one stream field per event field; json: one field `event` with the JSON event. */
  encoding: 'fields' | 'json';
  /** Connect timeout, and the wait for a batch's replies. Milliseconds. */
  timeout: number;
  /** Connect and PING at start-up. */
  healthcheck: boolean;
  buffer?: BufferConfig;
}

export type SinkConfig =
  StdoutSinkConfig | FileSinkConfig | HttpSinkConfig | RedisSinkConfig | BlackholeSinkConfig;

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
