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

export type SinkConfig = StdoutSinkConfig | FileSinkConfig;

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
