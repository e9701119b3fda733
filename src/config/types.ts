// The config after loading: defaults applied, ${VAR} interpolated, units turned into numbers
// (durations in milliseconds, sizes in bytes; the YAML says `5ms`, `1MiB`, the key stays the
// same). Components receive these shapes.
// The schema that produces them (with the defaults and docs) is in each component's config.ts
// and in ./schema.ts for the top level.

export type FieldValue = string | number | boolean;

export interface FileSourceConfig {
  type: 'file';
  /** Glob patterns of files to tail. */
  include: string[];
  /** Glob patterns excluded from `include`. */
  exclude: string[];
  /** Where to start in a file that has no checkpoint. */
  read_from: 'beginning' | 'end';
  parser: string;
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
}

export interface StdinSourceConfig {
  type: 'stdin';
  parser: string;
  fields: Record<string, FieldValue>;
  max_line_bytes: number;
}

export type SourceConfig = FileSourceConfig | StdinSourceConfig;

export interface StdoutSinkConfig {
  type: 'stdout';
  encoding: 'ndjson' | 'raw';
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
}

export type SinkConfig = StdoutSinkConfig | FileSinkConfig | HttpSinkConfig;

export interface BatchConfig {
  max_events: number;
  /** Bytes. */
  max_bytes: number;
  /** Milliseconds. */
  timeout: number;
}

export interface ApiConfig {
  enabled: boolean;
  address: string;
}

export interface AgentConfig {
  data_dir: string;
  sources: Record<string, SourceConfig>;
  /** Ordered transforms (filter, enrich, ...): arrive with the fast-path issue. */
  transforms: unknown[];
  batch: BatchConfig;
  sinks: Record<string, SinkConfig>;
  api: ApiConfig;
  /** Graceful stop must finish within this. Milliseconds. */
  shutdown_timeout: number;
  /** How often checkpoints are written while running. Milliseconds. */
  checkpoint_interval: number;
  /** Added to every NDJSON event as `host`. Defaults to os.hostname(). */
  host: string;
}
