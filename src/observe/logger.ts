// The agent's own log: structured lines on stderr (never stdout, which may carry events),
// filtered by --log-level. Secrets never reach it: callers log config keys, not values.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `component` to every line. */
  child(component: string): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  /** json: one JSON object per line; text: `LEVEL component: msg key=value` for humans. */
  format: 'json' | 'text';
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions, component = 'agent'): Logger {
  const min = RANK[opts.level];
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (RANK[level] < min) return;
    if (opts.format === 'json') {
      write(
        JSON.stringify({ ts: new Date().toISOString(), level, component, msg, ...fields }) + '\n',
      );
      return;
    }
    let line = `${level.toUpperCase().padEnd(5)} ${component}: ${msg}`;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        line += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
      }
    }
    write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => createLogger(opts, c),
  };
}

/** For tests and library use: drops everything. */
export const silentLogger: Logger = createLogger({ level: 'silent', format: 'text' });
