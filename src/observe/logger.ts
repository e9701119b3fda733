// The agent's own log: structured lines on stderr (never stdout, which may carry events),
// filtered by --log-level. Secrets never reach it: callers log config keys, not values, and
// redact() below scrubs credentials that a library error may quote (a URL's user:password@,
// an Authorization header's token) from every message and string field.

import { writeStderr } from './tty.js';

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

/** One warning or error, as /stats and the dashboard list them. */
export interface LogRecord {
  ts: string;
  level: 'warn' | 'error';
  component: string;
  msg: string;
  code?: string;
  error?: string;
}

export interface LoggerOptions {
  level: LogLevel;
  /** json: one JSON object per line; text: `LEVEL component: msg key=value` for humans. */
  format: 'json' | 'text';
  write?: (line: string) => void;
  /** Sees every warning and error (whatever the level): the recent-errors list of /stats. */
  onProblem?: (record: LogRecord) => void;
}

// user:password@ in a URL, and the credential after Bearer/Basic (an echoed header).
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]*@/gi;
const AUTH_VALUE = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/g;

/**
 * Configured secrets (tokens, passwords, the base64 of basic credentials), scrubbed from every
 * log line whatever quotes them: a receiver that echoes the token in a 401 body ("invalid token
 * s3cr3t") matches no pattern above. Registered by the components that hold them.
 */
const secrets = new Set<string>();

/** 4: shorter values would scrub ordinary words out of messages (and are no secret anyway). */
const MIN_SECRET_CHARS = 4;

export function registerSecret(value: string): void {
  if (value.length >= MIN_SECRET_CHARS) secrets.add(value);
}

/** Text with any credential it quotes replaced by `***`. */
export function redact(text: string): string {
  for (const s of secrets) if (text.includes(s)) text = text.replaceAll(s, '***');
  if (text.indexOf('@') === -1 && text.indexOf('Bearer') === -1 && text.indexOf('Basic') === -1) {
    return text; // the common case: nothing to scan
  }
  return text.replace(URL_USERINFO, '$1***@').replace(AUTH_VALUE, '$1 ***');
}

export function createLogger(opts: LoggerOptions, component = 'agent'): Logger {
  const min = RANK[opts.level];
  const write = opts.write ?? writeStderr;
  const emit = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    const problem = (level === 'warn' || level === 'error') && opts.onProblem !== undefined;
    if (RANK[level] < min && !problem) return;
    msg = redact(msg);
    if (fields) {
      const clean: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) clean[k] = typeof v === 'string' ? redact(v) : v;
      fields = clean;
    }
    const ts = new Date().toISOString();
    if (problem) {
      opts.onProblem!({
        ts,
        level: level as 'warn' | 'error',
        component,
        msg,
        code: typeof fields?.code === 'string' ? fields.code : undefined,
        error: typeof fields?.error === 'string' ? fields.error : undefined,
      });
      if (RANK[level] < min) return;
    }
    if (opts.format === 'json') {
      write(JSON.stringify({ ts, level, component, msg, ...fields }) + '\n');
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
