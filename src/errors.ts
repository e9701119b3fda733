// Every error the agent reports, with a stable code (as undici's lib/core/errors.js and
// fastify's FST_ERR_* do). Messages say what to do. docs/errors.md lists each code; a test
// keeps the two in step.

/** Exit codes of the CLI (DESIGN.md): 0 ok, 1 runtime failure, 2 usage or config error. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export class VesError extends Error {
  override name = 'VesError';
  readonly code: string;
  /** Exit code the CLI uses when this error ends the process. */
  readonly exitCode: number;
  constructor(code: string, message: string, exitCode = EXIT_RUNTIME, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Where in a config file a problem sits. line and col are 1-based. */
export interface ConfigLocation {
  file: string;
  line: number;
  col: number;
}

/** A config problem: names the key path and, when known, file:line:col. Exits 2. */
export class ConfigError extends VesError {
  override name = 'ConfigError';
  readonly path: string;
  readonly location: ConfigLocation | undefined;
  constructor(code: string, path: string, message: string, location?: ConfigLocation) {
    const where = location ? `${location.file}:${location.line}:${location.col}: ` : '';
    const key = path ? `${path}: ` : '';
    super(code, `${where}${key}${message}`, EXIT_USAGE);
    this.path = path;
    this.location = location;
  }
}

/**
 * A destination refused a batch for good (an HTTP 4xx other than 408/429, a per-item 4xx of an
 * Elasticsearch bulk answer, a ClickHouse parse error): sending it again cannot help, so the
 * pipeline dead-letters it instead of retrying. `permanent` lets callers tell it apart without
 * knowing which sink threw it.
 */
export class SinkRejectedError extends VesError {
  override name = 'SinkRejectedError';
  readonly permanent = true;
  constructor(
    message: string,
    /** HTTP status of the refusal (of the first refused item for per-item refusals). */
    readonly status: number,
    /** The start of what the destination answered (at most 500 bytes): its reason. */
    readonly detail: string,
    /** The refused events as NDJSON lines: the whole batch, or only the refused items. */
    readonly rejected: Buffer,
    /** How many events `rejected` holds. */
    readonly events: number,
  ) {
    super('VES_SINK_REJECTED', message);
  }
}

/** Every code, with a one-line description: docs/errors.md is checked against this list. */
export const ERROR_CODES = {
  VES_CONFIG_NOT_FOUND: 'The config file does not exist or cannot be read.',
  VES_CONFIG_YAML: 'The config file is not valid YAML.',
  VES_CONFIG_UNKNOWN_KEY:
    'A key the schema does not know (often a typo: the message suggests one).',
  VES_CONFIG_TYPE: 'A value has the wrong type or format (number, duration, size, list...).',
  VES_CONFIG_MISSING: 'A required key is missing.',
  VES_CONFIG_ENUM: 'A value is not one of the allowed choices.',
  VES_CONFIG_RANGE: 'A number, size or duration is out of its allowed range.',
  VES_CONFIG_ENV: 'A ${VAR} reference names an unset variable and has no :-default.',
  VES_CONFIG_REMOVED: 'An option that no longer exists; the message names its replacement.',
  VES_CONFIG_INVALID: 'A rule across several keys is broken (e.g. no sources, or no sinks).',
  VES_USAGE: 'The command line is wrong (unknown flag, missing argument).',
  VES_DATA_DIR: 'data_dir cannot be created or written.',
  VES_DATA_DIR_LOCKED: 'Another agent already runs with the same data_dir.',
  VES_CHECKPOINT_CORRUPT:
    'The checkpoint file is unreadable; it was moved aside and reading resumes safely.',
  VES_SOURCE_READ: 'A source could not read its input (permissions, I/O error).',
  VES_SOURCE_LISTEN:
    'An http source cannot listen on its address (port in use, no such address), or cannot load zstd.',
  VES_SOURCE_TLS:
    "An http source's tls.cert_file or tls.key_file cannot be read or is not valid PEM.",
  VES_SINK_WRITE: 'A sink could not write a batch.',
  VES_SINK_CLOSED:
    "A sink's destination closed for good (stdout's reader went away): the agent stops.",
  VES_SINK_HEALTHCHECK: 'A sink failed its start-up health check.',
  VES_SINK_REJECTED:
    'The destination refused a batch (or some of its events) for good; it is dead-lettered, not retried.',
  VES_SINK_TLS: "An http sink's TLS files (ca, cert, key) cannot be read or used.",
  VES_BUFFER_CORRUPT:
    "A sink's disk buffer held a torn or corrupt record (or cursor); it was cut off there, the log says how many bytes.",
  VES_BUFFER_FULL:
    "A sink's buffer reached max_bytes: with when_full: block the sources pause, with drop_newest batches are dropped and counted.",
  VES_BUFFER_IO:
    "A sink's disk buffer cannot write, fsync or read its files: the agent stops; a restart recovers the buffer.",
  VES_DEAD_LETTER:
    'A batch refused for good could not be written to the dead-letter file; it is retried, not lost.',
  VES_API_LISTEN: 'The admin API cannot listen on api.address (port in use, no such address).',
  VES_RELOAD: 'A SIGHUP config reload failed; the agent keeps running with the config it had.',
  VES_SHUTDOWN_TIMEOUT: 'Graceful stop did not finish within the grace period.',
  VES_WORKER_FAILED:
    'A parse worker thread failed (an error while parsing, or the thread died): the agent stops.',
  VES_INTERNAL: 'A bug: please report it with the log lines around it.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
